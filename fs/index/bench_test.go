package index_test

// Benchmarks of ingest, rebuild and search, each beside a plain baseline
// measured in the same run on the same corpus:
//
//	go test -run '^$' -bench . -benchtime 1x ./fs/index                 # 1k and 10k files
//	go test -run '^$' -bench . -benchtime 1x -timeout 60m ./fs/index -args -bench100k
//
// (The 100k-file size is opt-in: building its store and both indexes
// takes tens of minutes on a small shared machine.)
//
// Modes: both bbolt files are opened without fsync (store.Options.NoSync,
// bolt NoSync) on both sides; scorch uses its defaults on both sides except
// that ctxfs does not wait for each batch to be persisted
// (Options.SyncBatches off, its default). The search side opens the store
// with MAP_POPULATE (store.Options.Populate), so snippet reads do not fault
// the bbolt file back from disk on this VM, which evicts the page cache.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bolt "go.etcd.io/bbolt"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
)

var bench100k = flag.Bool("bench100k", false, "also run the benchmarks at 100,000 files")

func benchSizes() []int {
	sizes := []int{1_000, 10_000}
	if *bench100k {
		sizes = append(sizes, 100_000)
	}
	return sizes
}

// ---- corpus ----

const (
	vocabSize   = 20_000
	importBatch = 1_000 // files per store batch and per bleve batch, both sides
)

type benchFile struct {
	path    fs.Path
	content []byte
}

var (
	vocabOnce sync.Once
	vocab     []string
	corpora   sync.Map // int -> []benchFile
)

// words returns a fixed vocabulary of pronounceable made-up words, none of
// them an English stop word; rank 0 is the most frequent under Zipf.
func words() []string {
	vocabOnce.Do(func() {
		cons := []string{"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"}
		vows := []string{"a", "e", "i", "o", "u"}
		r := rand.New(rand.NewPCG(7, 7))
		seen := map[string]bool{}
		for len(vocab) < vocabSize {
			var sb strings.Builder
			for range 2 + r.IntN(3) {
				sb.WriteString(cons[r.IntN(len(cons))])
				sb.WriteString(vows[r.IntN(len(vows))])
			}
			if w := sb.String(); !seen[w] {
				seen[w] = true
				vocab = append(vocab, w)
			}
		}
	})
	return vocab
}

// corpus returns n files of Zipf-distributed words (s = 1.1), 50 to 800
// words each in lines of up to 12, 100 files per directory; the same n
// gives the same corpus.
func corpus(n int) []benchFile {
	if c, ok := corpora.Load(n); ok {
		return c.([]benchFile)
	}
	v := words()
	r := rand.New(rand.NewPCG(uint64(n), 42))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(uint64(n), 43)), 1.1, 1, uint64(len(v)-1))
	files := make([]benchFile, n)
	var buf bytes.Buffer
	for i := range files {
		buf.Reset()
		nw := 50 + r.IntN(750)
		for j := range nw {
			if j > 0 {
				if j%12 == 0 {
					buf.WriteByte('\n')
				} else {
					buf.WriteByte(' ')
				}
			}
			buf.WriteString(v[zipf.Uint64()])
		}
		buf.WriteByte('\n')
		files[i] = benchFile{
			path:    fs.MustParse(fmt.Sprintf("/bench/d%04d/f%06d.md", i/100, i)),
			content: bytes.Clone(buf.Bytes()),
		}
	}
	corpora.Store(n, files)
	return files
}

func corpusBytes(files []benchFile) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f.content))
	}
	return n
}

// ---- the two ingest paths ----

