package fs

import (
	"context"
	"errors"
	"testing"
)

func TestPolicy(t *testing.T) {
	alice := Principal{Name: "alice"}
	admin := Principal{Name: "root", Admin: true}
	pol := &Policy{Rules: []Rule{
		{Principal: "alice", Pattern: "/notes/**", Perms: PermRead},
		{Principal: "*", Pattern: "/public/*.md", Perms: PermRead},
	}}
	tests := []struct {
		pr   Principal
		p    string
		perm Perm
		want bool
	}{
		{alice, "/memory/alice", PermRead, true},
		{alice, "/memory/alice/persona.md", PermRead | PermWrite, true},
		{alice, "/memory/bob/persona.md", PermRead, false},
		{alice, "/memory/alicex/a", PermRead, false},
		{alice, "/notes/a/b.md", PermRead, true},
		{alice, "/notes/a/b.md", PermWrite, false},
		{alice, "/public/x.md", PermRead, true},
		{alice, "/public/sub/x.md", PermRead, false},
		{alice, "/memory/alice/x", PermExec, false},
		{admin, "/memory/bob/x", PermRead | PermWrite | PermExec, true},
		{Principal{Name: "bob"}, "/notes/a", PermRead, false},
	}
	for _, tt := range tests {
		if got := pol.Allowed(tt.pr, MustParse(tt.p), tt.perm); got != tt.want {
			t.Errorf("Allowed(%s, %s, %s) = %v, want %v", tt.pr.Name, tt.p, tt.perm, got, tt.want)
		}
	}
	trav := []struct {
		p    string
		want bool
	}{{"/", true}, {"/memory", true}, {"/memory/bob", false}, {"/notes", true}, {"/other", false}}
	for _, tt := range trav {
		if got := pol.Traversable(alice, MustParse(tt.p)); got != tt.want {
			t.Errorf("Traversable(alice, %s) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestParsePerm(t *testing.T) {
	if p, err := ParsePerm("rw"); err != nil || p != PermRead|PermWrite || p.String() != "rw-" {
		t.Fatalf("ParsePerm(rw) = %v %v", p, err)
	}
	for _, bad := range []string{"", "q", "r w"} {
		if _, err := ParsePerm(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePerm(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if err := ValidatePattern("relative/**"); !errors.Is(err, ErrInvalid) {
		t.Errorf("relative pattern accepted")
	}
	if err := ValidatePattern("/a/[/b"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad glob accepted")
	}
}

func TestPrincipalContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := PrincipalFrom(ctx); ok {
		t.Fatal("principal in empty context")
	}
	ctx = WithPrincipal(ctx, Principal{Name: "alice"})
	if p, ok := PrincipalFrom(ctx); !ok || p.Name != "alice" || AuthorFrom(ctx) != "alice" {
		t.Fatalf("PrincipalFrom = %v %v", p, ok)
	}
	for _, bad := range []string{"", ".x", "a/b", "a b", string(make([]byte, 65))} {
		if ValidPrincipalName(bad) == nil {
			t.Errorf("ValidPrincipalName(%q) accepted", bad)
		}
	}
	if ValidPrincipalName("alice-1.x_y") != nil {
		t.Error("valid name refused")
	}
}
