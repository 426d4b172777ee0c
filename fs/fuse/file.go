package fuse

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ctxfs/ctxfs/fs"
)

// cacheKey identifies a committed version for the kernel page cache. The
// version number alone is not enough: a file removed and written again
// starts over at version 1.
type cacheKey struct {
	version  int64
	modified int64
}

func keyOf(info *fs.Info) cacheKey {
	return cacheKey{info.Version, info.Modified.UnixNano()}
}

// fileNode is the inode of a regular file of the file system. Its write
// buffer is shared by all handles, so every handle reads what any handle
// wrote, as on a local disk.
//
// Concurrency: all methods are safe for concurrent use; mu guards the
// fields below it and is held across the file system calls that load or
// commit the buffer, so a commit sees a buffer no write is changing.
type fileNode struct {
	gofs.Inode
	m *mount

	mu       sync.Mutex
	buf      *buffer   // content being written; nil when the file is clean and nobody may write
	dirty    bool      // buf holds changes not yet committed
	pending  bool      // created here and never committed: the file system has no such file yet
	unlinked bool      // removed or replaced: never commit buf
	mtime    time.Time // of the last change to buf
	writers  int       // open handles that may write
	info     *fs.Info  // last known committed state; nil when unknown
	lastPath fs.Path   // where the file was last known to be
	infoAt   time.Time // when info was learnt
	cached   cacheKey  // the version whose pages the kernel may hold
	gen      uint64    // +1 per commit, so read handles reopen the new version
	seq      bool      // buf started empty and has only been appended to
	stream   *stream   // the commit being fed while buf is written in order
	streamed bool      // a stream was started for this buffer
}

var (
	_ gofs.NodeGetattrer     = (*fileNode)(nil)
	_ gofs.NodeSetattrer     = (*fileNode)(nil)
	_ gofs.NodeOpener        = (*fileNode)(nil)
	_ gofs.NodeAccesser      = (*fileNode)(nil)
	_ gofs.NodeGetxattrer    = (*fileNode)(nil)
	_ gofs.NodeSetxattrer    = (*fileNode)(nil)
	_ gofs.NodeRemovexattrer = (*fileNode)(nil)
	_ gofs.NodeListxattrer   = (*fileNode)(nil)
)

// lookedUp records info from a lookup or listing and fills a. It refuses
// (false) when n was removed or replaced meanwhile: info then describes
// another file, which needs an inode of its own.
func (n *fileNode) lookedUp(info *fs.Info, a *gofuse.Attr) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.unlinked {
		return false
	}
	n.lastPath = info.Path
	// Infos from the provider are the caller's to keep, and nobody here
	// changes one, so it is kept as it is.
	n.info = info
	n.infoAt = time.Now()
	n.attrLocked(a)
	return true
}

// fresh reports whether info may be used without asking the file system.
func (n *fileNode) freshLocked() bool {
	return n.info != nil && time.Since(n.infoAt) < n.m.opts.AttrTimeout
}

// forget drops the cached info, after a change through another door.
func (n *fileNode) forget() {
	n.mu.Lock()
	n.info = nil
	n.infoAt = time.Time{}
	n.mu.Unlock()
}

func (n *fileNode) attrLocked(a *gofuse.Attr) {
	if n.buf != nil {
		info := fs.Info{Kind: fs.KindFile, Size: n.buf.Size(), Modified: n.mtime}
		if n.info != nil {
			info.ReadOnly = n.info.ReadOnly
			if !n.dirty {
				info.Modified = n.info.Modified
			}
		}
		n.m.fillAttr(&info, a)
		return
	}
	if n.info != nil {
		n.m.fillAttr(n.info, a)
		return
	}
	n.m.fillAttr(&fs.Info{Kind: fs.KindFile}, a)
}

// stat refreshes info from the file system unless it is fresh or a
// buffer makes it irrelevant.
func (n *fileNode) statLocked(ctx context.Context) syscall.Errno {
	if n.buf != nil || n.freshLocked() {
		return 0
	}
	p, ok := n.m.pathOf(&n.Inode)
	if !ok || n.unlinked {
		if n.info != nil {
			return 0 // fstat of a removed file that is still open
		}
		return syscall.ESTALE
	}
	info, err := n.m.fsys.Stat(ctx, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// The inode is gone: ESTALE makes the kernel look the
			// name up again instead of failing on a dentry it cached.
			return syscall.ESTALE
		}
		return errno(err)
	}
	if info.Kind != fs.KindFile {
		return syscall.ESTALE
	}
	n.info, n.infoAt = info, time.Now()
	return 0
}

func (n *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	ctx = n.m.ctx(ctx)
	n.mu.Lock()
	defer n.mu.Unlock()
	if en := n.statLocked(ctx); en != 0 {
		return en
	}
	n.attrLocked(&out.Attr)
	return 0
}

