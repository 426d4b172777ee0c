package hostdir

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
)

// FuzzNoEscape applies arbitrary operations on arbitrary paths to a
// writable mount full of links that lead outside it, and checks that the
// directory outside never changes.
func FuzzNoEscape(f *testing.F) {
	for _, s := range []struct {
		op       uint8
		src, dst string
	}{
		{0, "/abs-dir/secret.txt", ""},
		{1, "/rel-dir/new.txt", ""},
		{1, "/abs-file", ""},
		{2, "/rel-dir/sub/deeper", ""},
		{3, "/rel-dir/secret.txt", ""},
		{3, "/rel-dir", ""},
		{4, "/rel-dir/secret.txt", "/stolen"},
		{4, "/in.txt", "/abs-dir/in.txt"},
		{4, "/sub/up", "/moved"},
		{1, "/sub/up/x/y", ""},
		{5, "/loop/loop/loop/file", ""},
	} {
		f.Add(s.op, s.src, s.dst)
	}
	base := f.TempDir()
	dir := filepath.Join(base, "mount")
	outside := filepath.Join(base, "outside")
	populate(f, dir, map[string]string{"in.txt": "inside", "sub/x.txt": "x"})
	populate(f, outside, map[string]string{"secret.txt": "s3cret", "sub/deep.txt": "deep"})
	mustSymlink(f, filepath.Join(outside, "secret.txt"), filepath.Join(dir, "abs-file"))
	mustSymlink(f, "../outside/secret.txt", filepath.Join(dir, "rel-file"))
	mustSymlink(f, outside, filepath.Join(dir, "abs-dir"))
	mustSymlink(f, "../outside", filepath.Join(dir, "rel-dir"))
	mustSymlink(f, "../../outside/sub", filepath.Join(dir, "sub", "up"))
	mustSymlink(f, ".", filepath.Join(dir, "loop"))
	want := treeOf(f, outside)
	h := newFS(f, dir, Options{Writable: true})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, op uint8, src, dst string) {
		p, err := fs.Parse(src)
		if err != nil {
			return
		}
		switch op % 6 {
		case 0:
			h.Stat(ctx, p)
			if r, err := h.Open(ctx, p); err == nil {
				r.Close()
			}
		case 1:
			h.Write(ctx, p, strings.NewReader("pwned"), fs.WriteOptions{})
		case 2:
			h.Mkdir(ctx, p)
		case 3:
			h.Remove(ctx, p, true)
		case 4:
			if q, err := fs.Parse(dst); err == nil {
				h.Rename(ctx, p, q)
			}
		case 5:
			h.List(ctx, p)
			h.Scan(ctx, p, func(*fs.Info) error { return nil })
		}
		if got := treeOf(t, outside); got != want {
			t.Fatalf("op %d %q %q changed the outside directory:\n%s\nwant\n%s", op%6, src, dst, got, want)
		}
	})
}

// treeOf describes every entry under dir with its content.
func treeOf(tb testing.TB, dir string) string {
	tb.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			b.WriteString("error " + err.Error() + "\n")
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		b.WriteString(rel + " " + d.Type().String())
		if d.Type().IsRegular() {
			c, _ := os.ReadFile(path)
			b.WriteString(" " + string(c))
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}
