package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/ctxfs/ctxfs/fs"
)

// maxEventsPerRound bounds the events one catch-up round plans at once, so
// that catching up on a long log needs bounded memory; each round ends with
// the applied sequence stored beside its last documents.
const maxEventsPerRound = 50_000

// stamp identifies one version of a path: the store gives a new version a
// new number or, after a remove and a re-create, a new modification time.
type stamp struct {
	version  int64
	modified time.Time
}

func stampOf(info *fs.Info) stamp { return stamp{info.Version, info.Modified} }

var errRoundFull = errors.New("round full")

// plan is the coalesced work of a run of events: which subtrees lose their
// documents and which paths get the documents of their current state.
type plan struct {
	last    uint64          // sequence of the last event planned
	deletes []deleted       // in log order
	walks   []fs.Path       // rename destinations: index the whole subtree
	dirty   []dirtyPath     // index the current state of these paths
	seen    map[fs.Path]int // index in dirty; -1 for paths a walk indexed
}

// dirtyPath is a path to index; file is a hint from the last event that
// named it (a file is opened at once, saving a lookup).
type dirtyPath struct {
	path fs.Path
	file bool
}

type deleted struct {
	path fs.Path
	file bool // a file: no subtree to look for
}

func (p *plan) markDirty(q fs.Path, file bool) {
	if i, ok := p.seen[q]; ok {
		p.dirty[i].file = file // the latest event knows best
		return                 // its ancestors were marked with it
	}
	// Mark q and its ancestors: a write creates missing parents without
	// logging them, and a directory's document should follow its files.
	for ; !q.IsRoot(); q, file = q.Dir(), false {
		if _, ok := p.seen[q]; ok {
			return
		}
		p.seen[q] = len(p.dirty)
		p.dirty = append(p.dirty, dirtyPath{q, file})
	}
}

func (p *plan) add(ev fs.Event) {
	p.last = ev.Seq
	switch ev.Op {
	case fs.OpWrite, fs.OpMeta:
		p.markDirty(ev.Path, ev.Kind != fs.KindDir)
	case fs.OpMkdir:
		p.markDirty(ev.Path, false)
	case fs.OpRemove:
		p.deletes = append(p.deletes, deleted{ev.Path, ev.Kind == fs.KindFile})
		// The paths marked before stay marked: their Stat now fails and
		// deletes their documents, which is harmless.
	case fs.OpRename:
		p.deletes = append(p.deletes, deleted{ev.Path, ev.Kind == fs.KindFile}, deleted{ev.Dest, false})
		p.walks = append(p.walks, ev.Dest)
		if !ev.Dest.IsRoot() {
			p.markDirty(ev.Dest.Dir(), false)
		}
	}
}

