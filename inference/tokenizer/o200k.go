package tokenizer

import (
	"sync"
	"unicode"
)

var o200k struct {
	once sync.Once
	tok  *BPE
	err  error
}

// O200K returns OpenAI's o200k_base tokenizer (GPT-4o, GPT-4.1), built on
// first use from ranks embedded in the binary and shared afterwards. It is
// safe for concurrent use. Its ids equal tiktoken's; EOS is <|endoftext|>
// and there is no BOS.
func O200K() (Tokenizer, error) {
	o200k.once.Do(func() {
		o200k.tok, o200k.err = buildTiktoken("o200k_base.tiktoken", 200019,
			map[string]int32{"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
			&preTokenizer{"o200k", []stage{splitO200K}})
	})
	return o200k.tok, o200k.err
}

// Letter classes of o200k_base's pattern: "upper" is Lu Lt Lm Lo M and
// "lower" is Ll Lm Lo M, so Lm, Lo and marks belong to both.
const (
	wUpper uint8 = 1 << iota
	wLower
)

func wordClass(r rune) uint8 {
	if r < 0x80 {
		switch {
		case r >= 'A' && r <= 'Z':
			return wUpper
		case r >= 'a' && r <= 'z':
			return wLower
		}
		return 0
	}
	switch {
	case unicode.Is(unicode.Lu, r), unicode.Is(unicode.Lt, r):
		return wUpper
	case unicode.Is(unicode.Ll, r):
		return wLower
	case unicode.Is(unicode.Lm, r), unicode.Is(unicode.Lo, r), unicode.Is(unicode.M, r):
		return wUpper | wLower
	}
	return 0
}

// o200kLetters tries the two letter alternatives of the o200k pattern at
// q, without the optional leading character:
//
//	[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+   (first)
//	[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*   (second)
//
// and returns the end of the match or -1. The regex engine's backtracking
// is resolved directly: after the maximal upper run, a lower run follows;
// failing that, the first alternative ends after the last character of
// the upper run that is also lower, and the second takes the upper run.
func o200kLetters(s string, q, end int, second bool) int {
	k, lastBoth := q, -1
	for k < end {
		r, w := runeAt(s, k, end)
		c := wordClass(r)
		if c&wUpper == 0 {
			break
		}
		if c&wLower != 0 {
			lastBoth = k + w
		}
		k += w
	}
	lowerRun := func(p int) int {
		for p < end {
			r, w := runeAt(s, p, end)
			if wordClass(r)&wLower == 0 {
				break
			}
			p += w
		}
		return p
	}
	if k < end {
		if r, _ := runeAt(s, k, end); wordClass(r)&wLower != 0 {
			return lowerRun(k)
		}
	}
	if !second {
		return lastBoth
	}
	if k == q {
		return -1
	}
	return lowerRun(k)
}

// contraction returns the end of an optional (?i:'s|'t|'re|'ve|'m|'ll|'d)
// at p.
func contraction(s string, p, end int) int {
	if p+1 >= end || s[p] != '\'' {
		return p
	}
	c1 := s[p+1] | 0x20
	if c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd' {
		return p + 2
	}
	if p+2 < end {
		c2 := s[p+2] | 0x20
		if (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') {
			return p + 3
		}
	}
	return p
}

// splitO200K implements o200k_base's pattern:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitO200K(s string, start, end int, dst []int) []int {
	pos := start
	for pos < end {
		r, n := runeAt(s, pos, end)
		c := class(r)
		// The optional leading character: anything but \r, \n, letters
		// and numbers (marks included).
		lead := r != '\r' && r != '\n' && c&(clLetter|clNumber) == 0
		e := -1
		for _, second := range []bool{false, true} {
			if lead && pos+n < end {
				if e = o200kLetters(s, pos+n, end, second); e >= 0 {
					break
				}
			}
			if e = o200kLetters(s, pos, end, second); e >= 0 {
				break
			}
		}
		if e >= 0 {
			pos = contraction(s, e, end)
			dst = append(dst, pos)
			continue
		}
		if c&clNumber != 0 {
			for k := 0; k < 3 && pos < end; k++ {
				r2, w := runeAt(s, pos, end)
				if class(r2)&clNumber == 0 {
					break
				}
				pos += w
			}
			dst = append(dst, pos)
			continue
		}
		//  ?[^\s\p{L}\p{N}]+[\r\n/]*
		c2, body := c, pos
		if r == ' ' {
			var ok bool
			if c2, ok = classAt(s, pos+1, end); !ok {
				c2 = clSpace
			}
			body = pos + 1
		}
		if c2&(clSpace|clLetter|clNumber) == 0 {
			pos = skipClass(s, body, end, clSpace|clLetter|clNumber, false)
			for pos < end && (s[pos] == '\r' || s[pos] == '\n' || s[pos] == '/') {
				pos++
			}
			dst = append(dst, pos)
			continue
		}
		pos, dst = spaces(s, pos, end, n, dst)
	}
	return dst
}

// spaces handles \s*[\r\n]+|\s+(?!\S)|\s+ at pos.
func spaces(s string, pos, end, n int, dst []int) (int, []int) {
	p, last, count, lastNL := pos, pos, 0, -1
	for p < end {
		r, w := runeAt(s, p, end)
		if class(r)&clSpace == 0 {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = p + 1
		}
		last = p
		p += w
		count++
	}
	switch {
	case lastNL >= 0:
		pos = lastNL
	case count > 1 && p < end:
		pos = last
	case count > 0:
		pos = p
	default:
		pos += n
	}
	return pos, append(dst, pos)
}
