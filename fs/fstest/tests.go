package fstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

func (s *suite) testRoundTrip(e *env) {
	texts := map[string]string{
		"empty":   "",
		"ascii":   "hello, world\n",
		"unicode": "héllo wörld — 日本語 🙂\n",
		"lines":   string(bytes.Repeat([]byte("a line of text\n"), 1000)),
	}
	for name, text := range texts {
		e.sub("Text/"+name, func(e *env) {
			path := "/text/" + name + ".txt"
			info := e.write(path, []byte(text))
			if info.Size != int64(len(text)) {
				e.t.Errorf("Write returned Size %d, want %d", info.Size, len(text))
			}
			e.expectContent(path, []byte(text))
		})
	}
	for i, n := range []int{0, 1, 4095, 4096, 4097, 65539, s.opts.LargeSize} {
		e.sub(fmt.Sprintf("Binary/%d", n), func(e *env) {
			path := fmt.Sprintf("/bin/%d.bin", n)
			data := randBytes(uint64(i+1), n)
			info := e.write(path, data)
			if info.Size != int64(n) {
				e.t.Errorf("Write returned Size %d, want %d", info.Size, n)
			}
			if got := e.stat(path).Size; got != int64(n) {
				e.t.Errorf("Stat Size %d, want %d", got, n)
			}
			e.expectContent(path, data)
		})
	}
	e.sub("Overwrite", func(e *env) {
		e.write("/over.bin", randBytes(7, 5000))
		data := randBytes(8, 100) // shorter: no stale tail may remain
		e.write("/over.bin", data)
		e.expectContent("/over.bin", data)
	})
}

func (s *suite) testParents(e *env) {
	e.write("/a/b/c/d.txt", []byte("deep"))
	for _, dir := range []string{"/a", "/a/b", "/a/b/c"} {
		if i := e.stat(dir); i.Kind != fs.KindDir {
			e.t.Errorf("%s: Kind %v, want dir", dir, i.Kind)
		}
	}
	e.expectContent("/a/b/c/d.txt", []byte("deep"))
	// A second file in an existing directory creates nothing new.
	e.write("/a/b/e.txt", []byte("e"))
	list, err := e.fsys.List(e.ctx, p("/a/b"))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(list) != 2 {
		e.t.Errorf("List(/a/b) has %d entries, want 2", len(list))
	}
}

func (s *suite) testStat(e *env) {
	o := s.opts
	before := time.Now().Add(-time.Minute)
	info := e.write("/s/file.txt", []byte("12345"))
	st := e.stat("/s/file.txt")
	for _, i := range []*fs.Info{info, st} {
		if i.Path != p("/s/file.txt") || i.Name() != "file.txt" || i.Kind != fs.KindFile || i.IsDir() || i.Size != 5 {
			e.t.Errorf("Info = %+v, want path /s/file.txt, a file of 5 bytes", i)
		}
		if !o.NoVersions && i.Version != 1 {
			e.t.Errorf("Version %d after the first write, want 1", i.Version)
		}
		if !o.NoTimes && (i.Modified.Before(before) || i.Modified.After(time.Now().Add(time.Minute))) {
			e.t.Errorf("Modified %v is not about now", i.Modified)
		}
		if !o.NoAuthor && !o.NoVersions && i.Author != Author {
			e.t.Errorf("Author %q, want %q (the principal in the context)", i.Author, Author)
		}
	}
	info2 := e.write("/s/file.txt", []byte("123456789"))
	st2 := e.stat("/s/file.txt")
	if st2.Size != 9 || info2.Size != 9 {
		e.t.Errorf("Size after rewrite: Write %d, Stat %d, want 9", info2.Size, st2.Size)
	}
	if !o.NoVersions && (st2.Version != 2 || info2.Version != 2) {
		e.t.Errorf("Version after the second write: Write %d, Stat %d, want 2", info2.Version, st2.Version)
	}
	if !o.NoTimes && !o.NoVersions {
		if !st2.Created.Equal(st.Created) {
			e.t.Errorf("Created changed on rewrite: %v -> %v", st.Created, st2.Created)
		}
		if st2.Modified.Before(st.Modified) {
			e.t.Errorf("Modified went back on rewrite: %v -> %v", st.Modified, st2.Modified)
		}
	}
	d := e.stat("/s")
	if d.Kind != fs.KindDir || !d.IsDir() || d.Path != p("/s") {
		e.t.Errorf("Stat(/s) = %+v, want a directory", d)
	}
	r := e.stat("/")
	if !r.IsDir() || r.Path != fs.Root {
		e.t.Errorf("Stat(/) = %+v, want the root directory", r)
	}
	// Returned Infos belong to the caller.
	st2.Size = -1
	if e.stat("/s/file.txt").Size != 9 {
		e.t.Error("changing a returned Info changed the provider's state")
	}
}

