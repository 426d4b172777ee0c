package constructor

import (
	"strings"
	"unicode"
	"unicode/utf8"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// stopwords are function words: they carry no content, so compressed
// renderings drop them and scoring ignores them. The list is generic
// English, not fitted to any corpus.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all am an and any are aren't as at be
because been before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each few for from further had hadn't has hasn't have haven't having he
he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is
isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only or other
ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such
than that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up very was wasn't we we'd we'll we're we've were weren't
what what's when when's where where's which while who who's whom why why's with won't would wouldn't you
you'd you'll you're you've your yours yourself yourselves just also really so oh yeah yes hey hi wow
im ive youre thats dont its lol well gonna wanna got get gets getting will shall may might must
thanks thank super totally definitely absolutely pretty quite lot lots much many`) {
		m[w] = true
	}
	return m
}()

// questionWords are dropped from queries only: they shape a question but
// never appear in the answer's words.
var questionWords = map[string]bool{
	"what": true, "when": true, "where": true, "who": true, "whom": true, "which": true, "why": true,
	"how": true, "did": true, "does": true, "do": true, "is": true, "are": true, "was": true, "were": true,
	"kind": true, "kinds": true, "type": true, "types": true, "likely": true, "would": true, "might": true,
}

// word is one word of a text with its byte offsets.
type word struct {
	text       string // as written
	start, end int
}

// words splits s into words: runs of letters and digits, with inner
// apostrophes and hyphens kept ("don't", "e-mail").
func words(s string) []word {
	var out []word
	start := -1
	for i, r := range s {
		inner := (r == '\'' || r == '’' || r == '-') && start >= 0
		if unicode.IsLetter(r) || unicode.IsDigit(r) || inner {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, trimWord(s, start, i))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, trimWord(s, start, len(s)))
	}
	return out
}

func trimWord(s string, start, end int) word {
	for end > start {
		r, n := utf8.DecodeLastRuneInString(s[start:end])
		if r == '\'' || r == '’' || r == '-' {
			end -= n
			continue
		}
		break
	}
	return word{s[start:end], start, end}
}

// norm lower-cases w and folds curly apostrophes.
func norm(w string) string {
	return strings.ReplaceAll(strings.ToLower(w), "’", "'")
}

// isStop reports whether the normalised word carries no content.
func isStop(w string) bool {
	if stopwords[w] {
		return true
	}
	return stopwords[strings.ReplaceAll(w, "'", "")]
}

// term returns the index term of a normalised word: possessives cut and
// the Porter stem.
func term(w string) string {
	w = strings.TrimSuffix(w, "'s")
	if len(w) <= 2 {
		return w
	}
	return porterstemmer.StemString(w)
}

// terms returns the content terms of s.
func terms(s string) []string {
	ws := words(s)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		n := norm(w.text)
		if isStop(n) {
			continue
		}
		out = append(out, term(n))
	}
	return out
}

// compress keeps the content words of s in order, and the digits and
// capitalised words that stopword lists would lose, dropping function
// words, punctuation and emoji. It is the "compressed" rendering: every
// content word of the original is still there.
func compress(s string) string {
	ws := words(s)
	var b strings.Builder
	for _, w := range ws {
		n := norm(w.text)
		if isStop(n) && !(capitalised(w.text) && months[n] != 0) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.text)
	}
	return b.String()
}

// oneLine cuts s to its first n content words with an ellipsis.
func oneLine(s string, n int) string {
	c := strings.Fields(compress(s))
	if len(c) <= n {
		return strings.Join(c, " ")
	}
	return strings.Join(c[:n], " ") + "…"
}

// excerpt keeps the first sentence of s (or its first n bytes, cut at a word).
func excerpt(s string, n int) string {
	if i := strings.IndexAny(s, ".!?"); i > 0 && i+1 < len(s) && i < n {
		return strings.TrimSpace(s[:i+1])
	}
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut <= 0 {
		cut = n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// capitalised reports whether a word as written starts with an upper-case
// letter: a name, place or title, a cue for entity matching.
func capitalised(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

// ContentTerms returns the content terms of s as the constructor scores
// them: lower-cased Porter stems of its words, function words left out.
// The evaluator uses it to match an answer against its context.
func ContentTerms(s string) []string { return terms(s) }
