package fs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ctxfs/ctxfs/fs"
	ctxfstest "github.com/ctxfs/ctxfs/fs/fstest"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/mounts/hostdir"
)

func newStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

var admin = fs.WithPrincipal(context.Background(), fs.Principal{Name: "admin", Admin: true})

func put(tb testing.TB, f fs.FS, ctx context.Context, p, content string) {
	tb.Helper()
	if _, err := f.Write(ctx, fs.MustParse(p), strings.NewReader(content), fs.WriteOptions{}); err != nil {
		tb.Fatalf("write %s: %v", p, err)
	}
}

// newNamespace returns a namespace over a real store with a host directory
// mounted read-only at /mnt/host and read-write at /rw.
func newNamespace(tb testing.TB) (*fs.Namespace, string) {
	st := newStore(tb)
	hostDir := tb.TempDir()
	os.WriteFile(filepath.Join(hostDir, "h.txt"), []byte("from the host"), 0o644)
	os.Mkdir(filepath.Join(hostDir, "sub"), 0o755)
	os.WriteFile(filepath.Join(hostDir, "sub", "deep.txt"), []byte("deep"), 0o644)
	ro, err := hostdir.New(hostDir, hostdir.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	rwDir := tb.TempDir()
	rw, err := hostdir.New(rwDir, hostdir.Options{Writable: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ro.Close(); rw.Close() })
	ns := fs.NewNamespace(st, fs.NamespaceOptions{})
	if err := ns.Mount(fs.MustParse("/mnt/host"), ro); err != nil {
		tb.Fatal(err)
	}
	if err := ns.Mount(fs.MustParse("/rw"), rw); err != nil {
		tb.Fatal(err)
	}
	return ns, rwDir
}

func TestNamespaceRouting(t *testing.T) {
	ns, rwDir := newNamespace(t)
	put(t, ns, admin, "/notes/a.md", "alpha")
	put(t, ns, admin, "/rw/x/y.txt", "on the host")

	got, err := os.ReadFile(filepath.Join(rwDir, "x", "y.txt"))
	if err != nil || string(got) != "on the host" {
		t.Fatalf("rw mount write went to %q, %v", got, err)
	}
	entries, err := ns.List(admin, fs.Root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "mnt,notes,rw" {
		t.Fatalf("root lists %v, want the mount points beside store content", names)
	}
	info, err := ns.Stat(admin, fs.MustParse("/mnt/host/sub/deep.txt"))
	if err != nil || info.Path != "/mnt/host/sub/deep.txt" || info.Size != 4 {
		t.Fatalf("stat through mount = %+v, %v", info, err)
	}
	// Read-only mount refuses writes, with the namespace path in the error.
	_, err = ns.Write(admin, fs.MustParse("/mnt/host/new.txt"), strings.NewReader("x"), fs.WriteOptions{})
	if !errors.Is(err, fs.ErrReadOnly) {
		t.Fatalf("write to read-only mount: %v", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "/mnt/host/new.txt" {
		t.Fatalf("error path %v", err)
	}
	// Cross-mount renames and changes to mount points are refused.
	if err := ns.Rename(admin, fs.MustParse("/notes/a.md"), fs.MustParse("/rw/a.md")); !errors.Is(err, fs.ErrNotSupported) {
		t.Fatalf("cross-mount rename: %v", err)
	}
	if err := ns.Remove(admin, fs.MustParse("/rw"), true); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("remove mount point: %v", err)
	}
	if err := ns.Remove(admin, fs.MustParse("/mnt"), true); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("remove tree holding a mount: %v", err)
	}
	if _, err := ns.Log(admin, fs.MustParse("/rw/x/y.txt")); !errors.Is(err, fs.ErrNotSupported) {
		t.Fatalf("log on host mount: %v", err)
	}
	if err := ns.Unmount(fs.MustParse("/rw")); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Stat(admin, fs.MustParse("/rw/x/y.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after unmount: %v", err)
	}
}

func TestNamespaceAccess(t *testing.T) {
	ns, _ := newNamespace(t)
	put(t, ns, admin, "/memory/bob/persona.md", "bob likes tea")
	put(t, ns, admin, "/notes/shared.md", "shared")
	alice := fs.WithPrincipal(context.Background(), fs.Principal{Name: "alice"})

	put(t, ns, alice, "/memory/alice/persona.md", "alice likes coffee")
	if _, err := ns.Open(alice, fs.MustParse("/memory/bob/persona.md")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("alice reads bob: %v", err)
	}
	if _, err := ns.Write(alice, fs.MustParse("/memory/bob/x"), strings.NewReader("x"), fs.WriteOptions{}); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("alice writes bob: %v", err)
	}
	if _, err := ns.Open(alice, fs.MustParse("/notes/shared.md")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("alice reads /notes without a grant: %v", err)
	}
	// Listing the way to her own files shows only what she may see.
	entries, err := ns.List(alice, fs.MustParse("/memory"))
	if err != nil || len(entries) != 1 || entries[0].Name() != "alice" {
		t.Fatalf("alice lists /memory: %v %v", entries, err)
	}
	if _, err := ns.Stat(context.Background(), fs.MustParse("/notes")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("request without principal: %v", err)
	}
	ns.SetPolicy(&fs.Policy{Rules: []fs.Rule{{Principal: "alice", Pattern: "/notes/**", Perms: fs.PermRead}}})
	if _, err := ns.Open(alice, fs.MustParse("/notes/shared.md")); err != nil {
		t.Fatalf("alice reads /notes with a grant: %v", err)
	}
	if err := ns.Remove(alice, fs.MustParse("/notes/shared.md"), false); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("alice removes with read grant: %v", err)
	}
	// A refused rename changes nothing.
	if err := ns.Rename(alice, fs.MustParse("/memory/alice/persona.md"), fs.MustParse("/notes/p.md")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("rename out of her tree: %v", err)
	}
	if _, err := ns.Stat(admin, fs.MustParse("/memory/alice/persona.md")); err != nil {
		t.Fatalf("refused rename moved the file: %v", err)
	}
}

// TestIOFS runs testing/fstest.TestFS on the io/fs view of a populated
// store and of a host-directory mount.
func TestIOFS(t *testing.T) {
	ns, _ := newNamespace(t)
	files := map[string]string{
		"/notes/a.md":         "alpha",
		"/notes/sub/b.md":     "beta\nline 2\n",
		"/notes/sub/deep/c":   strings.Repeat("c", 100000),
		"/memory/alice/p.md":  "persona",
		"/history/s1/turn-01": "hello",
	}
	for p, c := range files {
		put(t, ns, admin, p, c)
	}
	if err := fstest.TestFS(fs.IOFS(admin, ns, fs.MustParse("/notes")), "a.md", "sub/b.md", "sub/deep/c"); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fs.IOFS(admin, ns, fs.Root), "notes/a.md", "memory/alice/p.md", "history/s1/turn-01", "mnt/host/h.txt"); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fs.IOFS(admin, ns, fs.MustParse("/mnt/host")), "h.txt", "sub/deep.txt"); err != nil {
		t.Fatal(err)
	}
}

// TestNamespaceConformance runs the shared fs conformance suite on a
// namespace over a real store, through the access checks.
func TestNamespaceConformance(t *testing.T) {
	ctxfstest.Run(t, func(tb testing.TB) fs.FS {
		return fs.NewNamespace(newStore(tb), fs.NamespaceOptions{})
	}, ctxfstest.Options{})
}