func (s *suite) testList(e *env) {
	for _, f := range []string{"/l/b", "/l/a", "/l/B", "/l/c/x", "/l/a.txt", "/l/ä"} {
		e.write(f, []byte(f))
	}
	list, err := e.fsys.List(e.ctx, p("/l"))
	if err != nil {
		e.t.Fatal(err)
	}
	var got []string
	for _, i := range list {
		got = append(got, i.Name())
		if i.Path.Dir() != p("/l") {
			e.t.Errorf("entry %s is not a child of /l", i.Path)
		}
		want := fs.KindFile
		if i.Name() == "c" {
			want = fs.KindDir
		}
		if i.Kind != want {
			e.t.Errorf("%s: Kind %v, want %v", i.Path, i.Kind, want)
		}
		if i.Kind == fs.KindFile && i.Size != int64(len(i.Path)) {
			e.t.Errorf("%s: Size %d in the listing, want %d", i.Path, i.Size, len(i.Path))
		}
	}
	want := []string{"B", "a", "a.txt", "b", "c", "ä"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		e.t.Errorf("List(/l) = %v, want %v (sorted by name)", got, want)
	}
	if !sort.StringsAreSorted(got) {
		e.t.Errorf("List(/l) not sorted: %v", got)
	}
	e.mkdir("/empty")
	if l, err := e.fsys.List(e.ctx, p("/empty")); err != nil || len(l) != 0 {
		e.t.Errorf("List(/empty) = %d entries, %v; want none", len(l), err)
	}
	root, err := e.fsys.List(e.ctx, fs.Root)
	if err != nil {
		e.t.Fatal(err)
	}
	found := false
	for _, i := range root {
		found = found || i.Path == p("/l")
	}
	if !found {
		e.t.Error("List(/) does not show /l")
	}
	if _, err := e.fsys.List(e.ctx, p("/l/b")); !errors.Is(err, fs.ErrNotDir) {
		e.t.Errorf("List of a file: err = %v, want ErrNotDir", err)
	}
	if _, err := e.fsys.List(e.ctx, p("/nothing")); !errors.Is(err, fs.ErrNotExist) {
		e.t.Errorf("List of a missing path: err = %v, want ErrNotExist", err)
	}
}

func (s *suite) testMkdir(e *env) {
	e.mkdir("/m/n/o")
	for _, d := range []string{"/m", "/m/n", "/m/n/o"} {
		if !e.stat(d).IsDir() {
			e.t.Errorf("%s is not a directory after Mkdir(/m/n/o)", d)
		}
	}
	before := e.snapshot()
	e.mkdir("/m/n/o") // idempotent
	e.mkdir("/m")
	e.mkdir("/")
	if after := e.snapshot(); fmt.Sprint(before) != fmt.Sprint(after) {
		e.t.Errorf("repeated Mkdir changed the tree:\n%s", diff(before, after))
	}
	e.write("/m/file", []byte("x"))
	e.fails("Mkdir over a file", func() error { return e.fsys.Mkdir(e.ctx, p("/m/file")) }, fs.ErrExist)
	e.fails("Mkdir below a file", func() error { return e.fsys.Mkdir(e.ctx, p("/m/file/sub")) }, fs.ErrNotDir)
}