// CatchUp applies the change-log events after the applied sequence: it
// deletes the documents of removed and renamed subtrees and indexes the
// current state of every path an event touched, once per path however many
// events named it. The applied sequence is stored in the same bleve batch
// as the last documents of each round.
func (x *Index) CatchUp(ctx context.Context) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	for {
		more, err := x.catchUpRound(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// catchUpRound plans and applies up to maxEventsPerRound events. It reports
// whether the log may hold more.
func (x *Index) catchUpRound(ctx context.Context) (bool, error) {
	applied, err := x.Applied()
	if err != nil {
		return false, err
	}
	p := &plan{last: applied, seen: map[fs.Path]int{}}
	n := 0
	err = x.src.Changes(ctx, applied, func(ev fs.Event) error {
		if n == maxEventsPerRound {
			return errRoundFull
		}
		n++
		p.add(ev)
		return nil
	})
	full := errors.Is(err, errRoundFull)
	if err != nil && !full {
		return false, fmt.Errorf("index %s: reading the change log: %w", x.dir, err)
	}
	if n == 0 {
		return false, nil
	}
	if err := x.apply(ctx, p); err != nil {
		return false, err
	}
	return full, nil
}

// apply carries out a plan against the current state of the source.
func (x *Index) apply(ctx context.Context, p *plan) error {
	idx, release, err := x.bleveIndex()
	if err != nil {
		return err
	}
	defer release()
	w := x.newWriter(idx)

	for _, d := range p.deletes {
		x.forgetImported(d.path)
		if d.file {
			w.delete(d.path)
			continue
		}
		ids, err := docsUnder(ctx, idx, d.path)
		if err != nil {
			return err
		}
		for _, id := range ids {
			w.delete(fs.Path(id))
		}
	}
	// A path's document is replaced only from here on, after every delete
	// was queued: a later Index of the same id overrides an earlier Delete
	// within a batch, and batches run in order.
	for _, root := range p.walks {
		err := walk(ctx, x.src, root, func(info *fs.Info) error {
			if _, ok := p.seen[info.Path]; ok {
				return nil
			}
			p.seen[info.Path] = -1
			return x.indexInfo(ctx, w, info, false)
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("index %s: %w", x.dir, err)
		}
	}
	for _, d := range p.dirty {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.file {
			done, err := x.indexOpen(ctx, w, d.path)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		info, err := x.src.Stat(ctx, d.path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrNotDir) {
			w.delete(d.path)
			continue
		}
		if err != nil {
			return fmt.Errorf("index %s: %w", x.dir, err)
		}
		if err := x.indexInfo(ctx, w, info, true); err != nil {
			return err
		}
	}
	return w.finish(p.last)
}

// indexInfo queues the document of info, reading a file's content. With
// skipImported it skips a file whose exact version IndexBatch indexed.
func (x *Index) indexInfo(ctx context.Context, w *writer, info *fs.Info, skipImported bool) error {
	if skipImported && x.wasImported(info) {
		return nil
	}
	if info.Kind != fs.KindFile {
		return w.index(x.an.build(info, nil), 0)
	}
	f, err := x.src.Open(ctx, info.Path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrIsDir) || errors.Is(err, fs.ErrNotDir) {
		// Changed since it was listed; a later event covers its new state.
		return nil
	}
	if err != nil {
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	defer f.Close()
	return x.indexFile(w, f, f.Stat())
}

// indexOpen indexes path p if it is a file, reading it through one Open.
// It reports false, with nothing done, when p is a directory.
func (x *Index) indexOpen(ctx context.Context, w *writer, p fs.Path) (bool, error) {
	f, err := x.src.Open(ctx, p)
	switch {
	case errors.Is(err, fs.ErrIsDir):
		return false, nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrNotDir):
		w.delete(p)
		return true, nil
	case err != nil:
		return false, fmt.Errorf("index %s: %w", x.dir, err)
	}
	defer f.Close()
	info := f.Stat()
	if x.wasImported(info) {
		return true, nil
	}
	return true, x.indexFile(w, f, info)
}

// wasImported reports whether IndexBatch indexed exactly this version of
// info's path, forgetting the record either way.
func (x *Index) wasImported(info *fs.Info) bool {
	if len(x.imported) == 0 {
		return false
	}
	s, ok := x.imported[info.Path]
	if !ok {
		return false
	}
	delete(x.imported, info.Path)
	return s.version == info.Version && s.modified.Equal(info.Modified)
}

// indexFile queues the document of the open file f, described by info.
func (x *Index) indexFile(w *writer, f fs.File, info *fs.Info) error {
	// A few bytes past the cap let textContent see a rune the cap splits.
	n := min(info.Size, int64(x.opts.MaxContentBytes)+utf8.UTFMax-1)
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, 0)
	buf = buf[:m]
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // pruned or removed since it was opened: an event follows
		}
		return fmt.Errorf("index %s: reading %s: %w", x.dir, info.Path, err)
	}
	content := textContent(buf, x.opts.MaxContentBytes)
	return w.index(x.an.build(info, content), len(content))
}

// forgetImported drops what IndexBatch recorded within dir: the documents
// of that subtree are being deleted.
func (x *Index) forgetImported(dir fs.Path) {
	for p := range x.imported {
		if p.Within(dir) {
			delete(x.imported, p)
		}
	}
}

// docsUnder returns the ids of the documents of dir and everything below.
func docsUnder(ctx context.Context, idx bleve.Index, dir fs.Path) ([]string, error) {
	var ids []string
	tq := query.NewTermQuery(string(dir))
	tq.SetField(FieldUnder)
	const page = 10_000
	for {
		req := bleve.NewSearchRequestOptions(tq, page, 0, false)
		req.Score = "none"
		req.SortBy([]string{"_id"})
		if len(ids) > 0 {
			req.SearchAfter = []string{ids[len(ids)-1]}
		}
		res, err := idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("listing the documents under %s: %w", dir, err)
		}
		for _, h := range res.Hits {
			ids = append(ids, h.ID)
		}
		if len(res.Hits) < page {
			return ids, nil
		}
	}
}