// ingestCtxfs writes files to a new store in batches and indexes each batch
// with IndexBatch, then catches up (which skips re-reading), as an importer
// does.
func ingestCtxfs(tb testing.TB, dir string, files []benchFile, populate bool) (*store.Store, *index.Index) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{NoSync: true, Populate: populate})
	if err != nil {
		tb.Fatal(err)
	}
	idx, err := index.Open(filepath.Join(dir, "index"), s, index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < len(files); i += importBatch {
		part := files[i:min(i+importBatch, len(files))]
		docs := make([]index.Doc, 0, len(part))
		err := s.Batch(ctx, func(b *store.Batch) error {
			for _, f := range part {
				info, err := b.Write(f.path, bytes.NewReader(f.content), fs.WriteOptions{})
				if err != nil {
					return err
				}
				docs = append(docs, index.Doc{Info: info, Content: f.content})
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		if err := idx.IndexBatch(ctx, docs); err != nil {
			tb.Fatal(err)
		}
	}
	if err := idx.CatchUp(ctx); err != nil {
		tb.Fatal(err)
	}
	return s, idx
}

// ingestPlain is the baseline: plain bbolt puts of path -> content and a
// plain bleve index (same mapping, BM25) of {path, content} documents,
// in batches of the same size. With storeContent the bleve index also
// stores the content, as bleve's highlighter needs.
func ingestPlain(tb testing.TB, dir string, files []benchFile, storeContent bool) (*bolt.DB, bleve.Index) {
	db, err := bolt.Open(filepath.Join(dir, "plain.db"), 0o600, &bolt.Options{NoSync: true, NoGrowSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	m := index.Mapping()
	if storeContent {
		content := bleve.NewTextFieldMapping()
		content.Analyzer = standard.Name
		content.Store = true
		content.IncludeTermVectors = true
		content.DocValues = false
		m.DefaultMapping.AddFieldMappingsAt(index.FieldContent, content)
	}
	bi, err := bleve.NewUsing(filepath.Join(dir, "plain.bleve"), m, scorch.Name, bleve.Config.DefaultKVStore, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < len(files); i += importBatch {
		part := files[i:min(i+importBatch, len(files))]
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("files"))
			if err != nil {
				return err
			}
			for _, f := range part {
				if err := bk.Put([]byte(f.path), f.content); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		batch := bi.NewBatch()
		for _, f := range part {
			if err := batch.Index(string(f.path), map[string]any{"path": string(f.path), "content": string(f.content)}); err != nil {
				tb.Fatal(err)
			}
		}
		if err := bi.Batch(batch); err != nil {
			tb.Fatal(err)
		}
	}
	return db, bi
}

func reportThroughput(b *testing.B, files []benchFile, elapsed time.Duration, iters int) {
	per := elapsed.Seconds() / float64(iters)
	b.ReportMetric(float64(len(files))/per, "files/s")
	b.ReportMetric(float64(corpusBytes(files))/per/1e6, "MB/s")
}

func BenchmarkIngest(b *testing.B) {
	for _, n := range benchSizes() {
		files := corpus(n)
		b.Run(fmt.Sprintf("files=%d/ctxfs", n), func(b *testing.B) {
			var total time.Duration
			iters := 0
			for b.Loop() {
				dir := b.TempDir()
				start := time.Now()
				s, idx := ingestCtxfs(b, dir, files, false)
				if err := idx.Close(); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				iters++
			}
			reportThroughput(b, files, total, iters)
		})
		b.Run(fmt.Sprintf("files=%d/baseline", n), func(b *testing.B) {
			var total time.Duration
			iters := 0
			for b.Loop() {
				dir := b.TempDir()
				start := time.Now()
				db, bi := ingestPlain(b, dir, files, false)
				if err := bi.Close(); err != nil {
					b.Fatal(err)
				}
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				iters++
			}
			reportThroughput(b, files, total, iters)
		})
	}
}

// BenchmarkRebuild measures the log-following path's cost per file: a new
// index filled from the store, reading every file back.
func BenchmarkRebuild(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			files := corpus(n)
			s, idx := ingestCtxfs(b, b.TempDir(), files, true)
			idx.Close()
			defer s.Close()
			var total time.Duration
			iters := 0
			for b.Loop() {
				start := time.Now()
				x, err := index.Open(filepath.Join(b.TempDir(), "index"), s, index.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := x.Close(); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				iters++
			}
			reportThroughput(b, files, total, iters)
		})
	}
}

// ---- search ----

// benchQueries are query strings over the vocabulary's ranks: a very
// frequent word, mid-frequency words, a rare word, conjunctions and an
// exclusion.
func benchQueries() []string {
	v := words()
	return []string{
		v[1], v[10], v[100], v[1000], v[5000],
		v[10] + " " + v[100],
		"+" + v[20] + " +" + v[200],
		v[50] + " -" + v[2000],
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[int(float64(len(d)-1)*p)]
}

// BenchmarkSearch runs each query on ctxfs and on plain bleve in turn, so
// all see the same machine load, and reports the latencies and ratios.
// ctxfs returns the top 10 with versions and snippets (read from the
// store). Plain bleve runs twice: with its highlighter on the content
// (which it must store for that), returning the same kind of result, and
// bare, returning only ids and scores.
func BenchmarkSearch(b *testing.B) {
	queries := benchQueries()
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) { benchSearch(b, n, queries) })
	}
}

func benchSearch(b *testing.B, n int, queries []string) {
	ctx := context.Background()
	{
		files := corpus(n)
		dir := b.TempDir()
		s, idx := ingestCtxfs(b, dir, files, true)
		db, bi := ingestPlain(b, dir, files, true)
		plainSearch := func(q string, highlight bool) (int, error) {
			req := bleve.NewSearchRequestOptions(bleve.NewQueryStringQuery(q), index.DefaultLimit, 0, false)
			if highlight {
				req.Highlight = bleve.NewHighlightWithStyle("html")
				req.Highlight.AddField(index.FieldContent)
			}
			res, err := bi.SearchInContext(ctx, req)
			if err != nil {
				return 0, err
			}
			return len(res.Hits), nil
		}
		for _, under := range []fs.Path{"", "/bench/d0001"} {
			name := "all"
			if under != "" {
				name = "under"
			}
			b.Run(name, func(b *testing.B) {
				var ours, snip, bare []time.Duration
				i := 0
				for b.Loop() {
					q := queries[i%len(queries)]
					i++
					start := time.Now()
					hits, err := idx.Search(ctx, fs.Query{Text: q, Under: under})
					ours = append(ours, time.Since(start))
					if err != nil || (under == "" && len(hits) == 0) {
						b.Fatalf("%q: %d hits, %v", q, len(hits), err)
					}
					for _, hl := range []bool{true, false} {
						start = time.Now()
						n, err := plainSearch(q, hl)
						if hl {
							snip = append(snip, time.Since(start))
						} else {
							bare = append(bare, time.Since(start))
						}
						if err != nil || n == 0 {
							b.Fatalf("%q: %d hits, %v", q, n, err)
						}
					}
				}
				p50o := percentile(ours, 0.5)
				b.ReportMetric(float64(p50o.Microseconds()), "ctxfs-p50-µs")
				b.ReportMetric(float64(percentile(ours, 0.99).Microseconds()), "ctxfs-p99-µs")
				b.ReportMetric(float64(percentile(snip, 0.5).Microseconds()), "bleve-hl-p50-µs")
				b.ReportMetric(float64(percentile(bare, 0.5).Microseconds()), "bleve-bare-p50-µs")
				b.ReportMetric(float64(p50o)/float64(percentile(snip, 0.5)), "ratio-hl")
				b.ReportMetric(float64(p50o)/float64(percentile(bare, 0.5)), "ratio-bare")
			})
		}
		idx.Close()
		s.Close()
		bi.Close()
		db.Close()
	}
}