func (s *suite) testErrors(e *env) {
	e.write("/e/file", []byte("content"))
	e.write("/e/dir/inner", []byte("inner"))
	cases := []struct {
		name string
		op   func() error
		want []error
	}{
		{"OpenMissing", func() error { _, err := e.fsys.Open(e.ctx, p("/e/missing")); return err }, []error{fs.ErrNotExist}},
		{"OpenMissingParent", func() error { _, err := e.fsys.Open(e.ctx, p("/nope/x")); return err }, []error{fs.ErrNotExist}},
		{"OpenDir", func() error { _, err := e.fsys.Open(e.ctx, p("/e/dir")); return err }, []error{fs.ErrIsDir}},
		{"StatMissing", func() error { _, err := e.fsys.Stat(e.ctx, p("/e/missing")); return err }, []error{fs.ErrNotExist}},
		{"StatBelowFile", func() error { _, err := e.fsys.Stat(e.ctx, p("/e/file/x")); return err }, []error{fs.ErrNotDir, fs.ErrNotExist}},
		{"WriteOverDir", func() error { _, err := e.writeOpts("/e/dir", []byte("x"), fs.WriteOptions{}); return err }, []error{fs.ErrIsDir, fs.ErrExist}},
		{"WriteBelowFile", func() error { _, err := e.writeOpts("/e/file/x", []byte("x"), fs.WriteOptions{}); return err }, []error{fs.ErrNotDir}},
		{"WriteDeepBelowFile", func() error { _, err := e.writeOpts("/e/file/x/y/z", []byte("x"), fs.WriteOptions{}); return err }, []error{fs.ErrNotDir}},
		{"WriteRoot", func() error { _, err := e.writeOpts("/", []byte("x"), fs.WriteOptions{}); return err }, []error{fs.ErrIsDir, fs.ErrExist, fs.ErrInvalid}},
		{"RemoveMissing", func() error { return e.fsys.Remove(e.ctx, p("/e/missing"), false) }, []error{fs.ErrNotExist}},
		{"RemoveMissingRecursive", func() error { return e.fsys.Remove(e.ctx, p("/e/missing"), true) }, []error{fs.ErrNotExist}},
		{"RemoveNonEmpty", func() error { return e.fsys.Remove(e.ctx, p("/e/dir"), false) }, []error{fs.ErrNotEmpty}},
		{"RemoveRoot", func() error { return e.fsys.Remove(e.ctx, fs.Root, true) }, nil},
		{"ListMissing", func() error { _, err := e.fsys.List(e.ctx, p("/e/missing")); return err }, []error{fs.ErrNotExist}},
		{"ListFile", func() error { _, err := e.fsys.List(e.ctx, p("/e/file")); return err }, []error{fs.ErrNotDir}},
		{"MkdirBelowFile", func() error { return e.fsys.Mkdir(e.ctx, p("/e/file/d")) }, []error{fs.ErrNotDir}},
		{"MkdirOverFile", func() error { return e.fsys.Mkdir(e.ctx, p("/e/file")) }, []error{fs.ErrExist}},
	}
	for _, c := range cases {
		e.sub(c.name, func(e *env) { e.fails(c.name, c.op, c.want...) })
	}
	e.sub("PathError", func(e *env) {
		_, err := e.fsys.Stat(e.ctx, p("/e/missing"))
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			e.t.Errorf("Stat error %T %v is not a *fs.PathError", err, err)
		}
	})
}

