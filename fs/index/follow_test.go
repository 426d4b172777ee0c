package index_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
)

func (e *env) find(t testing.TB, text string) []string {
	t.Helper()
	return paths(e.search(t, fs.Query{Text: text, Limit: 1000}))
}

func expect(t testing.TB, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUpdateReplacesContent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "/a.md", "apple banana", map[string]string{"color": "red"})
	e.catchUp(t)
	expect(t, e.find(t, "apple"), "/a.md")

	// Several writes before one catch-up: only the last content counts.
	e.put(t, "/a.md", "cherry", nil)
	e.put(t, "/a.md", "damson elder", map[string]string{"color": "blue"})
	e.catchUp(t)
	expect(t, e.find(t, "apple"))
	expect(t, e.find(t, "cherry"))
	expect(t, e.find(t, "damson"), "/a.md")
	expect(t, e.find(t, "meta.color:red"))
	expect(t, e.find(t, "meta.color:blue"), "/a.md")
	if h := e.search(t, fs.Query{Text: "damson"}); h[0].Version != 3 {
		t.Errorf("version = %d, want 3", h[0].Version)
	}

	// Metadata-only change.
	blue := "green"
	if _, err := e.store.SetMeta(ctx, "/a.md", map[string]*string{"color": &blue}); err != nil {
		t.Fatal(err)
	}
	e.catchUp(t)
	expect(t, e.find(t, "meta.color:green"), "/a.md")
	expect(t, e.find(t, "meta.color:blue"))
}

func TestRemoveAndRenameTrees(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "/proj/a/one.txt", "alpha tree", nil)
	e.put(t, "/proj/a/sub/two.txt", "alpha deep", nil)
	e.put(t, "/proj/b/three.txt", "beta", nil)
	e.put(t, "/keep.txt", "alpha outside", nil)
	e.catchUp(t)
	expect(t, e.find(t, "alpha"), "/keep.txt", "/proj/a/one.txt", "/proj/a/sub/two.txt")

	if err := e.store.Rename(ctx, "/proj/a", "/moved"); err != nil {
		t.Fatal(err)
	}
	e.catchUp(t)
	expect(t, e.find(t, "alpha"), "/keep.txt", "/moved/one.txt", "/moved/sub/two.txt")
	expect(t, e.find(t, "path:proj"), "/proj", "/proj/b", "/proj/b/three.txt")
	expect(t, e.find(t, "path:sub"), "/moved/sub", "/moved/sub/two.txt")

	if err := e.store.Remove(ctx, "/moved", true); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Remove(ctx, "/proj/b/three.txt", false); err != nil {
		t.Fatal(err)
	}
	e.catchUp(t)
	expect(t, e.find(t, "alpha"), "/keep.txt")
	expect(t, e.find(t, "beta"))
	expect(t, e.find(t, "path:moved"))

	// A file renamed over another replaces it.
	e.put(t, "/x.txt", "xenon", nil)
	e.put(t, "/y.txt", "yttrium", nil)
	if err := e.store.Rename(ctx, "/x.txt", "/y.txt"); err != nil {
		t.Fatal(err)
	}
	e.catchUp(t)
	expect(t, e.find(t, "xenon"), "/y.txt")
	expect(t, e.find(t, "yttrium"))

	// Remove and re-create within one catch-up.
	e.put(t, "/re/f.txt", "first life", nil)
	e.catchUp(t)
	if err := e.store.Remove(ctx, "/re", true); err != nil {
		t.Fatal(err)
	}
	e.put(t, "/re/f.txt", "second life", nil)
	e.catchUp(t)
	expect(t, e.find(t, "first"))
	expect(t, e.find(t, "second"), "/re/f.txt")

	// A file becomes a directory and back, each within one catch-up.
	e.put(t, "/k", "kestrel file", nil)
	e.catchUp(t)
	if err := e.store.Remove(ctx, "/k", false); err != nil {
		t.Fatal(err)
	}
	e.put(t, "/k/inner.txt", "kestrel inside", nil)
	e.catchUp(t)
	expect(t, e.find(t, "kestrel"), "/k/inner.txt")
	expect(t, e.find(t, "+kind:dir +path:k"), "/k")
	if err := e.store.Remove(ctx, "/k", true); err != nil {
		t.Fatal(err)
	}
	e.put(t, "/k", "kestrel again a file", nil)
	e.catchUp(t)
	expect(t, e.find(t, "kestrel"), "/k")
	expect(t, e.find(t, "+kind:dir +path:k"))
	if err := e.store.Remove(ctx, "/k", false); err != nil {
		t.Fatal(err)
	}
	e.catchUp(t)

	n, err := e.idx.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	// /keep.txt /proj /proj/b /y.txt /re /re/f.txt
	if n != 6 {
		t.Errorf("doc count %d, want 6", n)
	}
}

