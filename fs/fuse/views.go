package fuse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ctxfs/ctxfs/fs"
)

// The virtual views are read-only directories in the root of the mount,
// built from the file system's capabilities on demand:
//
//	.history/<path>/<N>      version N of file <path> (fs.Versioner)
//	.search/<query>/<entry>  a symlink to each hit of <query> (fs.Searcher)
//
// They are not listed in the root, so that cp -r, tar, grep -r and git of
// the mount never descend into them; they are reached by name.

// virtualChild returns parent's child name when it is a view node that
// same accepts, else a new inode made by mk.
func virtualChild(ctx context.Context, parent *gofs.Inode, name string, same func(gofs.InodeEmbedder) bool, mk func() gofs.InodeEmbedder, mode uint32) *gofs.Inode {
	if ch := parent.GetChild(name); ch != nil && same(ch.Operations()) {
		return ch
	}
	return parent.NewInode(ctx, mk(), gofs.StableAttr{Mode: mode})
}

func (m *mount) viewAttr(a *gofuse.Attr, mode uint32) {
	a.Mode = mode
	a.Owner = gofuse.Owner{Uid: m.uid, Gid: m.gid}
	a.Nlink = 1
	if mode&syscall.S_IFMT == syscall.S_IFDIR {
		a.Nlink = 2
		a.Size = 4096
	}
	setTimes(a, m.started)
}

// viewInode returns the inode of view name in the root.
func (m *mount) viewInode(ctx context.Context, name string, out *gofuse.EntryOut) *gofs.Inode {
	m.viewAttr(&out.Attr, syscall.S_IFDIR|0o555)
	rootIn := m.root.EmbeddedInode()
	if name == HistoryDir {
		return virtualChild(ctx, rootIn, name,
			func(e gofs.InodeEmbedder) bool { _, ok := e.(*historyDir); return ok },
			func() gofs.InodeEmbedder { return &historyDir{m: m, p: fs.Root} }, syscall.S_IFDIR)
	}
	return virtualChild(ctx, rootIn, name,
		func(e gofs.InodeEmbedder) bool { _, ok := e.(*searchRoot); return ok },
		func() gofs.InodeEmbedder { return &searchRoot{m: m} }, syscall.S_IFDIR)
}

// historyDir mirrors directory p of the file system inside .history.
type historyDir struct {
	gofs.Inode
	m *mount
	p fs.Path
}

var (
	_ gofs.NodeLookuper   = (*historyDir)(nil)
	_ gofs.NodeReaddirer  = (*historyDir)(nil)
	_ gofs.NodeGetattrer  = (*historyDir)(nil)
	_ gofs.NodeLookuper   = (*historyFile)(nil)
	_ gofs.NodeReaddirer  = (*historyFile)(nil)
	_ gofs.NodeGetattrer  = (*historyFile)(nil)
	_ gofs.NodeOpener     = (*versionNode)(nil)
	_ gofs.NodeGetattrer  = (*versionNode)(nil)
	_ gofs.NodeLookuper   = (*searchRoot)(nil)
	_ gofs.NodeReaddirer  = (*searchRoot)(nil)
	_ gofs.NodeGetattrer  = (*searchRoot)(nil)
	_ gofs.NodeLookuper   = (*searchDir)(nil)
	_ gofs.NodeReaddirer  = (*searchDir)(nil)
	_ gofs.NodeGetattrer  = (*searchDir)(nil)
	_ gofs.NodeReadlinker = (*searchLink)(nil)
	_ gofs.NodeGetattrer  = (*searchLink)(nil)
)

func (h *historyDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	h.m.viewAttr(&out.Attr, syscall.S_IFDIR|0o555)
	return 0
}