func (s *suite) testRename(e *env) {
	e.sub("File", func(e *env) {
		e.write("/r1/a", []byte("A"))
		e.mkdir("/r1/sub")
		if err := e.fsys.Rename(e.ctx, p("/r1/a"), p("/r1/sub/b")); err != nil {
			e.t.Fatal(err)
		}
		e.mustNotExist("/r1/a")
		e.expectContent("/r1/sub/b", []byte("A"))
	})
	e.sub("ReplaceFile", func(e *env) {
		e.write("/r2/src", []byte("source"))
		e.write("/r2/dst", []byte("old destination"))
		if err := e.fsys.Rename(e.ctx, p("/r2/src"), p("/r2/dst")); err != nil {
			e.t.Fatal(err)
		}
		e.mustNotExist("/r2/src")
		e.expectContent("/r2/dst", []byte("source"))
	})
	e.sub("Tree", func(e *env) {
		files := map[string]string{"/r3/t/a": "a", "/r3/t/d/b": "b", "/r3/t/d/e/c": "c"}
		for f, c := range files {
			e.write(f, []byte(c))
		}
		if err := e.fsys.Rename(e.ctx, p("/r3/t"), p("/r3/u")); err != nil {
			e.t.Fatal(err)
		}
		e.mustNotExist("/r3/t")
		for f, c := range files {
			e.mustNotExist(f)
			e.expectContent("/r3/u"+f[len("/r3/t"):], []byte(c))
		}
	})
	e.sub("DirOntoEmptyDir", func(e *env) {
		e.write("/r4/src/f", []byte("f"))
		e.mkdir("/r4/dst")
		if err := e.fsys.Rename(e.ctx, p("/r4/src"), p("/r4/dst")); err != nil {
			e.t.Fatal(err)
		}
		e.mustNotExist("/r4/src")
		e.expectContent("/r4/dst/f", []byte("f"))
	})
	e.sub("Self", func(e *env) {
		e.write("/r5/f", []byte("f"))
		before := e.snapshot()
		if err := e.fsys.Rename(e.ctx, p("/r5/f"), p("/r5/f")); err != nil {
			e.t.Fatalf("renaming a file onto itself: %v", err)
		}
		if after := e.snapshot(); fmt.Sprint(before) != fmt.Sprint(after) {
			e.t.Errorf("renaming onto itself changed the tree:\n%s", diff(before, after))
		}
	})
	e.sub("Errors", func(e *env) {
		e.write("/r6/file", []byte("file"))
		e.write("/r6/file2", []byte("file2"))
		e.write("/r6/dir/x", []byte("x"))
		e.write("/r6/full/y", []byte("y"))
		e.mkdir("/r6/empty")
		cases := []struct {
			name     string
			src, dst string
			want     []error
		}{
			{"MissingSource", "/r6/missing", "/r6/other", []error{fs.ErrNotExist}},
			{"MissingDestParent", "/r6/file", "/r6/nodir/file", []error{fs.ErrNotExist}},
			{"DestParentIsFile", "/r6/file", "/r6/file2/x", []error{fs.ErrNotDir}},
			{"FileOntoDir", "/r6/file", "/r6/empty", []error{fs.ErrIsDir, fs.ErrExist}},
			{"DirOntoFile", "/r6/dir", "/r6/file", []error{fs.ErrNotDir}},
			{"DirOntoNonEmptyDir", "/r6/dir", "/r6/full", []error{fs.ErrNotEmpty, fs.ErrExist}},
			{"DirIntoItself", "/r6/dir", "/r6/dir/sub", []error{fs.ErrInvalid}},
			{"DirIntoItselfDeep", "/r6/dir", "/r6/dir/a/b/c", []error{fs.ErrInvalid, fs.ErrNotExist}},
			{"Root", "/", "/r6/rootcopy", nil},
		}
		for _, c := range cases {
			e.sub(c.name, func(e *env) {
				e.fails("Rename "+c.src+" -> "+c.dst, func() error { return e.fsys.Rename(e.ctx, p(c.src), p(c.dst)) }, c.want...)
			})
		}
	})
}

func (s *suite) testRemove(e *env) {
	e.write("/x/file", []byte("f"))
	e.mkdir("/x/empty")
	e.write("/x/tree/a/b", []byte("b"))
	e.write("/x/tree/c", []byte("c"))
	e.write("/x/keep", []byte("keep"))
	if err := e.fsys.Remove(e.ctx, p("/x/file"), false); err != nil {
		e.t.Fatal(err)
	}
	e.mustNotExist("/x/file")
	if err := e.fsys.Remove(e.ctx, p("/x/empty"), false); err != nil {
		e.t.Fatalf("removing an empty directory: %v", err)
	}
	e.mustNotExist("/x/empty")
	e.fails("Remove non-empty dir", func() error { return e.fsys.Remove(e.ctx, p("/x/tree"), false) }, fs.ErrNotEmpty)
	if err := e.fsys.Remove(e.ctx, p("/x/tree"), true); err != nil {
		e.t.Fatal(err)
	}
	for _, gone := range []string{"/x/tree", "/x/tree/a", "/x/tree/a/b", "/x/tree/c"} {
		e.mustNotExist(gone)
	}
	e.expectContent("/x/keep", []byte("keep"))
	// A removed path can be used again, as a new file.
	info := e.write("/x/file", []byte("again"))
	if !s.opts.NoVersions && info.Version != 1 {
		e.t.Errorf("a new file where one was removed has Version %d, want 1", info.Version)
	}
	e.expectContent("/x/file", []byte("again"))
}

