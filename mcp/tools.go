package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/fs"
)

// BuiltinTools are the names of the file tools every Server has.
var BuiltinTools = []string{"ctx_list", "ctx_read", "ctx_write", "ctx_delete", "ctx_move", "ctx_search", "ctx_stat", "ctx_history"}

// writeRetries bounds the read-modify-write attempts of append, prepend and
// patch when other writers keep winning the race.
const writeRetries = 20

func pathArg(desc string, required bool) mcpgo.ToolOption {
	opts := []mcpgo.PropertyOption{mcpgo.Description(desc)}
	if required {
		opts = append(opts, mcpgo.Required())
	}
	return mcpgo.WithString("path", opts...)
}

func (s *Server) addBuiltinTools() {
	s.AddTool(mcpgo.NewTool("ctx_list",
		mcpgo.WithDescription("List a directory of the ctxfs namespace. Returns a JSON array of entries {path, kind (file|dir), size, version, tokens, modified, author, meta}. maxDepth > 1 also lists subdirectories, breadth first."),
		pathArg(`Absolute directory path, e.g. "/" or "/memory/alice". Default "/".`, false),
		mcpgo.WithInteger("maxDepth", mcpgo.Description("Levels to expand (1 = direct children only, at most 10)."), mcpgo.DefaultNumber(1), mcpgo.Min(1), mcpgo.Max(10)),
		mcpgo.WithTitleAnnotation("List directory"),
		mcpgo.WithReadOnlyHintAnnotation(true), mcpgo.WithDestructiveHintAnnotation(false),
		mcpgo.WithIdempotentHintAnnotation(true), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolList)
	s.AddTool(mcpgo.NewTool("ctx_read",
		mcpgo.WithDescription("Read a file's text. startLine/endLine (1-based, inclusive) select a line range; endLine -1 or absent means the end of the file. version reads an older version (see ctx_history)."),
		pathArg("Absolute file path.", true),
		mcpgo.WithInteger("startLine", mcpgo.Description("First line to return (1-based)."), mcpgo.Min(1)),
		mcpgo.WithInteger("endLine", mcpgo.Description("Last line to return (inclusive); -1 for the end of the file.")),
		mcpgo.WithInteger("version", mcpgo.Description("Version to read instead of the current one."), mcpgo.Min(1)),
		mcpgo.WithTitleAnnotation("Read file"),
		mcpgo.WithReadOnlyHintAnnotation(true), mcpgo.WithDestructiveHintAnnotation(false),
		mcpgo.WithIdempotentHintAnnotation(true), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolRead)
	s.AddTool(mcpgo.NewTool("ctx_write",
		mcpgo.WithDescription("Write a file (parents are created); every write makes a new version. mode: replace (default) sets the content; append/prepend add to it (creating the file if missing); create fails if the file exists; update fails if it does not; patch applies patches in order, each target must occur exactly once. Returns the new entry as JSON."),
		pathArg("Absolute file path.", true),
		mcpgo.WithString("content", mcpgo.Description("The text to write (all modes but patch).")),
		mcpgo.WithString("mode", mcpgo.Description("Write mode."), mcpgo.Enum("replace", "append", "prepend", "create", "update", "patch"), mcpgo.DefaultString("replace")),
		mcpgo.WithArray("patches", mcpgo.Description("For mode patch: edits applied in order."), mcpgo.Items(map[string]any{
			"type": "object",
			"properties": map[string]any{
				"op":      map[string]any{"type": "string", "enum": []string{"str_replace", "insert_before", "insert_after", "delete"}},
				"target":  map[string]any{"type": "string", "description": "Text that must occur exactly once in the file."},
				"content": map[string]any{"type": "string", "description": "Replacement or inserted text (not for delete)."},
			},
			"required": []string{"op", "target"},
		})),
		mcpgo.WithTitleAnnotation("Write file"),
		mcpgo.WithReadOnlyHintAnnotation(false), mcpgo.WithDestructiveHintAnnotation(true),
		mcpgo.WithIdempotentHintAnnotation(false), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolWrite)
	s.AddTool(mcpgo.NewTool("ctx_delete",
		mcpgo.WithDescription("Delete a file, or a directory with recursive=true (a non-empty directory needs it)."),
		pathArg("Absolute path.", true),
		mcpgo.WithBoolean("recursive", mcpgo.Description("Delete a directory and everything below it."), mcpgo.DefaultBool(false)),
		mcpgo.WithTitleAnnotation("Delete"),
		mcpgo.WithReadOnlyHintAnnotation(false), mcpgo.WithDestructiveHintAnnotation(true),
		mcpgo.WithIdempotentHintAnnotation(true), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolDelete)
	s.AddTool(mcpgo.NewTool("ctx_move",
		mcpgo.WithDescription("Move (rename) a file or directory to newPath, replacing a file there. Parents of newPath are created."),
		pathArg("Absolute source path.", true),
		mcpgo.WithString("newPath", mcpgo.Required(), mcpgo.Description("Absolute destination path.")),
		mcpgo.WithTitleAnnotation("Move"),
		mcpgo.WithReadOnlyHintAnnotation(false), mcpgo.WithDestructiveHintAnnotation(true),
		mcpgo.WithIdempotentHintAnnotation(false), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolMove)
	s.AddTool(mcpgo.NewTool("ctx_search",
		mcpgo.WithDescription(`Full-text search over file contents. Returns a JSON array of hits {path, score, snippet, version}, best first. query supports words, "phrases", +must, -mustnot and field:value (fields path, content, meta.KEY).`),
		mcpgo.WithString("query", mcpgo.Required(), mcpgo.Description("Search query.")),
		pathArg(`Only files under this directory (default "/").`, false),
		mcpgo.WithInteger("limit", mcpgo.Description("Most hits to return (default 10, at most 1000)."), mcpgo.Min(1), mcpgo.Max(1000)),
		mcpgo.WithTitleAnnotation("Search"),
		mcpgo.WithReadOnlyHintAnnotation(true), mcpgo.WithDestructiveHintAnnotation(false),
		mcpgo.WithIdempotentHintAnnotation(true), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolSearch)
	s.AddTool(mcpgo.NewTool("ctx_stat",
		mcpgo.WithDescription("Describe a file or directory: JSON {path, kind, size, version, tokens, created, modified, author, meta}."),
		pathArg("Absolute path.", true),
		mcpgo.WithTitleAnnotation("Stat"),
		mcpgo.WithReadOnlyHintAnnotation(true), mcpgo.WithDestructiveHintAnnotation(false),
		mcpgo.WithIdempotentHintAnnotation(true), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolStat)
	s.AddTool(mcpgo.NewTool("ctx_history",
		mcpgo.WithDescription("A file's versions, newest first, as JSON [{version, time, size, author, tokens}]; with version, the text of that version instead."),
		pathArg("Absolute file path.", true),
		mcpgo.WithInteger("version", mcpgo.Description("Return this version's text."), mcpgo.Min(1)),
		mcpgo.WithTitleAnnotation("History"),
		mcpgo.WithReadOnlyHintAnnotation(true), mcpgo.WithDestructiveHintAnnotation(false),
		mcpgo.WithIdempotentHintAnnotation(true), mcpgo.WithOpenWorldHintAnnotation(false),
	), s.toolHistory)
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *Server) toolList(ctx context.Context, a Args) (string, error) {
	p, err := a.OptPath("path", fs.Root)
	if err != nil {
		return "", err
	}
	depth, err := a.OptInt("maxDepth", 1)
	if err != nil {
		return "", err
	}
	if depth < 1 || depth > 10 {
		return "", invalidf("argument \"maxDepth\" must be between 1 and 10")
	}
	out := []*fs.Info{}
	level := []fs.Path{p}
	for d := int64(0); d < depth && len(level) > 0; d++ {
		var next []fs.Path
		for i, dir := range level {
			entries, err := s.fsys.List(ctx, dir)
			if err != nil {
				if i > 0 || d > 0 {
					continue // a subdirectory that vanished or is hidden
				}
				return "", err
			}
			for _, e := range entries {
				out = append(out, e)
				if e.IsDir() {
					next = append(next, e.Path)
				}
			}
			if len(out) > 10000 {
				return "", fmt.Errorf("%w: more than 10000 entries; list a smaller tree or a lower maxDepth", fs.ErrTooLarge)
			}
		}
		level = next
	}
	return jsonText(out)
}

// readAll reads f up to the server's limit.
func (s *Server) readAll(f fs.File) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, s.opts.MaxRead+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.opts.MaxRead {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes; read it through another door", fs.ErrTooLarge, f.Stat().Path, s.opts.MaxRead)
	}
	return b, nil
}

// readFile returns the content of p (version v when v > 0) and its info.
func (s *Server) readFile(ctx context.Context, p fs.Path, v int64) ([]byte, *fs.Info, error) {
	var f fs.File
	var err error
	if v > 0 {
		vr, ok := s.fsys.(fs.Versioner)
		if !ok {
			return nil, nil, &fs.PathError{Op: "read", Path: string(p), Err: fmt.Errorf("%w: no version history here", fs.ErrNotSupported)}
		}
		f, err = vr.OpenVersion(ctx, p, v)
	} else {
		f, err = s.fsys.Open(ctx, p)
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	b, err := s.readAll(f)
	if err != nil {
		return nil, nil, err
	}
	return b, f.Stat(), nil
}

func (s *Server) toolRead(ctx context.Context, a Args) (string, error) {
	p, err := a.Path("path")
	if err != nil {
		return "", err
	}
	start, err := a.OptInt("startLine", 0)
	if err != nil {
		return "", err
	}
	end, err := a.OptInt("endLine", -1)
	if err != nil {
		return "", err
	}
	v, err := a.OptInt("version", 0)
	if err != nil {
		return "", err
	}
	if a.Has("startLine") && start < 1 {
		return "", invalidf("startLine must be at least 1")
	}
	if end != -1 && end < 1 {
		return "", invalidf("endLine must be at least 1, or -1 for the end of the file")
	}
	if start > 0 && end != -1 && start > end {
		return "", invalidf("startLine %d is after endLine %d", start, end)
	}
	if a.Has("version") && v < 1 {
		return "", invalidf("version must be at least 1")
	}
	b, _, err := s.readFile(ctx, p, v)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", &fs.PathError{Op: "read", Path: string(p), Err: fmt.Errorf("%w: binary content (%d bytes) is not text; read it as a resource", fs.ErrInvalid, len(b))}
	}
	text := string(b)
	if start == 0 && end == -1 {
		return text, nil
	}
	return lineRange(p, text, start, end)
}

// lineRange returns lines start..end (1-based, inclusive; end -1 is the
// last line) of text, joined by "\n".
func lineRange(p fs.Path, text string, start, end int64) (string, error) {
	lines := strings.SplitAfter(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1] // a final newline ends the last line, it starts none
	}
	total := int64(len(lines))
	if start < 1 {
		start = 1
	}
	if end == -1 || end > total {
		end = total
	}
	if start > total {
		return "", &fs.PathError{Op: "read", Path: string(p), Err: fmt.Errorf("%w: startLine %d is past the end of the file (%d lines)", fs.ErrInvalid, start, total)}
	}
	return strings.TrimSuffix(strings.Join(lines[start-1:end], ""), "\n"), nil
}

// Patch is one edit of a patch write, as in the AFS protocol.
type Patch struct {
	Op      string  `json:"op"`
	Target  string  `json:"target"`
	Content *string `json:"content,omitempty"`
}

// ApplyPatches applies patches to text in order; each target must occur
// exactly once in the text as it stands when its patch applies.
func ApplyPatches(text string, patches []Patch) (string, error) {
	for i, pt := range patches {
		if pt.Target == "" {
			return "", invalidf("patch %d: target is empty", i+1)
		}
		switch n := strings.Count(text, pt.Target); n {
		case 1:
		case 0:
			return "", invalidf("patch %d: target %q not found", i+1, abbrev(pt.Target))
		default:
			return "", invalidf("patch %d: target %q occurs %d times; it must occur exactly once", i+1, abbrev(pt.Target), n)
		}
		content := ""
		if pt.Content != nil {
			content = *pt.Content
		}
		at := strings.Index(text, pt.Target)
		before, after := text[:at], text[at+len(pt.Target):]
		switch pt.Op {
		case "str_replace":
			if pt.Content == nil {
				return "", invalidf("patch %d: str_replace needs content", i+1)
			}
			text = before + content + after
		case "insert_before":
			text = before + content + pt.Target + after
		case "insert_after":
			text = before + pt.Target + content + after
		case "delete":
			text = before + after
		default:
			return "", invalidf("patch %d: unknown op %q (use str_replace, insert_before, insert_after or delete)", i+1, pt.Op)
		}
	}
	return text, nil
}

func abbrev(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func (s *Server) toolWrite(ctx context.Context, a Args) (string, error) {
	p, err := a.Path("path")
	if err != nil {
		return "", err
	}
	mode, err := a.OptString("mode", "replace")
	if err != nil {
		return "", err
	}
	var patches []Patch
	if mode == "patch" {
		if !a.Has("patches") {
			return "", invalidf("mode patch needs the argument \"patches\"")
		}
		if err := a.Decode("patches", &patches); err != nil {
			return "", err
		}
		if len(patches) == 0 {
			return "", invalidf("argument \"patches\" is empty")
		}
	} else if a.Has("patches") {
		return "", invalidf("argument \"patches\" needs mode patch")
	}
	var content string
	if mode != "patch" {
		if content, err = a.String("content"); err != nil {
			return "", err
		}
	}
	var info *fs.Info
	switch mode {
	case "replace":
		info, err = s.fsys.Write(ctx, p, strings.NewReader(content), fs.WriteOptions{})
	case "create":
		info, err = s.fsys.Write(ctx, p, strings.NewReader(content), fs.WriteOptions{Create: true})
	case "update":
		info, err = s.fsys.Write(ctx, p, strings.NewReader(content), fs.WriteOptions{MustExist: true})
	case "append", "prepend", "patch":
		info, err = s.modify(ctx, p, func(old []byte, exists bool) (string, error) {
			switch {
			case mode == "patch" && !exists:
				return "", &fs.PathError{Op: "write", Path: string(p), Err: fmt.Errorf("%w: mode patch needs an existing file", fs.ErrNotExist)}
			case mode == "patch":
				return ApplyPatches(string(old), patches)
			case mode == "append":
				return string(old) + content, nil
			default:
				return content + string(old), nil
			}
		})
	default:
		return "", invalidf("unknown mode %q (use replace, append, prepend, create, update or patch)", mode)
	}
	if err != nil {
		return "", err
	}
	return jsonText(info)
}

// modify is a read-modify-write of p that loses no concurrent write: it
// writes only if the version it read is still current (or, for a missing
// file, only if the file is still missing), and starts over otherwise.
func (s *Server) modify(ctx context.Context, p fs.Path, change func(old []byte, exists bool) (string, error)) (*fs.Info, error) {
	for range writeRetries {
		old, info, err := s.readFile(ctx, p, 0)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		text, err := change(old, exists)
		if err != nil {
			return nil, err
		}
		opts := fs.WriteOptions{Create: !exists}
		if exists {
			opts.IfVersion = info.Version
			if info.Version == 0 {
				// An unversioned provider (a host directory) has no
				// precondition to offer; the write is last-writer-wins.
				opts = fs.WriteOptions{MustExist: true}
			}
		}
		w, err := s.fsys.Write(ctx, p, bytes.NewReader([]byte(text)), opts)
		if errors.Is(err, fs.ErrConflict) || (!exists && errors.Is(err, fs.ErrExist) && !isDir(ctx, s.fsys, p)) {
			continue // another writer got there first: read again
		}
		return w, err
	}
	return nil, &fs.PathError{Op: "write", Path: string(p), Err: fmt.Errorf("%w: gave up after %d attempts: other writers keep changing the file", fs.ErrConflict, writeRetries)}
}

func isDir(ctx context.Context, fsys fs.FS, p fs.Path) bool {
	info, err := fsys.Stat(ctx, p)
	return err == nil && info.IsDir()
}

func (s *Server) toolDelete(ctx context.Context, a Args) (string, error) {
	p, err := a.Path("path")
	if err != nil {
		return "", err
	}
	rec, err := a.OptBool("recursive", false)
	if err != nil {
		return "", err
	}
	if err := s.fsys.Remove(ctx, p, rec); err != nil {
		return "", err
	}
	return "Deleted " + string(p), nil
}

func (s *Server) toolMove(ctx context.Context, a Args) (string, error) {
	src, err := a.Path("path")
	if err != nil {
		return "", err
	}
	dst, err := a.Path("newPath")
	if err != nil {
		return "", err
	}
	err = s.fsys.Rename(ctx, src, dst)
	if errors.Is(err, fs.ErrNotExist) && !dst.Dir().IsRoot() {
		// AFS creates the destination's parents; do it only when the
		// source exists, so a bad call leaves no directory behind.
		if _, serr := s.fsys.Stat(ctx, src); serr == nil {
			if _, derr := s.fsys.Stat(ctx, dst.Dir()); errors.Is(derr, fs.ErrNotExist) {
				if err = s.fsys.Mkdir(ctx, dst.Dir()); err == nil {
					err = s.fsys.Rename(ctx, src, dst)
				}
			}
		}
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Moved %s to %s", src, dst), nil
}

func (s *Server) toolSearch(ctx context.Context, a Args) (string, error) {
	q, err := a.String("query")
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(q) == "" {
		return "", invalidf("argument \"query\" is empty")
	}
	under, err := a.OptPath("path", fs.Root)
	if err != nil {
		return "", err
	}
	limit, err := a.OptInt("limit", 10)
	if err != nil {
		return "", err
	}
	if limit < 1 || limit > 1000 {
		return "", invalidf("argument \"limit\" must be between 1 and 1000")
	}
	se, ok := s.fsys.(fs.Searcher)
	if !ok {
		return "", fmt.Errorf("%w: this file system cannot search", fs.ErrNotSupported)
	}
	hits, err := se.Search(ctx, fs.Query{Text: q, Under: under, Limit: int(limit)})
	if err != nil {
		return "", err
	}
	if hits == nil {
		hits = []fs.Hit{}
	}
	return jsonText(hits)
}

func (s *Server) toolStat(ctx context.Context, a Args) (string, error) {
	p, err := a.Path("path")
	if err != nil {
		return "", err
	}
	info, err := s.fsys.Stat(ctx, p)
	if err != nil {
		return "", err
	}
	return jsonText(info)
}

func (s *Server) toolHistory(ctx context.Context, a Args) (string, error) {
	p, err := a.Path("path")
	if err != nil {
		return "", err
	}
	v, err := a.OptInt("version", 0)
	if err != nil {
		return "", err
	}
	if a.Has("version") {
		if v < 1 {
			return "", invalidf("version must be at least 1")
		}
		b, _, err := s.readFile(ctx, p, v)
		if err != nil {
			return "", err
		}
		if !utf8.Valid(b) {
			return "", &fs.PathError{Op: "read", Path: string(p), Err: fmt.Errorf("%w: binary content (%d bytes) is not text", fs.ErrInvalid, len(b))}
		}
		return string(b), nil
	}
	vr, ok := s.fsys.(fs.Versioner)
	if !ok {
		return "", &fs.PathError{Op: "log", Path: string(p), Err: fmt.Errorf("%w: no version history here", fs.ErrNotSupported)}
	}
	vs, err := vr.Log(ctx, p)
	if err != nil {
		return "", err
	}
	if vs == nil {
		vs = []fs.Version{}
	}
	return jsonText(vs)
}
