package afs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

type explainParams struct {
	Path    string `json:"path"`
	Options *struct {
		Format string `json:"format"`
	} `json:"options"`
}

// operations are the standard operations, as explain lists them.
var operations = []struct{ name, doc string }{
	{"read", "read a file's content (options.startLine, options.endLine); a directory gives its entry"},
	{"list", "list a directory's children (options.limit, offset, maxDepth, pattern, maxChildren)"},
	{"stat", "describe a file or directory without its content"},
	{"write", "write a file (options.mode: replace, append, prepend, create, update, patch)"},
	{"delete", "delete a file, or a directory with options.recursive"},
	{"rename", "move path (or oldPath) to newPath within one mount (options.overwrite)"},
	{"search", "find files below path whose content contains query (options.limit, caseSensitive)"},
	{"explain", "describe a path, a mount or the whole namespace"},
	{"exec", "run a node action: NODE/.actions/NAME with args"},
	{"changes", "ctxfs extension: change-log events after options.since"},
}

func (h *handler) explain(ctx context.Context, raw json.RawMessage) (any, error) {
	var xp explainParams
	if err := decodeParams(raw, &xp); err != nil {
		return nil, err
	}
	p, err := afsPath("path", xp.Path)
	if err != nil {
		return nil, err
	}
	format := "markdown"
	if xp.Options != nil && xp.Options.Format != "" {
		format = xp.Options.Format
	}
	if format != "markdown" && format != "text" {
		return nil, badParams("invalid params: options.format must be markdown or text")
	}
	info, err := h.fsys.Stat(ctx, h.ns(p))
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if p.IsRoot() {
		h.explainRoot(&b)
	} else {
		h.explainNode(ctx, &b, p, info)
	}
	content := b.String()
	if format == "text" {
		content = plainText(content)
	}
	return map[string]any{"format": format, "content": content}, nil
}

func (h *handler) explainRoot(b *strings.Builder) {
	b.WriteString("# AFS\n\n")
	b.WriteString("## Mounted Providers\n\n")
	for _, m := range h.mounts() {
		fmt.Fprintf(b, "- %s (`%s`)\n", m.name, m.at)
	}
	fmt.Fprintf(b, "- ctxfs (`/`): the ctxfs store below `%s` (versioned files, user metadata); it serves every path no mount claims\n", h.root)
	b.WriteString("\n## Operations\n\n")
	for _, op := range operations {
		fmt.Fprintf(b, "- %s: %s\n", op.name, op.doc)
	}
	b.WriteString("\n## Actions\n\n")
	for _, a := range actions {
		on := "files"
		if a.onDir {
			on = "directories"
		}
		fmt.Fprintf(b, "- %s (%s, on %s): %s\n", a.name, a.severity, on, a.description)
	}
	pol := h.opts.Exec.Policy
	if pol == "" {
		pol = PolicyStandard
	}
	fmt.Fprintf(b, "\nExec policy: %s", pol)
	if len(h.opts.Exec.Blocked) > 0 {
		fmt.Fprintf(b, "; blocked: %s", strings.Join(h.opts.Exec.Blocked, ", "))
	}
	b.WriteString(".\n")
}

func (h *handler) explainNode(ctx context.Context, b *strings.Builder, p fs.Path, info *fs.Info) {
	e := h.withActions(h.entry(info), info)
	h.childrenCount(ctx, e, info)
	if m, ok := h.mountNamed(p); ok {
		fmt.Fprintf(b, "# Mount %s (`%s`)\n\n", m.name, m.at)
		fmt.Fprintf(b, "%s.\n\n", mountDescription(m, info.ReadOnly))
		ops := []string{"read", "list", "stat", "search", "explain"}
		if !info.ReadOnly {
			ops = append(ops, "write", "delete", "rename", "exec")
		}
		fmt.Fprintf(b, "- Operations: %s\n", strings.Join(ops, ", "))
	} else {
		fmt.Fprintf(b, "# %s\n\n", p)
	}
	kind := "file"
	if info.IsDir() {
		kind = "directory"
	}
	fmt.Fprintf(b, "- Path: `%s`\n- Type: %s\n- Kind: %s\n", p, kind, e.Meta["kind"])
	if info.IsDir() {
		fmt.Fprintf(b, "- Children: %v\n", e.Meta["childrenCount"])
	} else {
		fmt.Fprintf(b, "- Size: %d bytes\n", info.Size)
		if mt, ok := e.Meta["mimeType"]; ok {
			fmt.Fprintf(b, "- MIME type: %s\n", mt)
		}
	}
	if mnt := h.mountOf(p); !mnt.IsRoot() {
		fmt.Fprintf(b, "- Mount: `%s`\n", mnt)
	}
	if info.Version > 0 {
		fmt.Fprintf(b, "- Version: %d\n", info.Version)
	}
	if info.Author != "" {
		fmt.Fprintf(b, "- Author: %s\n", info.Author)
	}
	if e.UpdatedAt != "" {
		fmt.Fprintf(b, "- Updated: %s\n", e.UpdatedAt)
	}
	access := "read-write"
	if info.ReadOnly {
		access = "read-only"
	}
	fmt.Fprintf(b, "- Access: %s\n", access)
	if len(e.Actions) > 0 {
		names := make([]string, len(e.Actions))
		for i, a := range e.Actions {
			names[i] = fmt.Sprintf("%s (`%s`, %s)", a.Name, a.Path, a.Severity)
		}
		fmt.Fprintf(b, "- Actions: %s\n", strings.Join(names, ", "))
	}
}

// plainText drops the Markdown marks of explain's output.
func plainText(md string) string {
	var out []string
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimLeft(line, "# ")
		out = append(out, strings.ReplaceAll(line, "`", ""))
	}
	return strings.Join(out, "\n")
}
