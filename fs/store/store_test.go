package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/tokens"
)

var ctx = fs.WithPrincipal(context.Background(), fs.Principal{Name: "tester", Admin: true})

func p(s string) fs.Path { return fs.MustParse(s) }

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(tb testing.TB, s *store.Store, path string, data []byte) *fs.Info {
	tb.Helper()
	i, err := s.Write(ctx, p(path), bytes.NewReader(data), fs.WriteOptions{})
	if err != nil {
		tb.Fatalf("Write(%s): %v", path, err)
	}
	return i
}

func get(tb testing.TB, s *store.Store, path string) []byte {
	tb.Helper()
	f, err := s.Open(ctx, p(path))
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return b
}

func TestRoundTripChunkBoundaries(t *testing.T) {
	const cs = 64 << 10
	s := newStore(t, store.Options{NoSync: true, ChunkSize: cs})
	sizes := []int{0, 1, cs - 1, cs, cs + 1, 3*cs - 1, 3 * cs, 3*cs + 1}
	if !testing.Short() {
		sizes = append(sizes, 64<<20)
	}
	for i, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := randBytes(uint64(i), n)
			path := fmt.Sprintf("/rt/%d", n)
			if info := put(t, s, path, data); info.Size != int64(n) {
				t.Fatalf("Size %d, want %d", info.Size, n)
			}
			if got := get(t, s, path); !bytes.Equal(got, data) {
				t.Fatalf("round trip of %d bytes differs (got %d bytes)", n, len(got))
			}
			// ReadAt across every chunk boundary.
			f, err := s.Open(ctx, p(path))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for b := int64(cs); b < int64(n) && b < 8*cs; b += cs {
				buf := make([]byte, 10)
				off := b - 5
				k, err := f.ReadAt(buf, off)
				end := min(off+10, int64(n))
				if int64(k) != end-off || !bytes.Equal(buf[:k], data[off:end]) || (err != nil && err != io.EOF) {
					t.Fatalf("ReadAt across boundary %d: %d, %v", b, k, err)
				}
			}
		})
	}
}

// TestRoundTripDefaultChunk covers the default chunk size's boundaries.
func TestRoundTripDefaultChunk(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	cs := store.DefaultChunkSize
	for i, n := range []int{cs - 1, cs, cs + 1} {
		data := randBytes(uint64(100+i), n)
		put(t, s, "/d", data)
		if !bytes.Equal(get(t, s, "/d"), data) {
			t.Fatalf("round trip of %d bytes differs", n)
		}
	}
}

// TestWriteStreams checks that a large write does not hold several copies
// of its content: the content once in chunks, plus bbolt's page buffers
// for the commit, and little else.
func TestWriteStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB write")
	}
	s := newStore(t, store.Options{NoSync: true})
	const n = 64 << 20
	src := &patternReader{n: n}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := s.Write(ctx, p("/big"), src, fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MiB for a %d MiB write", alloc>>20, n>>20)
	if alloc > 3*n {
		t.Errorf("a %d MiB write allocated %d MiB: more than the content, bbolt's commit pages and slack", n>>20, alloc>>20)
	}
	f, err := s.Open(ctx, p("/big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h1, h2 := sha256.New(), sha256.New()
	if _, err := io.Copy(h1, f); err != nil {
		t.Fatal(err)
	}
	io.Copy(h2, &patternReader{n: n})
	if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
		t.Fatal("64 MiB content differs after the round trip")
	}
}

// patternReader yields n bytes of a non-repeating pattern without holding
// them, so that a test can measure what the store allocates.
type patternReader struct{ n, off int }

func (r *patternReader) Read(b []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	k := min(len(b), r.n-r.off)
	for i := 0; i < k; i++ {
		x := uint32(r.off + i)
		b[i] = byte(x ^ x>>8 ^ x>>16 ^ x>>24*7)
	}
	r.off += k
	return k, nil
}

func TestTooLarge(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true, MaxFileSize: 1000})
	put(t, s, "/ok", make([]byte, 1000))
	_, err := s.Write(ctx, p("/big"), bytes.NewReader(make([]byte, 1001)), fs.WriteOptions{})
	if !errors.Is(err, fs.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := s.Stat(ctx, p("/big")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused write left %s: %v", "/big", err)
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt's flock is per open file, so a second Open in this process
	// contends like another process would.
	_, err = store.Open(path, store.Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	if !strings.Contains(store.ErrLocked.Error(), "in use by another process") {
		t.Errorf("ErrLocked says %q; it must say the data directory is in use by another process", store.ErrLocked)
	}
}

func TestReopenAndReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "/a/b", []byte("persisted"))
	put(t, s, "/a/b", []byte("persisted v2"))
	seq, _ := s.LastSeq(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, p("/a/b")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Stat after Close: err = %v, want ErrClosed", err)
	}

	ro, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := get(t, ro, "/a/b"); string(got) != "persisted v2" {
		t.Fatalf("after reopen: %q", got)
	}
	if seq2, _ := ro.LastSeq(ctx); seq2 != seq {
		t.Errorf("LastSeq after reopen %d, want %d", seq2, seq)
	}
	info, _ := ro.Stat(ctx, p("/a/b"))
	if !info.ReadOnly || info.Version != 2 {
		t.Errorf("Info from a read-only store = %+v", info)
	}
	if _, err := ro.Write(ctx, p("/x"), strings.NewReader("x"), fs.WriteOptions{}); !errors.Is(err, fs.ErrReadOnly) {
		t.Errorf("Write to a read-only store: err = %v, want ErrReadOnly", err)
	}
	if err := ro.Mkdir(ctx, p("/x")); !errors.Is(err, fs.ErrReadOnly) {
		t.Errorf("Mkdir in a read-only store: err = %v, want ErrReadOnly", err)
	}
	if _, err := store.Open(filepath.Join(t.TempDir(), "none"), store.Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only Open of a missing file: err = %v, want ErrNotExist", err)
	}
}

