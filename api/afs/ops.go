package afs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/fs"
)

// maxContent bounds the content one read returns and one read-modify-write
// holds in memory.
const maxContent = 64 << 20

// ---- read ----

type readParams struct {
	Path    string `json:"path"`
	Options *struct {
		StartLine *int64 `json:"startLine"`
		EndLine   *int64 `json:"endLine"`
	} `json:"options"`
}

func (h *handler) read(ctx context.Context, raw json.RawMessage) (any, error) {
	var pr readParams
	if err := decodeParams(raw, &pr); err != nil {
		return nil, err
	}
	p, err := afsPath("path", pr.Path)
	if err != nil {
		return nil, err
	}
	var start, end int64 = 1, -1
	ranged := false
	if o := pr.Options; o != nil {
		if o.StartLine != nil {
			start, ranged = *o.StartLine, true
		}
		if o.EndLine != nil {
			end, ranged = *o.EndLine, true
		}
	}
	if start < 1 {
		return nil, badParams("invalid params: startLine must be at least 1")
	}
	if end < -1 || end == 0 {
		return nil, badParams("invalid params: endLine must be at least 1, or -1 for the end of the file")
	}
	if end != -1 && start > end {
		return nil, badParams("invalid params: startLine %d is after endLine %d", start, end)
	}
	np := h.ns(p)
	f, err := h.fsys.Open(ctx, np)
	if errIs(err, fs.ErrIsDir) {
		info, err := h.fsys.Stat(ctx, np)
		if err != nil {
			return nil, err
		}
		e := h.withActions(h.entry(info), info)
		h.childrenCount(ctx, e, info)
		return map[string]any{"data": e}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info := f.Stat()
	e := h.withActions(h.entry(info), info)
	if !ranged {
		if info.Size > maxContent {
			return nil, runtimeErr("%s is %d bytes, more than one read returns (%d); read a line range", p, info.Size, maxContent)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxContent+1))
		if err != nil {
			return nil, err
		}
		setContent(e, b)
		return map[string]any{"data": e}, nil
	}
	text, total, last, err := lineRange(f, start, end)
	if err != nil {
		return nil, err
	}
	setContent(e, text)
	e.Meta["lineRange"] = map[string]any{"startLine": start, "endLine": last, "totalLines": total}
	return map[string]any{"data": e}, nil
}

// setContent sets e's content: the text itself, or base64 (with
// meta.contentEncoding) when it is not valid UTF-8, which JSON strings
// cannot carry unchanged.
func setContent(e *Entry, b []byte) {
	var s string
	if utf8.Valid(b) {
		s = string(b)
	} else {
		s = base64.StdEncoding.EncodeToString(b)
		e.Meta["contentEncoding"] = "base64"
	}
	e.Content = &s
}

// lineRange returns lines start..end (1-based, inclusive; end -1 means the
// last line) joined by "\n", the file's line count and the last line
// returned. A final "\n" ends the last line rather than starting another.
func lineRange(r io.Reader, start, end int64) ([]byte, int64, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out bytes.Buffer
	var n, last int64
	atStart := true
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			in := false
			if atStart {
				n++
				if n >= start && (end == -1 || n <= end) {
					if last > 0 {
						out.WriteByte('\n')
					}
					last = n
				}
			}
			in = n >= start && (end == -1 || n <= end)
			if in {
				out.Write(bytes.TrimSuffix(chunk, []byte("\n")))
				if out.Len() > maxContent {
					return nil, 0, 0, runtimeErr("the line range holds more than %d bytes; read fewer lines", maxContent)
				}
			}
			atStart = chunk[len(chunk)-1] == '\n'
		}
		switch err {
		case nil, bufio.ErrBufferFull:
			continue
		case io.EOF:
		default:
			return nil, 0, 0, err
		}
		break
	}
	if last == 0 {
		last = min(start-1, n)
	}
	return out.Bytes(), n, last, nil
}

// ---- stat ----

type pathParams struct {
	Path string `json:"path"`
}

func (h *handler) stat(ctx context.Context, raw json.RawMessage) (any, error) {
	var pp pathParams
	if err := decodeParams(raw, &pp); err != nil {
		return nil, err
	}
	p, err := afsPath("path", pp.Path)
	if err != nil {
		return nil, err
	}
	info, err := h.fsys.Stat(ctx, h.ns(p))
	if err != nil {
		return nil, err
	}
	e := h.withActions(h.entry(info), info)
	h.childrenCount(ctx, e, info)
	return map[string]any{"data": e}, nil
}

