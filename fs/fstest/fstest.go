package fstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
)

// Options describe what a provider can do, so the suite skips what it
// lacks instead of failing on it. The zero value expects a full, writable,
// versioned provider with metadata.
type Options struct {
	// ReadOnly: every change fails with fs.ErrReadOnly or fs.ErrPermission.
	// The suite then checks only that refusals change nothing and that the
	// tree the provider already holds reads consistently.
	ReadOnly bool
	// NoVersions: Info.Version is not kept (host directories, FUSE), and a
	// File may see later writes. Versioner tests are skipped even if the
	// provider implements the interface.
	NoVersions bool
	// NoMeta: user metadata is not kept; MetaSetter tests are skipped.
	NoMeta bool
	// NoAuthor: Info.Author is not recorded.
	NoAuthor bool
	// NoTimes: Info.Created and Info.Modified are not kept.
	NoTimes bool
	// NoWatch: skip Watcher tests even if the provider implements it.
	NoWatch bool
	// LargeSize is the size of the largest binary round trip; zero means
	// 1 MiB + 17 bytes.
	LargeSize int
	// Writers is the number of goroutines in the concurrency tests; zero
	// means 8.
	Writers int
	// Skip names subtests (as passed to t.Run, e.g. "Rename/DirIntoItself")
	// to skip, each with the reason that is logged.
	Skip map[string]string
	// Context returns the context of every call; nil means a context
	// carrying an admin principal named "fstest".
	Context func(tb testing.TB) context.Context
}

// Author is the principal name the default context carries.
const Author = "fstest"

// Run runs the conformance suite. newFS must return a new, empty provider
// (or, with ReadOnly, any provider) each time it is called; each subtest
// calls it once and may run in parallel with no other subtest.
func Run(t *testing.T, newFS func(tb testing.TB) fs.FS, opts Options) {
	if opts.LargeSize == 0 {
		opts.LargeSize = 1<<20 + 17
	}
	if opts.Writers == 0 {
		opts.Writers = 8
	}
	if opts.Context == nil {
		opts.Context = func(testing.TB) context.Context {
			return fs.WithPrincipal(context.Background(), fs.Principal{Name: Author, Admin: true})
		}
	}
	s := &suite{opts: opts, newFS: newFS}
	if opts.ReadOnly {
		s.run(t, "ReadOnly", s.testReadOnly)
		s.run(t, "Walk", s.testWalk)
		return
	}
	s.run(t, "RoundTrip", s.testRoundTrip)
	s.run(t, "Parents", s.testParents)
	s.run(t, "Stat", s.testStat)
	s.run(t, "List", s.testList)
	s.run(t, "Mkdir", s.testMkdir)
	s.run(t, "Errors", s.testErrors)
	s.run(t, "Rename", s.testRename)
	s.run(t, "Remove", s.testRemove)
	s.run(t, "WriteOptions", s.testWriteOptions)
	s.run(t, "Meta", s.testMeta)
	s.run(t, "File", s.testFile)
	s.run(t, "Concurrent", s.testConcurrent)
	s.run(t, "Walk", s.testWalk)
	s.run(t, "Versioner", s.testVersioner)
	s.run(t, "MetaSetter", s.testMetaSetter)
	s.run(t, "Watcher", s.testWatcher)
}

type suite struct {
	opts  Options
	newFS func(tb testing.TB) fs.FS
}

// env is what one subtest works with.
type env struct {
	t    *testing.T
	fsys fs.FS
	ctx  context.Context
	s    *suite
}

func (s *suite) run(t *testing.T, name string, fn func(e *env)) {
	t.Run(name, func(t *testing.T) {
		if reason, ok := s.opts.Skip[name]; ok {
			t.Skip(reason)
		}
		fn(&env{t: t, fsys: s.newFS(t), ctx: s.opts.Context(t), s: s})
	})
}

// sub runs a nested subtest on the same FS, honouring Options.Skip.
func (e *env) sub(name string, fn func(e *env)) {
	e.t.Helper()
	e.t.Run(name, func(t *testing.T) {
		full := t.Name()
		for k, reason := range e.s.opts.Skip {
			if strings.HasSuffix(full, "/"+k) {
				t.Skip(reason)
			}
		}
		fn(&env{t: t, fsys: e.fsys, ctx: e.ctx, s: e.s})
	})
}

// Helpers.

func p(s string) fs.Path { return fs.MustParse(s) }