// Access defers every check to the kernel and the file system: the mode
// bits describe ctxfs's files only roughly, and ENOSYS stops the kernel
// from asking again.
func (n *fileNode) Access(ctx context.Context, mask uint32) syscall.Errno { return syscall.ENOSYS }

// ensureBufLocked gives n a write buffer holding the committed content, or
// its first limit bytes when limit >= 0.
func (n *fileNode) ensureBufLocked(ctx context.Context, limit int64) error {
	if n.buf != nil {
		return nil
	}
	b := newBuffer(n.m.opts.MemoryBuffer, n.m.opts.TempDir)
	n.seq, n.streamed = true, false
	if !n.pending && limit != 0 {
		p, ok := n.m.pathOf(&n.Inode)
		if !ok {
			return fs.ErrNotExist
		}
		f, err := n.m.fsys.Open(ctx, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Removed through another door while open here: the
			// writes made here will bring it back, as on a disk where
			// the file was replaced under an open descriptor.
		case err != nil:
			return err
		default:
			var r io.Reader = f
			if limit > 0 {
				r = io.LimitReader(f, limit)
			}
			chunk := copyBufs.Get().(*[]byte)
			_, err = b.load(r, *chunk)
			copyBufs.Put(chunk)
			n.seq = b.Size() == 0
			n.info, n.infoAt = f.Stat(), time.Now()
			f.Close()
			if err != nil {
				b.Close()
				return err
			}
		}
	}
	n.buf = b
	n.mtime = time.Now()
	if n.info != nil {
		n.mtime = n.info.Modified
	}
	n.m.register(n)
	return nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// commit makes the buffer the new version of the file if it holds changes.
func (n *fileNode) commit(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.commitLocked(ctx)
}

func (n *fileNode) commitLocked(ctx context.Context) error {
	if !n.dirty || n.buf == nil {
		return nil
	}
	if n.unlinked {
		n.dirty = false
		n.breakStreamLocked()
		return nil
	}
	p, ok := n.m.pathOf(&n.Inode)
	if !ok {
		// Its directory is gone; so is the file.
		n.dirty = false
		n.breakStreamLocked()
		return nil
	}
	n.lastPath = p
	info, err, streamed := n.finishStreamLocked(p)
	if !streamed {
		n.m.expectChange(fs.OpWrite, p, "")
		info, err = n.m.fsys.Write(ctx, p, n.buf.Reader(), fs.WriteOptions{})
		if err != nil {
			n.m.unexpect(fs.OpWrite, p, "")
		}
	}
	if err != nil {
		return err
	}
	n.dirty = false
	if n.pending {
		n.pending = false
		n.m.pending.Add(-1)
	}
	if info != nil {
		n.info, n.infoAt = info, time.Now()
		// The kernel's pages are the ones written through it.
		n.cached = keyOf(info)
	} else {
		n.info = nil
	}
	n.gen++
	return nil
}

// dropBufLocked discards the buffer once no handle may write.
func (n *fileNode) dropBufLocked() {
	if n.buf == nil || n.writers > 0 {
		return
	}
	if n.dirty {
		n.m.log.Warn("ctxfs fuse: discarding uncommitted writes", "path", n.Path(nil))
		n.dirty = false
	}
	if n.pending {
		// It never reached the file system: it does not exist.
		n.pending = false
		n.unlinked = true
		n.m.pending.Add(-1)
	}
	n.breakStreamLocked()
	n.buf.Close()
	n.buf = nil
	n.m.unregister(n)
}

// markUnlinked records that the file was removed or replaced.
func (n *fileNode) markUnlinked() {
	n.mu.Lock()
	n.markUnlinkedLocked()
	n.mu.Unlock()
}

func (n *fileNode) markUnlinkedLocked() {
	n.unlinked = true
	n.breakStreamLocked()
	if n.pending {
		n.pending = false
		n.m.pending.Add(-1)
	}
	n.dirty = false
}

func (n *fileNode) isUnlinked() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.unlinked
}

func (n *fileNode) isPending() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pending && !n.unlinked
}

// newHandle opens a handle with the open(2) flags, applying O_TRUNC.
func (n *fileNode) newHandle(ctx context.Context, flags uint32) (*handle, syscall.Errno) {
	writable := flags&syscall.O_ACCMODE != syscall.O_RDONLY
	h := &handle{n: n, writable: writable}
	if writable {
		n.writers++
	}
	if writable && flags&syscall.O_TRUNC != 0 {
		if err := n.truncateLocked(ctx, 0); err != nil {
			n.writers--
			return nil, errno(err)
		}
	}
	return h, 0
}

