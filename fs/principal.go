package fs

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// Principal is who a request acts for: a user or an agent.
type Principal struct {
	Name  string
	Admin bool // admins pass every access check
}

// System is the principal of the process that owns the data directory when
// it acts on its own behalf (the local command line, services' own writes).
var System = Principal{Name: "system", Admin: true}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal carried by ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// AuthorFrom is the name to record as the author of a change made in ctx:
// the principal's name, or "" if there is none.
func AuthorFrom(ctx context.Context) string {
	p, _ := PrincipalFrom(ctx)
	return p.Name
}

// ValidPrincipalName checks a principal name: 1-64 characters of letters,
// digits, '-', '_' and '.', not starting with '.'. Names become path
// elements (/memory/<name>), so they must be safe there.
func ValidPrincipalName(name string) error {
	if name == "" || len(name) > 64 || name[0] == '.' {
		return fmt.Errorf("%w: principal name must be 1-64 characters and not start with '.'", ErrInvalid)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("%w: principal name %q may contain only letters, digits, '-', '_' and '.'", ErrInvalid, name)
		}
	}
	return nil
}

// Perm is a set of access rights.
type Perm uint8

const (
	PermRead  Perm = 1 << iota // read content, stat, list, search, history
	PermWrite                  // write, mkdir, remove, rename
	PermExec                   // run node actions
)

// ParsePerm parses a string of the letters r, w and x.
func ParsePerm(s string) (Perm, error) {
	var p Perm
	if s == "" {
		return 0, fmt.Errorf("%w: empty permission (use letters r, w, x)", ErrInvalid)
	}
	for _, c := range s {
		switch c {
		case 'r':
			p |= PermRead
		case 'w':
			p |= PermWrite
		case 'x':
			p |= PermExec
		default:
			return 0, fmt.Errorf("%w: permission letter %q (use r, w, x)", ErrInvalid, c)
		}
	}
	return p, nil
}

func (p Perm) String() string {
	var b strings.Builder
	for _, x := range []struct {
		bit Perm
		c   byte
	}{{PermRead, 'r'}, {PermWrite, 'w'}, {PermExec, 'x'}} {
		if p&x.bit != 0 {
			b.WriteByte(x.c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// Rule grants Perms on the paths matching Pattern to Principal ("*" for
// every principal). Pattern is a path in which an element may be a
// path.Match pattern, "**" matches any number of elements (zero included),
// and "{user}" stands for the requesting principal's name.
type Rule struct {
	Principal string `json:"principal"`
	Pattern   string `json:"pattern"`
	Perms     Perm   `json:"perms"`
}

// ValidatePattern checks that pattern is an absolute pattern whose elements
// are well-formed path.Match patterns.
func ValidatePattern(pattern string) error {
	if !strings.HasPrefix(pattern, "/") {
		return fmt.Errorf("%w: pattern %q must be absolute", ErrInvalid, pattern)
	}
	for _, e := range strings.Split(strings.Trim(pattern, "/"), "/") {
		if e == "**" || e == "{user}" {
			continue
		}
		if _, err := path.Match(e, ""); err != nil {
			return fmt.Errorf("%w: pattern %q: %v", ErrInvalid, pattern, err)
		}
	}
	return nil
}

// Match reports whether p matches the rule's pattern for principal name.
func (r Rule) Match(name string, p Path) bool {
	if r.Principal != "*" && r.Principal != name {
		return false
	}
	pat := strings.ReplaceAll(r.Pattern, "{user}", name)
	return matchElems(splitPattern(pat), p.Elems())
}

func splitPattern(pat string) []string {
	pat = strings.Trim(pat, "/")
	if pat == "" {
		return nil
	}
	return strings.Split(pat, "/")
}

func matchElems(pat, elems []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(elems); i++ {
				if matchElems(rest, elems[i:]) {
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

// Policy decides access. The zero value allows admins everything and every
// principal read and write on /memory/<its name>/**, and nothing else.
// A Policy is immutable once in use; replace it to change the rules.
type Policy struct {
	Rules []Rule
}

// DefaultRules are the rules every policy starts from.
var DefaultRules = []Rule{
	{Principal: "*", Pattern: "/memory/{user}/**", Perms: PermRead | PermWrite},
}

// Allowed reports whether pr may use perm on p. Listing a directory that
// leads towards a permitted path (for example "/" or "/memory" for a user
// who may read "/memory/alice") is allowed for reading, so a principal can
// walk to what it may see; the entries it lists are filtered by the caller.
func (pol *Policy) Allowed(pr Principal, p Path, perm Perm) bool {
	if pr.Admin {
		return true
	}
	var granted Perm
	for _, r := range DefaultRules {
		if r.Match(pr.Name, p) {
			granted |= r.Perms
		}
	}
	if pol != nil {
		for _, r := range pol.Rules {
			if r.Match(pr.Name, p) {
				granted |= r.Perms
			}
		}
	}
	return granted&perm == perm
}

// Traversable reports whether directory p lies on the way to some path that
// pr may read, so that listing and stat of p are allowed (entries are then
// filtered).
func (pol *Policy) Traversable(pr Principal, p Path) bool {
	if pol.Allowed(pr, p, PermRead) {
		return true
	}
	check := func(r Rule) bool {
		if r.Perms&PermRead == 0 || (r.Principal != "*" && r.Principal != pr.Name) {
			return false
		}
		pat := splitPattern(strings.ReplaceAll(r.Pattern, "{user}", pr.Name))
		return prefixMatch(pat, p.Elems())
	}
	for _, r := range DefaultRules {
		if check(r) {
			return true
		}
	}
	if pol != nil {
		for _, r := range pol.Rules {
			if check(r) {
				return true
			}
		}
	}
	return false
}

// prefixMatch reports whether elems could be a proper ancestor of a path
// matching pat.
func prefixMatch(pat, elems []string) bool {
	for i, e := range elems {
		if i >= len(pat) {
			return false
		}
		if pat[i] == "**" {
			return true
		}
		if ok, _ := path.Match(pat[i], e); !ok {
			return false
		}
	}
	return len(pat) > len(elems)
}
