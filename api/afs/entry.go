package afs

import (
	"context"
	"mime"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// Entry is the AFS representation of a node (§2).
type Entry struct {
	ID        string         `json:"id"`
	Path      string         `json:"path"`
	Content   *string        `json:"content,omitempty"`
	Summary   string         `json:"summary,omitempty"`
	Meta      map[string]any `json:"meta,omitempty"`
	Actions   []ActionRef    `json:"actions,omitempty"`
	CreatedAt string         `json:"createdAt,omitempty"`
	UpdatedAt string         `json:"updatedAt,omitempty"`
}

// ActionRef names an action available on a node.
type ActionRef struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
}

// The AFS kinds of ctxfs nodes.
const (
	KindFile      = "fs:file"
	KindDirectory = "fs:directory"
)

// reservedMeta are the meta keys the handler computes; user metadata
// with these names is not shown over them, and writes ignore them.
var reservedMeta = map[string]bool{
	"kind": true, "size": true, "childrenCount": true, "mimeType": true, "description": true,
	"lineRange": true, "version": true, "tokens": true, "author": true, "readOnly": true,
	"contentEncoding": true, "mount": true, "childrenTruncated": true,
}

// mountPoint is an AFS mount: a namespace mount point below the AFS root.
type mountPoint struct {
	at   fs.Path // AFS path
	name string
	fsys fs.FS
}

// mounts returns the AFS mounts sorted by path.
func (h *handler) mounts() []mountPoint {
	if h.opts.Mounts == nil {
		return nil
	}
	var out []mountPoint
	for _, m := range h.opts.Mounts() {
		rel, ok := h.afs(m.At)
		if !ok || rel.IsRoot() {
			continue
		}
		out = append(out, mountPoint{at: rel, name: rel.Base(), fsys: m.FS})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// mountOf returns the AFS mount that serves p (longest prefix), or the
// root provider's mount at "/".
func (h *handler) mountOf(p fs.Path) fs.Path {
	best := fs.Root
	for _, m := range h.mounts() {
		if p.Within(m.at) && len(m.at) > len(best) {
			best = m.at
		}
	}
	return best
}

func (h *handler) mountNamed(at fs.Path) (mountPoint, bool) {
	for _, m := range h.mounts() {
		if m.at == at {
			return m, true
		}
	}
	return mountPoint{}, false
}

// entry converts a namespace Info into an AFS entry (without content).
func (h *handler) entry(info *fs.Info) *Entry {
	p, ok := h.afs(info.Path)
	if !ok {
		p = info.Path
	}
	e := &Entry{ID: string(p), Path: string(p), Meta: map[string]any{}}
	for k, v := range info.Meta {
		if !reservedMeta[k] {
			e.Meta[k] = v
		}
	}
	if info.IsDir() {
		e.Meta["kind"] = KindDirectory
		e.Meta["childrenCount"] = -1
	} else {
		e.Meta["kind"] = KindFile
		e.Meta["size"] = info.Size
		if mt := mimeType(p.Base()); mt != "" {
			e.Meta["mimeType"] = mt
		}
	}
	if info.Version > 0 {
		e.Meta["version"] = info.Version
	}
	if info.Tokens > 0 {
		e.Meta["tokens"] = info.Tokens
	}
	if info.Author != "" {
		e.Meta["author"] = info.Author
	}
	if info.ReadOnly {
		e.Meta["readOnly"] = true
	}
	if m, ok := h.mountNamed(p); ok {
		e.ID = m.name
		e.Summary = "mount " + m.name
		e.Meta["mount"] = m.name
		e.Meta["description"] = mountDescription(m, info.ReadOnly)
	}
	e.CreatedAt = isoTime(info.Created)
	e.UpdatedAt = isoTime(info.Modified)
	return e
}

func mountDescription(m mountPoint, readOnly bool) string {
	access := "read-write"
	if readOnly {
		access = "read-only"
	}
	return "provider " + m.name + " mounted at " + string(m.at) + " (" + access + ")"
}

// withActions adds the node's actions to e.
func (h *handler) withActions(e *Entry, info *fs.Info) *Entry {
	for _, a := range actionsFor(info) {
		e.Actions = append(e.Actions, ActionRef{
			Name: a.name, Path: actionPath(fs.Path(e.Path), a.name), Severity: string(a.severity), Description: a.description,
		})
	}
	return e
}

func actionPath(node fs.Path, name string) string {
	if node.IsRoot() {
		return "/.actions/" + name
	}
	return string(node) + "/.actions/" + name
}

// childrenCount fills meta.childrenCount of a directory entry (one List).
func (h *handler) childrenCount(ctx context.Context, e *Entry, info *fs.Info) {
	if !info.IsDir() {
		return
	}
	if list, err := h.fsys.List(ctx, info.Path); err == nil {
		e.Meta["childrenCount"] = len(list)
	}
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// textTypes are extensions the standard library may not know on a bare
// system; the answer must not depend on the host's mime.types.
var textTypes = map[string]string{
	".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown", ".json": "application/json",
	".yaml": "application/yaml", ".yml": "application/yaml", ".toml": "application/toml", ".csv": "text/csv",
	".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript", ".ts": "text/typescript",
	".go": "text/x-go", ".py": "text/x-python", ".sh": "text/x-shellscript", ".xml": "application/xml",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".pdf": "application/pdf",
	".zip": "application/zip", ".gz": "application/gzip",
}

func mimeType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ext == "" {
		return ""
	}
	if t, ok := textTypes[ext]; ok {
		return t
	}
	t := mime.TypeByExtension(ext)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}
