package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

func newRegistry(t *testing.T) *Registry {
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st)
}

func TestPrincipals(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	tok, err := r.Add(ctx, "alice", false)
	if err != nil || !strings.HasPrefix(tok, "ctxfs_") {
		t.Fatalf("Add = %q, %v", tok, err)
	}
	admTok, err := r.Add(ctx, "root", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(ctx, "alice", true); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("duplicate Add: %v", err)
	}
	if _, err := r.Add(ctx, "../x", false); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	p, err := r.Authenticate(ctx, tok)
	if err != nil || p.Name != "alice" || p.Admin {
		t.Fatalf("Authenticate(alice) = %+v, %v", p, err)
	}
	if p, err := r.Authenticate(ctx, admTok); err != nil || !p.Admin {
		t.Fatalf("Authenticate(root) = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "ctxfs_wrong", tok + "x", strings.Repeat("a", 500)} {
		if _, err := r.Authenticate(ctx, bad); !errors.Is(err, fs.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v", bad, err)
		}
	}
	ps, _ := r.List(ctx)
	if len(ps) != 2 || ps[0].Name != "alice" || ps[1].Name != "root" {
		t.Fatalf("List = %+v", ps)
	}
	if err := r.Remove(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, tok); !errors.Is(err, fs.ErrUnauthenticated) {
		t.Fatalf("token of a removed principal: %v", err)
	}
	if err := r.Remove(ctx, "alice"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("second Remove: %v", err)
	}
}

func TestRules(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	rule, err := r.AddRule(ctx, "alice", "/notes/**", "r")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][3]string{{"alice", "notes", "r"}, {"alice", "/n", "q"}, {"a b", "/n", "r"}, {"alice", "/[", "r"}} {
		if _, err := r.AddRule(ctx, bad[0], bad[1], bad[2]); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("AddRule%v = %v", bad, err)
		}
	}
	pol, err := r.Policy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alice := fs.Principal{Name: "alice"}
	if !pol.Allowed(alice, fs.MustParse("/notes/a"), fs.PermRead) || pol.Allowed(alice, fs.MustParse("/notes/a"), fs.PermWrite) {
		t.Fatal("policy from stored rules")
	}
	if err := r.RemoveRule(ctx, rule.ID); err != nil {
		t.Fatal(err)
	}
	if rules, _ := r.Rules(ctx); len(rules) != 0 {
		t.Fatalf("rules after remove: %v", rules)
	}
	if err := r.RemoveRule(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("RemoveRule(nope) = %v", err)
	}
}