func (h *historyDir) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = h.m.ctx(ctx)
	p, err := h.p.Join(name)
	if err != nil {
		return nil, syscall.ENOENT
	}
	info, err := h.m.fsys.Stat(ctx, p)
	if err != nil {
		return nil, errno(err)
	}
	h.m.viewAttr(&out.Attr, syscall.S_IFDIR|0o555)
	if info.Kind == fs.KindDir {
		return virtualChild(ctx, &h.Inode, name,
			func(e gofs.InodeEmbedder) bool { _, ok := e.(*historyDir); return ok },
			func() gofs.InodeEmbedder { return &historyDir{m: h.m, p: p} }, syscall.S_IFDIR), 0
	}
	return virtualChild(ctx, &h.Inode, name,
		func(e gofs.InodeEmbedder) bool { _, ok := e.(*historyFile); return ok },
		func() gofs.InodeEmbedder { return &historyFile{m: h.m, p: p} }, syscall.S_IFDIR), 0
}

func (h *historyDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	infos, err := h.m.fsys.List(h.m.ctx(ctx), h.p)
	if err != nil {
		return nil, errno(err)
	}
	entries := make([]gofuse.DirEntry, 0, len(infos))
	for _, info := range infos {
		if h.p.IsRoot() && h.m.reserved(h.m.root.EmbeddedInode(), info.Name()) {
			continue
		}
		// Files are directories of versions here.
		entries = append(entries, gofuse.DirEntry{Name: info.Name(), Mode: syscall.S_IFDIR})
	}
	return gofs.NewListDirStream(entries), 0
}

// historyFile lists the versions of file p.
type historyFile struct {
	gofs.Inode
	m *mount
	p fs.Path
}

func (h *historyFile) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	h.m.viewAttr(&out.Attr, syscall.S_IFDIR|0o555)
	return 0
}

func (h *historyFile) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	log, err := h.m.versioner.Log(h.m.ctx(ctx), h.p)
	if err != nil {
		return nil, errno(err)
	}
	entries := make([]gofuse.DirEntry, 0, len(log))
	for i := len(log) - 1; i >= 0; i-- {
		entries = append(entries, gofuse.DirEntry{Name: strconv.FormatInt(log[i].Version, 10), Mode: syscall.S_IFREG})
	}
	return gofs.NewListDirStream(entries), 0
}

func (h *historyFile) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	v, err := strconv.ParseInt(name, 10, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 10) != name {
		return nil, syscall.ENOENT
	}
	ctx = h.m.ctx(ctx)
	log, err := h.m.versioner.Log(ctx, h.p)
	if err != nil {
		return nil, errno(err)
	}
	for _, ver := range log {
		if ver.Version != v {
			continue
		}
		vn := &versionNode{m: h.m, p: h.p, v: ver}
		vn.fill(&out.Attr)
		return virtualChild(ctx, &h.Inode, name,
			func(e gofs.InodeEmbedder) bool {
				o, ok := e.(*versionNode)
				return ok && o.v == ver
			},
			func() gofs.InodeEmbedder { return vn }, syscall.S_IFREG), 0
	}
	return nil, syscall.ENOENT
}

// versionNode is one stored version of a file: immutable, so the kernel
// may keep its pages for as long as it likes.
type versionNode struct {
	gofs.Inode
	m *mount
	p fs.Path
	v fs.Version
}

func (vn *versionNode) fill(a *gofuse.Attr) {
	vn.m.viewAttr(a, syscall.S_IFREG|0o444)
	a.Size = uint64(vn.v.Size)
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = blockSize
	setTimes(a, timeOr(vn.v.Time, vn.m.started))
}

func (vn *versionNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	vn.fill(&out.Attr)
	return 0
}

func (vn *versionNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EROFS
	}
	f, err := vn.m.versioner.OpenVersion(vn.m.ctx(ctx), vn.p, vn.v.Version)
	if err != nil {
		return nil, 0, errno(err)
	}
	return &readHandle{f: f}, gofuse.FOPEN_KEEP_CACHE, 0
}

// readHandle reads an fs.File opened for good.
type readHandle struct {
	f fs.File
}

var (
	_ gofs.FileReader   = (*readHandle)(nil)
	_ gofs.FileReleaser = (*readHandle)(nil)
)

