package afs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

// Write modes (§3 write).
const (
	ModeReplace = "replace"
	ModeAppend  = "append"
	ModePrepend = "prepend"
	ModeCreate  = "create"
	ModeUpdate  = "update"
	ModePatch   = "patch"
)

// Patch operations.
const (
	PatchStrReplace   = "str_replace"
	PatchInsertBefore = "insert_before"
	PatchInsertAfter  = "insert_after"
	PatchDelete       = "delete"
)

// Patch is one edit of a patch write.
type Patch struct {
	Op      string  `json:"op"`
	Target  string  `json:"target"`
	Content *string `json:"content"`
}

type writeParams struct {
	Path    string          `json:"path"`
	Content json.RawMessage `json:"content"`
	Options *struct {
		Mode string `json:"mode"`
	} `json:"options"`
}

type writePayload struct {
	Content *string                    `json:"content"`
	Meta    map[string]json.RawMessage `json:"meta"`
	Patches []Patch                    `json:"patches"`
}

// maxRetries bounds the optimistic retries of a read-modify-write that
// keeps losing the race against writers through other doors.
const maxRetries = 32

func (h *handler) write(ctx context.Context, raw json.RawMessage) (any, error) {
	var wp writeParams
	if err := decodeParams(raw, &wp); err != nil {
		return nil, err
	}
	p, err := afsPath("path", wp.Path)
	if err != nil {
		return nil, err
	}
	var pl writePayload
	switch c := bytes.TrimSpace(wp.Content); {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"': // a bare string is the text itself
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return nil, badParams("invalid params: content: %v", err)
		}
		pl.Content = &s
	case c[0] == '{':
		if err := decodeParams(c, &pl); err != nil {
			return nil, err
		}
	default:
		return nil, badParams("invalid params: content must be an object {content?, meta?, patches?}")
	}
	mode := ModeReplace
	if wp.Options != nil && wp.Options.Mode != "" {
		mode = wp.Options.Mode
	} else if len(pl.Patches) > 0 {
		mode = ModePatch
	}
	switch mode {
	case ModeReplace, ModeAppend, ModePrepend, ModeCreate, ModeUpdate:
		if len(pl.Patches) > 0 {
			return nil, badParams("invalid params: patches need mode %q", ModePatch)
		}
	case ModePatch:
		if len(pl.Patches) == 0 {
			return nil, badParams("invalid params: mode patch needs content.patches")
		}
		if pl.Content != nil {
			return nil, badParams("invalid params: mode patch takes patches, not content")
		}
		for i, pt := range pl.Patches {
			if err := pt.check(); err != nil {
				return nil, badParams("invalid params: patches[%d]: %v", i, err)
			}
		}
	default:
		return nil, badParams("invalid params: unknown write mode %q (replace, append, prepend, create, update, patch)", truncate(mode, 32))
	}
	meta, err := metaChanges(pl.Meta)
	if err != nil {
		return nil, err
	}
	if p.IsRoot() {
		return nil, runtimeErr("cannot write the root")
	}
	info, content, err := h.writeFile(ctx, h.ns(p), mode, pl.Content, meta, pl.Patches)
	if err != nil {
		return nil, err
	}
	e := h.withActions(h.entry(info), info)
	setContent(e, content)
	return map[string]any{"data": e}, nil
}

func (pt Patch) check() error {
	switch pt.Op {
	case PatchStrReplace, PatchInsertBefore, PatchInsertAfter:
		if pt.Content == nil {
			return fmt.Errorf("%s needs content", pt.Op)
		}
	case PatchDelete:
	default:
		return fmt.Errorf("unknown op %q (str_replace, insert_before, insert_after, delete)", truncate(pt.Op, 32))
	}
	if pt.Target == "" {
		return fmt.Errorf("target is empty")
	}
	return nil
}

// metaChanges converts AFS meta into user metadata changes: strings are
// kept, numbers and booleans become their JSON text, null deletes a key,
// and the computed keys (size, kind, ...) are ignored.
func metaChanges(m map[string]json.RawMessage) (map[string]*string, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]*string, len(m))
	for k, v := range m {
		if reservedMeta[k] {
			continue
		}
		if k == "" {
			return nil, badParams("invalid params: empty meta key")
		}
		v = bytes.TrimSpace(v)
		switch {
		case string(v) == "null":
			out[k] = nil
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, badParams("invalid params: meta.%s: %v", k, err)
			}
			out[k] = &s
		case len(v) > 0 && (v[0] == '{' || v[0] == '['):
			return nil, badParams("invalid params: meta.%s must be a string, number, boolean or null", k)
		default:
			s := string(v)
			out[k] = &s
		}
	}
	return out, nil
}