// ---- list ----

type listParams struct {
	Path    string `json:"path"`
	Options *struct {
		Limit       *int   `json:"limit"`
		Offset      *int   `json:"offset"`
		MaxDepth    *int   `json:"maxDepth"`
		Pattern     string `json:"pattern"`
		MaxChildren *int   `json:"maxChildren"`
	} `json:"options"`
}

// maxListVisit bounds the entries one list visits, whatever its depth.
const maxListVisit = 100000

func (h *handler) list(ctx context.Context, raw json.RawMessage) (any, error) {
	var lp listParams
	if err := decodeParams(raw, &lp); err != nil {
		return nil, err
	}
	p, err := afsPath("path", lp.Path)
	if err != nil {
		return nil, err
	}
	limit, offset, depth, maxChildren := 1000, 0, 1, 0
	pattern := ""
	if o := lp.Options; o != nil {
		for _, x := range []struct {
			name string
			v    *int
			dst  *int
		}{{"limit", o.Limit, &limit}, {"offset", o.Offset, &offset}, {"maxDepth", o.MaxDepth, &depth}, {"maxChildren", o.MaxChildren, &maxChildren}} {
			if x.v != nil {
				if *x.v < 0 {
					return nil, badParams("invalid params: options.%s must not be negative", x.name)
				}
				*x.dst = *x.v
			}
		}
		if o.Limit != nil && *o.Limit == 0 {
			limit = 1000
		}
		pattern = o.Pattern
	}
	var match func(rel fs.Path) bool
	if pattern != "" {
		m, err := globMatcher(pattern)
		if err != nil {
			return nil, err
		}
		match = m
	}
	np := h.ns(p)
	info, err := h.fsys.Stat(ctx, np)
	if err != nil {
		return nil, err
	}
	empty := map[string]any{"data": []*Entry{}, "total": 0}
	if !info.IsDir() || depth == 0 {
		return empty, nil
	}
	type dir struct {
		path  fs.Path
		entry *Entry // nil for the listed directory itself
		level int
	}
	var all []*Entry
	queue := []dir{{path: np, level: 0}}
	visited, truncated := 0, false
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		children, err := h.fsys.List(ctx, d.path)
		if err != nil {
			if d.entry == nil {
				return nil, err
			}
			continue // a subdirectory that vanished or is hidden
		}
		if d.entry != nil {
			d.entry.Meta["childrenCount"] = len(children)
		}
		if maxChildren > 0 && len(children) > maxChildren {
			children = children[:maxChildren]
			if d.entry != nil {
				d.entry.Meta["childrenTruncated"] = true
			}
			truncated = true
		}
		for _, c := range children {
			if visited >= maxListVisit {
				truncated = true
				queue = nil
				break
			}
			visited++
			e := h.entry(c)
			rel, _ := c.Path.Rel(np)
			if match == nil || match(rel) {
				all = append(all, e)
			}
			if c.IsDir() && d.level+1 < depth {
				queue = append(queue, dir{path: c.Path, entry: e, level: d.level + 1})
			}
		}
	}
	total := len(all)
	if offset > len(all) {
		offset = len(all)
	}
	all = all[offset:]
	if len(all) > limit {
		all = all[:limit]
	}
	if all == nil {
		all = []*Entry{}
	}
	out := map[string]any{"data": all, "total": total}
	if truncated {
		out["truncated"] = true
	}
	return out, nil
}

// globMatcher matches entry paths relative to the listed directory: a
// pattern without a slash matches the base name (path.Match syntax), one
// with slashes the whole relative path, where "**" spans any number of
// elements.
func globMatcher(pattern string) (func(fs.Path) bool, error) {
	if !strings.Contains(pattern, "/") {
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, badParams("invalid params: pattern %q: %v", truncate(pattern, 120), err)
		}
		return func(rel fs.Path) bool {
			ok, _ := path.Match(pattern, rel.Base())
			return ok
		}, nil
	}
	pat := "/" + strings.TrimPrefix(pattern, "/")
	if err := fs.ValidatePattern(pat); err != nil {
		return nil, badParams("invalid params: pattern %q: %v", truncate(pattern, 120), err)
	}
	r := fs.Rule{Principal: "*", Pattern: pat}
	return func(rel fs.Path) bool { return r.Match("", rel) }, nil
}