func (r *readHandle) Read(ctx context.Context, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	n, err := r.f.ReadAt(dest, off)
	if err != nil && err != io.EOF {
		return nil, errno(err)
	}
	return gofuse.ReadResultData(dest[:n]), 0
}

func (r *readHandle) Release(ctx context.Context) syscall.Errno {
	return errno(r.f.Close())
}

// searchRoot is .search: any name in it is a query.
type searchRoot struct {
	gofs.Inode
	m *mount
}

func (s *searchRoot) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	s.m.viewAttr(&out.Attr, syscall.S_IFDIR|0o555)
	return 0
}

// Readdir lists nothing: queries are not stored anywhere.
func (s *searchRoot) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	return gofs.NewListDirStream(nil), 0
}

func (s *searchRoot) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	s.m.viewAttr(&out.Attr, syscall.S_IFDIR|0o555)
	return virtualChild(ctx, &s.Inode, name,
		func(e gofs.InodeEmbedder) bool { _, ok := e.(*searchDir); return ok },
		func() gofs.InodeEmbedder { return &searchDir{m: s.m, query: name} }, syscall.S_IFDIR), 0
}

// searchDir lists the hits of one query, searched afresh on every listing.
type searchDir struct {
	gofs.Inode
	m     *mount
	query string
}

func (s *searchDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	s.m.viewAttr(&out.Attr, syscall.S_IFDIR|0o555)
	return 0
}

func (s *searchDir) hits(ctx context.Context) ([]fs.Hit, syscall.Errno) {
	hits, err := s.m.searcher.Search(s.m.ctx(ctx), fs.Query{Text: s.query, Limit: s.m.opts.SearchLimit})
	if err != nil {
		return nil, errno(err)
	}
	return hits, 0
}

func (s *searchDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	hits, en := s.hits(ctx)
	if en != 0 {
		return nil, en
	}
	entries := make([]gofuse.DirEntry, 0, len(hits))
	seen := make(map[string]bool, len(hits))
	for _, h := range hits {
		name := SearchEntryName(h.Path)
		if seen[name] {
			continue
		}
		seen[name] = true
		entries = append(entries, gofuse.DirEntry{Name: name, Mode: syscall.S_IFLNK})
	}
	return gofs.NewListDirStream(entries), 0
}

func (s *searchDir) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	hits, en := s.hits(ctx)
	if en != 0 {
		return nil, en
	}
	for _, h := range hits {
		if SearchEntryName(h.Path) != name {
			continue
		}
		target := "../../" + strings.TrimPrefix(string(h.Path), "/")
		l := &searchLink{m: s.m, target: target}
		l.fill(&out.Attr)
		return virtualChild(ctx, &s.Inode, name,
			func(e gofs.InodeEmbedder) bool { o, ok := e.(*searchLink); return ok && o.target == target },
			func() gofs.InodeEmbedder { return l }, syscall.S_IFLNK), 0
	}
	return nil, syscall.ENOENT
}

// SearchEntryName is the name of the entry for a hit at p in a .search
// directory: the path without its leading slash, with "%" written "%25"
// and "/" written "%2F", so names are unique, reversible and valid. A name
// that would pass 255 bytes keeps its first 200 and a hash of the rest.
func SearchEntryName(p fs.Path) string {
	s := strings.TrimPrefix(string(p), "/")
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "/", "%2F")
	if len(s) <= fs.MaxNameLen {
		return s
	}
	sum := sha256.Sum256([]byte(p))
	cut := 200
	for cut > 0 && s[cut]&0xC0 == 0x80 { // keep UTF-8 whole
		cut--
	}
	return s[:cut] + "~" + hex.EncodeToString(sum[:8])
}

// searchLink points from a .search directory to the file of a hit.
type searchLink struct {
	gofs.Inode
	m      *mount
	target string
}

func (l *searchLink) fill(a *gofuse.Attr) {
	l.m.viewAttr(a, syscall.S_IFLNK|0o777)
	a.Size = uint64(len(l.target))
}

func (l *searchLink) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	l.fill(&out.Attr)
	return 0
}

func (l *searchLink) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	return []byte(l.target), 0
}