// truncateLocked sets the size of the buffer, loading what it keeps.
func (n *fileNode) truncateLocked(ctx context.Context, size int64) error {
	var cur int64
	switch {
	case n.buf != nil:
		cur = n.buf.Size()
	case n.pending:
	default:
		if en := n.statLocked(ctx); en != 0 {
			return en
		}
		if n.info != nil {
			cur = n.info.Size
		}
	}
	if cur == size {
		return nil
	}
	fresh := n.buf == nil
	if err := n.ensureBufLocked(ctx, size); err != nil {
		return err
	}
	if !fresh || size != 0 {
		n.breakStreamLocked() // no longer a file written in order from empty
	}
	if n.buf.Size() != size {
		if err := n.buf.Truncate(size); err != nil {
			return err
		}
	}
	n.dirty = true
	n.mtime = time.Now()
	return nil
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	writable := flags&syscall.O_ACCMODE != syscall.O_RDONLY
	if writable && n.m.opts.ReadOnly {
		return nil, 0, syscall.EROFS
	}
	ctx = n.m.ctx(ctx)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.unlinked && n.buf == nil && writable {
		// Replaced or removed after the kernel resolved the name, and
		// writes to it would go nowhere: ESTALE makes open(2) resolve
		// the name again.
		return nil, 0, syscall.ESTALE
	}
	if n.buf != nil && (n.dirty || n.pending) {
		// Being written here: reads come from the buffer, and the
		// kernel's pages may predate it.
		h, en := n.newHandle(ctx, flags)
		n.cached = cacheKey{}
		return h, 0, en
	}
	// The version is opened now, so the handle reads the version it
	// opened even if the file is replaced before the first read. It also
	// tells the file's current state.
	before := n.cached
	var told cacheKey // the version whose attributes the kernel has
	if n.info != nil {
		told = keyOf(n.info)
	}
	h := &handle{n: n}
	if err := h.openNow(ctx); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, syscall.ESTALE
		}
		return nil, 0, errno(err)
	}
	if writable && n.info.ReadOnly {
		h.release()
		return nil, 0, syscall.EROFS
	}
	if writable {
		wh, en := n.newHandle(ctx, flags)
		if en != 0 {
			h.release()
			return nil, 0, en
		}
		wh.file, wh.data, wh.hasData, wh.gen = h.file, h.data, h.hasData, h.gen
		h = wh
	}
	if keyOf(n.info) != told {
		// The kernel's size is of another version than the one opened:
		// make it ask again before it reads (attributes only; offset
		// -1 touches no pages, so this cannot wait on a read).
		n.NotifyContent(-1, 0)
	}
	var fuseFlags uint32
	if n.cached == before && !n.dirty {
		// The kernel keeps the pages it holds only when they are of
		// the version that is current now.
		fuseFlags |= gofuse.FOPEN_KEEP_CACHE
	}
	return h, fuseFlags, 0
}

// smallFile is the size up to which a file opened for reading is read
// whole at open: one trip to the file system, and the handle keeps
// reading what it opened even if the file is replaced meanwhile (a
// replaced file's history is gone).
const smallFile = 256 << 10

// openNow opens the file system's current version for h (with n.mu held),
// reading it whole when it is small.
func (h *handle) openNow(ctx context.Context) error {
	n := h.n
	p, ok := n.m.pathOf(&n.Inode)
	if !ok || n.unlinked {
		// The inode was displaced from the tree, replaced or removed
		// after the kernel resolved the name to it. The file now at its
		// last path is opened, as if the open came just after the
		// change; the caller makes the kernel take its attributes.
		if n.lastPath == "" {
			return fs.ErrNotExist
		}
		p = n.lastPath
	}
	n.lastPath = p
	f, err := n.m.fsys.Open(ctx, p)
	if err != nil {
		return err
	}
	info := f.Stat()
	n.info, n.infoAt = info, time.Now()
	n.cached = keyOf(info)
	h.gen = n.gen
	if info.Size > smallFile {
		h.file = f
		return nil
	}
	data := make([]byte, info.Size)
	got, err := f.ReadAt(data, 0)
	f.Close()
	if err != nil && err != io.EOF {
		return err
	}
	h.data, h.hasData = data[:got], true
	return nil
}

