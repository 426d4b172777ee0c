package fuse

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// buffer holds the content of a file that is being written, until it is
// committed to the file system as one new version. It keeps up to limit
// bytes in memory and moves everything to an unlinked temporary file when
// the content grows past that, so a large write costs disk, not memory.
//
// A buffer is not safe for concurrent use; the fileNode's mutex guards it.
type buffer struct {
	mem   []byte
	f     *os.File // non-nil once spilled
	size  int64
	limit int64
	dir   string
}

func newBuffer(limit int64, dir string) *buffer {
	return &buffer{limit: limit, dir: dir}
}

// spilled reports whether the content has moved to the temporary file.
func (b *buffer) spilled() bool { return b.f != nil }

// Size is the length of the content.
func (b *buffer) Size() int64 { return b.size }

// spill moves the content to a temporary file. The file is unlinked at
// once, so it vanishes with the process whatever happens.
func (b *buffer) spill() error {
	f, err := os.CreateTemp(b.dir, "ctxfs-write-*")
	if err != nil {
		return err
	}
	os.Remove(f.Name())
	if len(b.mem) > 0 {
		if _, err := f.WriteAt(b.mem, 0); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Truncate(b.size); err != nil {
		f.Close()
		return err
	}
	b.f, b.mem = f, nil
	return nil
}

// grow makes mem n bytes long; bytes between the old and the new length
// read as zero even where the backing array holds truncated data.
func (b *buffer) grow(n int64) {
	old := int64(len(b.mem))
	if n <= old {
		b.mem = b.mem[:n]
		return
	}
	if n > int64(cap(b.mem)) {
		c := 2 * int64(cap(b.mem))
		if c < n {
			c = n
		}
		if c < 4096 {
			c = 4096
		}
		if c > b.limit && n <= b.limit {
			c = b.limit
		}
		nm := make([]byte, n, c)
		copy(nm, b.mem)
		b.mem = nm
		return
	}
	b.mem = b.mem[:n]
	clear(b.mem[old:n])
}

// WriteAt writes p at off, extending the content (with zeros in any gap).
func (b *buffer) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, os.ErrInvalid
	}
	end := off + int64(len(p))
	if b.f == nil && end > b.limit {
		if err := b.spill(); err != nil {
			return 0, err
		}
	}
	if b.f != nil {
		n, err := b.f.WriteAt(p, off)
		if end := off + int64(n); end > b.size {
			b.size = end
		}
		return n, err
	}
	if end > int64(len(b.mem)) {
		b.grow(end)
	}
	copy(b.mem[off:], p)
	if end > b.size {
		b.size = end
	}
	return len(p), nil
}

// ReadAt reads the content at off, like io.ReaderAt.
func (b *buffer) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if rest := b.size - off; n > rest {
		n = rest
	}
	var err error
	var got int
	if b.f != nil {
		got, err = b.f.ReadAt(p[:n], off)
		if errors.Is(err, io.EOF) && int64(got) == n {
			err = nil
		}
	} else {
		got = copy(p[:n], b.mem[off:])
	}
	if err == nil && int64(got) < int64(len(p)) {
		err = io.EOF
	}
	return got, err
}

// Truncate changes the size of the content.
func (b *buffer) Truncate(size int64) error {
	if size < 0 {
		return os.ErrInvalid
	}
	if b.f == nil && size > b.limit {
		if err := b.spill(); err != nil {
			return err
		}
	}
	if b.f != nil {
		if err := b.f.Truncate(size); err != nil {
			return err
		}
	} else {
		b.grow(size)
	}
	b.size = size
	return nil
}

// load appends r's content at the end, for
// loading a file's committed content before it is modified.
func (b *buffer) load(r io.Reader, chunk []byte) (int64, error) {
	var total int64
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			if _, werr := b.WriteAt(chunk[:n], b.size); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Reader returns a reader of the whole content. The buffer must not change
// while it is in use.
func (b *buffer) Reader() io.Reader {
	if b.f == nil {
		return bytes.NewReader(b.mem[:b.size])
	}
	return io.NewSectionReader(b.f, 0, b.size)
}

// Close releases the memory and the temporary file.
func (b *buffer) Close() error {
	b.mem = nil
	b.size = 0
	if b.f != nil {
		err := b.f.Close()
		b.f = nil
		return err
	}
	return nil
}
