package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/ctxfs/ctxfs/fs"
)

// Source is what the index needs from the system of record: current content
// (Stat, List, Open) and the change log. The store implements it; the index
// never imports the store.
type Source interface {
	fs.FS
	fs.Watcher
}

// Defaults of Options.
const (
	DefaultMaxContentBytes = 8 << 20  // 8 MiB of text per file
	DefaultBatchDocs       = 2000     // documents per bleve batch
	DefaultBatchBytes      = 32 << 20 // content bytes per bleve batch
	DefaultSnippetBytes    = 200      // bytes of content per snippet
)

// Options configure an Index. The zero value gives the defaults.
type Options struct {
	// MaxContentBytes is how much of a file's content is indexed; the rest
	// is not searchable. Zero means DefaultMaxContentBytes.
	MaxContentBytes int
	// BatchDocs and BatchBytes bound one bleve batch. Zero means the defaults.
	BatchDocs  int
	BatchBytes int
	// SnippetBytes bounds the content shown in a hit's snippet (before the
	// markers are added). Zero means DefaultSnippetBytes.
	SnippetBytes int
	// SyncBatches makes each batch wait until it is on disk. Off by default:
	// the applied sequence travels in the same batch as the documents, so
	// after a crash the index is at some earlier consistent point and Open
	// catches up from the log.
	SyncBatches bool
	// Logger receives errors of Follow and progress notes; nil means
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxContentBytes <= 0 {
		o.MaxContentBytes = DefaultMaxContentBytes
	}
	if o.BatchDocs <= 0 {
		o.BatchDocs = DefaultBatchDocs
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	if o.SnippetBytes <= 0 {
		o.SnippetBytes = DefaultSnippetBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Index is a bleve index of a Source's files, kept up to date by following
// the source's change log.
//
// Concurrency: all methods are safe for concurrent use. Searches run in
// parallel with each other and with updates; updates (CatchUp, IndexBatch,
// Rebuild) are serialized. Close waits for running calls.
type Index struct {
	dir  string
	src  Source
	opts Options
	an   analyzers

	// writeMu serializes the writers, so the applied sequence and the
	// documents move forward together.
	writeMu sync.Mutex
	// imported remembers documents IndexBatch indexed, so that catching up
	// over their log events need not read their content again.
	imported map[fs.Path]stamp
	// persisted is closed when the newest batch reaches disk (nil when
	// batches are synchronous or none ran).
	persisted chan struct{}

	// mu guards idx: searches hold it shared, Rebuild and Close exclusively
	// while they swap or close the bleve index.
	mu  sync.RWMutex
	idx bleve.Index // nil once closed
}

var _ fs.Searcher = (*Index)(nil)

// Open opens the index in dir, creating it if needed, and catches up with
// src's change log. An index written by another version of this package,
// or one that is ahead of src's log (src was replaced), is rebuilt.
func Open(dir string, src Source, opts Options) (*Index, error) {
	return OpenContext(context.Background(), dir, src, opts)
}

// OpenContext is Open with a context that can cancel the initial catch-up
// or rebuild.
func OpenContext(ctx context.Context, dir string, src Source, opts Options) (*Index, error) {
	x := &Index{dir: dir, src: src, opts: opts.withDefaults(), imported: map[fs.Path]stamp{}}
	idx, created, err := x.openBleve()
	if err != nil {
		return nil, err
	}
	x.idx = idx
	// Analyzers of this package's mapping, not of the one stored in the
	// index: an index of another format is about to be rebuilt with ours.
	x.an = newAnalyzers(Mapping())

	// A new index is filled by walking the source, which is quicker than
	// replaying the whole log and does not depend on the log being complete.
	rebuild, why := created, "new index"
	if created {
		// nothing to check
	} else if f, err := idx.GetInternal(keyFormat); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("index %s: %w", dir, err)
	} else if string(f) != formatVersion {
		rebuild, why = true, fmt.Sprintf("stored format %q, want %q", f, formatVersion)
	}
	if !rebuild {
		applied, err := x.Applied()
		if err != nil {
			_ = idx.Close()
			return nil, err
		}
		last, err := src.LastSeq(ctx)
		if err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("index %s: %w", dir, err)
		}
		if applied > last {
			rebuild, why = true, fmt.Sprintf("index applied seq %d is ahead of the log's %d", applied, last)
		}
	}
	if rebuild {
		level := slog.LevelInfo
		if created {
			level = slog.LevelDebug
		}
		x.opts.Logger.Log(ctx, level, "rebuilding search index", "dir", dir, "reason", why)
		err = x.Rebuild(ctx, nil)
	} else {
		err = x.CatchUp(ctx)
	}
	if err != nil {
		_ = x.Close()
		return nil, err
	}
	return x, nil
}

func (x *Index) runtimeConfig() map[string]any {
	return map[string]any{"unsafe_batch": !x.opts.SyncBatches}
}

// persistWait bounds how long Close waits for bleve to write the last
// batches; what is not written by then is caught up from the log next time.
const persistWait = time.Minute

// waitPersisted waits until the newest batch is on disk. scorch's Close
// stops its persister without writing what is still in memory.
func (x *Index) waitPersisted() {
	if x.persisted == nil {
		return
	}
	select {
	case <-x.persisted:
	case <-time.After(persistWait):
		x.opts.Logger.Warn("search index: closing before the last batch reached disk; it is caught up on the next open", "dir", x.dir)
	}
	x.persisted = nil
}

// openBleve opens the bleve index in x.dir or creates an empty one.
func (x *Index) openBleve() (idx bleve.Index, created bool, err error) {
	idx, err = bleve.OpenUsing(x.dir, x.runtimeConfig())
	if err == nil {
		return idx, false, nil
	}
	if !errors.Is(err, bleve.ErrorIndexPathDoesNotExist) && !errors.Is(err, bleve.ErrorIndexMetaMissing) {
		return nil, false, fmt.Errorf("index %s: %w", x.dir, err)
	}
	idx, err = x.create(x.dir)
	return idx, true, err
}

// create makes an empty index in dir with the current format.
func (x *Index) create(dir string) (bleve.Index, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	// Synchronous batches while creating: scorch keeps the mapping as an
	// internal record, which must be on disk before the index can reopen.
	idx, err := bleve.NewUsing(dir, Mapping(), scorch.Name, bleve.Config.DefaultKVStore, map[string]any{"unsafe_batch": false})
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	if err := idx.SetInternal(keyFormat, []byte(formatVersion)); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	return idx, nil
}

// bleveIndex returns the open bleve index and a function to release it.
func (x *Index) bleveIndex() (bleve.Index, func(), error) {
	x.mu.RLock()
	if x.idx == nil {
		x.mu.RUnlock()
		return nil, nil, fmt.Errorf("index %s: %w", x.dir, fs.ErrClosed)
	}
	return x.idx, x.mu.RUnlock, nil
}

// Applied returns the sequence number of the last change-log event that the
// index reflects.
func (x *Index) Applied() (uint64, error) {
	idx, release, err := x.bleveIndex()
	if err != nil {
		return 0, err
	}
	defer release()
	b, err := idx.GetInternal(keyApplied)
	if err != nil {
		return 0, fmt.Errorf("index %s: %w", x.dir, err)
	}
	seq, err := decodeSeq(b)
	if err != nil {
		return 0, fmt.Errorf("index %s: applied sequence: %w", x.dir, err)
	}
	return seq, nil
}

// DocCount returns the number of documents (files and directories) indexed.
func (x *Index) DocCount() (uint64, error) {
	idx, release, err := x.bleveIndex()
	if err != nil {
		return 0, err
	}
	defer release()
	return idx.DocCount()
}

// Close closes the index. Pending changes are in the log; the next Open
// catches up with them.
func (x *Index) Close() error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	x.waitPersisted()
	err := x.idx.Close()
	x.idx = nil
	return err
}