// ---- delete ----

type deleteParams struct {
	Path    string `json:"path"`
	Options *struct {
		Recursive bool `json:"recursive"`
	} `json:"options"`
}

func (h *handler) delete(ctx context.Context, raw json.RawMessage) (any, error) {
	var dp deleteParams
	if err := decodeParams(raw, &dp); err != nil {
		return nil, err
	}
	p, err := afsPath("path", dp.Path)
	if err != nil {
		return nil, err
	}
	if p.IsRoot() {
		return nil, runtimeErr("cannot delete the root")
	}
	recursive := dp.Options != nil && dp.Options.Recursive
	np := h.ns(p)
	info, err := h.fsys.Stat(ctx, np)
	if err != nil {
		return nil, err
	}
	if info.IsDir() && !recursive {
		return nil, runtimeErr("%s is a directory: delete it with options.recursive", p)
	}
	if err := h.fsys.Remove(ctx, np, recursive); err != nil {
		return nil, err
	}
	return map[string]any{"message": "Deleted: " + strings.TrimPrefix(string(p), "/")}, nil
}

// ---- rename ----

type renameParams struct {
	Path    string `json:"path"`
	OldPath string `json:"oldPath"`
	NewPath string `json:"newPath"`
	Options *struct {
		Overwrite bool `json:"overwrite"`
	} `json:"options"`
}

func (h *handler) rename(ctx context.Context, raw json.RawMessage) (any, error) {
	var rp renameParams
	if err := decodeParams(raw, &rp); err != nil {
		return nil, err
	}
	srcName, srcArg := "path", rp.Path
	if srcArg == "" {
		srcName, srcArg = "oldPath", rp.OldPath
	} else if rp.OldPath != "" && rp.OldPath != rp.Path {
		return nil, badParams("invalid params: path and oldPath name different sources")
	}
	src, err := afsPath(srcName, srcArg)
	if err != nil {
		return nil, err
	}
	dst, err := afsPath("newPath", rp.NewPath)
	if err != nil {
		return nil, err
	}
	if src.IsRoot() || dst.IsRoot() {
		return nil, runtimeErr("cannot rename the root")
	}
	if ms, md := h.mountOf(src), h.mountOf(dst); ms != md {
		return nil, runtimeErr("cannot rename across mounts: %s is on %s, %s on %s", src, ms, dst, md)
	}
	if dst.Within(src) {
		return nil, runtimeErr("cannot move %s into itself (%s)", src, dst)
	}
	nsrc, ndst := h.ns(src), h.ns(dst)
	unlock := h.locks.lock(ndst)
	defer unlock()
	if _, err := h.fsys.Stat(ctx, nsrc); err != nil {
		return nil, err
	}
	overwrite := rp.Options != nil && rp.Options.Overwrite
	if _, err := h.fsys.Stat(ctx, ndst); err == nil {
		if !overwrite {
			return nil, &fs.PathError{Op: "rename", Path: string(ndst), Err: fmt.Errorf("%w: destination exists (set options.overwrite)", fs.ErrExist)}
		}
	} else if !fs.IsNotExist(err) {
		return nil, err
	}
	// Create the missing parents of the destination, and remove them again
	// if the rename fails, so that a failed call changes nothing.
	var created []fs.Path
	for d := ndst.Dir(); !d.IsRoot(); d = d.Dir() {
		if _, err := h.fsys.Stat(ctx, d); !fs.IsNotExist(err) {
			break
		}
		created = append(created, d)
	}
	if len(created) > 0 {
		if err := h.fsys.Mkdir(ctx, created[0]); err != nil {
			return nil, err
		}
	}
	if err := h.fsys.Rename(ctx, nsrc, ndst); err != nil {
		for _, d := range created {
			h.fsys.Remove(ctx, d, false)
		}
		return nil, err
	}
	return map[string]any{"message": fmt.Sprintf("Renamed %s to %s", src, dst)}, nil
}

// errIs reports whether err wraps target (a short form for the retry loops).
func errIs(err, target error) bool { return errors.Is(err, target) }
