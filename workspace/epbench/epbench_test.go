package epbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/fs"

	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/workspace"
)

const dataDir = "../../../shared/testdata/bench/epbench"

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func TestEpBench(t *testing.T) {
	book, qfile := filepath.Join(dataDir, "book_20.json"), filepath.Join(dataDir, "questions-dev.json")
	if _, err := os.Stat(book); err != nil {
		t.Skipf("EpBench data absent (%v)", err)
	}
	b, err := ReadBook(book)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := ReadQuestions(qfile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := workspace.New(openStore(t), "book", workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Ingest(ctx, w, b, nil); err != nil {
		t.Fatal(err)
	}
	s, err := w.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, b, qs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range r.Workspace {
		t.Logf("budget %5d  workspace cov %.3f ans %.3f tok %.0f | bm25 cov %.3f ans %.3f tok %.0f | bm25@2x %.3f met %v",
			row.Budget, row.Coverage, row.Answers, row.MeanTokens, r.BM25[i].Coverage, r.BM25[i].Answers, r.BM25[i].MeanTokens, r.Goals[i].BM25Double, r.Goals[i].Met)
		if row.MeanTokens > float64(row.Budget) {
			t.Errorf("budget %d: mean tokens %.0f over budget", row.Budget, row.MeanTokens)
		}
	}
	if r.Scored == 0 || r.Workspace[len(r.Workspace)-1].Coverage < 0.5 {
		t.Errorf("workspace coverage too low: %+v", r.Workspace)
	}
}

// BenchmarkQuery measures the time to build one context at 512 tokens for
// the development questions: the workspace query against the BM25
// baseline, in the same run. The store is bbolt in a temporary directory;
// the snapshot is loaded once, so both run from memory.
func BenchmarkQuery(b *testing.B) {
	book, qfile := filepath.Join(dataDir, "book_20.json"), filepath.Join(dataDir, "questions-dev.json")
	if _, err := os.Stat(book); err != nil {
		b.Skipf("EpBench data absent (%v)", err)
	}
	bk, _ := ReadBook(book)
	qs, _ := ReadQuestions(qfile)
	ctx := context.Background()
	w, _ := workspace.New(openStore(b), "book", workspace.Options{})
	if err := Ingest(ctx, w, bk, nil); err != nil {
		b.Fatal(err)
	}
	s, err := w.Load(ctx)
	if err != nil {
		b.Fatal(err)
	}
	bm := newBM25(bk, nil)
	b.Run("workspace", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := s.Query(qs[i%len(qs)].Question, 512); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("bm25", func(b *testing.B) {
		i := 0
		for b.Loop() {
			bm.retrieve(qs[i%len(qs)].Question, 512)
			i++
		}
	})
}

// BenchmarkIngest measures observing the whole book into a fresh workspace.
func BenchmarkIngest(b *testing.B) {
	book := filepath.Join(dataDir, "book_20.json")
	if _, err := os.Stat(book); err != nil {
		b.Skipf("EpBench data absent (%v)", err)
	}
	bk, _ := ReadBook(book)
	st := openStore(b)
	n := 0
	for b.Loop() {
		n++
		w, _ := workspace.New(st, fmt.Sprintf("book%d", n), workspace.Options{})
		if err := Ingest(context.Background(), w, bk, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBookReconciled checks the files the reconciler makes of the book.
func TestBookReconciled(t *testing.T) {
	book := filepath.Join(dataDir, "book_20.json")
	if _, err := os.Stat(book); err != nil {
		t.Skipf("EpBench data absent (%v)", err)
	}
	b, _ := ReadBook(book)
	ctx := context.Background()
	st := openStore(t)
	w, _ := workspace.New(st, "book", workspace.Options{})
	if err := Ingest(ctx, w, b, nil); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		f, err := st.Open(ctx, fs.MustParse(p))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		return string(data)
	}
	// Chloe Castillo appears in chapters 2 and 12: one entity, both
	// events, in time order (May 11, 2026 before September 22, 2026).
	chloe := read("/workspace/book/entities/chloe-castillo.md")
	i, j := strings.Index(chloe, "- May 11, 2026 | High Line"), strings.Index(chloe, "- September 22, 2026 | American Museum of Natural History")
	if i < 0 || j < 0 || i > j || !strings.Contains(chloe, "aliases: Chloe") {
		t.Errorf("chloe-castillo.md:\n%s", chloe)
	}
	// Places are entities too.
	if p := read("/workspace/book/entities/high-line.md"); !strings.Contains(p, "kind: place") {
		t.Errorf("high-line.md:\n%s", p)
	}
	// The timeline is in time order.
	tl := read("/workspace/book/timeline.md")
	var prev time.Time
	for _, ln := range strings.Split(tl, "\n") {
		if !strings.HasPrefix(ln, "- ") {
			continue
		}
		when, _, _ := strings.Cut(ln[2:], " | ")
		d, err := time.Parse("January 02, 2006", when)
		if err != nil {
			continue
		}
		if d.Before(prev) {
			t.Fatalf("timeline out of order at %q", ln)
		}
		prev = d
	}
	infos, _ := st.List(ctx, fs.MustParse("/workspace/book/observations"))
	if len(infos) != len(b) {
		t.Errorf("%d observations for %d chapters", len(infos), len(b))
	}
}
