package fuse

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ctxfs/ctxfs/fs"
)

// errnoOf returns the errno inside err, or 0.
func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return 0
}

func mustWrite(tb testing.TB, name, data string) {
	tb.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func mustRead(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// version returns the user.ctxfs.version attribute of name.
func version(tb testing.TB, name string) int64 {
	tb.Helper()
	v, err := getxattr(name, XattrVersion)
	if err != nil {
		tb.Fatalf("getxattr %s: %v", name, err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		tb.Fatalf("version %q: %v", v, err)
	}
	return n
}

func getxattr(name, attr string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(name, attr, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func TestPOSIX(t *testing.T) {
	st, mnt := mountStore(t, Options{})
	path := func(s string) string { return filepath.Join(mnt, s) }

	t.Run("CreateWriteRead", func(t *testing.T) {
		mustWrite(t, path("hello.txt"), "hello, world\n")
		if got := mustRead(t, path("hello.txt")); got != "hello, world\n" {
			t.Fatalf("read %q", got)
		}
		fi, err := os.Stat(path("hello.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != 13 || fi.Mode() != 0o644 || fi.Mode().IsDir() {
			t.Errorf("stat: size %d mode %v", fi.Size(), fi.Mode())
		}
		sys := fi.Sys().(*syscall.Stat_t)
		if sys.Nlink != 1 || sys.Uid != uint32(os.Getuid()) || sys.Gid != uint32(os.Getgid()) {
			t.Errorf("stat: nlink %d uid %d gid %d", sys.Nlink, sys.Uid, sys.Gid)
		}
		info, err := st.Stat(testCtx(), "/hello.txt")
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(info.Modified) {
			t.Errorf("mtime %v, store says %v", fi.ModTime(), info.Modified)
		}
	})

	t.Run("OpenFlags", func(t *testing.T) {
		name := path("flags.txt")
		mustWrite(t, name, "0123456789")
		if _, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); errnoOf(err) != syscall.EEXIST {
			t.Errorf("O_EXCL on an existing file: %v, want EEXIST", err)
		}
		f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("ab")
		f.WriteString("cd")
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, name); got != "0123456789abcd" {
			t.Errorf("after O_APPEND: %q", got)
		}
		f, err = os.OpenFile(name, os.O_TRUNC|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("new")
		f.Close()
		if got := mustRead(t, name); got != "new" {
			t.Errorf("after O_TRUNC: %q", got)
		}
		if _, err := os.Open(path("missing")); errnoOf(err) != syscall.ENOENT {
			t.Errorf("open missing: %v, want ENOENT", err)
		}
		if _, err := os.Create(path("flags.txt/sub")); errnoOf(err) != syscall.ENOTDIR {
			t.Errorf("create below a file: %v, want ENOTDIR", err)
		}
		long := strings.Repeat("x", 256)
		if _, err := os.Create(path(long)); errnoOf(err) != syscall.ENAMETOOLONG {
			t.Errorf("256-byte name: %v, want ENAMETOOLONG", err)
		}
	})

	t.Run("OffsetsAndReadBack", func(t *testing.T) {
		name := path("offsets.bin")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte("world"), 6); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
			t.Fatal(err)
		}
		// Through the same handle, before close.
		f2, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f2.Close()
		buf := make([]byte, 11)
		if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if want := "hello\x00world"; string(buf) != want {
			t.Errorf("read back %q, want %q", buf, want)
		}
		// And through another handle of the same file.
		if _, err := f2.ReadAt(buf, 0); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if want := "hello\x00world"; string(buf) != want {
			t.Errorf("other handle reads %q, want %q", buf, want)
		}
		if fi, _ := os.Stat(name); fi.Size() != 11 {
			t.Errorf("stat of an open written file: size %d, want 11", fi.Size())
		}
		if err := f.Truncate(3); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("!"), 5); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, name); got != "hel\x00\x00!" {
			t.Errorf("after ftruncate and a write past the end: %q", got)
		}
	})

	t.Run("TruncateClosed", func(t *testing.T) {
		name := path("trunc.txt")
		mustWrite(t, name, "abcdefgh")
		v := version(t, name)
		if err := os.Truncate(name, 4); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, name); got != "abcd" {
			t.Errorf("after truncate: %q", got)
		}
		if got := version(t, name); got != v+1 {
			t.Errorf("truncate made version %d, want %d", got, v+1)
		}
		if err := os.Truncate(name, 6); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, name); got != "abcd\x00\x00" {
			t.Errorf("after extending truncate: %q", got)
		}
		if err := os.Truncate(path("missing"), 0); errnoOf(err) != syscall.ENOENT {
			t.Errorf("truncate missing: %v", err)
		}
	})

	t.Run("OneVersionPerClose", func(t *testing.T) {
		name := path("versions.txt")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			f.WriteString("line " + strconv.Itoa(i) + "\n")
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if v := version(t, name); v != 1 {
			t.Errorf("100 writes and a close made version %d, want 1", v)
		}
		for want := int64(2); want <= 4; want++ {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("more\n")
			f.WriteString("and more\n")
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if v := version(t, name); v != want {
				t.Errorf("close %d made version %d", want, v)
			}
		}
		log, err := st.Log(testCtx(), "/versions.txt")
		if err != nil || len(log) != 4 {
			t.Errorf("store log: %d versions, %v", len(log), err)
		}
		// Opening for writing without writing, or reading, makes none.
		f, _ = os.OpenFile(name, os.O_RDWR, 0)
		f.Close()
		mustRead(t, name)
		if v := version(t, name); v != 4 {
			t.Errorf("an unwritten close made version %d", v)
		}
		// fsync commits; close after it has nothing left to commit.
		f, _ = os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
		f.WriteString("synced\n")
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if v := version(t, name); v != 5 {
			t.Errorf("fsync made version %d, want 5", v)
		}
		f.Close()
		if v := version(t, name); v != 5 {
			t.Errorf("close after fsync made version %d, want 5", v)
		}
	})

	t.Run("Directories", func(t *testing.T) {
		if err := os.MkdirAll(path("d1/d2/d3"), 0o755); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path("d1"))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
			t.Fatalf("stat dir: %v %v", fi, err)
		}
		if nl := fi.Sys().(*syscall.Stat_t).Nlink; nl < 2 {
			t.Errorf("dir nlink %d", nl)
		}
		if err := os.Mkdir(path("d1"), 0o755); errnoOf(err) != syscall.EEXIST {
			t.Errorf("mkdir existing: %v", err)
		}
		mustWrite(t, path("d1/f"), "x")
		if err := os.Mkdir(path("d1/f"), 0o755); errnoOf(err) != syscall.EEXIST {
			t.Errorf("mkdir over a file: %v", err)
		}
		if err := syscall.Rmdir(path("d1")); errnoOf(err) != syscall.ENOTEMPTY {
			t.Errorf("rmdir non-empty: %v", err)
		}
		if err := syscall.Rmdir(path("d1/f")); errnoOf(err) != syscall.ENOTDIR {
			t.Errorf("rmdir file: %v", err)
		}
		if err := syscall.Unlink(path("d1/d2")); errnoOf(err) != syscall.EISDIR {
			t.Errorf("unlink dir: %v", err)
		}
		if err := syscall.Rmdir(path("d1/d2/d3")); err != nil {
			t.Errorf("rmdir: %v", err)
		}
		if err := syscall.Unlink(path("d1/f")); err != nil {
			t.Errorf("unlink: %v", err)
		}
		ents, err := os.ReadDir(path("d1"))
		if err != nil || len(ents) != 1 || ents[0].Name() != "d2" || !ents[0].IsDir() {
			t.Errorf("readdir: %v %v", ents, err)
		}
		if _, err := st.Stat(testCtx(), "/d1/f"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("store still has the unlinked file: %v", err)
		}
	})

	t.Run("Rename", func(t *testing.T) {
		if err := os.MkdirAll(path("r/a/sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, path("r/a/sub/f"), "deep")
		mustWrite(t, path("r/x"), "x")
		mustWrite(t, path("r/y"), "y")
		os.Mkdir(path("r/empty"), 0o755)
		os.MkdirAll(path("r/full/z"), 0o755)
		cases := []struct {
			src, dst string
			want     syscall.Errno
		}{
			{"r/x", "r/a", syscall.EISDIR},
			{"r/a", "r/x", syscall.ENOTDIR},
			{"r/a", "r/full", syscall.ENOTEMPTY},
			{"r/a", "r/a/sub/in", syscall.EINVAL},
			{"r/missing", "r/z", syscall.ENOENT},
			{"r/x", "r/nodir/x", syscall.ENOENT},
			{"r/x", "r/y", 0},     // replaces y
			{"r/a", "r/empty", 0}, // replaces an empty directory
		}
		for _, c := range cases {
			// syscall.Rename: os.Rename refuses a directory destination
			// itself, before the file system is asked.
			err := syscall.Rename(path(c.src), path(c.dst))
			if errnoOf(err) != c.want || (c.want == 0 && err != nil) {
				t.Errorf("rename %s %s: %v, want %v", c.src, c.dst, err, c.want)
			}
		}
		if got := mustRead(t, path("r/y")); got != "x" {
			t.Errorf("replaced file reads %q", got)
		}
		if got := mustRead(t, path("r/empty/sub/f")); got != "deep" {
			t.Errorf("moved tree reads %q", got)
		}
		if _, err := os.Stat(path("r/a")); !os.IsNotExist(err) {
			t.Errorf("source dir still there: %v", err)
		}
		mustWrite(t, path("r/n1"), "1")
		mustWrite(t, path("r/n2"), "2")
		if err := unix.Renameat2(unix.AT_FDCWD, path("r/n1"), unix.AT_FDCWD, path("r/n2"), unix.RENAME_NOREPLACE); err != unix.EEXIST {
			t.Errorf("RENAME_NOREPLACE onto a file: %v", err)
		}
		if err := unix.Renameat2(unix.AT_FDCWD, path("r/n1"), unix.AT_FDCWD, path("r/n3"), unix.RENAME_NOREPLACE); err != nil {
			t.Errorf("RENAME_NOREPLACE: %v", err)
		}
		// A file renamed while open and written commits at its new place.
		f, err := os.Create(path("r/open"))
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("first ")
		if err := os.Rename(path("r/open"), path("r/moved")); err != nil {
			t.Fatal(err)
		}
		f.WriteString("second")
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, path("r/moved")); got != "first second" {
			t.Errorf("renamed open file reads %q", got)
		}
		if _, err := st.Stat(testCtx(), "/r/open"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("old name still in the store: %v", err)
		}
	})

	t.Run("UnlinkOpen", func(t *testing.T) {
		f, err := os.Create(path("gone.txt"))
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("data")
		if err := os.Remove(path("gone.txt")); err != nil {
			t.Fatal(err)
		}
		f.WriteString("more")
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path("gone.txt")); !os.IsNotExist(err) {
			t.Errorf("unlinked file came back: %v", err)
		}
		if _, err := st.Stat(testCtx(), "/gone.txt"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("store has the unlinked file: %v", err)
		}
	})

	t.Run("Touch", func(t *testing.T) {
		f, err := os.OpenFile(path("empty"), os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		info, err := st.Stat(testCtx(), "/empty")
		if err != nil || info.Size != 0 || info.Version != 1 {
			t.Errorf("created empty file: %+v %v", info, err)
		}
	})

	t.Run("Large", func(t *testing.T) {
		// Larger than the memory buffer: goes through a temporary file.
		data := bytes.Repeat([]byte("0123456789abcdef"), (DefaultMemoryBuffer+12345)/16)
		name := path("large.bin")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("large round trip: %d bytes, %v", len(got), err)
		}
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte("XY"), int64(len(data))-1)
		f.Close()
		got, _ = os.ReadFile(name)
		if len(got) != len(data)+1 || string(got[len(data)-1:]) != "XY" || !bytes.Equal(got[:len(data)-1], data[:len(data)-1]) {
			t.Errorf("after a write at the end of a large file: %d bytes", len(got))
		}
	})
}