// chunkCount reads the number of stored chunks through Prune's report of
// a store copy... simpler: through the sys-independent Stats.
func TestDedupAndPrune(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true, ChunkSize: 1000})
	a := randBytes(1, 5000) // 5 chunks
	b := randBytes(2, 5000)
	put(t, s, "/one", a)
	put(t, s, "/two", a) // same content: no new chunks
	st0 := s.Stats(ctx)
	if st0.Chunks != 5 {
		t.Fatalf("two files with the same 5 chunks store %d chunks", st0.Chunks)
	}
	put(t, s, "/one", b) // /one v2: 5 new chunks
	put(t, s, "/one", a) // /one v3: back to a, shared
	if st := s.Stats(ctx); st.Chunks != 10 || st.Versions != 4 {
		t.Fatalf("after rewrites: %+v, want 10 chunks, 4 versions", st)
	}
	ps, err := s.Prune(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// /one loses v1 (a, still used) and v2 (b, now unused).
	if ps.Files != 1 || ps.Versions != 2 || ps.Chunks != 5 || ps.Bytes != 5000 {
		t.Fatalf("Prune = %+v, want 1 file, 2 versions, 5 chunks, 5000 bytes", ps)
	}
	if st := s.Stats(ctx); st.Chunks != 5 || st.Versions != 2 {
		t.Fatalf("after prune: %+v", st)
	}
	if !bytes.Equal(get(t, s, "/one"), a) || !bytes.Equal(get(t, s, "/two"), a) {
		t.Fatal("content changed by prune")
	}
	if _, err := s.OpenVersion(ctx, p("/one"), 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a pruned version opens: %v", err)
	}
	if log, _ := s.Log(ctx, p("/one")); len(log) != 1 || log[0].Version != 3 {
		t.Errorf("Log after prune = %+v, want only version 3", log)
	}
	if _, err := s.Prune(ctx, 0); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Prune(0): %v, want ErrInvalid", err)
	}
	// Removing files frees their chunks at once.
	if err := s.Remove(ctx, p("/one"), false); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(ctx); st.Chunks != 5 {
		t.Fatalf("chunks still used by /two were freed: %+v", st)
	}
	if err := s.Remove(ctx, p("/two"), false); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(ctx); st.Chunks != 0 || st.Versions != 0 || st.Nodes != 0 {
		t.Fatalf("an empty store still holds %+v", st)
	}
}

