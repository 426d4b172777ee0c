package epbench

import (
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/tokens"
)

// bm25 is the baseline: Okapi BM25 over the book's paragraphs.
type bm25 struct {
	paras   []para
	df      map[string]int
	avgLen  float64
	counter fs.TokenCounter
}

type para struct {
	chapter int
	text    string
	tf      map[string]int
	n       int
	tokens  int
}

// Lucene's English stopwords: the usual BM25 setup.
var bmStop = map[string]bool{}

func init() {
	for _, w := range strings.Fields("a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with") {
		bmStop[w] = true
	}
}

func analyze(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if !bmStop[f] {
			out = append(out, f)
		}
	}
	return out
}

func newBM25(b Book, counter fs.TokenCounter) *bm25 {
	if counter == nil {
		counter, _ = tokens.Default()
	}
	m := &bm25{df: map[string]int{}, counter: counter}
	total := 0
	for _, ch := range b.Chapters() {
		for _, p := range strings.Split(b[ch], "\n") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			ws := analyze(p)
			tf := map[string]int{}
			for _, w := range ws {
				tf[w]++
			}
			for w := range tf {
				m.df[w]++
			}
			total += len(ws)
			m.paras = append(m.paras, para{chapter: ChapterNumber(ch), text: p, tf: tf, n: len(ws), tokens: counter.CountTokens(p + "\n\n")})
		}
	}
	if len(m.paras) > 0 {
		m.avgLen = float64(total) / float64(len(m.paras))
	}
	return m
}

// retrieve returns the context for q within budget tokens: the best
// paragraphs in score order, each whole, skipping those that do not fit.
func (m *bm25) retrieve(q string, budget int) (string, map[int]bool, int) {
	const k1, b = 1.2, 0.75
	n := float64(len(m.paras))
	type scored struct {
		i int
		s float64
	}
	var hits []scored
	qs := analyze(q)
	for i, p := range m.paras {
		s := 0.0
		for _, w := range qs {
			tf := float64(p.tf[w])
			if tf == 0 {
				continue
			}
			df := float64(m.df[w])
			idf := math.Log(1 + (n-df+0.5)/(df+0.5))
			s += idf * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(p.n)/m.avgLen))
		}
		if s > 0 {
			hits = append(hits, scored{i, s})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].s > hits[j].s })
	var parts []string
	chapters := map[int]bool{}
	used := 0
	for _, h := range hits {
		p := m.paras[h.i]
		if used+p.tokens > budget {
			// The best paragraph that does not fit fills what is left, cut
			// at a word: a stronger baseline than skipping it.
			if cut := m.prefix(p.text, budget-used); cut != "" {
				parts = append(parts, cut)
				chapters[p.chapter] = true
			}
			break
		}
		used += p.tokens
		parts = append(parts, p.text)
		chapters[p.chapter] = true
	}
	text := strings.Join(parts, "\n\n")
	return text, chapters, m.counter.CountTokens(text)
}

// prefix returns the longest word prefix of text within n tokens
// (counting the paragraph separator), or "" when under 16 tokens fit.
func (m *bm25) prefix(text string, n int) string {
	if n < 16 {
		return ""
	}
	ws := strings.Fields(text)
	lo, hi := 0, len(ws)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if m.counter.CountTokens(strings.Join(ws[:mid], " ")+"\n\n") <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.Join(ws[:lo], " ")
}