// writeFile performs a write in mode and returns the new Info and content.
// Plain replace, create and update writes are single calls; the others
// read the current version and write conditionally on it (IfVersion),
// retrying when another writer got in between, under a per-path lock that
// also protects providers without versions.
func (h *handler) writeFile(ctx context.Context, p fs.Path, mode string, text *string, meta map[string]*string, patches []Patch) (*fs.Info, []byte, error) {
	body := []byte{}
	if text != nil {
		body = []byte(*text)
	}
	if meta == nil && (mode == ModeCreate || mode == ModeReplace || mode == ModeUpdate) {
		opts := fs.WriteOptions{Create: mode == ModeCreate, MustExist: mode == ModeUpdate}
		unlock := h.locks.lock(p)
		defer unlock()
		info, err := h.fsys.Write(ctx, p, bytes.NewReader(body), opts)
		return info, body, err
	}
	if mode == ModeCreate {
		info, err := h.fsys.Write(ctx, p, bytes.NewReader(body), fs.WriteOptions{Create: true, Meta: setMeta(nil, meta)})
		return info, body, err
	}
	unlock := h.locks.lock(p)
	defer unlock()
	for range maxRetries {
		old, info, err := h.readCurrent(ctx, p)
		exists := err == nil
		if err != nil && !fs.IsNotExist(err) {
			return nil, nil, err
		}
		if !exists && (mode == ModeUpdate || mode == ModePatch) {
			return nil, nil, err
		}
		var next []byte
		switch mode {
		case ModeReplace, ModeUpdate:
			next = body
			if text == nil { // metadata only
				next = old
			}
		case ModeAppend:
			next = append(old, body...)
		case ModePrepend:
			next = append(append([]byte{}, body...), old...)
		case ModePatch:
			next, err = applyPatches(string(old), patches)
			if err != nil {
				return nil, nil, err
			}
		}
		opts := fs.WriteOptions{}
		var oldMeta map[string]string
		if exists {
			oldMeta = info.Meta
			if info.Version > 0 {
				opts.IfVersion = info.Version
			}
		} else {
			opts.Create = true
		}
		if meta != nil {
			opts.Meta = setMeta(oldMeta, meta)
		}
		wi, err := h.fsys.Write(ctx, p, bytes.NewReader(next), opts)
		if err == nil {
			return wi, next, nil
		}
		if errIs(err, fs.ErrConflict) || (!exists && errIs(err, fs.ErrExist)) {
			continue // another writer won; read again
		}
		return nil, nil, err
	}
	return nil, nil, &fs.PathError{Op: "write", Path: string(p), Err: fmt.Errorf("%w: the file kept changing; %d attempts failed", fs.ErrConflict, maxRetries)}
}

// readCurrent reads the current content of file p and the Info of the
// version read.
func (h *handler) readCurrent(ctx context.Context, p fs.Path) ([]byte, *fs.Info, error) {
	f, err := h.fsys.Open(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info := f.Stat()
	if info.Size > maxContent {
		return nil, nil, &fs.PathError{Op: "write", Path: string(p), Err: fmt.Errorf("%w: %d bytes is more than a read-modify-write holds (%d)", fs.ErrTooLarge, info.Size, maxContent)}
	}
	b, err := io.ReadAll(f)
	return b, info, err
}

func setMeta(old map[string]string, changes map[string]*string) map[string]string {
	out := make(map[string]string, len(old)+len(changes))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// applyPatches applies patches in order; each target must occur exactly
// once in the text as it is when that patch applies.
func applyPatches(text string, patches []Patch) ([]byte, error) {
	for i, pt := range patches {
		n := strings.Count(text, pt.Target)
		if n != 1 {
			what := "does not occur"
			if n > 1 {
				what = "occurs " + strconv.Itoa(n) + " times"
			}
			return nil, runtimeErr("patch %d (%s): target %q %s; it must occur exactly once (nothing was written)", i, pt.Op, truncate(pt.Target, 80), what)
		}
		j := strings.Index(text, pt.Target)
		before, after := text[:j], text[j+len(pt.Target):]
		switch pt.Op {
		case PatchStrReplace:
			text = before + *pt.Content + after
		case PatchInsertBefore:
			text = before + *pt.Content + pt.Target + after
		case PatchInsertAfter:
			text = before + pt.Target + *pt.Content + after
		case PatchDelete:
			text = before + after
		}
	}
	return []byte(text), nil
}
