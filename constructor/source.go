package constructor

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

// Source names where candidates come from. Exactly one field is set.
type Source struct {
	// Glob is a path pattern: elements may be path.Match patterns and "**"
	// matches any number of elements ("/notes/**", "/docs/*.md").
	Glob string `json:"glob,omitempty"`
	// User draws on the persona memory of this user (/memory/USER/).
	User string `json:"user,omitempty"`
	// Workspace draws on an episodic workspace's timeline and entities.
	Workspace string `json:"workspace,omitempty"`
	// Session draws on a history session's turns (/history/SESSION/),
	// leaving out its saved contexts and evaluations.
	Session string `json:"session,omitempty"`
	// Pin is a file whose content always goes in.
	Pin string `json:"pin,omitempty"`
}

// ParseSource reads the command-line form of a source: "user:NAME",
// "workspace:NAME", "session:NAME", "pin:PATH", "glob:PATTERN", or a bare
// path pattern.
func ParseSource(s string) (Source, error) {
	kind, arg, ok := strings.Cut(s, ":")
	if !ok || strings.HasPrefix(s, "/") {
		kind, arg = "glob", s
	}
	if arg == "" {
		return Source{}, fmt.Errorf("%w: empty source %q", fs.ErrInvalid, s)
	}
	var src Source
	switch kind {
	case "glob":
		src.Glob = arg
	case "user", "memory":
		src.User = arg
	case "workspace":
		src.Workspace = arg
	case "session", "history":
		src.Session = arg
	case "pin":
		src.Pin = arg
	default:
		return Source{}, fmt.Errorf("%w: source %q: kind must be glob, user, workspace, session or pin", fs.ErrInvalid, s)
	}
	return src, src.validate()
}

func (s Source) String() string {
	switch {
	case s.User != "":
		return "user:" + s.User
	case s.Workspace != "":
		return "workspace:" + s.Workspace
	case s.Session != "":
		return "session:" + s.Session
	case s.Pin != "":
		return "pin:" + s.Pin
	}
	return "glob:" + s.Glob
}

func (s Source) validate() error {
	n := 0
	for _, v := range []string{s.Glob, s.User, s.Workspace, s.Session, s.Pin} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: a source names exactly one of glob, user, workspace, session, pin", fs.ErrInvalid)
	}
	for _, name := range []string{s.User, s.Workspace, s.Session} {
		if name != "" {
			if err := fs.ValidName(name); err != nil {
				return err
			}
		}
	}
	if s.Glob != "" {
		if err := fs.ValidatePattern(s.Glob); err != nil {
			return err
		}
	}
	if s.Pin != "" {
		if _, err := fs.Parse(s.Pin); err != nil {
			return err
		}
	}
	return nil
}

// pattern returns the source as a path pattern and the directories to
// leave out.
func (s Source) pattern() (string, []string) {
	switch {
	case s.User != "":
		return "/memory/" + s.User + "/**", nil
	case s.Workspace != "":
		return "/workspace/" + s.Workspace + "/**", []string{"observations"}
	case s.Session != "":
		return "/history/" + s.Session + "/**", []string{"contexts", "evaluations"}
	case s.Pin != "":
		return s.Pin, nil
	}
	return s.Glob, nil
}

// files lists the files of the source, at most max; more is an error that
// asks for a narrower source, unless the provider can search, in which
// case the files that best match query are kept.
func (s Source) files(ctx context.Context, fsys fs.FS, query string, max int) ([]*fs.Info, error) {
	pat, skip := s.pattern()
	elems := strings.Split(strings.Trim(pat, "/"), "/")
	fixed := 0
	for fixed < len(elems) && !strings.ContainsAny(elems[fixed], "*?[") {
		fixed++
	}
	root := fs.MustParse("/" + strings.Join(elems[:fixed], "/"))
	if fixed == len(elems) {
		// No pattern: a file, or a directory meaning everything below it.
		info, err := fsys.Stat(ctx, root)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			return []*fs.Info{info}, nil
		}
		elems = append(elems, "**")
	}
	var out []*fs.Info
	tooMany := errors.New("too many")
	var walk func(dir fs.Path) error
	walk = func(dir fs.Path) error {
		entries, err := fsys.List(ctx, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() {
				if rel, ok := e.Path.Rel(root); ok && len(skip) > 0 && contains(skip, rel.Elems()[0]) {
					continue
				}
				if err := walk(e.Path); err != nil {
					return err
				}
				continue
			}
			if match(elems, e.Path.Elems()) {
				out = append(out, e)
				if len(out) > 4*max {
					return tooMany
				}
			}
		}
		return nil
	}
	err := walk(root)
	if err != nil && err != tooMany {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if len(out) <= max {
		return out, nil
	}
	se, ok := fsys.(fs.Searcher)
	if !ok || strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("%w: source %s has more than %d files; name a narrower one", fs.ErrTooLarge, s, max)
	}
	hits, err := se.Search(ctx, fs.Query{Text: query, Under: root, Limit: max})
	if err != nil {
		return nil, err
	}
	out = out[:0]
	for _, h := range hits {
		if !match(elems, h.Path.Elems()) {
			continue
		}
		info, err := fsys.Stat(ctx, h.Path)
		if err != nil {
			continue
		}
		out = append(out, info)
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// match reports whether elems match the pattern elements, "**" matching
// any number of them.
func match(pat, elems []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(elems); i++ {
				if match(pat[1:], elems[i:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], elems[0]); !ok {
			return false
		}
		pat, elems = pat[1:], elems[1:]
	}
	return len(elems) == 0
}