func TestPruneManyFiles(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	const n = 2500 // more than one prune transaction
	err := s.Batch(ctx, func(b *store.Batch) error {
		for i := 0; i < n; i++ {
			for v := 0; v < 3; v++ {
				// Over the inline limit, so that versions own chunks.
				body := fmt.Sprintf("%d v%d", i, v) + strings.Repeat(".", 1100)
				if _, err := b.Write(p(fmt.Sprintf("/f/%d", i)), strings.NewReader(body), fs.WriteOptions{}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.Prune(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Files != n || ps.Versions != n || ps.Chunks != n {
		t.Fatalf("Prune(2) = %+v, want %d of each", ps, n)
	}
	if got := string(get(t, s, "/f/2499")); got != "2499 v2"+strings.Repeat(".", 1100) {
		t.Fatalf("content after prune: %q", got)
	}
	if ps, _ := s.Prune(ctx, 2); ps.Versions != 0 {
		t.Fatalf("a second prune removed %+v", ps)
	}
}

func TestRenameReplacesHistory(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	big := func(s string) []byte { return append([]byte(s), make([]byte, 2000)...) } // chunked, not inline
	put(t, s, "/src", big("s1"))
	put(t, s, "/src", big("s2"))
	put(t, s, "/dst", big("d1"))
	if err := s.Rename(ctx, p("/src"), p("/dst")); err != nil {
		t.Fatal(err)
	}
	log, err := s.Log(ctx, p("/dst"))
	if err != nil || len(log) != 2 || log[0].Version != 2 {
		t.Fatalf("Log(/dst) after rename = %+v, %v; want src's 2 versions", log, err)
	}
	f, err := s.OpenVersion(ctx, p("/dst"), 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	if !bytes.Equal(b, big("s1")) {
		t.Fatalf("version 1 of the renamed file = %q", b)
	}
	if st := s.Stats(ctx); st.Chunks != 2 {
		t.Fatalf("replaced file's chunks not freed: %+v", st)
	}
}

func TestEvents(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := newStore(t, store.Options{NoSync: true, Now: func() time.Time { return now }})
	put(t, s, "/a/b/c", []byte("x"))
	if err := s.Rename(ctx, p("/a/b"), p("/a/d")); err != nil {
		t.Fatal(err)
	}
	three := "3"
	if _, err := s.SetMeta(ctx, p("/a/d/c"), map[string]*string{"k": &three}); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, p("/a"), true); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.Changes(ctx, 0, func(e fs.Event) error {
		if !e.Time.Equal(now) || e.Author != "tester" {
			t.Errorf("event %d: time %v author %q", e.Seq, e.Time, e.Author)
		}
		got = append(got, fmt.Sprintf("%d %s %s %s %s %d", e.Seq, e.Op, e.Kind, e.Path, e.Dest, e.Version))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 mkdir dir /a  0",
		"2 mkdir dir /a/b  0",
		"3 write file /a/b/c  1",
		"4 rename dir /a/b /a/d 0",
		"5 write file /a/d/c  2",
		"6 remove dir /a  0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A failed change logs nothing.
	if _, err := s.Write(ctx, p("/x"), strings.NewReader(""), fs.WriteOptions{MustExist: true}); err == nil {
		t.Fatal("MustExist write of a missing file succeeded")
	}
	if seq, _ := s.LastSeq(ctx); seq != 6 {
		t.Fatalf("LastSeq = %d after a failed write, want 6", seq)
	}
}

func TestChangesPaging(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	const n = 1300 // several pages of the Changes reader
	err := s.Batch(ctx, func(b *store.Batch) error {
		for i := 0; i < n; i++ {
			if _, err := b.Write(p(fmt.Sprintf("/f%d", i)), strings.NewReader("x"), fs.WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	if err := s.Changes(ctx, 100, func(e fs.Event) error {
		seqs = append(seqs, e.Seq)
		// fn runs outside the store's transactions: it may use the store.
		_, err := s.Stat(ctx, e.Path)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != n-100 || seqs[0] != 101 || seqs[len(seqs)-1] != n {
		t.Fatalf("Changes(100) returned %d events from %d to %d", len(seqs), seqs[0], seqs[len(seqs)-1])
	}
}

func TestNotify(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	c, cancel := context.WithCancel(ctx)
	ch := s.Notify(c)
	for i := 0; i < 5; i++ { // many commits, one pending signal: the writer never blocks
		put(t, s, fmt.Sprintf("/n%d", i), nil)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal")
	}
	cancel()
	for range ch { // closed when the context ends
	}
	ch2 := s.Notify(ctx)
	s.Close()
	if _, ok := <-ch2; ok {
		t.Fatal("Notify channel not closed by Close")
	}
}

func TestBatch(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	var sig int
	ch := s.Notify(ctx)
	err := s.Batch(ctx, func(b *store.Batch) error {
		if _, err := b.Write(p("/imp/a"), strings.NewReader("a"), fs.WriteOptions{}); err != nil {
			return err
		}
		if err := b.Mkdir(p("/imp/empty")); err != nil {
			return err
		}
		// A failed operation changes nothing and the batch goes on.
		if _, err := b.Write(p("/imp/a/x"), strings.NewReader("x"), fs.WriteOptions{}); !errors.Is(err, fs.ErrNotDir) {
			return fmt.Errorf("write below a file: %v", err)
		}
		if _, err := b.Write(p("/imp/a"), strings.NewReader("a2"), fs.WriteOptions{Create: true}); !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create over a file: %v", err)
		}
		if i, err := b.Stat(p("/imp/a")); err != nil || i.Size != 1 {
			return fmt.Errorf("Stat inside the batch: %v, %v", i, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		sig++
	case <-time.After(10 * time.Second):
	}
	if sig != 1 {
		t.Error("no Notify signal after a batch")
	}
	if string(get(t, s, "/imp/a")) != "a" {
		t.Fatal("batch write missing")
	}
	// A batch whose function fails commits nothing.
	seq, _ := s.LastSeq(ctx)
	boom := errors.New("boom")
	err = s.Batch(ctx, func(b *store.Batch) error {
		b.Write(p("/imp/b"), strings.NewReader("b"), fs.WriteOptions{})
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Batch err = %v, want boom", err)
	}
	if _, err := s.Stat(ctx, p("/imp/b")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a failed batch left a file")
	}
	if seq2, _ := s.LastSeq(ctx); seq2 != seq {
		t.Fatal("a failed batch logged events")
	}
}

// TestGroupCommitErrors runs many concurrent writers of which some fail
// their preconditions: the failures must not affect the others sharing
// their commit.
func TestGroupCommitErrors(t *testing.T) {
	s := newStore(t, store.Options{})
	put(t, s, "/exists", []byte("x"))
	var wg sync.WaitGroup
	const n = 64
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, opts := fmt.Sprintf("/g/%d", i), fs.WriteOptions{}
			if i%4 == 0 {
				path, opts = "/exists", fs.WriteOptions{Create: true}
			}
			_, errs[i] = s.Write(ctx, p(path), strings.NewReader(path), opts)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i%4 == 0 {
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("writer %d: err = %v, want ErrExist", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		} else if got := string(get(t, s, fmt.Sprintf("/g/%d", i))); got != fmt.Sprintf("/g/%d", i) {
			t.Errorf("writer %d content %q", i, got)
		}
	}
	if got := string(get(t, s, "/exists")); got != "x" {
		t.Errorf("/exists = %q", got)
	}
}

// TestConcurrentOldVersions reads old versions while writers add new
// ones and pruning runs; run with -race.
func TestConcurrentOldVersions(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true, ChunkSize: 512})
	content := func(v int) []byte { return randBytes(uint64(v), 2000+v) }
	put(t, s, "/hot", content(1))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := 2; v <= 60; v++ {
			put(t, s, "/hot", content(v))
		}
		close(stop)
	}()
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				f, err := s.OpenVersion(ctx, p("/hot"), 1)
				if err != nil {
					t.Errorf("OpenVersion(1): %v", err)
					return
				}
				b, err := io.ReadAll(f)
				f.Close()
				if err != nil || !bytes.Equal(b, content(1)) {
					t.Errorf("version 1 read %d bytes, %v", len(b), err)
					return
				}
				cur, err := s.Open(ctx, p("/hot"))
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				v := cur.Stat().Version
				b, err = io.ReadAll(cur)
				cur.Close()
				if err != nil || !bytes.Equal(b, content(int(v))) {
					t.Errorf("current version %d read wrong content, %v", v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestOpenFileAfterRemove(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	put(t, s, "/gone", randBytes(5, 100_000)) // past the size Open reads eagerly: the File reads chunks later
	f, err := s.Open(ctx, p("/gone"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.Remove(ctx, p("/gone"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(make([]byte, 4), 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("reading a removed file's open version: err = %v, want ErrNotExist", err)
	}
}

func TestTokens(t *testing.T) {
	counter, err := tokens.Default()
	if err != nil {
		t.Skipf("no offline tokenizer: %v", err)
	}
	s := newStore(t, store.Options{NoSync: true, Counter: counter, ChunkSize: 1024})
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 100)
	info := put(t, s, "/t.txt", []byte(text))
	if want := counter.CountTokens(text); info.Tokens != want || want == 0 {
		t.Fatalf("Tokens = %d, want %d", info.Tokens, want)
	}
	// Multi-chunk text with runes across chunk boundaries counts whole.
	uni := strings.Repeat("日本語のテキスト🙂 ", 500)
	info = put(t, s, "/u.txt", []byte(uni))
	if want := counter.CountTokens(uni); info.Tokens != want {
		t.Fatalf("Tokens of multi-chunk unicode = %d, want %d", info.Tokens, want)
	}
	if info := put(t, s, "/b.bin", []byte{0xff, 0xfe, 0, 1, 2}); info.Tokens != 0 {
		t.Fatalf("binary content counted %d tokens", info.Tokens)
	}
	log, _ := s.Log(ctx, p("/t.txt"))
	if log[0].Tokens != counter.CountTokens(text) {
		t.Fatalf("Log tokens %d", log[0].Tokens)
	}
}

func TestSys(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	if _, err := s.SysGet(ctx, "mounts", "a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SysGet of a missing key: %v", err)
	}
	val := []byte("v1")
	if err := s.SysPut(ctx, "mounts", "b", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store keeps its own copy
	if err := s.SysPut(ctx, "mounts", "a", []byte("v0")); err != nil {
		t.Fatal(err)
	}
	got, err := s.SysGet(ctx, "mounts", "b")
	if err != nil || string(got) != "v1" {
		t.Fatalf("SysGet = %q, %v", got, err)
	}
	list, err := s.SysList(ctx, "mounts")
	if err != nil || len(list) != 2 || list[0].Key != "a" || string(list[1].Value) != "v1" {
		t.Fatalf("SysList = %+v, %v", list, err)
	}
	if err := s.SysDelete(ctx, "mounts", "a"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.SysList(ctx, "mounts"); len(list) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
	if list, err := s.SysList(ctx, "none"); err != nil || len(list) != 0 {
		t.Fatalf("SysList of a missing bucket = %v, %v", list, err)
	}
	if err := s.SysPut(ctx, "", "k", nil); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("empty bucket name: %v", err)
	}
	// System records are not files and are not logged.
	if seq, _ := s.LastSeq(ctx); seq != 0 {
		t.Fatalf("sys writes logged %d events", seq)
	}
}

func TestListLarge(t *testing.T) {
	s := newStore(t, store.Options{NoSync: true})
	const n = 10000
	err := s.Batch(ctx, func(b *store.Batch) error {
		for i := 0; i < n; i++ {
			if _, err := b.Write(p(fmt.Sprintf("/big/f%05d", i)), strings.NewReader("x"), fs.WriteOptions{Meta: map[string]string{"i": fmt.Sprint(i)}}); err != nil {
				return err
			}
		}
		_, err := b.Write(p("/bigger/x"), strings.NewReader("x"), fs.WriteOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, p("/big"))
	if err != nil || len(list) != n {
		t.Fatalf("List = %d entries, %v", len(list), err)
	}
	for i, e := range list {
		if e.Name() != fmt.Sprintf("f%05d", i) || e.Meta["i"] != fmt.Sprint(i) || e.Size != 1 {
			t.Fatalf("entry %d = %+v", i, e)
		}
	}
}

// TestInline checks small content kept in the version record: round trips
// around the limit, with chunk sizes on either side of it, and no chunks
// stored for it.
func TestInline(t *testing.T) {
	for _, cs := range []int{512, 4096} {
		s := newStore(t, store.Options{NoSync: true, ChunkSize: cs})
		for _, n := range []int{0, 1, 511, 512, 513, 1023, 1024, 1025, 1026, 3000} {
			before := s.Stats(ctx).Chunks
			data := randBytes(uint64(n), n)
			path := fmt.Sprintf("/i/%d", n)
			put(t, s, path, data)
			if got := get(t, s, path); !bytes.Equal(got, data) {
				t.Fatalf("chunk %d, %d bytes: round trip differs", cs, n)
			}
			added := s.Stats(ctx).Chunks - before
			if want := (n + cs - 1) / cs; n <= 1024 && added != 0 || n > 1024 && added != want {
				t.Errorf("chunk %d, %d bytes: %d chunks stored, want %d", cs, n, added, map[bool]int{true: 0, false: want}[n <= 1024])
			}
			f, err := s.Open(ctx, p(path))
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 7)
			k, err := f.ReadAt(buf, int64(n/2))
			if end := min(n/2+7, n); k != end-n/2 || !bytes.Equal(buf[:k], data[n/2:end]) || (k < 7 && err != io.EOF) {
				t.Errorf("ReadAt in the middle of %d bytes: %d, %v", n, k, err)
			}
			f.Close()
		}
	}
}
