package fs

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen)
	tests := []struct {
		in   string
		want Path
		ok   bool
	}{
		{"/", "/", true},
		{"/a", "/a", true},
		{"/a/b/c", "/a/b/c", true},
		{"/a/b/", "/a/b", true},
		{"/notes/" + long, Path("/notes/" + long), true},
		{"/héllo/世界", "/héllo/世界", true},
		{"/a b/c@d", "/a b/c@d", true},
		{"", "", false},
		{"a/b", "", false},
		{"./a", "", false},
		{"/a//b", "", false},
		{"//", "", false},
		{"/a/./b", "", false},
		{"/a/../b", "", false},
		{"/..", "", false},
		{"/a/..", "", false},
		{"/a\x00b", "", false},
		{"/\xff\xfe", "", false},
		{"/" + long + "x", "", false},
		{"/" + strings.Repeat("abcdefg/", 600), "", false},
	}
	for _, tt := range tests {
		t.Run(printable(tt.in), func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", tt.in, err)
			}
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T is not a *PathError", tt.in, err)
			}
		})
	}
}

func TestPathMethods(t *testing.T) {
	p := MustParse("/a/b/c")
	if p.Base() != "c" || p.Dir() != "/a/b" || p.Depth() != 3 {
		t.Fatalf("Base/Dir/Depth = %q %q %d", p.Base(), p.Dir(), p.Depth())
	}
	if Root.Dir() != Root || Root.Base() != "/" || Root.Depth() != 0 || Root.Elems() != nil {
		t.Fatal("root methods")
	}
	if MustParse("/a").Dir() != Root {
		t.Fatal("Dir of /a")
	}
	if !p.Within("/a") || !p.Within("/a/b/c") || !p.Within(Root) || p.Within("/a/b/cd") || MustParse("/a/bc").Within("/a/b") {
		t.Fatal("Within")
	}
	if rel, ok := p.Rel("/a"); !ok || rel != "/b/c" {
		t.Fatalf("Rel = %q %v", rel, ok)
	}
	if rel, ok := p.Rel(p); !ok || rel != Root {
		t.Fatalf("Rel self = %q %v", rel, ok)
	}
	if _, ok := p.Rel("/x"); ok {
		t.Fatal("Rel outside")
	}
	if got := Path("/b/c").Under("/a"); got != p {
		t.Fatalf("Under = %q", got)
	}
	if got := Root.Under("/a"); got != "/a" {
		t.Fatalf("Under root = %q", got)
	}
	if _, err := p.Join("x/y"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Join with slash: %v", err)
	}
	if _, err := p.Join(".."); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Join ..: %v", err)
	}
	if got, err := Root.Join("x"); err != nil || got != "/x" {
		t.Fatalf("Root.Join = %q %v", got, err)
	}
}

func TestParseVersioned(t *testing.T) {
	tests := []struct {
		in   string
		p    Path
		v    int64
		fail bool
	}{
		{"/a/b", "/a/b", 0, false},
		{"/a/b@3", "/a/b", 3, false},
		{"/a/b@x", "/a/b@x", 0, false},
		{"/a@1/b", "/a@1/b", 0, false},
		{"/a/b@0", "", 0, true},
		{"/a/b@-2", "", 0, true},
		{"a@2", "", 0, true},
	}
	for _, tt := range tests {
		p, v, err := ParseVersioned(tt.in)
		if tt.fail {
			if err == nil {
				t.Errorf("ParseVersioned(%q) = %q %d, want error", tt.in, p, v)
			}
			continue
		}
		if err != nil || p != tt.p || v != tt.v {
			t.Errorf("ParseVersioned(%q) = %q %d %v, want %q %d", tt.in, p, v, err, tt.p, tt.v)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is
// canonical (parsing it again gives the same path) and obeys every rule.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "a", "/a/../b", "/a//b", "/\x00", "/a/", "/\xff", "/" + strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !utf8.ValidString(string(p)) || len(p) > MaxPathLen || p[0] != '/' || strings.Contains(string(p), "\x00") {
			t.Fatalf("accepted bad path %q", p)
		}
		if p != Root && strings.HasSuffix(string(p), "/") {
			t.Fatalf("trailing slash kept: %q", p)
		}
		for _, e := range p.Elems() {
			if e == "" || e == "." || e == ".." || len(e) > MaxNameLen {
				t.Fatalf("bad element %q in %q", e, p)
			}
		}
		q, err := Parse(string(p))
		if err != nil || q != p {
			t.Fatalf("not canonical: %q -> %q, %v", p, q, err)
		}
		if p.Dir().Depth() != max(p.Depth()-1, 0) {
			t.Fatalf("Dir depth of %q", p)
		}
	})
}
