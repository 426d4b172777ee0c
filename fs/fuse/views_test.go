package fuse

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
)

// mountSystem opens a data directory (store, index, host mounts) and
// mounts its namespace, as `ctxfs mount` does.
func mountSystem(tb testing.TB) (*local.System, string) {
	tb.Helper()
	requireFUSE(tb)
	sys, err := local.Open(context.Background(), tb.TempDir(), local.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sys.Close() })
	_, mnt := mountFS(tb, sys.NS, Options{Principal: fs.System})
	return sys, mnt
}

func readDirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestHistoryView(t *testing.T) {
	_, mnt := mountSystem(t)
	name := filepath.Join(mnt, "notes", "a.md")
	os.MkdirAll(filepath.Dir(name), 0o755)
	for _, v := range []string{"first\n", "second\n", "third\n"} {
		mustWrite(t, name, v)
	}
	hist := filepath.Join(mnt, HistoryDir, "notes", "a.md")
	if got := readDirNames(t, hist); strings.Join(got, " ") != "1 2 3" {
		t.Errorf("ls .history/notes/a.md: %v", got)
	}
	for v, want := range map[string]string{"1": "first\n", "2": "second\n", "3": "third\n"} {
		if got := mustRead(t, filepath.Join(hist, v)); got != want {
			t.Errorf("version %s: %q", v, got)
		}
		fi, err := os.Stat(filepath.Join(hist, v))
		if err != nil || fi.Size() != int64(len(want)) || fi.Mode().Perm() != 0o444 {
			t.Errorf("stat version %s: %v %v", v, fi, err)
		}
	}
	if got := readDirNames(t, filepath.Join(mnt, HistoryDir)); strings.Join(got, " ") != "notes" {
		t.Errorf("ls .history: %v", got)
	}
	if _, err := os.Stat(filepath.Join(hist, "4")); !os.IsNotExist(err) {
		t.Errorf("missing version: %v", err)
	}
	if err := os.WriteFile(filepath.Join(hist, "1"), []byte("x"), 0o644); err == nil {
		t.Error("wrote into the history")
	}
	// Hidden from the root listing, so recursive tools skip it.
	for _, n := range readDirNames(t, mnt) {
		if n == HistoryDir || n == SearchDir {
			t.Errorf("root lists %s", n)
		}
	}
	if err := os.Mkdir(filepath.Join(mnt, HistoryDir), 0o755); !os.IsExist(err) {
		t.Errorf("mkdir .history: %v", err)
	}
}

func TestSearchView(t *testing.T) {
	_, mnt := mountSystem(t)
	os.MkdirAll(filepath.Join(mnt, "notes", "deep"), 0o755)
	mustWrite(t, filepath.Join(mnt, "notes", "fuse.md"), "the kernel talks to the server through /dev/fuse\n")
	mustWrite(t, filepath.Join(mnt, "notes", "deep", "bbolt.md"), "bbolt keeps the store; the kernel never sees it\n")
	mustWrite(t, filepath.Join(mnt, "notes", "other.md"), "nothing relevant here\n")
	qdir := filepath.Join(mnt, SearchDir, "kernel")
	var got []string
	waitFor(t, "search hits", func() bool {
		ents, _ := os.ReadDir(qdir)
		got = got[:0]
		for _, e := range ents {
			got = append(got, e.Name())
		}
		sort.Strings(got)
		return len(got) == 2
	})
	want := []string{SearchEntryName("/notes/deep/bbolt.md"), SearchEntryName("/notes/fuse.md")}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ls .search/kernel: %v, want %v", got, want)
	}
	link := filepath.Join(qdir, SearchEntryName("/notes/fuse.md"))
	target, err := os.Readlink(link)
	if err != nil || target != "../../notes/fuse.md" {
		t.Errorf("readlink: %q %v", target, err)
	}
	if got := mustRead(t, link); !strings.Contains(got, "/dev/fuse") {
		t.Errorf("cat through the link: %q", got)
	}
	if names := readDirNames(t, filepath.Join(mnt, SearchDir, "nosuchwordanywhere")); len(names) != 0 {
		t.Errorf("no hits expected: %v", names)
	}
}

func TestSearchEntryName(t *testing.T) {
	cases := map[fs.Path]string{
		"/a.md":         "a.md",
		"/notes/a b.md": "notes%2Fa b.md",
		"/x/100%/y":     "x%2F100%25%2Fy",
	}
	for p, want := range cases {
		if got := SearchEntryName(p); got != want {
			t.Errorf("SearchEntryName(%s) = %q, want %q", p, got, want)
		}
	}
	long := fs.Path("/" + strings.Repeat("é", 120) + "/" + strings.Repeat("b", 200))
	n := SearchEntryName(long)
	if len(n) > fs.MaxNameLen || fs.ValidName(n) != nil {
		t.Errorf("long name %q (%d bytes) is not a valid name", n, len(n))
	}
	if SearchEntryName(long+"x") == n {
		t.Error("two long paths share a name")
	}
}

// TestHostMount checks that a host directory mounted into the namespace
// appears under its mount point in the FUSE mount, and can be written
// when mounted read-write.
func TestHostMount(t *testing.T) {
	sys, mnt := mountSystem(t)
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "from-host.txt"), []byte("on the host disk"), 0o644)
	if err := sys.AddMount(context.Background(), local.Mount{Name: "h", HostDir: host, Writable: true}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, filepath.Join(mnt, "mnt", "h", "from-host.txt")); got != "on the host disk" {
		t.Errorf("host file through the mount: %q", got)
	}
	mustWrite(t, filepath.Join(mnt, "mnt", "h", "from-mount.txt"), "written through FUSE")
	ro := t.TempDir()
	if err := sys.AddMount(context.Background(), local.Mount{Name: "ro", HostDir: ro}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Create(filepath.Join(mnt, "mnt", "ro", "x")); errnoOf(err) != syscall.EROFS {
		t.Errorf("create in a read-only host mount: %v, want EROFS at once", err)
	}
	b, err := os.ReadFile(filepath.Join(host, "from-mount.txt"))
	if err != nil || string(b) != "written through FUSE" {
		t.Errorf("host disk has %q, %v", b, err)
	}
}