func (s *suite) testWriteOptions(e *env) {
	e.sub("Create", func(e *env) {
		if _, err := e.writeOpts("/w/new", []byte("1"), fs.WriteOptions{Create: true}); err != nil {
			e.t.Fatalf("Create of a new file: %v", err)
		}
		e.fails("Create over an existing file", func() error {
			_, err := e.writeOpts("/w/new", []byte("2"), fs.WriteOptions{Create: true})
			return err
		}, fs.ErrExist)
		e.expectContent("/w/new", []byte("1"))
	})
	e.sub("MustExist", func(e *env) {
		e.fails("MustExist of a missing file", func() error {
			_, err := e.writeOpts("/w/missing/deep/file", []byte("x"), fs.WriteOptions{MustExist: true})
			return err
		}, fs.ErrNotExist)
		e.write("/w/exists", []byte("1"))
		if _, err := e.writeOpts("/w/exists", []byte("2"), fs.WriteOptions{MustExist: true}); err != nil {
			e.t.Fatalf("MustExist of an existing file: %v", err)
		}
		e.expectContent("/w/exists", []byte("2"))
	})
	if s.opts.NoVersions {
		return
	}
	e.sub("IfVersion", func(e *env) {
		e.write("/w/v", []byte("1"))
		i, err := e.writeOpts("/w/v", []byte("2"), fs.WriteOptions{IfVersion: 1})
		if err != nil {
			e.t.Fatalf("IfVersion matching the current version: %v", err)
		}
		if i.Version != 2 {
			e.t.Errorf("Version %d, want 2", i.Version)
		}
		e.fails("IfVersion with a stale version", func() error {
			_, err := e.writeOpts("/w/v", []byte("3"), fs.WriteOptions{IfVersion: 1})
			return err
		}, fs.ErrConflict)
		e.fails("IfVersion of a missing file", func() error {
			_, err := e.writeOpts("/w/none", []byte("3"), fs.WriteOptions{IfVersion: 1})
			return err
		}, fs.ErrConflict, fs.ErrNotExist)
		e.expectContent("/w/v", []byte("2"))
	})
}

func (s *suite) testMeta(e *env) {
	if s.opts.NoMeta {
		e.t.Skip("provider keeps no metadata (Options.NoMeta)")
	}
	i, err := e.writeOpts("/meta/f", []byte("1"), fs.WriteOptions{Meta: map[string]string{"a": "1", "b": "two"}})
	if err != nil {
		e.t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "two"}
	if fmt.Sprint(i.Meta) != fmt.Sprint(want) || fmt.Sprint(e.stat("/meta/f").Meta) != fmt.Sprint(want) {
		e.t.Errorf("Meta = %v (write), %v (stat), want %v", i.Meta, e.stat("/meta/f").Meta, want)
	}
	e.write("/meta/f", []byte("2")) // nil Meta keeps the previous
	if got := e.stat("/meta/f").Meta; fmt.Sprint(got) != fmt.Sprint(want) {
		e.t.Errorf("Meta after a write with nil Meta = %v, want it kept: %v", got, want)
	}
	if _, err := e.writeOpts("/meta/f", []byte("3"), fs.WriteOptions{Meta: map[string]string{}}); err != nil {
		e.t.Fatal(err)
	}
	if got := e.stat("/meta/f").Meta; len(got) != 0 {
		e.t.Errorf("Meta after a write with an empty map = %v, want none", got)
	}
	list, err := e.fsys.List(e.ctx, p("/meta"))
	if err != nil || len(list) != 1 {
		e.t.Fatalf("List(/meta) = %v, %v", list, err)
	}
}

