package fuse

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctxfs/ctxfs/fs"
)

// waitFor polls cond until it holds or a deadline passes, and returns how
// long it took. The deadline is generous (the mount aims at well under a
// second); the latency is logged, not asserted.
func waitFor(tb testing.TB, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 5*time.Second {
			tb.Fatalf("%s: not seen in the mount after %v", what, time.Since(start))
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// TestOtherDoors checks that changes made through the store API (another
// door) show in the mount without remounting, with kernel cache timeouts
// of an hour, so that only the change-log invalidation can make them show;
// and that what is written in the mount is in the store when close returns.
func TestOtherDoors(t *testing.T) {
	st, mnt := mountStore(t, Options{AttrTimeout: time.Hour, EntryTimeout: time.Hour})
	ctx := testCtx()
	put := func(p, data string) {
		t.Helper()
		if _, err := st.Write(ctx, fs.MustParse(p), strings.NewReader(data), fs.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	path := func(s string) string { return filepath.Join(mnt, s) }
	read := func(name string) string {
		b, err := os.ReadFile(path(name))
		if err != nil {
			return "error: " + err.Error()
		}
		return string(b)
	}
	exists := func(name string) bool {
		_, err := os.Stat(path(name))
		return err == nil
	}
	put("/w/a.txt", "one")
	put("/w/b.txt", "bee")
	put("/w/sub/c.txt", "sea")
	// Let the kernel cache attributes, entries and pages.
	for _, n := range []string{"w/a.txt", "w/b.txt", "w/sub/c.txt"} {
		read(n)
		read(n)
	}
	if got := read("w/a.txt"); got != "one" {
		t.Fatalf("read %q", got)
	}

	put("/w/a.txt", "two, longer")
	t.Logf("overwrite seen after %v", waitFor(t, "overwrite", func() bool { return read("w/a.txt") == "two, longer" }))
	put("/w/a.txt", "3")
	t.Logf("shorter overwrite seen after %v", waitFor(t, "shorter overwrite", func() bool { return read("w/a.txt") == "3" }))

	if err := st.Remove(ctx, "/w/b.txt", false); err != nil {
		t.Fatal(err)
	}
	t.Logf("remove seen after %v", waitFor(t, "remove", func() bool { return !exists("w/b.txt") }))

	if err := st.Rename(ctx, "/w/sub", "/w/moved"); err != nil {
		t.Fatal(err)
	}
	t.Logf("rename seen after %v", waitFor(t, "rename", func() bool {
		return !exists("w/sub") && read("w/moved/c.txt") == "sea"
	}))

	put("/w/new.txt", "fresh")
	t.Logf("new file seen after %v", waitFor(t, "new file", func() bool {
		ents, _ := os.ReadDir(path("w"))
		for _, e := range ents {
			if e.Name() == "new.txt" {
				return read("w/new.txt") == "fresh"
			}
		}
		return false
	}))

	v := "v"
	if _, err := st.SetMeta(ctx, "/w/a.txt", map[string]*string{"k": &v}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "metadata", func() bool { got, _ := getxattr(path("w/a.txt"), MetaPrefix+"k"); return got == "v" })

	// A directory replaced by a file of the same name.
	if err := st.Remove(ctx, "/w/moved", true); err != nil {
		t.Fatal(err)
	}
	put("/w/moved", "now a file")
	waitFor(t, "file in place of a directory", func() bool { return read("w/moved") == "now a file" })

	// The other way: what the mount writes is in the store at close.
	mustWrite(t, path("w/from-mount.txt"), "written in the mount")
	f, err := st.Open(ctx, "/w/from-mount.txt")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	n, _ := f.ReadAt(b, 0)
	f.Close()
	if string(b[:n]) != "written in the mount" {
		t.Errorf("store reads %q", b[:n])
	}
	// And the mount's own change is not mistaken for another door's: the
	// file keeps its kernel pages (its inode is not invalidated).
	if got := read("w/from-mount.txt"); got != "written in the mount" {
		t.Errorf("mount reads back %q", got)
	}
}

func TestXattrs(t *testing.T) {
	st, mnt := mountStore(t, Options{})
	name := filepath.Join(mnt, "x.md")
	mustWrite(t, name, "hello xattrs")
	buf := make([]byte, 4096)
	n, err := unix.Listxattr(name, buf)
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Split(strings.TrimSuffix(string(buf[:n]), "\x00"), "\x00")
	for _, want := range []string{XattrVersion, XattrTokens, XattrAuthor, XattrModified} {
		if !contains(list, want) {
			t.Errorf("listxattr %v lacks %s", list, want)
		}
	}
	info, _ := st.Stat(testCtx(), "/x.md")
	if got, _ := getxattr(name, XattrModified); got != info.Modified.UTC().Format(time.RFC3339Nano) {
		t.Errorf("modified %q, store %v", got, info.Modified)
	}
	if v := version(t, name); v != 1 {
		t.Errorf("version %d", v)
	}

	if err := unix.Setxattr(name, MetaPrefix+"topic", []byte("fuse"), 0); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Stat(testCtx(), "/x.md")
	if info.Meta["topic"] != "fuse" || info.Version != 2 {
		t.Errorf("after setxattr the store has meta %v version %d", info.Meta, info.Version)
	}
	if got, _ := getxattr(name, MetaPrefix+"topic"); got != "fuse" {
		t.Errorf("getxattr topic: %q", got)
	}
	n, _ = unix.Listxattr(name, buf)
	if !strings.Contains(string(buf[:n]), MetaPrefix+"topic\x00") {
		t.Errorf("listxattr lacks the metadata key: %q", buf[:n])
	}
	cases := []struct {
		what string
		err  error
		want syscall.Errno
	}{
		{"XATTR_CREATE of an existing key", unix.Setxattr(name, MetaPrefix+"topic", []byte("x"), unix.XATTR_CREATE), syscall.EEXIST},
		{"XATTR_REPLACE of a missing key", unix.Setxattr(name, MetaPrefix+"nope", []byte("x"), unix.XATTR_REPLACE), syscall.ENODATA},
		{"set a system field", unix.Setxattr(name, XattrVersion, []byte("9"), 0), syscall.EPERM},
		{"set outside user.ctxfs", unix.Setxattr(name, "user.other", []byte("x"), 0), syscall.EOPNOTSUPP},
		{"remove a missing key", unix.Removexattr(name, MetaPrefix+"nope"), syscall.ENODATA},
		{"get a missing key", func() error { _, err := getxattr(name, MetaPrefix+"nope"); return err }(), syscall.ENODATA},
	}
	for _, c := range cases {
		if errnoOf(c.err) != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.err, c.want)
		}
	}
	if _, err := unix.Getxattr(name, XattrVersion, make([]byte, 0)); err != nil {
		t.Errorf("size query: %v", err)
	}
	if err := unix.Removexattr(name, MetaPrefix+"topic"); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Stat(testCtx(), "/x.md")
	if _, ok := info.Meta["topic"]; ok || info.Version != 3 {
		t.Errorf("after removexattr: meta %v version %d", info.Meta, info.Version)
	}
	if got := mustRead(t, name); got != "hello xattrs" {
		t.Errorf("content after metadata changes: %q", got)
	}
	// A write after metadata keeps the metadata.
	unix.Setxattr(name, MetaPrefix+"keep", []byte("me"), 0)
	mustWrite(t, name, "new content")
	if got, _ := getxattr(name, MetaPrefix+"keep"); got != "me" {
		t.Errorf("metadata after a write: %q", got)
	}
}

// TestXattrsWhileWriting checks that reading the attributes of a file
// being created makes no version, and that setting metadata on it does.
func TestXattrsWhileWriting(t *testing.T) {
	st, mnt := mountStore(t, Options{})
	name := filepath.Join(mnt, "new.md")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("draft")
	buf := make([]byte, 1024)
	if n, err := unix.Listxattr(name, buf); err != nil || n != 0 {
		t.Errorf("listxattr of an uncommitted file: %q %v", buf[:n], err)
	}
	if _, err := getxattr(name, XattrVersion); errnoOf(err) != syscall.ENODATA {
		t.Errorf("version of an uncommitted file: %v", err)
	}
	if _, err := st.Stat(testCtx(), "/new.md"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading attributes committed the file: %v", err)
	}
	if err := unix.Setxattr(name, MetaPrefix+"status", []byte("draft"), 0); err != nil {
		t.Fatal(err)
	}
	f.WriteString(" and more")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(testCtx(), "/new.md")
	if err != nil || info.Meta["status"] != "draft" || info.Size != int64(len("draft and more")) {
		t.Errorf("after close: %+v %v", info, err)
	}
}

// TestNoNotifications checks the fallback for a provider without a change
// log: another door's write shows once the kernel's attribute timeout
// ends, and an open after it reads the new content.
func TestNoNotifications(t *testing.T) {
	st := newStore(t, storeOpts())
	_, mnt := mountFS(t, plainFS{st}, Options{})
	name := filepath.Join(mnt, "a.txt")
	mustWrite(t, name, "one")
	mustRead(t, name)
	if _, err := st.Write(testCtx(), "/a.txt", strings.NewReader("two, longer"), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seen after %v without notifications", waitFor(t, "write through the store", func() bool {
		b, _ := os.ReadFile(name)
		return string(b) == "two, longer"
	}))
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestNoWatcherProvider(t *testing.T) {
	// A provider without capabilities still mounts and works; views and
	// metadata are absent.
	st := newStore(t, storeOpts())
	_, mnt := mountFS(t, plainFS{st}, Options{})
	mustWrite(t, filepath.Join(mnt, "a"), "a")
	if got := mustRead(t, filepath.Join(mnt, "a")); got != "a" {
		t.Errorf("read %q", got)
	}
	if _, err := os.Stat(filepath.Join(mnt, HistoryDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".history without a Versioner: %v", err)
	}
	if err := unix.Setxattr(filepath.Join(mnt, "a"), MetaPrefix+"k", []byte("v"), 0); errnoOf(err) != syscall.EOPNOTSUPP {
		t.Errorf("setxattr without a MetaSetter: %v", err)
	}
}

// plainFS hides every capability of the store but fs.FS.
type plainFS struct{ fs.FS }
