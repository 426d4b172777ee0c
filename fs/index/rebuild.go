package index

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/blevesearch/bleve/v2"

	"github.com/ctxfs/ctxfs/fs"
)

// Rebuild replaces the index with one built from scratch by walking the
// source. Searches keep using the old index until the new one is complete;
// then the new one takes its place. progress, if not nil, is called with
// the number of paths indexed so far and the total.
//
// The new index's applied sequence is the log's last sequence read before
// the walk: events that race with the walk are applied again by the next
// CatchUp, which is harmless.
func (x *Index) Rebuild(ctx context.Context, progress func(done, total int)) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()

	last, err := x.src.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	var infos []*fs.Info
	if err := walk(ctx, x.src, fs.Root, func(info *fs.Info) error {
		infos = append(infos, info)
		return nil
	}); err != nil {
		return fmt.Errorf("index %s: walking the source: %w", x.dir, err)
	}

	tmp := x.dir + ".rebuild"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	idx, err := x.create(tmp)
	if err != nil {
		return err
	}
	if err := x.fill(ctx, idx, infos, last, progress); err != nil {
		_ = idx.Close()
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := idx.Close(); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	return x.replace(tmp)
}

// fill indexes infos into idx and records applied as its sequence.
func (x *Index) fill(ctx context.Context, idx bleve.Index, infos []*fs.Info, applied uint64, progress func(done, total int)) error {
	w := x.newWriter(idx)
	for i, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.indexInfo(ctx, w, info, false); err != nil {
			return err
		}
		if progress != nil && (i%256 == 255 || i == len(infos)-1) {
			progress(i+1, len(infos))
		}
	}
	if progress != nil && len(infos) == 0 {
		progress(0, 0)
	}
	return w.finish(applied)
}

// replace puts the complete index in tmp in place of the current one and
// opens it. A crash part way leaves either the old index, the new one, or
// none; with none, the next Open rebuilds.
func (x *Index) replace(tmp string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx != nil {
		x.waitPersisted()
		if err := x.idx.Close(); err != nil {
			return fmt.Errorf("index %s: %w", x.dir, err)
		}
		x.idx = nil
	}
	old := x.dir + ".old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	if err := os.Rename(x.dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	if err := os.Rename(tmp, x.dir); err != nil {
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	_ = os.RemoveAll(old)
	idx, err := bleve.OpenUsing(x.dir, x.runtimeConfig())
	if err != nil {
		return fmt.Errorf("index %s: %w", x.dir, err)
	}
	x.idx = idx
	clear(x.imported)
	return nil
}
