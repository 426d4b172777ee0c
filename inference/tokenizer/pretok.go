package tokenizer

import (
	"unicode"
)

// A stage splits the piece s[start:end] further and appends the end
// offsets of the resulting pieces to dst. Stages run in sequence, each over
// every piece the previous one produced, as llama.cpp applies the list of
// regular expressions of a pre-tokenizer: the matches of each expression and
// the unmatched text between them both become pieces.
type stage func(s string, start, end int, dst []int) []int

// preTokenizer is the word splitter of a byte-level BPE vocabulary. The
// regular expressions of the reference implementations use Unicode classes
// and lookahead; each is written out here as a small hand-made matcher.
type preTokenizer struct {
	name   string
	stages []stage
}

// split returns the end offsets of the pieces of s, using a and b as
// scratch buffers. The result aliases one of them.
func (p *preTokenizer) split(s string, a, b []int) (ends, spare []int) {
	a = a[:0]
	if len(s) == 0 {
		return a, b
	}
	a = append(a, len(s))
	for _, st := range p.stages {
		b = b[:0]
		start := 0
		for _, e := range a {
			b = st(s, start, e, b)
			start = e
		}
		a, b = b, a
	}
	return a, b
}

// splitGPT2 implements GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// with lookahead confined to the piece, as llama.cpp does.
func splitGPT2(s string, start, end int, dst []int) []int {
	pos := start
	for pos < end {
		r, n := runeAt(s, pos, end)
		if r == '\'' && pos+1 < end {
			c1 := s[pos+1]
			if c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd' {
				pos += 2
				dst = append(dst, pos)
				continue
			}
			if pos+2 < end {
				c2 := s[pos+2]
				if (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') {
					pos += 3
					dst = append(dst, pos)
					continue
				}
			}
		}
		c := class(r)
		body := pos
		if r == ' ' {
			var ok bool
			c, ok = classAt(s, pos+1, end)
			if !ok {
				c = clSpace // a lone trailing space: handled by \s+ below
			}
			body = pos + 1
		}
		switch {
		case c&clLetter != 0:
			pos = skipClass(s, body, end, clLetter, true)
			dst = append(dst, pos)
			continue
		case c&clNumber != 0:
			pos = skipClass(s, body, end, clNumber, true)
			dst = append(dst, pos)
			continue
		case c&(clSpace|clLetter|clNumber) == 0:
			pos = skipClass(s, body, end, clSpace|clLetter|clNumber, false)
			dst = append(dst, pos)
			continue
		}
		pos, dst = whitespace(s, pos, end, n, dst)
	}
	return dst
}

// whitespace handles \s+(?!\S)|\s+ at pos: a run of white space followed by
// more text gives up its last character to the next piece.
func whitespace(s string, pos, end, n int, dst []int) (int, []int) {
	p, last, count := pos, pos, 0
	for p < end {
		r, w := runeAt(s, p, end)
		if class(r)&clSpace == 0 {
			break
		}
		last = p
		p += w
		count++
	}
	switch {
	case count > 1 && p < end:
		pos = last
	case count > 0:
		pos = p
	default:
		pos += n // no match: the character stands alone
	}
	return pos, append(dst, pos)
}

// skipClass advances over characters that are (in true) or are not (in
// false) of the class mask, and returns the offset of the first other one.
func skipClass(s string, pos, end int, mask uint8, in bool) int {
	for pos < end {
		c := s[pos]
		if c < 0x80 {
			if (asciiClass[c]&mask != 0) != in {
				return pos
			}
			pos++
			continue
		}
		r, w := runeAt(s, pos, end)
		if (class(r)&mask != 0) != in {
			return pos
		}
		pos += w
	}
	return pos
}