// A write the store acknowledged while no index was running is found once
// the index opens: the index follows the log, not the writers.
func TestCatchUpAfterClosedIndex(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/before.txt", "walrus", nil)
	e.catchUp(t)
	if err := e.idx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.idx.Search(context.Background(), fs.Query{Text: "walrus"}); !errorsIs(err, fs.ErrClosed) {
		t.Errorf("search after close: %v, want ErrClosed", err)
	}
	e.put(t, "/after.txt", "walrus narwhal", nil)
	if err := e.store.Remove(context.Background(), "/before.txt", false); err != nil {
		t.Fatal(err)
	}
	e.open(t)
	expect(t, e.find(t, "walrus"), "/after.txt")
	last, _ := e.store.LastSeq(context.Background())
	if applied, err := e.idx.Applied(); err != nil || applied != last {
		t.Errorf("applied = %d, %v; want %d", applied, err, last)
	}
}

func TestRebuildSameResults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 50 {
		e.put(t, fmt.Sprintf("/r/%02d/f%d.txt", i%7, i), fmt.Sprintf("word%d shared text %d", i%5, i), map[string]string{"n": fmt.Sprint(i % 3)})
	}
	if err := e.store.Rename(ctx, "/r/03", "/r/33"); err != nil {
		t.Fatal(err)
	}
	e.catchUp(t)
	queries := []fs.Query{{Text: "shared", Limit: 100}, {Text: "word3", Limit: 100}, {Text: "meta.n:2", Limit: 100}, {Text: "path:33", Limit: 100}, {Text: "text", Under: "/r/05", Limit: 100}}
	type result struct {
		path    fs.Path
		version int64
		snippet string
	}
	run := func() [][]result {
		var all [][]result
		for _, q := range queries {
			var rs []result
			for _, h := range e.search(t, q) {
				rs = append(rs, result{h.Path, h.Version, h.Snippet})
			}
			slices.SortFunc(rs, func(a, b result) int { return compare(a.path, b.path) })
			all = append(all, rs)
		}
		return all
	}
	before := run()
	var calls, lastDone, lastTotal int
	if err := e.idx.Rebuild(ctx, func(done, total int) { calls++; lastDone, lastTotal = done, total }); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastDone != lastTotal || lastTotal == 0 {
		t.Errorf("progress: %d calls, last %d/%d", calls, lastDone, lastTotal)
	}
	after := run()
	for i := range queries {
		if !slices.Equal(before[i], after[i]) {
			t.Errorf("%+v:\nbefore %v\nafter  %v", queries[i], before[i], after[i])
		}
	}
	if len(before[0]) != 50 {
		t.Errorf("%d hits for shared, want 50", len(before[0]))
	}
}

// Searches run while Follow applies a stream of writes; run with -race.
func TestConcurrentSearchWhileFollowing(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	followed := make(chan error, 1)
	go func() { followed <- e.idx.Follow(ctx) }()

	const writes = 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.idx.Search(ctx, fs.Query{Text: "payload", Under: "/c"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range writes {
		e.put(t, fmt.Sprintf("/c/%d/f%d.txt", i%10, i), "payload "+fmt.Sprint(i), nil)
	}
	last, err := e.store.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		applied, err := e.idx.Applied()
		if err != nil {
			t.Fatal(err)
		}
		if applied == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Follow did not catch up: applied %d of %d", applied, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if got := len(e.search(t, fs.Query{Text: "payload", Limit: 1000})); got != writes {
		t.Errorf("%d hits, want %d", got, writes)
	}
	cancel()
	if err := <-followed; err != nil {
		t.Errorf("Follow returned %v", err)
	}
}

// An index whose applied sequence is ahead of the log belongs to another
// store: Open rebuilds it rather than trust it.
func TestOpenRebuildsForeignIndex(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.put(t, fmt.Sprintf("/old/%d", i), "stale content", nil)
	}
	e.catchUp(t)
	e.idx.Close()

	other := newStore(t, t.TempDir())
	if _, err := other.Write(context.Background(), "/fresh", stringsReader("fresh content"), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	idx, err := index.Open(filepath.Join(e.dir, "index"), other, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	hits, err := idx.Search(context.Background(), fs.Query{Text: "content"})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, paths(hits), "/fresh")
}