func (n *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	ctx = n.m.ctx(ctx)
	if size, ok := in.GetSize(); ok {
		if n.m.opts.ReadOnly {
			return syscall.EROFS
		}
		if n.m.opts.MaxFileSize > 0 && int64(size) > n.m.opts.MaxFileSize {
			return syscall.EFBIG
		}
		if size > 1<<62 {
			return syscall.EFBIG
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if err := n.truncateLocked(ctx, int64(size)); err != nil {
			return errno(err)
		}
		if _, ok := fh.(*handle); !ok {
			// truncate(2) of a path is complete when it returns: one
			// new version now.
			if err := n.commitLocked(ctx); err != nil {
				return errno(err)
			}
			n.dropBufLocked()
		}
		n.attrLocked(&out.Attr)
		return 0
	}
	// Mode, owner and times are accepted and ignored: ctxfs derives them
	// from the kind of node, the mount and the version's time, and tools
	// such as tar and cp -p must not fail over them.
	n.mu.Lock()
	defer n.mu.Unlock()
	if en := n.statLocked(ctx); en != 0 {
		return en
	}
	n.attrLocked(&out.Attr)
	return 0
}

// handle is an open file. Reads come from the node's write buffer when it
// has one, else from the version of the file system file opened lazily on
// the first read.
//
// Concurrency: safe for concurrent use; mu guards the fields below it.
type handle struct {
	n        *fileNode
	writable bool

	mu      sync.Mutex
	file    fs.File // nil until the first read from the file system
	data    []byte  // the whole content of a small file, when hasData
	hasData bool
	gen     uint64 // node generation file or data is of
}

var (
	_ gofs.FileReader   = (*handle)(nil)
	_ gofs.FileWriter   = (*handle)(nil)
	_ gofs.FileFlusher  = (*handle)(nil)
	_ gofs.FileFsyncer  = (*handle)(nil)
	_ gofs.FileReleaser = (*handle)(nil)
)

// storeFile returns the handle's open file of the version of generation
// gen, opening it if needed.
func (h *handle) storeFile(ctx context.Context, gen uint64) (fs.File, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.file != nil && h.gen == gen {
		return h.file, nil
	}
	p, ok := h.n.m.pathOf(&h.n.Inode)
	if !ok {
		return nil, fs.ErrNotExist
	}
	f, err := h.n.m.fsys.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	if h.file != nil {
		h.file.Close()
	}
	h.file, h.gen = f, gen
	h.data, h.hasData = nil, false
	return f, nil
}

func (h *handle) Read(ctx context.Context, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	n := h.n
	n.mu.Lock()
	if n.buf != nil {
		got, err := n.buf.ReadAt(dest, off)
		n.mu.Unlock()
		if err != nil && err != io.EOF {
			return nil, errno(err)
		}
		return gofuse.ReadResultData(dest[:got]), 0
	}
	gen := n.gen
	n.mu.Unlock()
	h.mu.Lock()
	if h.hasData && h.gen == gen {
		data := h.data
		h.mu.Unlock()
		if off >= int64(len(data)) {
			return gofuse.ReadResultData(nil), 0
		}
		end := min(off+int64(len(dest)), int64(len(data)))
		return gofuse.ReadResultData(data[off:end]), 0
	}
	h.mu.Unlock()
	f, err := h.storeFile(n.m.ctx(ctx), gen)
	if err != nil {
		return nil, errno(err)
	}
	got, err := f.ReadAt(dest, off)
	if err != nil && err != io.EOF {
		return nil, errno(err)
	}
	return gofuse.ReadResultData(dest[:got]), 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if !h.writable {
		return 0, syscall.EBADF
	}
	n := h.n
	end := off + int64(len(data))
	if max := n.m.opts.MaxFileSize; max > 0 && end > max {
		return 0, syscall.EFBIG
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.ensureBufLocked(n.m.ctx(ctx), -1); err != nil {
		return 0, errno(err)
	}
	prev := n.buf.Size()
	got, err := n.buf.WriteAt(data, off)
	if got > 0 {
		n.dirty = true
		n.mtime = time.Now()
	}
	if err != nil || got != len(data) {
		n.breakStreamLocked()
	} else {
		n.streamWriteLocked(n.m.ctx(ctx), data, off, prev)
	}
	if err != nil {
		return uint32(got), errno(err)
	}
	return uint32(got), 0
}

// Flush runs at every close(2): the buffer becomes one new version, so
// that what a program closed is in the file system when close returns.
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if !h.writable && !n.pending {
		return 0
	}
	return errno(n.commitLocked(n.m.ctx(ctx)))
}

func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return errno(h.n.commit(h.n.m.ctx(ctx)))
}

func (h *handle) Release(ctx context.Context) syscall.Errno {
	n := h.n
	n.mu.Lock()
	if h.writable {
		n.writers--
	}
	var err error
	if n.writers == 0 {
		// Writes that came after the last flush (through a shared
		// mapping) or a flush that failed get one more chance.
		if err = n.commitLocked(n.m.ctx(ctx)); err != nil {
			n.m.log.Warn("ctxfs fuse: commit at release failed", "path", n.Path(nil), "err", err)
		}
		n.dropBufLocked()
	}
	n.mu.Unlock()
	h.release()
	return errno(err)
}

// release closes what the handle holds of the file system.
func (h *handle) release() {
	h.mu.Lock()
	if h.file != nil {
		h.file.Close()
		h.file = nil
	}
	h.data, h.hasData = nil, false
	h.mu.Unlock()
}