func (s *suite) testFile(e *env) {
	data := randBytes(42, 10000)
	e.write("/f/data", data)
	f, err := e.fsys.Open(e.ctx, p("/f/data"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if st := f.Stat(); st.Size != int64(len(data)) || st.Path != p("/f/data") {
		e.t.Errorf("File.Stat = %+v, want size %d", st, len(data))
	}
	buf := make([]byte, 100)
	if n, err := f.ReadAt(buf, 5000); n != 100 || err != nil || !bytes.Equal(buf, data[5000:5100]) {
		e.t.Errorf("ReadAt(100 bytes at 5000) = %d, %v", n, err)
	}
	if n, err := f.ReadAt(buf, 9950); n != 50 || err != io.EOF || !bytes.Equal(buf[:50], data[9950:]) {
		e.t.Errorf("ReadAt over the end = %d, %v; want 50, io.EOF", n, err)
	}
	if pos, err := f.Seek(-10, io.SeekEnd); pos != 9990 || err != nil {
		e.t.Errorf("Seek(-10, end) = %d, %v", pos, err)
	}
	rest, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(rest, data[9990:]) {
		e.t.Errorf("Read after Seek = %d bytes, %v", len(rest), err)
	}
	// Concurrent ReadAt.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 333)
			for off := int64(g * 7); off < int64(len(data))-333; off += 1000 {
				if n, err := f.ReadAt(b, off); n != 333 || err != nil || !bytes.Equal(b, data[off:off+333]) {
					e.t.Errorf("concurrent ReadAt at %d = %d, %v", off, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if s.opts.NoVersions {
		return
	}
	// An open file keeps reading the version it opened.
	e.write("/f/data", []byte("overwritten"))
	all := make([]byte, len(data)+10)
	n, err := f.ReadAt(all, 0)
	if n != len(data) || err != io.EOF || !bytes.Equal(all[:n], data) {
		e.t.Errorf("open File after an overwrite read %d bytes (%v), want the %d bytes it opened", n, err, len(data))
	}
}

func (s *suite) testConcurrent(e *env) {
	w := s.opts.Writers
	const per = 10
	var wg sync.WaitGroup
	shared := map[string]bool{}
	var mu sync.Mutex
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.fsys.Mkdir(e.ctx, p("/c/common/dir")); err != nil {
				e.t.Errorf("concurrent Mkdir: %v", err)
			}
			for i := 0; i < per; i++ {
				path := fmt.Sprintf("/c/g%d/f%d", g, i)
				data := randBytes(uint64(g*1000+i), 100+i*37)
				if _, err := e.fsys.Write(e.ctx, p(path), bytes.NewReader(data), fs.WriteOptions{}); err != nil {
					e.t.Errorf("concurrent Write(%s): %v", path, err)
					return
				}
				content := fmt.Sprintf("writer %d write %d", g, i)
				mu.Lock()
				shared[content] = true
				mu.Unlock()
				if _, err := e.fsys.Write(e.ctx, p("/c/shared"), bytes.NewReader([]byte(content)), fs.WriteOptions{}); err != nil {
					e.t.Errorf("concurrent Write(/c/shared): %v", err)
					return
				}
				// Readers of other paths run alongside.
				if f, err := e.fsys.Open(e.ctx, p("/c/shared")); err == nil {
					b, err := io.ReadAll(f)
					f.Close()
					mu.Lock()
					ok := shared[string(b)]
					mu.Unlock()
					if err != nil || !ok {
						e.t.Errorf("reading /c/shared during writes: %q, %v (not a whole write)", b, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if e.t.Failed() {
		return
	}
	for g := 0; g < w; g++ {
		for i := 0; i < per; i++ {
			e.expectContent(fmt.Sprintf("/c/g%d/f%d", g, i), randBytes(uint64(g*1000+i), 100+i*37))
		}
	}
	got := e.read("/c/shared")
	if !shared[string(got)] {
		e.t.Errorf("/c/shared = %q, not one of the writes", got)
	}
	if !s.opts.NoVersions {
		if v := e.stat("/c/shared").Version; v != int64(w*per) {
			e.t.Errorf("/c/shared Version = %d after %d writes", v, w*per)
		}
	}
}

// testWalk checks that the tree reads consistently: listings sorted and
// matching Stat, files readable to their stated size.
func (s *suite) testWalk(e *env) {
	if !s.opts.ReadOnly {
		e.write("/walk/a/b.txt", []byte("b"))
		e.write("/walk/c.bin", randBytes(3, 3000))
		e.mkdir("/walk/empty")
	}
	var walk func(dir fs.Path, depth int)
	walk = func(dir fs.Path, depth int) {
		list, err := e.fsys.List(e.ctx, dir)
		if err != nil {
			e.t.Errorf("List(%s): %v", dir, err)
			return
		}
		for k, i := range list {
			if k > 0 && list[k-1].Name() >= i.Name() {
				e.t.Errorf("List(%s) not sorted: %q before %q", dir, list[k-1].Name(), i.Name())
			}
			st, err := e.fsys.Stat(e.ctx, i.Path)
			if err != nil {
				e.t.Errorf("Stat(%s) of a listed entry: %v", i.Path, err)
				continue
			}
			if st.Kind != i.Kind || st.Size != i.Size {
				e.t.Errorf("%s: List says %v/%d, Stat says %v/%d", i.Path, i.Kind, i.Size, st.Kind, st.Size)
			}
			if i.Kind == fs.KindDir && depth < 8 {
				walk(i.Path, depth+1)
			} else if i.Kind == fs.KindFile && i.Size <= 4<<20 {
				if b := e.read(string(i.Path)); int64(len(b)) != i.Size {
					e.t.Errorf("%s: read %d bytes, Stat says %d", i.Path, len(b), i.Size)
				}
			}
		}
	}
	walk(fs.Root, 0)
}

func (s *suite) testReadOnly(e *env) {
	want := []error{fs.ErrReadOnly, fs.ErrPermission}
	var file, dir fs.Path
	list, err := e.fsys.List(e.ctx, fs.Root)
	if err != nil {
		e.t.Fatalf("List(/): %v", err)
	}
	for _, i := range list {
		if i.Kind == fs.KindFile && file == "" {
			file = i.Path
		}
		if i.Kind == fs.KindDir && dir == "" {
			dir = i.Path
		}
	}
	e.fails("Write of a new file", func() error { _, err := e.writeOpts("/fstest-new", []byte("x"), fs.WriteOptions{}); return err }, want...)
	e.fails("Mkdir", func() error { return e.fsys.Mkdir(e.ctx, p("/fstest-newdir")) }, want...)
	if file != "" {
		e.fails("Write over "+string(file), func() error { _, err := e.writeOpts(string(file), []byte("x"), fs.WriteOptions{}); return err }, want...)
		e.fails("Remove "+string(file), func() error { return e.fsys.Remove(e.ctx, file, false) }, want...)
		e.fails("Rename "+string(file), func() error { return e.fsys.Rename(e.ctx, file, p("/fstest-moved")) }, want...)
	}
	if dir != "" {
		e.fails("Remove -r "+string(dir), func() error { return e.fsys.Remove(e.ctx, dir, true) }, want...)
	}
}

func (s *suite) testVersioner(e *env) {
	v, ok := e.fsys.(fs.Versioner)
	if !ok || s.opts.NoVersions {
		e.t.Skip("provider keeps no versions")
	}
	contents := []string{"one", "two two", "three three three"}
	for _, c := range contents {
		e.write("/v/f", []byte(c))
	}
	log, err := v.Log(e.ctx, p("/v/f"))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(log) != 3 {
		e.t.Fatalf("Log has %d versions, want 3", len(log))
	}
	for k, ver := range log {
		n := int64(3 - k)
		if ver.Version != n || ver.Size != int64(len(contents[n-1])) {
			e.t.Errorf("Log[%d] = %+v, want version %d of size %d (newest first)", k, ver, n, len(contents[n-1]))
		}
		if !s.opts.NoAuthor && ver.Author != Author {
			e.t.Errorf("Log[%d].Author = %q, want %q", k, ver.Author, Author)
		}
	}
	for n, c := range contents {
		f, err := v.OpenVersion(e.ctx, p("/v/f"), int64(n+1))
		if err != nil {
			e.t.Fatalf("OpenVersion(%d): %v", n+1, err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(b) != c {
			e.t.Errorf("version %d = %q, %v; want %q", n+1, b, err, c)
		}
		if st := f.Stat(); st.Version != int64(n+1) || st.Size != int64(len(c)) {
			e.t.Errorf("OpenVersion(%d).Stat() = version %d size %d", n+1, st.Version, st.Size)
		}
	}
	for _, bad := range []int64{4, 99} {
		if _, err := v.OpenVersion(e.ctx, p("/v/f"), bad); !errors.Is(err, fs.ErrNotExist) {
			e.t.Errorf("OpenVersion(%d): err = %v, want ErrNotExist", bad, err)
		}
	}
	if _, err := v.Log(e.ctx, p("/v/missing")); !errors.Is(err, fs.ErrNotExist) {
		e.t.Errorf("Log of a missing file: err = %v, want ErrNotExist", err)
	}
	// History moves with the file.
	if err := e.fsys.Rename(e.ctx, p("/v/f"), p("/v/g")); err != nil {
		e.t.Fatal(err)
	}
	if log, err := v.Log(e.ctx, p("/v/g")); err != nil || len(log) != 3 {
		e.t.Errorf("Log after rename: %d versions, %v; want 3", len(log), err)
	}
	if info := e.write("/v/g", []byte("four")); info.Version != 4 {
		e.t.Errorf("write after rename made version %d, want 4", info.Version)
	}
}

func (s *suite) testMetaSetter(e *env) {
	m, ok := e.fsys.(fs.MetaSetter)
	if !ok || s.opts.NoMeta {
		e.t.Skip("provider has no MetaSetter")
	}
	if _, err := e.writeOpts("/ms/f", []byte("body"), fs.WriteOptions{Meta: map[string]string{"keep": "1", "drop": "2"}}); err != nil {
		e.t.Fatal(err)
	}
	three := "3"
	info, err := m.SetMeta(e.ctx, p("/ms/f"), map[string]*string{"drop": nil, "new": &three})
	if err != nil {
		e.t.Fatal(err)
	}
	want := map[string]string{"keep": "1", "new": "3"}
	if fmt.Sprint(info.Meta) != fmt.Sprint(want) || fmt.Sprint(e.stat("/ms/f").Meta) != fmt.Sprint(want) {
		e.t.Errorf("Meta after SetMeta = %v, want %v", e.stat("/ms/f").Meta, want)
	}
	if !s.opts.NoVersions && info.Version != 2 {
		e.t.Errorf("SetMeta made version %d, want 2", info.Version)
	}
	e.expectContent("/ms/f", []byte("body"))
	e.fails("SetMeta of a missing file", func() error {
		_, err := m.SetMeta(e.ctx, p("/ms/missing"), map[string]*string{"a": &three})
		return err
	}, fs.ErrNotExist)
	e.fails("SetMeta of a directory", func() error {
		_, err := m.SetMeta(e.ctx, p("/ms"), map[string]*string{"a": &three})
		return err
	}, fs.ErrIsDir)
}

func (s *suite) testWatcher(e *env) {
	w, ok := e.fsys.(fs.Watcher)
	if !ok || s.opts.NoWatch {
		e.t.Skip("provider has no Watcher")
	}
	since, err := w.LastSeq(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	ch := w.Notify(e.ctx)
	info := e.write("/watch/a", []byte("a"))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		e.t.Fatal("no Notify signal within 10s of a write")
	}
	if err := e.fsys.Rename(e.ctx, p("/watch/a"), p("/watch/b")); err != nil {
		e.t.Fatal(err)
	}
	if err := e.fsys.Remove(e.ctx, p("/watch"), true); err != nil {
		e.t.Fatal(err)
	}
	var evs []fs.Event
	if err := w.Changes(e.ctx, since, func(ev fs.Event) error { evs = append(evs, ev); return nil }); err != nil {
		e.t.Fatal(err)
	}
	last := since
	for _, ev := range evs {
		if ev.Seq <= last {
			e.t.Errorf("event Seq %d after %d: not strictly increasing", ev.Seq, last)
		}
		last = ev.Seq
	}
	if seq, err := w.LastSeq(e.ctx); err != nil || seq != last {
		e.t.Errorf("LastSeq = %d, %v; want %d, the last event's", seq, err, last)
	}
	// The three changes appear in order (providers may log more, such as
	// the implicit mkdir of /watch).
	want := []fs.Event{
		{Op: fs.OpWrite, Path: p("/watch/a"), Kind: fs.KindFile},
		{Op: fs.OpRename, Path: p("/watch/a"), Dest: p("/watch/b"), Kind: fs.KindFile},
		{Op: fs.OpRemove, Path: p("/watch"), Kind: fs.KindDir},
	}
	k := 0
	for _, ev := range evs {
		if k < len(want) && ev.Op == want[k].Op && ev.Path == want[k].Path && ev.Dest == want[k].Dest && ev.Kind == want[k].Kind {
			if ev.Op == fs.OpWrite && !s.opts.NoVersions && ev.Version != info.Version {
				e.t.Errorf("write event Version %d, want %d", ev.Version, info.Version)
			}
			k++
		}
	}
	if k != len(want) {
		e.t.Errorf("events since %d: %+v; want write, rename, remove in order", since, evs)
	}
	errStop := errors.New("stop")
	calls := 0
	err = w.Changes(e.ctx, since, func(fs.Event) error { calls++; return errStop })
	if !errors.Is(err, errStop) || calls != 1 {
		e.t.Errorf("Changes with a failing fn: err %v after %d calls; want errStop after 1", err, calls)
	}
	if err := w.Changes(e.ctx, last, func(ev fs.Event) error {
		return fmt.Errorf("event %d after the last one", ev.Seq)
	}); err != nil {
		e.t.Error(err)
	}
}
