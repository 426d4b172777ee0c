package store

import (
	"context"
	"io"

	"github.com/ctxfs/ctxfs/fs"
)

// Batch is the handle of one bulk transaction (see Store.Batch). It is
// valid only during the function it is passed to, and only from the
// goroutine running that function.
type Batch struct {
	ctx context.Context
	s   *Store
	t   *txn
}

// Write is fs.FS's Write inside the batch: r is read at once, inside the
// transaction. A failed Write changes nothing.
func (b *Batch) Write(p fs.Path, r io.Reader, opts fs.WriteOptions) (*fs.Info, error) {
	if b.t.err != nil {
		return nil, fs.Wrap("write", p, b.t.err)
	}
	c, err := b.s.readContent(b.ctx, r)
	if err != nil {
		return nil, fs.Wrap("write", p, err)
	}
	b.t.now = b.s.now()
	info, err := b.t.write(p, c, opts)
	return info, fs.Wrap("write", p, err)
}

// Mkdir is fs.FS's Mkdir inside the batch.
func (b *Batch) Mkdir(p fs.Path) error {
	if b.t.err != nil {
		return fs.Wrap("mkdir", p, b.t.err)
	}
	b.t.now = b.s.now()
	return fs.Wrap("mkdir", p, b.t.mkdir(p))
}

// Remove is fs.FS's Remove inside the batch.
func (b *Batch) Remove(p fs.Path, recursive bool) error {
	if b.t.err != nil {
		return fs.Wrap("remove", p, b.t.err)
	}
	b.t.now = b.s.now()
	return fs.Wrap("remove", p, b.t.remove(p, recursive))
}

// Stat is fs.FS's Stat inside the batch; it sees the batch's own writes.
func (b *Batch) Stat(p fs.Path) (*fs.Info, error) {
	if p.IsRoot() {
		return b.s.rootInfo(b.t), nil
	}
	_, n, err := b.t.get(p)
	if err != nil {
		return nil, fs.Wrap("stat", p, err)
	}
	return b.s.info(p, n), nil
}