// splitLlama3 returns the splitter for Llama 3's (and cl100k_base's) pattern
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// with at most maxDigits digits per number piece (3 for Llama 3, 1 for
// Qwen 2).
func splitLlama3(maxDigits int) stage {
	return func(s string, start, end int, dst []int) []int {
		pos := start
		for pos < end {
			r, n := runeAt(s, pos, end)
			if r == '\'' && pos+1 < end {
				c1 := s[pos+1] | 0x20 // ASCII lower case; other bytes never match
				if c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd' {
					pos += 2
					dst = append(dst, pos)
					continue
				}
				if pos+2 < end {
					c2 := s[pos+2] | 0x20
					if (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') {
						pos += 3
						dst = append(dst, pos)
						continue
					}
				}
			}
			c := class(r)
			// [^\r\n\p{L}\p{N}]?\p{L}+
			if r != '\r' && r != '\n' && c&clNumber == 0 {
				next, ok := classAt(s, pos+n, end)
				if c&clLetter != 0 || (ok && next&clLetter != 0) {
					pos = skipClass(s, pos+n, end, clLetter, true)
					dst = append(dst, pos)
					continue
				}
			}
			// \p{N}{1,maxDigits}
			if c&clNumber != 0 {
				k := 0
				for pos < end {
					r2, w := runeAt(s, pos, end)
					if class(r2)&clNumber == 0 {
						break
					}
					pos += w
					if k++; k == maxDigits {
						dst = append(dst, pos)
						k = 0
					}
				}
				if k > 0 {
					dst = append(dst, pos)
				}
				continue
			}
			//  ?[^\s\p{L}\p{N}]+[\r\n]*
			c2, body := c, pos
			if r == ' ' {
				var ok bool
				c2, ok = classAt(s, pos+1, end)
				if !ok {
					c2 = clSpace
				}
				body = pos + 1
			}
			if c2&(clSpace|clLetter|clNumber) == 0 {
				pos = skipClass(s, body, end, clSpace|clLetter|clNumber, false)
				for pos < end && (s[pos] == '\r' || s[pos] == '\n') {
					pos++
				}
				dst = append(dst, pos)
				continue
			}
			// \s*[\r\n]+ | \s+(?!\S) | \s+
			pos, dst = spaces(s, pos, end, n, dst)
		}
		return dst
	}
}

// matcher reports the end of a match starting at pos, or -1.
type matcher func(s string, pos, end int) int

// regexStage turns a matcher into a stage with the semantics of a regex
// iterator: matches and the gaps between them become pieces.
func regexStage(m matcher) stage {
	return func(s string, start, end int, dst []int) []int {
		gap := start
		pos := start
		for pos < end {
			if e := m(s, pos, end); e > pos {
				if pos > gap {
					dst = append(dst, pos)
				}
				dst = append(dst, e)
				pos, gap = e, e
				continue
			}
			_, w := runeAt(s, pos, end)
			pos += w
		}
		if end > gap {
			dst = append(dst, end)
		}
		return dst
	}
}

// wide maps a code point as llama.cpp's std::wregex fallback sees it:
// non-ASCII white space becomes \v so that \s matches it.
func wide(r rune) rune {
	if r > 0x7f && unicode.IsSpace(r) {
		return '\v'
	}
	return r
}

func isSpaceRune(r rune) bool { return class(r)&clSpace != 0 }

// charClass is a predicate on code points with a table for ASCII, the
// common case, so that matching avoids an indirect call per byte.
type charClass struct {
	ascii [128]bool
	slow  func(rune) bool // for r >= 128, applied to wide(r)
}

func newClass(pred func(rune) bool) *charClass {
	c := &charClass{slow: pred}
	for r := range rune(128) {
		c.ascii[r] = pred(r)
	}
	return c
}

func (c *charClass) has(r rune) bool {
	if r < 128 {
		return c.ascii[r]
	}
	return c.slow(wide(r))
}

