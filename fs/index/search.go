package index

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/ctxfs/ctxfs/fs"
)

// Snippet goroutines: one per snippetsPerWorker hits, at most
// maxSnippetWorkers.
// On a small machine the goroutines cost more than they save (measured on
// 2 cores: sequential snippets were faster), hence a quarter of the CPUs.
const snippetsPerWorker = 4

var maxSnippetWorkers = min(runtime.GOMAXPROCS(0)/4, 4) // a variable for benchmarks

// DefaultLimit is the number of hits of a Query without a Limit; MaxLimit
// caps larger limits, since every hit costs a read of its file.
const (
	DefaultLimit = 10
	MaxLimit     = 1000
)

// Snippet markers: a match in a snippet reads «term». Guillemets are rare
// in source text and mean nothing in Markdown or HTML, so a snippet can be
// shown as it is anywhere.
const (
	MarkStart = "«"
	MarkEnd   = "»"
)

// Search runs q. Text is bleve's query string syntax; an empty or malformed
// query is an error wrapping fs.ErrInvalid. Hits come best first, each with
// the file's current version in the source and a snippet of that version:
// at most Options.SnippetBytes bytes of content around the densest cluster
// of the query's words, marked «like this».
func (x *Index) Search(ctx context.Context, q fs.Query) ([]fs.Hit, error) {
	bq, err := buildQuery(q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	idx, release, err := x.bleveIndex()
	if err != nil {
		return nil, err
	}
	// The search is exactly a plain bleve search: no term locations (they
	// would decode the term vectors of every matching document, ten times
	// the cost for a frequent word) and no stored fields. Snippets come from
	// the source, which has the content anyway.
	res, err := idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(bq, limit, 0, false))
	release()
	if err != nil {
		return nil, x.searchErr(ctx, q, err)
	}
	if len(res.Hits) == 0 {
		return nil, nil
	}
	terms := x.contentTerms(bq)
	hits := make([]fs.Hit, len(res.Hits))
	for i, dm := range res.Hits {
		hits[i] = fs.Hit{Path: fs.Path(dm.ID), Score: dm.Score}
	}
	// Snippets are independent reads of the source: a few goroutines cut
	// the latency of a full page of hits.
	workers := min(len(hits)/snippetsPerWorker, maxSnippetWorkers)
	if workers <= 1 {
		for i := range hits {
			x.describe(ctx, &hits[i], terms)
		}
		return hits, nil
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(hits); i += workers {
				x.describe(ctx, &hits[i], terms)
			}
		})
	}
	wg.Wait()
	return hits, nil
}

func (x *Index) searchErr(ctx context.Context, q fs.Query, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The query parsed, so what fails here is a part bleve checks only when
	// it builds the searchers (a bad regexp, a huge fuzziness).
	return fmt.Errorf("search %q: %w: %v", q.Text, fs.ErrInvalid, err)
}

// buildQuery parses q's text and restricts it to q.Under.
func buildQuery(q fs.Query) (query.Query, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, fmt.Errorf("search: %w: empty query", fs.ErrInvalid)
	}
	parsed, err := query.NewQueryStringQuery(q.Text).Parse()
	if err != nil {
		return nil, fmt.Errorf("search %q: %w: %v", q.Text, fs.ErrInvalid, err)
	}
	if v, ok := parsed.(query.ValidatableQuery); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("search %q: %w: %v", q.Text, fs.ErrInvalid, err)
		}
	}
	if q.Under == "" || q.Under.IsRoot() {
		return parsed, nil
	}
	// One term of the keyword field that lists every ancestor: cheaper
	// than a prefix query, which expands to one term per path below.
	// Boost 0 keeps the restriction out of the score.
	under := query.NewTermQuery(string(q.Under))
	under.SetField(FieldUnder)
	under.SetBoost(0)
	return query.NewConjunctionQuery([]query.Query{parsed, under}), nil
}

// bestWindow chooses the window of at most width bytes within [0,size)
// that holds the most match spans, with the matches centred in it.
func bestWindow(spans []span, width, size int64) (int64, int64) {
	if len(spans) == 0 {
		return 0, min(width, size)
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.start - b.start) })
	bi, bj := 0, 0
	j := 0
	for i := range spans {
		if j < i {
			j = i
		}
		for j+1 < len(spans) && spans[j+1].end-spans[i].start <= width {
			j++
		}
		if j-i > bj-bi {
			bi, bj = i, j
		}
	}
	first, last := spans[bi].start, max(spans[bi].end, spans[bj].end)
	slack := max(width-(last-first), 0)
	start := max(first-slack/2, 0)
	end := min(start+max(width, last-first), size)
	if end-start < width { // near the end: use the room before
		start = max(end-width, 0)
	}
	return start, end
}

// markSnippet renders buf (the content from offset off) with the spans
// that fall inside it marked, whitespace folded to single spaces, and an
// ellipsis where content was cut.
func markSnippet(buf []byte, off int64, spans []span, cutStart, cutEnd bool) string {
	// Keep whole runes: drop the continuation bytes a cut left at either end.
	lo, hi := 0, len(buf)
	for lo < hi && lo < utf8.UTFMax && !utf8.RuneStart(buf[lo]) {
		lo++
	}
	for i := 0; i < utf8.UTFMax && hi > lo; i++ {
		r, size := utf8.DecodeLastRune(buf[lo:hi])
		if r != utf8.RuneError || size != 1 {
			break
		}
		hi--
	}
	text := buf[lo:hi]
	if !utf8.Valid(text) || slices.Contains(text, 0) {
		return "" // binary content
	}
	base := off + int64(lo)
	var sb strings.Builder
	sb.Grow(len(text) + 16)
	if cutStart {
		sb.WriteString("…")
	}
	space := false
	write := func(b []byte) {
		for i := 0; i < len(b); {
			c := b[i]
			if c >= utf8.RuneSelf { // multi-byte rune: copied as it is
				_, n := utf8.DecodeRune(b[i:])
				if space && sb.Len() > 0 {
					sb.WriteByte(' ')
				}
				space = false
				sb.Write(b[i : i+n])
				i += n
				continue
			}
			i++
			if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f' {
				space = true
				continue
			}
			if space && sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			space = false
			sb.WriteByte(c)
		}
	}
	pos := int64(0)
	for _, s := range spans {
		s0, s1 := s.start-base, s.end-base
		if s0 < pos || s1 > int64(len(text)) {
			continue // outside the window, or overlapping the previous mark
		}
		if !utf8.RuneStart(text[s0]) || (s1 < int64(len(text)) && !utf8.RuneStart(text[s1])) {
			continue // not on rune boundaries: not offsets into this text
		}
		write(text[pos:s0])
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteString(MarkStart)
		sb.Write(text[s0:s1])
		sb.WriteString(MarkEnd)
		pos = s1
	}
	write(text[pos:])
	if cutEnd {
		sb.WriteString("…")
	}
	return sb.String()
}