func TestMaxFileSize(t *testing.T) {
	_, mnt := mountStore(t, Options{MaxFileSize: 1000})
	err := os.WriteFile(filepath.Join(mnt, "big"), make([]byte, 1001), 0o644)
	if errnoOf(err) != syscall.EFBIG {
		t.Errorf("write past MaxFileSize: %v, want EFBIG", err)
	}
}

func TestReadOnly(t *testing.T) {
	st := newStore(t, storeOpts())
	if _, err := st.Write(testCtx(), "/a.txt", strings.NewReader("a"), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, mnt := mountFS(t, st, Options{ReadOnly: true})
	if got := mustRead(t, filepath.Join(mnt, "a.txt")); got != "a" {
		t.Errorf("read %q", got)
	}
	fi, _ := os.Stat(filepath.Join(mnt, "a.txt"))
	if fi.Mode().Perm() != 0o444 {
		t.Errorf("mode %v on a read-only mount", fi.Mode())
	}
	checks := map[string]error{
		"write":  os.WriteFile(filepath.Join(mnt, "a.txt"), []byte("b"), 0o644),
		"create": os.WriteFile(filepath.Join(mnt, "b.txt"), []byte("b"), 0o644),
		"mkdir":  os.Mkdir(filepath.Join(mnt, "d"), 0o755),
		"remove": os.Remove(filepath.Join(mnt, "a.txt")),
		"rename": os.Rename(filepath.Join(mnt, "a.txt"), filepath.Join(mnt, "c.txt")),
		"xattr":  unix.Setxattr(filepath.Join(mnt, "a.txt"), MetaPrefix+"k", []byte("v"), 0),
	}
	for op, err := range checks {
		if errnoOf(err) != syscall.EROFS {
			t.Errorf("%s on a read-only mount: %v, want EROFS", op, err)
		}
	}
}

func TestPrincipal(t *testing.T) {
	st := newStore(t, storeOpts())
	_, mnt := mountFS(t, st, Options{Principal: fs.Principal{Name: "alice"}})
	mustWrite(t, filepath.Join(mnt, "note.md"), "by alice")
	info, err := st.Stat(testCtx(), "/note.md")
	if err != nil || info.Author != "alice" {
		t.Fatalf("author %q, %v", info.Author, err)
	}
	if got, _ := getxattr(filepath.Join(mnt, "note.md"), XattrAuthor); got != "alice" {
		t.Errorf("xattr author %q", got)
	}
}