// run matches an optional single prefix character (if prefix is not nil)
// followed by between min and max characters of the class (max 0 means no
// limit).
func run(prefixPred, pred func(rune) bool, min, max int) matcher {
	var prefix *charClass
	if prefixPred != nil {
		prefix = newClass(prefixPred)
	}
	cls := newClass(pred)
	body := func(s string, pos, end int) int {
		k := 0
		for pos < end && (max == 0 || k < max) {
			if c := s[pos]; c < 0x80 {
				if !cls.ascii[c] {
					break
				}
				pos++
				k++
				continue
			}
			r, w := runeAt(s, pos, end)
			if !cls.has(r) {
				break
			}
			pos += w
			k++
		}
		if k < min {
			return -1
		}
		return pos
	}
	return func(s string, pos, end int) int {
		if prefix != nil {
			r, w := runeAt(s, pos, end)
			if prefix.has(r) {
				if e := body(s, pos+w, end); e >= 0 {
					return e
				}
			}
		}
		return body(s, pos, end)
	}
}

// trailingSpace matches \s+$ (white space that runs to the end of the
// piece).
func trailingSpace(s string, pos, end int) int {
	p := pos
	for p < end {
		r, w := runeAt(s, p, end)
		if !isSpaceRune(r) {
			return -1
		}
		p += w
	}
	if p == pos {
		return -1
	}
	return end
}

func isLetterRune(r rune) bool { return class(r)&clLetter != 0 }
func isNumberRune(r rune) bool { return class(r)&clNumber != 0 }
func isPunctRune(r rune) bool  { return class(r)&clPunct != 0 }
func isCRLF(r rune) bool       { return r == '\r' || r == '\n' }
func isASCIIDigit(r rune) bool { return r >= '0' && r <= '9' }

var (
	// The explicit letter class of DeepSeek LLM's tokenizer.json.
	deepseekLetters = parseRuneSet("A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\U00010400-\U0001044f𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃")
	deepseekPunct   = parseRuneSet("!-/:-~！-／：-～‘-‟　-。")
	cjk             = parseRuneSet("一-龥ࠀ-一가-퟿")
	// Characters excluded by the BLOOM / Poro pattern  ?[^(\s|.,!?…。，、।۔،)]+
	poroStop = parseRuneSet("(|.,!?…。，、।۔،)")
)

func punctOr(extra string) func(rune) bool {
	set := parseRuneSet(extra)
	return func(r rune) bool { return isPunctRune(r) || set.has(r) }
}

func isSpaceOnly(r rune) bool { return r == ' ' }

var (
	stageGPT2        stage = splitGPT2
	stageSingleDigit       = regexStage(run(nil, isNumberRune, 1, 1))
	stageThreeDigits       = regexStage(run(nil, isASCIIDigit, 3, 3))
	stagePoro              = regexStage(run(isSpaceOnly, func(r rune) bool { return !isSpaceRune(r) && !poroStop.has(r) }, 1, 0))
)

// preTokenizers maps tokenizer.ggml.pre values to splitters, following
// llama.cpp's table.
var preTokenizers = map[string]*preTokenizer{}

func registerPre(p *preTokenizer, names ...string) {
	for _, n := range names {
		preTokenizers[n] = p
	}
}

