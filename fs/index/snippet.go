package index

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/ctxfs/ctxfs/fs"
)

// snippetScanBytes is how much of a file's opening is searched for the
// query's words; a file whose first match lies further shows its opening.
// The first firstScanBytes are searched first.
const (
	firstScanBytes   = 8 << 10
	snippetScanBytes = 64 << 10
)

// maxSnippetSpans bounds the matches collected per file.
const maxSnippetSpans = 512

type span struct{ start, end int64 }

// terms are the lowercased words and prefixes of a query that can match
// content: what a snippet marks.
type terms struct {
	words    []string
	prefixes []string
}

func (t *terms) empty() bool { return len(t.words) == 0 && len(t.prefixes) == 0 }

// contentTerms collects the positive words of q that apply to the content
// (fields content and _all): analyzed match texts and phrases, terms,
// prefixes. Negated clauses mark nothing.
func (x *Index) contentTerms(q query.Query) *terms {
	t := &terms{}
	seen := map[string]bool{}
	addWord := func(w string) {
		if w = strings.ToLower(w); w != "" && !seen[w] {
			seen[w] = true
			t.words = append(t.words, w)
		}
	}
	analyze := func(text string) {
		for _, tok := range x.an.text.Analyze([]byte(text)) {
			addWord(string(tok.Term))
		}
	}
	contentField := func(f string) bool { return f == "" || f == fieldAll || f == FieldContent }
	var walk func(q query.Query)
	walk = func(q query.Query) {
		switch q := q.(type) {
		case *query.BooleanQuery:
			walk(q.Must)
			walk(q.Should)
			walk(q.Filter)
		case *query.ConjunctionQuery:
			for _, c := range q.Conjuncts {
				walk(c)
			}
		case *query.DisjunctionQuery:
			for _, d := range q.Disjuncts {
				walk(d)
			}
		case *query.MatchQuery:
			if contentField(q.FieldVal) {
				analyze(q.Match)
			}
		case *query.MatchPhraseQuery:
			if contentField(q.FieldVal) {
				analyze(q.MatchPhrase)
			}
		case *query.TermQuery:
			if contentField(q.FieldVal) {
				addWord(q.Term)
			}
		case *query.FuzzyQuery:
			if contentField(q.FieldVal) {
				addWord(q.Term)
			}
		case *query.PrefixQuery:
			if contentField(q.FieldVal) && q.Prefix != "" {
				t.prefixes = append(t.prefixes, strings.ToLower(q.Prefix))
			}
		case *query.WildcardQuery:
			// A trailing * is a prefix; other patterns are not marked.
			w := q.Wildcard
			if contentField(q.FieldVal) && strings.HasSuffix(w, "*") && !strings.ContainsAny(w[:len(w)-1], "*?") && len(w) > 1 {
				t.prefixes = append(t.prefixes, strings.ToLower(w[:len(w)-1]))
			}
		}
	}
	walk(q)
	return t
}

var scanBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// describe fills h's version and snippet from the source's current version
// of the file. Directories and vanished paths get neither.
func (x *Index) describe(ctx context.Context, h *fs.Hit, t *terms) {
	f, err := x.src.Open(ctx, h.Path)
	if err != nil {
		return
	}
	defer f.Close()
	info := f.Stat()
	h.Version = info.Version
	size := min(info.Size, int64(x.opts.MaxContentBytes))
	if size == 0 {
		return
	}
	width := int64(x.opts.SnippetBytes)

	bp := scanBufs.Get().(*[]byte)
	defer scanBufs.Put(bp)
	var buf []byte
	var spans []span
	read := func(n int64) bool {
		buf = slices.Grow((*bp)[:0], int(n))[:n]
		*bp = buf
		m, _ := f.ReadAt(buf, 0)
		return int64(m) == n // else the file shrank under us: no snippet rather than a wrong one
	}
	if t.empty() {
		if !read(min(size, width)) {
			return
		}
	} else {
		// Most files show a match early: look in a short opening first
		// and read up to snippetScanBytes only when it has none.
		for _, limit := range []int64{firstScanBytes, snippetScanBytes} {
			n := min(size, limit)
			if int64(len(buf)) == n {
				break // the whole file was searched already
			}
			if !read(n) {
				return
			}
			if spans = findTerms(buf, t); len(spans) > 0 {
				break
			}
		}
	}
	start, end := bestWindow(spans, width, int64(len(buf)))
	h.Snippet = markSnippet(buf[start:end], start, spans, start > 0, end < info.Size)
}

// findTerms returns the spans of b where a word of t occurs as a whole
// word (or a prefix of t starts a word), ignoring case, in order.
func findTerms(b []byte, t *terms) []span {
	if t.empty() {
		return nil
	}
	var spans []span
	bp := lowerBufs.Get().(*[]byte)
	defer lowerBufs.Put(bp)
	lower, isASCII := asciiLower(slices.Grow((*bp)[:0], len(b))[:len(b)], b)
	*bp = lower
	if isASCII {
		find := func(w string, prefix bool) {
			for i := 0; len(spans) < maxSnippetSpans; {
				j := bytes.Index(lower[i:], []byte(w))
				if j < 0 {
					return
				}
				s, e := i+j, i+j+len(w)
				i = s + 1
				if s > 0 && wordByte(lower[s-1]) {
					continue
				}
				if !prefix && e < len(lower) && wordByte(lower[e]) {
					continue
				}
				spans = append(spans, span{int64(s), int64(e)})
			}
		}
		for _, w := range t.words {
			find(w, false)
		}
		for _, p := range t.prefixes {
			find(p, true)
		}
	} else {
		// Not ASCII: go word by word, since case folding may change
		// lengths and byte offsets must stay those of b.
		for i := 0; i < len(b) && len(spans) < maxSnippetSpans; {
			r, n := utf8.DecodeRune(b[i:])
			if !wordRune(r) {
				i += n
				continue
			}
			j := i + n
			for j < len(b) {
				r, n := utf8.DecodeRune(b[j:])
				if !wordRune(r) {
					break
				}
				j += n
			}
			if matchWord(strings.ToLower(string(b[i:j])), t) {
				spans = append(spans, span{int64(i), int64(j)})
			}
			i = j
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.start - b.start) })
	return spans
}

func matchWord(w string, t *terms) bool {
	if slices.Contains(t.words, w) {
		return true
	}
	for _, p := range t.prefixes {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

var lowerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// asciiLower writes b lowercased into dst (of b's length) in one pass and
// reports whether b was all ASCII; if not, dst is unusable.
func asciiLower(dst, b []byte) ([]byte, bool) {
	var or byte
	for i, c := range b {
		or |= c
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst, or < utf8.RuneSelf
}

func wordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '_'
}
