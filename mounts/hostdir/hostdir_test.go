package hostdir

import (
	"bytes"
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	ctxfstest "github.com/ctxfs/ctxfs/fs/fstest"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// populate writes files (relative name -> content) under dir.
func populate(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		full := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newFS(t testing.TB, dir string, opts Options) *FS {
	t.Helper()
	h, err := New(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

var sample = map[string]string{
	"README.md":          "# hello\n",
	"notes/a.txt":        "alpha beta gamma\n",
	"notes/b.txt":        "delta\n",
	"notes/deep/c/d.txt": "deep content",
	"empty.txt":          "",
}

func TestIOFS(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, sample)
	// An in-root symlink is followed and must behave like the file.
	if err := os.Symlink("notes/a.txt", filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	// Escaping and dangling links, special files and temp files are hidden.
	outside := t.TempDir()
	populate(t, outside, map[string]string{"secret": "s3cret"})
	mustSymlink(t, filepath.Join(outside, "secret"), filepath.Join(dir, "abs-out"))
	mustSymlink(t, "../"+filepath.Base(outside)+"/secret", filepath.Join(dir, "rel-out"))
	mustSymlink(t, "nowhere", filepath.Join(dir, "dangling"))
	populate(t, dir, map[string]string{tmpPrefix + "123": "partial"})

	h := newFS(t, dir, Options{})
	err := fstest.TestFS(fs.IOFS(context.Background(), h, fs.Root),
		"README.md", "notes/a.txt", "notes/b.txt", "notes/deep/c/d.txt", "empty.txt", "link.txt")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := h.List(context.Background(), fs.Root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, ","), "README.md,empty.txt,link.txt,notes"; got != want {
		t.Fatalf("root listing = %s, want %s", got, want)
	}
}

func mustSymlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestEscapes checks that no name or link leads outside the directory, for
// reads and (in read-write mode) for writes.
func TestEscapes(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "mount")
	outside := filepath.Join(base, "outside")
	populate(t, dir, map[string]string{"in.txt": "inside"})
	populate(t, outside, map[string]string{"secret.txt": "s3cret"})
	mustSymlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(dir, "abs-file"))
	mustSymlink(t, "../outside/secret.txt", filepath.Join(dir, "rel-file"))
	mustSymlink(t, outside, filepath.Join(dir, "abs-dir"))
	mustSymlink(t, "../outside", filepath.Join(dir, "rel-dir"))
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, "../../outside", filepath.Join(dir, "sub", "up-dir"))
	// Even an absolute link that points back inside is refused: os.Root
	// accepts only relative links.
	mustSymlink(t, filepath.Join(dir, "in.txt"), filepath.Join(dir, "abs-in"))

	ctx := context.Background()
	for _, writable := range []bool{false, true} {
		h := newFS(t, dir, Options{Writable: writable})
		reads := []string{
			"/abs-file", "/rel-file", "/abs-dir/secret.txt", "/rel-dir/secret.txt",
			"/sub/up-dir/secret.txt", "/abs-in",
		}
		for _, s := range reads {
			p := fs.MustParse(s)
			if _, err := h.Stat(ctx, p); !errors.Is(err, fs.ErrPermission) {
				t.Errorf("writable=%v: Stat(%s) = %v, want ErrPermission", writable, s, err)
			}
			if f, err := h.Open(ctx, p); !errors.Is(err, fs.ErrPermission) {
				if f != nil {
					f.Close()
				}
				t.Errorf("writable=%v: Open(%s) = %v, want ErrPermission", writable, s, err)
			}
		}
		for _, s := range []string{"/abs-dir", "/rel-dir", "/sub/up-dir"} {
			if _, err := h.List(ctx, fs.MustParse(s)); !errors.Is(err, fs.ErrPermission) {
				t.Errorf("writable=%v: List(%s) = %v, want ErrPermission", writable, s, err)
			}
		}
		// Raw names that would escape never get past the path parser.
		for _, raw := range []string{"/../outside/secret.txt", "/sub/../../outside", "/./in.txt"} {
			if _, err := fs.Parse(raw); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("Parse(%q) = %v, want ErrInvalid", raw, err)
			}
		}
		want := fs.ErrReadOnly
		if writable {
			want = fs.ErrPermission
		}
		for _, s := range []string{"/abs-file", "/rel-file", "/abs-dir/new.txt", "/rel-dir/secret.txt", "/sub/up-dir/new.txt", "/rel-dir/x/y.txt"} {
			_, err := h.Write(ctx, fs.MustParse(s), strings.NewReader("pwned"), fs.WriteOptions{})
			if !errors.Is(err, want) {
				t.Errorf("writable=%v: Write(%s) = %v, want %v", writable, s, err, want)
			}
		}
		for _, s := range []string{"/abs-dir/new", "/rel-dir/sub"} {
			if err := h.Mkdir(ctx, fs.MustParse(s)); !errors.Is(err, want) {
				t.Errorf("writable=%v: Mkdir(%s) = %v, want %v", writable, s, err, want)
			}
		}
		for _, s := range []string{"/abs-dir/secret.txt", "/rel-dir/secret.txt"} {
			if err := h.Remove(ctx, fs.MustParse(s), true); !errors.Is(err, want) {
				t.Errorf("writable=%v: Remove(%s) = %v, want %v", writable, s, err, want)
			}
			if err := h.Rename(ctx, fs.MustParse(s), fs.MustParse("/stolen.txt")); !errors.Is(err, want) {
				t.Errorf("writable=%v: Rename(%s) = %v, want %v", writable, s, err, want)
			}
			if err := h.Rename(ctx, fs.MustParse("/in.txt"), fs.MustParse(s)); !errors.Is(err, want) {
				t.Errorf("writable=%v: Rename(/in.txt -> %s) = %v, want %v", writable, s, err, want)
			}
		}
	}
	// Nothing outside changed.
	got, err := os.ReadFile(filepath.Join(outside, "secret.txt"))
	if err != nil || string(got) != "s3cret" {
		t.Fatalf("outside file = %q, %v", got, err)
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 1 {
		t.Fatalf("outside dir has %d entries, want 1", len(ents))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "in.txt")); err != nil || string(b) != "inside" {
		t.Fatalf("in.txt = %q, %v", b, err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, sample)
	h := newFS(t, dir, Options{})
	ctx := context.Background()
	p := fs.MustParse("/notes/a.txt")
	i, err := h.Stat(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !i.ReadOnly || i.Kind != fs.KindFile || i.Size != int64(len(sample["notes/a.txt"])) || i.Version != 0 {
		t.Fatalf("Stat = %+v", i)
	}
	checks := []struct {
		name string
		err  error
	}{
		{"write", func() error { _, err := h.Write(ctx, p, strings.NewReader("x"), fs.WriteOptions{}); return err }()},
		{"mkdir", h.Mkdir(ctx, fs.MustParse("/new"))},
		{"remove", h.Remove(ctx, p, false)},
		{"rename", h.Rename(ctx, p, fs.MustParse("/moved.txt"))},
	}
	for _, c := range checks {
		if !errors.Is(c.err, fs.ErrReadOnly) {
			t.Errorf("%s: %v, want ErrReadOnly", c.name, c.err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes/a.txt")); string(b) != sample["notes/a.txt"] {
		t.Fatalf("content changed: %q", b)
	}
}

func TestWriteSemantics(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, sample)
	h := newFS(t, dir, Options{Writable: true})
	ctx := context.Background()
	w := func(s, content string, o fs.WriteOptions) error {
		_, err := h.Write(ctx, fs.MustParse(s), strings.NewReader(content), o)
		return err
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"new file with parents", w("/x/y/z.txt", "z", fs.WriteOptions{}), nil},
		{"replace", w("/notes/a.txt", "new", fs.WriteOptions{}), nil},
		{"create existing", w("/notes/b.txt", "no", fs.WriteOptions{Create: true}), fs.ErrExist},
		{"create new", w("/notes/new.txt", "yes", fs.WriteOptions{Create: true}), nil},
		{"must exist missing", w("/notes/missing.txt", "no", fs.WriteOptions{MustExist: true}), fs.ErrNotExist},
		{"over a directory", w("/notes", "no", fs.WriteOptions{}), fs.ErrIsDir},
		{"below a file", w("/README.md/x", "no", fs.WriteOptions{}), fs.ErrNotDir},
		{"if version", w("/notes/b.txt", "no", fs.WriteOptions{IfVersion: 1}), fs.ErrNotSupported},
		{"meta", w("/notes/b.txt", "no", fs.WriteOptions{Meta: map[string]string{"k": "v"}}), fs.ErrNotSupported},
		{"mkdir over file", h.Mkdir(ctx, fs.MustParse("/README.md")), fs.ErrExist},
		{"mkdir existing", h.Mkdir(ctx, fs.MustParse("/notes")), nil},
		{"mkdir below file", h.Mkdir(ctx, fs.MustParse("/README.md/x")), fs.ErrNotDir},
		{"remove non-empty", h.Remove(ctx, fs.MustParse("/notes/deep"), false), fs.ErrNotEmpty},
		{"remove missing", h.Remove(ctx, fs.MustParse("/nope"), true), fs.ErrNotExist},
		{"remove root", h.Remove(ctx, fs.Root, true), fs.ErrInvalid},
		{"rename into itself", h.Rename(ctx, fs.MustParse("/notes"), fs.MustParse("/notes/deep/n")), fs.ErrInvalid},
		{"rename file over dir", h.Rename(ctx, fs.MustParse("/empty.txt"), fs.MustParse("/notes")), fs.ErrIsDir},
		{"rename dir over file", h.Rename(ctx, fs.MustParse("/notes/deep"), fs.MustParse("/README.md")), fs.ErrNotDir},
		{"rename missing", h.Rename(ctx, fs.MustParse("/nope"), fs.MustParse("/nope2")), fs.ErrNotExist},
	}
	for _, tc := range tests {
		if tc.want == nil && tc.err != nil || tc.want != nil && !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	read := func(s string) string {
		t.Helper()
		f, err := h.Open(ctx, fs.MustParse(s))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for s, want := range map[string]string{"/x/y/z.txt": "z", "/notes/a.txt": "new", "/notes/b.txt": "delta\n", "/notes/new.txt": "yes"} {
		if got := read(s); got != want {
			t.Errorf("%s = %q, want %q", s, got, want)
		}
	}
	// Directory rename, then over an empty directory.
	if err := h.Rename(ctx, fs.MustParse("/notes/deep"), fs.MustParse("/moved/deep")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("rename to a missing parent = %v, want ErrNotExist", err)
	}
	if err := h.Mkdir(ctx, fs.MustParse("/moved")); err != nil {
		t.Fatal(err)
	}
	if err := h.Rename(ctx, fs.MustParse("/notes/deep"), fs.MustParse("/moved/deep")); err != nil {
		t.Fatal(err)
	}
	if got := read("/moved/deep/c/d.txt"); got != "deep content" {
		t.Fatalf("moved content = %q", got)
	}
	if err := h.Mkdir(ctx, fs.MustParse("/emptydir")); err != nil {
		t.Fatal(err)
	}
	if err := h.Rename(ctx, fs.MustParse("/moved"), fs.MustParse("/emptydir")); err != nil {
		t.Fatal(err)
	}
	if got := read("/emptydir/deep/c/d.txt"); got != "deep content" {
		t.Fatalf("content after replacing empty dir = %q", got)
	}
	if err := h.Rename(ctx, fs.MustParse("/x"), fs.MustParse("/emptydir")); !errors.Is(err, fs.ErrNotEmpty) {
		t.Fatalf("rename over non-empty dir = %v, want ErrNotEmpty", err)
	}
	if err := h.Remove(ctx, fs.MustParse("/emptydir"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Stat(ctx, fs.MustParse("/emptydir/deep")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after recursive remove: %v", err)
	}
	// No temporary files are left behind.
	filepath.WalkDir(dir, func(path string, d iofs.DirEntry, err error) error {
		if d != nil && strings.HasPrefix(d.Name(), tmpPrefix) {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}

// TestConcurrentWrites checks that readers racing writers always see one
// complete version, never a mix.
func TestConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	h := newFS(t, dir, Options{Writable: true})
	ctx := context.Background()
	p := fs.MustParse("/f.bin")
	a := bytes.Repeat([]byte{'a'}, 256<<10)
	b := bytes.Repeat([]byte{'b'}, 256<<10)
	if _, err := h.Write(ctx, p, bytes.NewReader(a), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				data := a
				if w == 1 {
					data = b
				}
				if _, err := h.Write(ctx, p, bytes.NewReader(data), fs.WriteOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				f, err := h.Open(ctx, p)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := io.ReadAll(f)
				f.Close()
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
					t.Errorf("read a torn file of %d bytes", len(got))
					return
				}
			}
		}()
	}
	wg.Wait()
}

type wordCounter struct{ calls int }

func (c *wordCounter) CountTokens(s string) int { c.calls++; return len(strings.Fields(s)) }

func TestTokens(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, sample)
	c := &wordCounter{}
	h := newFS(t, dir, Options{Counter: c})
	ctx := context.Background()
	p := fs.MustParse("/notes/a.txt")
	for range 3 {
		i, err := h.Stat(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if i.Tokens != 3 {
			t.Fatalf("tokens = %d, want 3", i.Tokens)
		}
	}
	if c.calls != 1 {
		t.Fatalf("counter called %d times, want 1 (cached)", c.calls)
	}
	ents, _ := h.List(ctx, fs.MustParse("/notes"))
	if ents[0].Path != p || ents[0].Tokens != 3 {
		t.Fatalf("list entry = %+v, want cached tokens", ents[0])
	}
	// A changed file is counted again.
	later := time.Now().Add(time.Minute)
	os.WriteFile(filepath.Join(dir, "notes/a.txt"), []byte("one two"), 0o644)
	os.Chtimes(filepath.Join(dir, "notes/a.txt"), later, later)
	i, _ := h.Stat(ctx, p)
	if i.Tokens != 2 {
		t.Fatalf("tokens after change = %d, want 2", i.Tokens)
	}
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, sample)
	mustSymlink(t, ".", filepath.Join(dir, "notes", "loop")) // a cycle must not hang the scan
	h := newFS(t, dir, Options{})
	var got []string
	err := h.Scan(context.Background(), fs.Root, func(i *fs.Info) error {
		got = append(got, i.Kind.String()+":"+i.Path.String())
		if i.Kind == fs.KindFile && i.Modified.IsZero() {
			t.Errorf("%s: no modification time", i.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "file:/README.md,file:/empty.txt,dir:/notes,file:/notes/a.txt,file:/notes/b.txt,dir:/notes/deep,dir:/notes/deep/c,file:/notes/deep/c/d.txt,dir:/notes/loop"
	if strings.Join(got, ",") != want {
		t.Fatalf("scan = %s\nwant   %s", strings.Join(got, ","), want)
	}
}

func TestSpecialFilesHidden(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, map[string]string{"a.txt": "a"})
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("cannot create a FIFO here: %v", err)
	}
	h := newFS(t, dir, Options{})
	ctx := context.Background()
	ents, err := h.List(ctx, fs.Root)
	if err != nil || len(ents) != 1 || ents[0].Name() != "a.txt" {
		t.Fatalf("List = %v, %v; want only a.txt", ents, err)
	}
	if _, err := h.Open(ctx, fs.MustParse("/fifo")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(fifo) = %v, want ErrNotExist (and no hang)", err)
	}
}

// TestConformance runs the fs conformance suite on a writable mount of an
// empty directory; host directories keep no versions, metadata or authors.
func TestConformance(t *testing.T) {
	ctxfstest.Run(t, func(tb testing.TB) fs.FS {
		return newFS(tb, tb.TempDir(), Options{Writable: true})
	}, ctxfstest.Options{NoVersions: true, NoMeta: true, NoAuthor: true, NoWatch: true})
}

// TestConformanceReadOnly checks that a read-only mount refuses every
// change without effect.
func TestConformanceReadOnly(t *testing.T) {
	ctxfstest.Run(t, func(tb testing.TB) fs.FS {
		dir := tb.TempDir()
		populate(tb, dir, sample)
		return newFS(tb, dir, Options{})
	}, ctxfstest.Options{ReadOnly: true, NoVersions: true, NoMeta: true, NoAuthor: true, NoWatch: true})
}

// TestWriteThroughLink checks that writing a symbolic link replaces the
// file it names, keeps the link and the file's permissions.
func TestWriteThroughLink(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, sample)
	os.Chmod(filepath.Join(dir, "notes/a.txt"), 0o600)
	mustSymlink(t, "notes/a.txt", filepath.Join(dir, "link.txt"))
	mustSymlink(t, "../b.txt", filepath.Join(dir, "notes/deep/up.txt"))
	h := newFS(t, dir, Options{Writable: true})
	ctx := context.Background()
	for _, c := range []struct{ link, target string }{{"link.txt", "notes/a.txt"}, {"notes/deep/up.txt", "notes/b.txt"}} {
		if _, err := h.Write(ctx, fs.MustParse("/"+c.link), strings.NewReader("via "+c.link), fs.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(filepath.Join(dir, c.link)); err != nil || fi.Mode().Type() != os.ModeSymlink {
			t.Errorf("%s is no longer a link: %v", c.link, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, c.target)); string(b) != "via "+c.link {
			t.Errorf("%s = %q, want the content written via %s", c.target, b, c.link)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "notes/a.txt")); fi.Mode().Perm() != 0o600 {
		t.Errorf("permissions = %v, want 0600 kept", fi.Mode().Perm())
	}
}