func init() {
	gpt2 := &preTokenizer{"gpt2", []stage{stageGPT2}}
	llama3 := &preTokenizer{"llama3", []stage{splitLlama3(3)}}
	qwen2 := &preTokenizer{"qwen2", []stage{splitLlama3(1)}}
	deepseekLLM := &preTokenizer{"deepseek-llm", []stage{
		regexStage(run(nil, isCRLF, 1, 1)),
		regexStage(run(isSpaceRune, deepseekLetters.has, 1, 0)),
		regexStage(run(isSpaceRune, deepseekPunct.has, 1, 0)),
		regexStage(trailingSpace),
		regexStage(run(nil, cjk.has, 1, 0)),
		regexStage(run(nil, isNumberRune, 1, 0)),
	}}
	deepseekCoder := &preTokenizer{"deepseek-coder", []stage{
		regexStage(run(nil, isCRLF, 1, 1)),
		regexStage(run(isSpaceRune, isLetterRune, 1, 0)),
		regexStage(run(isSpaceRune, isPunctRune, 1, 0)),
		regexStage(run(nil, cjk.has, 1, 0)),
		stageSingleDigit,
	}}
	falcon := &preTokenizer{"falcon", []stage{
		regexStage(run(nil, punctOr("$+<=>^~|`"), 1, 0)),
		stageGPT2,
		stageThreeDigits,
	}}
	starcoder := &preTokenizer{"starcoder", []stage{stageSingleDigit, stageGPT2}}
	def := &preTokenizer{"default", []stage{
		regexStage(run(nil, punctOr("$+<=>^~|"), 1, 0)),
		stageGPT2,
		regexStage(run(nil, isNumberRune, 1, 0)),
		stageThreeDigits,
	}}
	poro := &preTokenizer{"poro", []stage{stagePoro}}
	viking := &preTokenizer{"viking", []stage{stagePoro, stageSingleDigit}}

	registerPre(def, "default")
	registerPre(llama3, "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
		"dbrx", "smaug-bpe", "chatglm-bpe", "glm4")
	registerPre(deepseekLLM, "deepseek-llm")
	registerPre(deepseekCoder, "deepseek-coder")
	registerPre(falcon, "falcon")
	registerPre(gpt2, "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
		"jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion", "a.x-4.0", "mellum")
	registerPre(starcoder, "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b")
	registerPre(qwen2, "qwen2", "qwen2.5", "qwen-2.5", "deepseek-r1-qwen", "stablelm2", "hunyuan", "grok-2")
	registerPre(poro, "poro-chat", "bloom", "gpt3-finnish")
	registerPre(viking, "viking")
	registerPre(&preTokenizer{"tekken", []stage{splitTekken}}, "tekken")
}

// ignoreMergesPre lists the pre-tokenizers whose vocabularies look a whole
// piece up before merging (llama.cpp's ignore_merges).
var ignoreMergesPre = map[string]bool{"llama3": true, "llama-v3": true, "llama-bpe": true, "falcon3": true,
	"falcon-h1": true, "pixtral": true, "midm-2.0": true, "lfm2": true, "tekken": true}

// splitTekken implements Mistral's tekken pattern as llama.cpp runs it
// (letter case is only told apart for ASCII, and marks are not letters):
//
//	[^\r\n\p{L}\p{N}]?((?=\p{L})[^a-z])*((?=\p{L})[^A-Z])+|
//	[^\r\n\p{L}\p{N}]?((?=\p{L})[^a-z])+((?=\p{L})[^A-Z])*|
//	\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// The first two alternatives are resolved without backtracking: an
// "upper" run (letters other than a-z) followed by a "lower" run (letters
// other than A-Z); if no a-z follows, the match ends after the last
// non-ASCII letter of the run, or, with none, takes the whole A-Z run.
func splitTekken(s string, start, end int, dst []int) []int {
	isLower := func(r rune) bool { return r >= 'a' && r <= 'z' }
	isUpper := func(r rune) bool { return r >= 'A' && r <= 'Z' }
	pos := start
	for pos < end {
		r, n := runeAt(s, pos, end)
		c := class(r)
		// Letter alternatives, with an optional leading non-letter.
		q := pos
		if r != '\r' && r != '\n' && c&(clLetter|clNumber) == 0 {
			if next, ok := classAt(s, pos+n, end); ok && next&clLetter != 0 {
				q = pos + n
			}
		}
		if q > pos || c&clLetter != 0 {
			k, lastWide := q, -1
			for k < end {
				r2, w := runeAt(s, k, end)
				if class(r2)&clLetter == 0 || isLower(r2) {
					break
				}
				if r2 >= 0x80 {
					lastWide = k + w
				}
				k += w
			}
			var next rune
			if k < end {
				next, _ = runeAt(s, k, end)
			}
			switch {
			case k < end && isLower(next):
				for k < end {
					r3, w := runeAt(s, k, end)
					if class(r3)&clLetter == 0 || isUpper(r3) {
						break
					}
					k += w
				}
				pos = k
			case lastWide >= 0:
				pos = lastWide
			default:
				pos = k
			}
			dst = append(dst, pos)
			continue
		}
		if c&clNumber != 0 {
			pos += n
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