// walk calls fn for root and everything below it in the source, parents
// before children.
func walk(ctx context.Context, src fs.FS, root fs.Path, fn func(*fs.Info) error) error {
	info, err := src.Stat(ctx, root)
	if err != nil {
		return err
	}
	if !root.IsRoot() {
		if err := fn(info); err != nil {
			return err
		}
	}
	if !info.IsDir() {
		return nil
	}
	return walkDir(ctx, src, root, fn)
}

func walkDir(ctx context.Context, src fs.FS, dir fs.Path, fn func(*fs.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := src.List(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrNotDir) {
		return nil // removed or replaced meanwhile; the log has the event
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := fn(e); err != nil {
			return err
		}
		if e.IsDir() {
			if err := walkDir(ctx, src, e.Path, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// Follow catches up whenever the source reports a change, until ctx is
// done or the source closes its notification channel; then it returns nil. Errors are logged and retried at the next
// change or after a pause; Follow returns an error only when the index is
// closed.
func (x *Index) Follow(ctx context.Context) error {
	changed := x.src.Notify(ctx)
	var retry <-chan time.Time
	for {
		retry = nil
		if err := x.CatchUp(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, fs.ErrClosed) {
				return err
			}
			x.opts.Logger.Error("search index: catching up with the change log", "dir", x.dir, "err", err)
			retry = time.After(5 * time.Second)
		}
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-changed:
			if !ok { // the source closed, or ctx is done
				return nil
			}
		case <-retry:
		}
	}
}

// writer fills bleve batches and executes them when they reach the size
// bounds.
type writer struct {
	x     *Index
	idx   bleve.Index
	b     *bleve.Batch
	docs  int
	bytes int
}

func (x *Index) newWriter(idx bleve.Index) *writer {
	return &writer{x: x, idx: idx, b: idx.NewBatch()}
}

func (w *writer) delete(p fs.Path) {
	w.b.Delete(string(p))
	w.docs++
}

func (w *writer) index(d *document.Document, contentBytes int) error {
	if err := w.b.IndexAdvanced(d); err != nil {
		return fmt.Errorf("index %s: %w", w.x.dir, err)
	}
	w.docs++
	w.bytes += contentBytes
	if w.docs >= w.x.opts.BatchDocs || w.bytes >= w.x.opts.BatchBytes {
		return w.flush()
	}
	return nil
}

// finish executes the last batch with the applied sequence in it.
func (w *writer) finish(applied uint64) error {
	w.b.SetInternal(keyApplied, encodeSeq(applied))
	return w.flush()
}

func (w *writer) flush() error {
	if w.b.Size() == 0 {
		return nil
	}
	if !w.x.opts.SyncBatches {
		// Remember the newest batch's persistence, for Close to wait on.
		done := make(chan struct{})
		w.b.SetPersistedCallback(func(error) { close(done) })
		w.x.persisted = done
	}
	if err := w.idx.Batch(w.b); err != nil {
		return fmt.Errorf("index %s: %w", w.x.dir, err)
	}
	// A new batch rather than Reset: scorch's Batch returns while its
	// feeder goroutine may still read the old batch's map (a data race
	// in bleve v2.6.3).
	w.b = w.idx.NewBatch()
	w.docs, w.bytes = 0, 0
	return nil
}