func (e *env) write(path string, data []byte) *fs.Info {
	e.t.Helper()
	info, err := e.fsys.Write(e.ctx, p(path), bytes.NewReader(data), fs.WriteOptions{})
	if err != nil {
		e.t.Fatalf("Write(%s, %d bytes): %v", path, len(data), err)
	}
	return info
}

func (e *env) writeOpts(path string, data []byte, o fs.WriteOptions) (*fs.Info, error) {
	return e.fsys.Write(e.ctx, p(path), bytes.NewReader(data), o)
}

func (e *env) read(path string) []byte {
	e.t.Helper()
	f, err := e.fsys.Open(e.ctx, p(path))
	if err != nil {
		e.t.Fatalf("Open(%s): %v", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		e.t.Fatalf("read %s: %v", path, err)
	}
	return b
}

func (e *env) stat(path string) *fs.Info {
	e.t.Helper()
	i, err := e.fsys.Stat(e.ctx, p(path))
	if err != nil {
		e.t.Fatalf("Stat(%s): %v", path, err)
	}
	return i
}

func (e *env) mkdir(path string) {
	e.t.Helper()
	if err := e.fsys.Mkdir(e.ctx, p(path)); err != nil {
		e.t.Fatalf("Mkdir(%s): %v", path, err)
	}
}

func (e *env) mustNotExist(path string) {
	e.t.Helper()
	_, err := e.fsys.Stat(e.ctx, p(path))
	if !errors.Is(err, fs.ErrNotExist) {
		e.t.Fatalf("Stat(%s) after it should be gone: err = %v, want ErrNotExist", path, err)
	}
}

func (e *env) expectContent(path string, want []byte) {
	e.t.Helper()
	if got := e.read(path); !bytes.Equal(got, want) {
		e.t.Fatalf("content of %s: %d bytes %s, want %d bytes %s", path, len(got), short(got), len(want), short(want))
	}
}

func short(b []byte) string {
	if len(b) > 32 {
		return fmt.Sprintf("%q...", b[:32])
	}
	return fmt.Sprintf("%q", b)
}

// isAny reports whether err wraps one of want.
func isAny(err error, want ...error) bool {
	for _, w := range want {
		if errors.Is(err, w) {
			return true
		}
	}
	return false
}

func names(errs []error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, " or ")
}

// entry is one path of a tree snapshot.
type entry struct {
	Kind    fs.Kind
	Size    int64
	Version int64
	Sum     [32]byte
	Meta    map[string]string
}

// snapshot walks the whole tree and records every path's kind, size,
// version, metadata and content hash.
func (e *env) snapshot() map[fs.Path]entry {
	e.t.Helper()
	out := map[fs.Path]entry{}
	var walk func(dir fs.Path)
	walk = func(dir fs.Path) {
		list, err := e.fsys.List(e.ctx, dir)
		if err != nil {
			e.t.Fatalf("snapshot: List(%s): %v", dir, err)
		}
		for _, i := range list {
			en := entry{Kind: i.Kind, Meta: i.Meta}
			if !e.s.opts.NoVersions {
				en.Version = i.Version
			}
			if i.Kind == fs.KindFile {
				en.Size = i.Size
				en.Sum = sha256.Sum256(e.read(string(i.Path)))
			}
			if len(en.Meta) == 0 {
				en.Meta = nil
			}
			out[i.Path] = en
			if i.Kind == fs.KindDir {
				walk(i.Path)
			}
		}
	}
	walk(fs.Root)
	return out
}

// fails runs op, checks that it fails with one of want, and that the tree
// is exactly as it was before.
func (e *env) fails(what string, op func() error, want ...error) {
	e.t.Helper()
	before := e.snapshot()
	err := op()
	if err == nil {
		e.t.Fatalf("%s: succeeded, want %s", what, names(want))
	}
	if len(want) > 0 && !isAny(err, want...) {
		e.t.Fatalf("%s: err = %v, want %s", what, err, names(want))
	}
	after := e.snapshot()
	if !reflect.DeepEqual(before, after) {
		e.t.Fatalf("%s: failed (%v) but changed the tree:\n%s", what, err, diff(before, after))
	}
}

func diff(a, b map[fs.Path]entry) string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, "- "+string(k))
		} else if !reflect.DeepEqual(v, w) {
			out = append(out, fmt.Sprintf("~ %s %+v -> %+v", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "+ "+string(k))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}
