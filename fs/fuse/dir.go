package fuse

import (
	"context"
	"errors"
	"hash/fnv"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ctxfs/ctxfs/fs"
)

// dirNode is the inode of a directory of the file system; the root of the
// mount is one too. It keeps no state of its own: names are resolved
// through the file system on every lookup, and the node's path comes from
// its place in go-fuse's tree.
//
// Concurrency: safe for concurrent use.
type dirNode struct {
	gofs.Inode
	m *mount
	// ro records that the provider refuses writes here (a read-only host
	// directory), as last seen by a lookup, so that creating a file fails
	// at once rather than when it is first committed.
	ro atomic.Bool
}

// readOnly reports whether changes in d are refused.
func (d *dirNode) readOnly() bool { return d.m.opts.ReadOnly || d.ro.Load() }

var (
	_ gofs.NodeLookuper       = (*dirNode)(nil)
	_ gofs.NodeOpendirHandler = (*dirNode)(nil)
	_ gofs.NodeGetattrer      = (*dirNode)(nil)
	_ gofs.NodeSetattrer      = (*dirNode)(nil)
	_ gofs.NodeMkdirer        = (*dirNode)(nil)
	_ gofs.NodeCreater        = (*dirNode)(nil)
	_ gofs.NodeUnlinker       = (*dirNode)(nil)
	_ gofs.NodeRmdirer        = (*dirNode)(nil)
	_ gofs.NodeRenamer        = (*dirNode)(nil)
	_ gofs.NodeStatfser       = (*dirNode)(nil)
	_ gofs.NodeAccesser       = (*dirNode)(nil)
	_ gofs.NodeFsyncer        = (*dirNode)(nil)
)

func (d *dirNode) isRoot() bool { return d == d.m.root }

func (d *dirNode) Access(ctx context.Context, mask uint32) syscall.Errno { return syscall.ENOSYS }

func (d *dirNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	ctx = d.m.ctx(ctx)
	p, ok := d.m.pathOf(&d.Inode)
	if !ok {
		return syscall.ENOENT
	}
	info, err := d.m.fsys.Stat(ctx, p)
	if err != nil {
		if p.IsRoot() {
			// A provider may know no record for its root; it exists.
			info = &fs.Info{Path: p, Kind: fs.KindDir}
		} else {
			return errno(err)
		}
	}
	if info.Kind != fs.KindDir {
		return syscall.ESTALE
	}
	d.ro.Store(info.ReadOnly)
	d.m.fillAttr(info, &out.Attr)
	return 0
}

// Setattr accepts and ignores mode, owner and time changes of directories.
func (d *dirNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	if _, ok := in.GetSize(); ok {
		return syscall.EISDIR
	}
	return d.Getattr(ctx, fh, out)
}

func (d *dirNode) Fsync(ctx context.Context, fh gofs.FileHandle, flags uint32) syscall.Errno {
	return 0
}

func (d *dirNode) Statfs(ctx context.Context, out *gofuse.StatfsOut) syscall.Errno {
	// ctxfs has no fixed capacity; report plenty, so that programs that
	// check free space before writing go ahead.
	const blocks = 1 << 40 / 4096
	out.Blocks, out.Bfree, out.Bavail = blocks, blocks, blocks
	out.Files, out.Ffree = 1<<32, 1<<32
	out.Bsize, out.Frsize = 4096, 4096
	out.NameLen = fs.MaxNameLen
	return 0
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.m.reserved(&d.Inode, name) {
		return d.m.viewInode(ctx, name, out), 0
	}
	ctx = d.m.ctx(ctx)
	p, en := d.m.join(&d.Inode, name)
	if en != 0 {
		return nil, en
	}
	info, err := d.m.fsys.Stat(ctx, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if ch := d.pendingChild(name); ch != nil {
				n := ch.Operations().(*fileNode)
				n.mu.Lock()
				n.attrLocked(&out.Attr)
				n.mu.Unlock()
				return ch, 0
			}
		}
		return nil, errno(err)
	}
	return d.m.childInode(ctx, &d.Inode, name, info, out), 0
}

// pendingChild returns the child inode name if it is a file created here
// and not yet committed.
func (d *dirNode) pendingChild(name string) *gofs.Inode {
	if d.m.pending.Load() == 0 {
		return nil
	}
	ch := d.GetChild(name)
	if ch == nil {
		return nil
	}
	if n, ok := ch.Operations().(*fileNode); ok && n.isPending() {
		return ch
	}
	return nil
}

