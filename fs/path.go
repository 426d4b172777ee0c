package fs

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// MaxNameLen is the longest path element, in bytes.
	MaxNameLen = 255
	// MaxPathLen is the longest path, in bytes.
	MaxPathLen = 4096
)

// Root is the path of the namespace root.
const Root Path = "/"

// Path is a clean absolute path in the ctxfs namespace. The zero value is
// not a valid path; obtain Paths from Parse, Join or a method of Path.
type Path string

// Parse validates s and returns it as a Path. It accepts a trailing slash
// ("/a/b/" is "/a/b") but nothing else that would need cleaning: the error
// wraps ErrInvalid and says which rule s broke.
func Parse(s string) (Path, error) {
	if err := check(s); err != nil {
		return "", &PathError{Op: "parse", Path: printable(s), Err: err}
	}
	if len(s) > 1 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return Path(s), nil
}

// MustParse is Parse for constants in code and tests; it panics on error.
func MustParse(s string) Path {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

func check(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty path", ErrInvalid)
	case s[0] != '/':
		return fmt.Errorf("%w: path must be absolute (start with /)", ErrInvalid)
	case len(s) > MaxPathLen:
		return fmt.Errorf("%w: path longer than %d bytes", ErrInvalid, MaxPathLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: path is not valid UTF-8", ErrInvalid)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%w: path contains a NUL byte", ErrInvalid)
	}
	if s == "/" {
		return nil
	}
	body := s[1:]
	if body[len(body)-1] == '/' {
		body = body[:len(body)-1]
	}
	for elem := range strings.SplitSeq(body, "/") {
		switch {
		case elem == "":
			return fmt.Errorf("%w: empty path element", ErrInvalid)
		case elem == "." || elem == "..":
			return fmt.Errorf("%w: %q is not allowed as a path element", ErrInvalid, elem)
		case len(elem) > MaxNameLen:
			return fmt.Errorf("%w: path element longer than %d bytes", ErrInvalid, MaxNameLen)
		}
	}
	return nil
}

// printable shortens and quotes a rejected input so an error message stays
// readable whatever the input was.
func printable(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// ValidName reports whether name can be one element of a Path.
func ValidName(name string) error {
	if strings.IndexByte(name, '/') >= 0 {
		return fmt.Errorf("%w: name %q contains a slash", ErrInvalid, printable(name))
	}
	return check("/" + name)
}

// String returns p as a string.
func (p Path) String() string { return string(p) }

// IsRoot reports whether p is the namespace root.
func (p Path) IsRoot() bool { return p == Root }

// Base returns the last element of p, or "/" for the root.
func (p Path) Base() string {
	if p.IsRoot() {
		return "/"
	}
	return string(p[strings.LastIndexByte(string(p), '/')+1:])
}

// Dir returns the parent of p; the parent of the root is the root.
func (p Path) Dir() Path {
	i := strings.LastIndexByte(string(p), '/')
	if i <= 0 {
		return Root
	}
	return p[:i]
}

// Join returns p with name appended as one element, validating name.
func (p Path) Join(name string) (Path, error) {
	if err := ValidName(name); err != nil {
		return "", &PathError{Op: "join", Path: string(p), Err: err}
	}
	if p.IsRoot() {
		return Parse("/" + name)
	}
	return Parse(string(p) + "/" + name)
}

// Child is Join for names that come from a trusted listing; it panics on an
// invalid name, which would be a bug in the provider that listed it.
func (p Path) Child(name string) Path {
	c, err := p.Join(name)
	if err != nil {
		panic(err)
	}
	return c
}

// Elems returns the elements of p; the root has none.
func (p Path) Elems() []string {
	if p.IsRoot() {
		return nil
	}
	return strings.Split(string(p[1:]), "/")
}

// Depth is the number of elements in p.
func (p Path) Depth() int {
	if p.IsRoot() {
		return 0
	}
	return strings.Count(string(p), "/")
}

// Within reports whether p is dir or lies below it.
func (p Path) Within(dir Path) bool {
	if dir.IsRoot() || p == dir {
		return true
	}
	return strings.HasPrefix(string(p), string(dir)) && p[len(dir)] == '/'
}

// Rel returns p relative to dir, which p must lie within, as a path rooted
// at "/": Rel("/a/b/c", "/a") is "/b/c".
func (p Path) Rel(dir Path) (Path, bool) {
	if !p.Within(dir) {
		return "", false
	}
	if dir.IsRoot() {
		return p, true
	}
	if p == dir {
		return Root, true
	}
	return p[len(dir):], true
}

// Under returns rel (a rooted path) re-rooted below dir: the inverse of Rel.
func (rel Path) Under(dir Path) Path {
	if dir.IsRoot() {
		return rel
	}
	if rel.IsRoot() {
		return dir
	}
	return dir + rel
}

// ParseVersioned parses "PATH" or "PATH@N" and returns the path and the
// version (0 when none is given). A path whose last element itself contains
// '@' followed by something other than digits is taken literally.
func ParseVersioned(s string) (Path, int64, error) {
	if i := strings.LastIndexByte(s, '@'); i > 0 && i > strings.LastIndexByte(s, '/') {
		if v, err := strconv.ParseInt(s[i+1:], 10, 64); err == nil {
			if v <= 0 {
				return "", 0, &PathError{Op: "parse", Path: printable(s), Err: fmt.Errorf("%w: version must be a positive number", ErrInvalid)}
			}
			p, err := Parse(s[:i])
			return p, v, err
		}
	}
	p, err := Parse(s)
	return p, 0, err
}
