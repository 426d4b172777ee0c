package afs

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/fs"
)

type searchParams struct {
	Path    string `json:"path"`
	Query   string `json:"query"`
	Options *struct {
		Limit         *int `json:"limit"`
		CaseSensitive bool `json:"caseSensitive"`
	} `json:"options"`
}

const (
	defaultSearchLimit = 100
	// maxSearchRead is how much of one file a search reads.
	maxSearchRead = 8 << 20
	maxSummary    = 240
)

// search finds the files below path whose content contains the query,
// one entry per file with the first matching line as summary. It reads
// the files themselves, so a write or delete shows at once and matching
// is exact substring matching; a tree of more than SearchScanFiles files
// is answered from the file system's index (fs.Searcher) when it has one,
// each hit checked against the current content.
func (h *handler) search(ctx context.Context, raw json.RawMessage) (any, error) {
	var sp searchParams
	if err := decodeParams(raw, &sp); err != nil {
		return nil, err
	}
	p, err := afsPath("path", sp.Path)
	if err != nil {
		return nil, err
	}
	if sp.Query == "" {
		return nil, badParams("invalid params: query is required")
	}
	limit, cs := defaultSearchLimit, false
	if o := sp.Options; o != nil {
		if o.Limit != nil {
			if *o.Limit < 0 {
				return nil, badParams("invalid params: options.limit must not be negative")
			}
			if *o.Limit > 0 {
				limit = *o.Limit
			}
		}
		cs = o.CaseSensitive
	}
	m := newMatcher(sp.Query, cs)
	np := h.ns(p)
	info, err := h.fsys.Stat(ctx, np)
	if fs.IsNotExist(err) {
		return map[string]any{"data": []*Entry{}}, nil // unknown path: no hits
	}
	if err != nil {
		return nil, err
	}
	hits := []*Entry{}
	seen := map[fs.Path]bool{}
	add := func(f *fs.Info, line string) {
		e := h.entry(f)
		e.Summary = line
		hits = append(hits, e)
		seen[f.Path] = true
	}
	if !info.IsDir() {
		if line, ok := h.grep(ctx, np, m); ok {
			add(info, line)
		}
		return map[string]any{"data": hits}, nil
	}
	scanned, complete := 0, true
	queue := []fs.Path{np}
walk:
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		children, err := h.fsys.List(ctx, d)
		if err != nil {
			if d == np {
				return nil, err
			}
			continue
		}
		for _, c := range children {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if c.IsDir() {
				queue = append(queue, c.Path)
				continue
			}
			if scanned >= h.opts.SearchScanFiles {
				complete = false
				break walk
			}
			scanned++
			if line, ok := h.grep(ctx, c.Path, m); ok {
				add(c, line)
				if len(hits) >= limit {
					break walk
				}
			}
		}
	}
	if !complete && len(hits) < limit {
		if s, ok := h.fsys.(fs.Searcher); ok {
			found, err := s.Search(ctx, fs.Query{Text: phrase(sp.Query), Under: np, Limit: 4 * limit})
			if err == nil {
				for _, hit := range found {
					if len(hits) >= limit {
						break
					}
					if seen[hit.Path] || !hit.Path.Within(np) {
						continue
					}
					if line, ok := h.grep(ctx, hit.Path, m); ok {
						if fi, err := h.fsys.Stat(ctx, hit.Path); err == nil {
							add(fi, line)
						}
					}
				}
				complete = true
			} else if !errIs(err, fs.ErrNotSupported) {
				h.log.Warn("afs: index search failed; answering from the files scanned", "err", err)
			}
		}
	}
	out := map[string]any{"data": hits}
	if !complete {
		out["truncated"] = true
	}
	return out, nil
}

// phrase quotes text as one phrase of bleve's query string syntax.
func phrase(text string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(text) + `"`
}

// matcher finds the query in a line, folding case unless caseSensitive.
type matcher struct {
	q  []byte
	cs bool
}

func newMatcher(q string, cs bool) matcher {
	if !cs {
		q = strings.ToLower(q)
	}
	return matcher{q: []byte(q), cs: cs}
}

// index returns the offset of the first match in b, or -1. Case folding
// uses a lower-cased copy only when that keeps byte offsets.
func (m matcher) index(b []byte) int {
	if m.cs {
		return bytes.Index(b, m.q)
	}
	lower := bytes.ToLower(b)
	i := bytes.Index(lower, m.q)
	if i < 0 || len(lower) == len(b) {
		return i
	}
	// Lower-casing changed lengths (rare scripts): find the line instead.
	for off := 0; off < len(b); {
		end := bytes.IndexByte(b[off:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += off
		}
		if bytes.Contains(bytes.ToLower(b[off:end]), m.q) {
			return off
		}
		off = end + 1
	}
	return min(i, len(b))
}

// grep returns the first line of file p that matches; binary files (a NUL
// in the first 8 KiB) and unreadable files do not match.
func (h *handler) grep(ctx context.Context, p fs.Path, m matcher) (string, bool) {
	f, err := h.fsys.Open(ctx, p)
	if err != nil {
		return "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSearchRead))
	if err != nil {
		return "", false
	}
	if bytes.IndexByte(b[:min(len(b), 8<<10)], 0) >= 0 {
		return "", false
	}
	i := m.index(b)
	if i < 0 {
		return "", false
	}
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	end := bytes.IndexByte(b[i:], '\n')
	if end < 0 {
		end = len(b)
	} else {
		end += i
	}
	return summary(b[start:end]), true
}

func summary(line []byte) string {
	line = bytes.TrimRight(line, "\r")
	if len(line) > maxSummary {
		cut := maxSummary
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = append(line[:cut:cut], "…"...)
	}
	return strings.ToValidUTF8(string(line), "\uFFFD")
}