// hasPending reports whether any child is a file not yet committed.
func (d *dirNode) hasPending() bool {
	if d.m.pending.Load() == 0 {
		return false
	}
	for _, ch := range d.Children() {
		if n, ok := ch.Operations().(*fileNode); ok && n.isPending() {
			return true
		}
	}
	return false
}

// exists reports whether name exists in d, as a committed or pending file.
func (d *dirNode) exists(ctx context.Context, p fs.Path, name string) (*fs.Info, syscall.Errno) {
	info, err := d.m.fsys.Stat(ctx, p)
	if err == nil {
		return info, 0
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, errno(err)
	}
	if d.pendingChild(name) != nil {
		return &fs.Info{Path: p, Kind: fs.KindFile}, 0
	}
	return nil, 0
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.readOnly() {
		return nil, syscall.EROFS
	}
	if d.m.reserved(&d.Inode, name) {
		return nil, syscall.EEXIST
	}
	ctx = d.m.ctx(ctx)
	p, en := d.m.join(&d.Inode, name)
	if en != 0 {
		return nil, en
	}
	if info, en := d.exists(ctx, p, name); en != 0 {
		return nil, en
	} else if info != nil {
		return nil, syscall.EEXIST
	}
	d.m.expectChange(fs.OpMkdir, p, "")
	if err := d.m.fsys.Mkdir(ctx, p); err != nil {
		d.m.unexpect(fs.OpMkdir, p, "")
		return nil, errno(err)
	}
	info := &fs.Info{Path: p, Kind: fs.KindDir, Modified: time.Now()}
	return d.m.childInode(ctx, &d.Inode, name, info, out), 0
}

func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if d.readOnly() {
		return nil, nil, 0, syscall.EROFS
	}
	if d.m.reserved(&d.Inode, name) {
		return nil, nil, 0, syscall.EEXIST
	}
	ctx = d.m.ctx(ctx)
	p, en := d.m.join(&d.Inode, name)
	if en != 0 {
		return nil, nil, 0, en
	}
	info, en := d.exists(ctx, p, name)
	if en != 0 {
		return nil, nil, 0, en
	}
	if info != nil {
		// Created through another door since the kernel looked.
		if flags&syscall.O_EXCL != 0 {
			return nil, nil, 0, syscall.EEXIST
		}
		if info.Kind == fs.KindDir {
			return nil, nil, 0, syscall.EISDIR
		}
		ch := d.m.childInode(ctx, &d.Inode, name, info, out)
		n, ok := ch.Operations().(*fileNode)
		if !ok {
			return nil, nil, 0, syscall.EIO
		}
		fh, fuseFlags, en := n.Open(ctx, flags)
		return ch, fh, fuseFlags, en
	}
	// The new file exists only here until its first commit (at close at
	// the latest), so that creating and writing a file makes exactly one
	// version.
	n := &fileNode{m: d.m, pending: true, dirty: true, mtime: time.Now(), lastPath: p, seq: true}
	n.buf = newBuffer(d.m.opts.MemoryBuffer, d.m.opts.TempDir)
	d.m.pending.Add(1)
	d.m.register(n)
	n.mu.Lock()
	h, _ := n.newHandle(ctx, flags&^syscall.O_TRUNC)
	n.attrLocked(&out.Attr)
	n.mu.Unlock()
	ch := d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG})
	return ch, h, 0, 0
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if d.readOnly() {
		return syscall.EROFS
	}
	if d.m.reserved(&d.Inode, name) {
		return syscall.EPERM
	}
	ctx = d.m.ctx(ctx)
	var fn *fileNode
	if ch := d.GetChild(name); ch != nil {
		fn, _ = ch.Operations().(*fileNode)
	}
	if fn != nil && fn.isPending() {
		fn.markUnlinked()
		return 0
	}
	p, en := d.m.join(&d.Inode, name)
	if en != 0 {
		return en
	}
	info, err := d.m.fsys.Stat(ctx, p)
	if err != nil {
		return errno(err)
	}
	if info.Kind == fs.KindDir {
		return syscall.EISDIR
	}
	if fn != nil {
		// Until it is marked, an open of the inode would read the path,
		// which is about to be gone.
		fn.mu.Lock()
		defer fn.mu.Unlock()
	}
	d.m.expectChange(fs.OpRemove, p, "")
	if err := d.m.fsys.Remove(ctx, p, false); err != nil {
		d.m.unexpect(fs.OpRemove, p, "")
		return errno(err)
	}
	if fn != nil {
		fn.markUnlinkedLocked()
	}
	return 0
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if d.readOnly() {
		return syscall.EROFS
	}
	if d.m.reserved(&d.Inode, name) {
		return syscall.EPERM
	}
	ctx = d.m.ctx(ctx)
	p, en := d.m.join(&d.Inode, name)
	if en != 0 {
		return en
	}
	info, err := d.m.fsys.Stat(ctx, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && d.pendingChild(name) != nil {
			return syscall.ENOTDIR
		}
		return errno(err)
	}
	if info.Kind != fs.KindDir {
		return syscall.ENOTDIR
	}
	if ch := d.GetChild(name); ch != nil {
		if sub, ok := ch.Operations().(*dirNode); ok && sub.hasPending() {
			return syscall.ENOTEMPTY
		}
	}
	d.m.expectChange(fs.OpRemove, p, "")
	if err := d.m.fsys.Remove(ctx, p, false); err != nil {
		d.m.unexpect(fs.OpRemove, p, "")
		return errno(err)
	}
	return 0
}

