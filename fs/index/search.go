package index

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/ctxfs/ctxfs/fs"
)

// DefaultLimit is the number of hits of a Query without a Limit.
const DefaultLimit = 10

// Snippet markers: a match in a snippet reads «term». Guillemets are rare
// in source text and mean nothing in Markdown or HTML, so a snippet can be
// shown as it is anywhere.
const (
	MarkStart = "«"
	MarkEnd   = "»"
)

// Search runs q. Text is bleve's query string syntax; an empty or malformed
// query is an error wrapping fs.ErrInvalid. Hits come best first, each with
// the indexed version and a snippet of at most Options.SnippetBytes bytes
// of content around the densest cluster of matches, marked «like this».
func (x *Index) Search(ctx context.Context, q fs.Query) ([]fs.Hit, error) {
	bq, err := buildQuery(q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	req := bleve.NewSearchRequestOptions(bq, limit, 0, false)
	req.Fields = []string{FieldVersion}
	req.IncludeLocations = true

	idx, release, err := x.bleveIndex()
	if err != nil {
		return nil, err
	}
	res, err := idx.SearchInContext(ctx, req)
	release()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The query parsed, so what fails here is a part bleve checks only
		// when it builds the searchers (a bad regexp, a huge fuzziness).
		return nil, fmt.Errorf("search %q: %w: %v", q.Text, fs.ErrInvalid, err)
	}
	hits := make([]fs.Hit, 0, len(res.Hits))
	for _, dm := range res.Hits {
		h := fs.Hit{Path: fs.Path(dm.ID), Score: dm.Score}
		if v, ok := dm.Fields[FieldVersion].(float64); ok {
			h.Version = int64(v)
		}
		h.Snippet = x.snippet(ctx, h, dm.Locations[FieldContent])
		hits = append(hits, h)
	}
	return hits, nil
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

type span struct{ start, end int64 }

// snippet returns a part of the hit's content around the matches, or the
// opening of the content when no content term matched. Content comes from
// the source; when the source has moved past the indexed version the match
// offsets no longer fit it and the snippet is the opening, unmarked.
func (x *Index) snippet(ctx context.Context, h fs.Hit, tlm search.TermLocationMap) string {
	f, err := x.src.Open(ctx, h.Path)
	if err != nil {
		return "" // a directory, or gone since it was indexed
	}
	defer f.Close()
	info := f.Stat()
	size := min(info.Size, int64(x.opts.MaxContentBytes))
	if size == 0 {
		return ""
	}
	width := int64(x.opts.SnippetBytes)

	var spans []span
	if info.Version == h.Version {
		for _, locs := range tlm {
			for _, l := range locs {
				if int64(l.End) <= size && l.Start < l.End {
					spans = append(spans, span{int64(l.Start), int64(l.End)})
				}
			}
		}
	}
	start, end := bestWindow(spans, width, size)
	buf := make([]byte, end-start)
	if n, _ := f.ReadAt(buf, start); n < len(buf) {
		return "" // the file shrank under us: no snippet rather than a wrong one
	}
	return markSnippet(buf, start, spans, start > 0, end < info.Size)
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
		for _, r := range string(b) {
			if r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f' {
				space = true
				continue
			}
			if space && sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			space = false
			sb.WriteRune(r)
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
