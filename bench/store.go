package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/blevesearch/bleve/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/tokens"
)

// StoreOptions configure Store. The zero value gives the defaults.
type StoreOptions struct {
	Files    int    // corpus size; zero means 10,000
	Queries  int    // search queries; zero means 300
	ListSize int    // entries of the directory that ls is timed on; zero means 10,000
	Dir      string // scratch directory; empty means a new temporary one, removed after
	Seed     uint64
	// Progress, if not nil, receives a line per phase.
	Progress func(phase string)
}

// Throughput is an ingest rate.
type Throughput struct {
	Seconds     float64 `json:"seconds"`
	FilesPerSec float64 `json:"files_per_s"`
	MBPerSec    float64 `json:"mb_per_s"`
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
}

// StoreReport is what Store measured. Ratios compare ctxfs with the
// baseline measured in the same run on the same corpus.
type StoreReport struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`

	Import         Throughput `json:"import"`
	BaselineImport Throughput `json:"baseline_import"`
	ImportRatio    float64    `json:"import_ratio"` // ctxfs files/s over the baseline's; goal >= 0.5

	// ctxfs: namespace search (access check, path restriction) returning
	// path, score, version and a highlighted snippet of the top 10.
	Search Latency `json:"search"`
	// Plain bleve on the same queries, returning the same: the top 10 with
	// a highlighted fragment of the stored content.
	BaselineSearch Latency `json:"baseline_search"`
	// Plain bleve returning only the top 10 ids and scores, for reference.
	BaselineBare Latency `json:"baseline_search_bare"`
	SearchRatio  float64 `json:"search_p50_ratio"` // ctxfs p50 over plain bleve's (with snippets); goal <= 1.2
	BareRatio    float64 `json:"search_p50_ratio_bare"`

	ListEntries int     `json:"ls_entries"`
	List        Latency `json:"ls"` // in-process List of one directory; goal p50 < 50 ms

	Mode string `json:"mode"`
}

// Store measures import throughput, search latency and directory listing
// of ctxfs against plain bbolt puts plus a plain bleve batch index of the
// same generated corpus. Both sides fsync their commits; the bbolt files
// are read with MAP_POPULATE so page-cache eviction does not skew reads.
func Store(ctx context.Context, o StoreOptions) (*StoreReport, error) {
	if o.Files <= 0 {
		o.Files = 10000
	}
	if o.Queries <= 0 {
		o.Queries = 300
	}
	if o.ListSize <= 0 {
		o.ListSize = 10000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "ctxfs-bench-store")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	progress(fmt.Sprintf("generating a corpus of %d files", o.Files))
	corpus, err := MakeCorpus(filepath.Join(dir, "corpus"), o.Files, o.Seed)
	if err != nil {
		return nil, err
	}
	rep := &StoreReport{Files: o.Files, Bytes: corpus.Bytes, ListEntries: o.ListSize,
		Mode: "fsync on commit; bbolt mapped with MAP_POPULATE; corpus read from the host page cache by both sides"}
	queries := Queries(o.Queries, o.Seed)

	// Baseline first, then ctxfs, so that neither gets a warmer cache of
	// the corpus than the other: both read it after the generator wrote it.
	progress("baseline: plain bbolt puts + plain bleve batch index")
	base, err := baselineImport(ctx, filepath.Join(dir, "baseline"), corpus)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer base.Close()
	rep.BaselineImport = base.tp

	progress("ctxfs: import")
	counter, _ := tokens.Default()
	if err := tokens.Load(); err != nil {
		return nil, err
	}
	sys, err := local.Open(ctx, filepath.Join(dir, "ctxfs"), local.Options{Counter: counter, Populate: true})
	if err != nil {
		return nil, err
	}
	defer sys.Close()
	start := time.Now()
	if _, err := sys.Import(ctx, corpus.Dir, fs.MustParse("/corpus"), local.ImportOptions{}); err != nil {
		return nil, err
	}
	rep.Import = rate(time.Since(start), o.Files, corpus.Bytes)
	rep.ImportRatio = rep.Import.FilesPerSec / rep.BaselineImport.FilesPerSec

	progress(fmt.Sprintf("search: %d queries on each side", len(queries)))
	admin := fs.WithPrincipal(ctx, fs.System)
	// Warm both once, then alternate query by query so load changes on a
	// shared machine hit both sides alike.
	var ours, plain, bare []time.Duration
	for round := range 2 {
		for _, q := range queries {
			t0 := time.Now()
			if _, err := sys.NS.Search(admin, fs.Query{Text: q, Limit: 10}); err != nil {
				return nil, err
			}
			d1 := time.Since(t0)
			t0 = time.Now()
			if err := base.search(q, true); err != nil {
				return nil, err
			}
			d2 := time.Since(t0)
			t0 = time.Now()
			if err := base.search(q, false); err != nil {
				return nil, err
			}
			d3 := time.Since(t0)
			if round == 1 {
				ours, plain, bare = append(ours, d1), append(plain, d2), append(bare, d3)
			}
		}
	}
	rep.Search, rep.BaselineSearch, rep.BaselineBare = latency(ours), latency(plain), latency(bare)
	rep.SearchRatio = rep.Search.P50 / rep.BaselineSearch.P50
	rep.BareRatio = rep.Search.P50 / rep.BaselineBare.P50

	progress(fmt.Sprintf("ls: a directory of %d entries", o.ListSize))
	flat := fs.MustParse("/flat")
	if err := sys.Store.Batch(ctx, func(b *store.Batch) error {
		for i := range o.ListSize {
			if _, err := b.Write(flat.Child(fmt.Sprintf("entry%06d.md", i)), emptyReader{}, fs.WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var lists []time.Duration
	for range 21 {
		t0 := time.Now()
		es, err := sys.NS.List(admin, flat)
		if err != nil {
			return nil, err
		}
		lists = append(lists, time.Since(t0))
		if len(es) != o.ListSize {
			return nil, fmt.Errorf("ls listed %d entries, want %d", len(es), o.ListSize)
		}
	}
	rep.List = latency(lists)
	return rep, nil
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }

func rate(d time.Duration, files int, bytes int64) Throughput {
	s := d.Seconds()
	return Throughput{Seconds: s, FilesPerSec: float64(files) / s, MBPerSec: float64(bytes) / 1e6 / s}
}

func latency(ds []time.Duration) Latency {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q * float64(len(s)-1))
		return float64(s[i].Microseconds()) / 1000
	}
	return Latency{P50: at(0.50), P99: at(0.99)}
}

// baseline is the plain-library pipeline: bbolt puts of whole files in
// batches of the same size as ctxfs's import, and one bleve index fed in
// batches.
type baseline struct {
	db  *bolt.DB
	idx bleve.Index
	tp  Throughput
}

func (b *baseline) Close() {
	b.idx.Close()
	b.db.Close()
}

func baselineImport(ctx context.Context, dir string, c *Corpus) (*baseline, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	db, err := bolt.Open(filepath.Join(dir, "plain.db"), 0o600, &bolt.Options{MmapFlags: populateFlag})
	if err != nil {
		return nil, err
	}
	// Plain bleve: the default mapping (which stores content, so that it
	// can highlight it) with BM25 scoring, as ctxfs's index uses.
	m := bleve.NewIndexMapping()
	m.ScoringModel = index.Mapping().ScoringModel
	idx, err := bleve.NewUsing(filepath.Join(dir, "plain.bleve"), m, "scorch", "scorch", nil)
	if err != nil {
		db.Close()
		return nil, err
	}
	b := &baseline{db: db, idx: idx}
	const batchFiles = 512
	for i := 0; i < len(c.Files); i += batchFiles {
		if err := ctx.Err(); err != nil {
			b.Close()
			return nil, err
		}
		batch := c.Files[i:min(i+batchFiles, len(c.Files))]
		contents := make([][]byte, len(batch))
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("files"))
			if err != nil {
				return err
			}
			for j, rel := range batch {
				data, err := os.ReadFile(filepath.Join(c.Dir, rel))
				if err != nil {
					return err
				}
				contents[j] = data
				if err := bk.Put([]byte(rel), data); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Close()
			return nil, err
		}
		bb := idx.NewBatch()
		for j, rel := range batch {
			if err := bb.Index("/corpus/"+rel, map[string]any{"content": string(contents[j]), "path": "/corpus/" + rel}); err != nil {
				b.Close()
				return nil, err
			}
		}
		if err := idx.Batch(bb); err != nil {
			b.Close()
			return nil, err
		}
	}
	b.tp = rate(time.Since(start), len(c.Files), c.Bytes)
	return b, nil
}

func (b *baseline) search(q string, highlight bool) error {
	req := bleve.NewSearchRequestOptions(bleve.NewQueryStringQuery(q), 10, 0, false)
	if highlight {
		req.Highlight = bleve.NewHighlight()
		req.Highlight.AddField("content")
	}
	_, err := b.idx.Search(req)
	return err
}