func (d *dirNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if d.readOnly() {
		return syscall.EROFS
	}
	if flags&^uint32(renameNoReplace) != 0 {
		// RENAME_EXCHANGE and RENAME_WHITEOUT have no counterpart in
		// the file system interface.
		return syscall.EINVAL
	}
	nd, ok := newParent.(*dirNode)
	if !ok {
		return syscall.EXDEV
	}
	if nd.readOnly() {
		return syscall.EROFS
	}
	if d.m.reserved(&d.Inode, name) || d.m.reserved(&nd.Inode, newName) {
		return syscall.EPERM
	}
	ctx = d.m.ctx(ctx)
	src, en := d.m.join(&d.Inode, name)
	if en != 0 {
		return en
	}
	dst, en := d.m.join(&nd.Inode, newName)
	if en != 0 {
		return en
	}
	var srcFile, dstFile *fileNode
	if ch := d.GetChild(name); ch != nil {
		srcFile, _ = ch.Operations().(*fileNode)
	}
	if ch := nd.GetChild(newName); ch != nil {
		dstFile, _ = ch.Operations().(*fileNode)
	}
	if srcFile != nil && srcFile.isPending() {
		// The file system can only move what it has.
		if err := srcFile.commit(ctx); err != nil {
			return errno(err)
		}
	}
	si, err := d.m.fsys.Stat(ctx, src)
	if err != nil {
		return errno(err)
	}
	di, en := nd.exists(ctx, dst, newName)
	if en != 0 {
		return en
	}
	if di != nil {
		if flags&renameNoReplace != 0 {
			return syscall.EEXIST
		}
		if src == dst {
			return 0
		}
		switch {
		case si.Kind == fs.KindFile && di.Kind == fs.KindDir:
			return syscall.EISDIR
		case si.Kind == fs.KindDir && di.Kind == fs.KindFile:
			return syscall.ENOTDIR
		case si.Kind == fs.KindDir && di.Kind == fs.KindDir:
			entries, err := d.m.fsys.List(ctx, dst)
			if err != nil {
				return errno(err)
			}
			if len(entries) > 0 {
				return syscall.ENOTEMPTY
			}
			if ch := nd.GetChild(newName); ch != nil {
				if sub, ok := ch.Operations().(*dirNode); ok && sub.hasPending() {
					return syscall.ENOTEMPTY
				}
			}
		}
	}
	if si.Kind == fs.KindDir && dst.Within(src) {
		return syscall.EINVAL
	}
	if dstFile != nil && dstFile != srcFile {
		// The replaced inode is marked gone in the same breath as the
		// rename, so that no open of it reads the new file at its path.
		dstFile.mu.Lock()
		defer dstFile.mu.Unlock()
	}
	d.m.expectChange(fs.OpRename, src, dst)
	if err := d.m.fsys.Rename(ctx, src, dst); err != nil {
		d.m.unexpect(fs.OpRename, src, dst)
		return errno(err)
	}
	d.m.moved(&d.Inode, name, src, dst)
	if dstFile != nil && dstFile != srcFile {
		dstFile.markUnlinkedLocked()
	}
	if srcFile != nil && srcFile != dstFile {
		srcFile.mu.Lock()
		srcFile.lastPath = dst
		srcFile.mu.Unlock()
	}
	return 0
}

