package store

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/ctxfs/ctxfs/fs"
)

// file is an open version of a file. It holds the version's chunk list,
// not its content: each read copies just the bytes asked for out of a short
// read transaction. ReadAt is safe for concurrent use; Read and Seek share
// an offset guarded by mu.
type file struct {
	s      *Store
	info   *fs.Info
	csize  int64
	chunks []chunkRef
	inline []byte // small content, held here: no transaction needed
	closed atomic.Bool

	// mu guards off.
	mu  sync.Mutex
	off int64
}

var _ fs.File = (*file)(nil)

func (f *file) Stat() *fs.Info { return f.info.Clone() }

func (f *file) Close() error {
	if f.closed.Swap(true) {
		return fs.Wrap("close", f.info.Path, fs.ErrClosed)
	}
	return nil
}

// ReadAt reads the version that was opened. If that version has since been
// pruned or its file removed, the read fails with fs.ErrNotExist.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, fs.Wrap("read", f.info.Path, fs.ErrClosed)
	}
	if off < 0 {
		return 0, fs.Wrap("read", f.info.Path, fmt.Errorf("%w: negative offset", fs.ErrInvalid))
	}
	size := f.info.Size
	if off >= size {
		return 0, io.EOF
	}
	want := p
	if rem := size - off; int64(len(want)) > rem {
		want = want[:rem]
	}
	if len(f.chunks) == 0 {
		n := copy(want, f.inline[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	n := 0
	err := f.s.view(func(t *txn) error {
		for n < len(want) {
			pos := off + int64(n)
			i := pos / f.csize
			data := t.bucket(&t.chunks, bktChunks).Get(u64(f.chunks[i].ID))
			if data == nil {
				return fmt.Errorf("%w: version %d was pruned or removed", fs.ErrNotExist, f.info.Version)
			}
			in := pos - i*f.csize
			if in >= int64(len(data)) {
				return errCorrupt
			}
			n += copy(want[n:], data[in:])
		}
		return nil
	})
	if err != nil {
		return n, fs.Wrap("read", f.info.Path, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.info.Size
	default:
		return 0, fs.Wrap("seek", f.info.Path, fmt.Errorf("%w: whence %d", fs.ErrInvalid, whence))
	}
	if offset < 0 {
		return 0, fs.Wrap("seek", f.info.Path, fmt.Errorf("%w: negative position", fs.ErrInvalid))
	}
	f.off = offset
	return offset, nil
}