// OpendirHandle lists the directory once per open, so that readdir and
// the lookups of readdirplus are served from one listing.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	ctx = d.m.ctx(ctx)
	p, ok := d.m.pathOf(&d.Inode)
	if !ok {
		return nil, 0, syscall.ENOENT
	}
	infos, err := d.m.fsys.List(ctx, p)
	if err != nil {
		return nil, 0, errno(err)
	}
	h := &dirHandle{d: d, infos: make(map[string]*fs.Info, len(infos))}
	h.entries = make([]gofuse.DirEntry, 0, len(infos)+2)
	h.entries = append(h.entries,
		gofuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR, Ino: d.StableAttr().Ino},
		gofuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR, Ino: 1})
	for _, info := range infos {
		name := info.Name()
		if d.m.reserved(&d.Inode, name) {
			continue
		}
		h.infos[name] = info
		h.entries = append(h.entries, d.entry(p, name, info.Kind))
	}
	if d.m.pending.Load() > 0 {
		for name, ch := range d.Children() {
			if _, listed := h.infos[name]; listed {
				continue
			}
			if n, ok := ch.Operations().(*fileNode); ok && n.isPending() {
				h.entries = append(h.entries, d.entry(p, name, fs.KindFile))
			}
		}
	}
	for i := range h.entries {
		h.entries[i].Off = uint64(i + 1)
	}
	return h, 0, 0
}

// entry makes a directory entry. Its inode number is the inode's when the
// tree holds one, else a stable number derived from the path: readdir
// needs a non-zero d_ino, and readdirplus reports the real one.
func (d *dirNode) entry(dir fs.Path, name string, kind fs.Kind) gofuse.DirEntry {
	mode := uint32(syscall.S_IFREG)
	if kind == fs.KindDir {
		mode = syscall.S_IFDIR
	}
	var ino uint64
	if ch := d.GetChild(name); ch != nil {
		ino = ch.StableAttr().Ino
	} else {
		h := fnv.New64a()
		h.Write([]byte(dir))
		h.Write([]byte{'/'})
		h.Write([]byte(name))
		ino = h.Sum64()&(1<<62-1) | 1<<62
	}
	return gofuse.DirEntry{Name: name, Mode: mode, Ino: ino}
}

// dirHandle is an open directory: one listing, read in order.
//
// Concurrency: go-fuse serializes the calls on one directory handle.
type dirHandle struct {
	d       *dirNode
	entries []gofuse.DirEntry
	infos   map[string]*fs.Info
	pos     int
}

var (
	_ gofs.FileReaddirenter = (*dirHandle)(nil)
	_ gofs.FileSeekdirer    = (*dirHandle)(nil)
	_ gofs.FileLookuper     = (*dirHandle)(nil)
	_ gofs.FileFsyncdirer   = (*dirHandle)(nil)
)

func (h *dirHandle) Readdirent(ctx context.Context) (*gofuse.DirEntry, syscall.Errno) {
	if h.pos >= len(h.entries) {
		return nil, 0
	}
	e := h.entries[h.pos]
	h.pos++
	return &e, 0
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off > uint64(len(h.entries)) {
		off = uint64(len(h.entries))
	}
	h.pos = int(off)
	return 0
}

func (h *dirHandle) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	info := h.infos[name]
	if info == nil {
		return h.d.Lookup(ctx, name, out)
	}
	if ch := h.d.GetChild(name); ch != nil {
		// The listing may be older than what the inode knows (a rename
		// since): a known inode keeps its own state, or is looked up
		// afresh when its kind differs.
		switch n := ch.Operations().(type) {
		case *fileNode:
			if info.Kind == fs.KindFile {
				n.mu.Lock()
				ok := !n.unlinked
				if ok {
					n.attrLocked(&out.Attr)
				}
				n.mu.Unlock()
				if ok {
					return ch, 0
				}
			}
		case *dirNode:
			if info.Kind == fs.KindDir {
				h.d.m.fillAttr(info, &out.Attr)
				return ch, 0
			}
		}
		return h.d.Lookup(ctx, name, out)
	}
	return h.d.m.childInode(ctx, &h.d.Inode, name, info, out), 0
}

func (h *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno { return 0 }

// renameNoReplace is RENAME_NOREPLACE of renameat2(2).
const renameNoReplace = 0x1
