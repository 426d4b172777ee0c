package fuse

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ctxfs/ctxfs/fs"
)

// mount is the state shared by all nodes of one mounted file system.
type mount struct {
	fsys     fs.FS
	opts     Options
	uid, gid uint32
	started  time.Time
	base     context.Context // of every request: carries the principal
	root     *dirNode
	log      *slog.Logger

	versioner  fs.Versioner  // nil without history
	searcher   fs.Searcher   // nil without search
	metaSetter fs.MetaSetter // nil without user metadata
	watcher    fs.Watcher    // nil without a change log

	// pending counts created files not yet committed, so directory
	// listings only look for them when there are any.
	pending atomic.Int64

	// streamCommits counts commits made through a stream (for tests).
	streamCommits atomic.Int64

	// openMu guards open: the file nodes that hold a write buffer, so
	// that Unmount can commit them.
	openMu sync.Mutex
	open   map[*fileNode]struct{}

	// movesMu guards moves: renames done in the file system whose move in
	// go-fuse's tree has not happened yet (go-fuse moves the node after
	// Rename returns), so that paths computed meanwhile are the new ones.
	movesMu sync.Mutex
	moves   []move
	nmoves  atomic.Int32

	// expectMu guards expect: the changes this mount is making, so the
	// watcher does not invalidate what the kernel already knows.
	expectMu sync.Mutex
	expect   map[expectKey]expectation
}

// move is a rename whose tree update is pending while node is still the
// child name of parent.
type move struct {
	src, dst fs.Path
	parent   *gofs.Inode
	name     string
	node     *gofs.Inode
}

// moved records a rename of node (child name of parent) from src to dst.
func (m *mount) moved(parent *gofs.Inode, name string, src, dst fs.Path) {
	node := parent.GetChild(name)
	if node == nil {
		return
	}
	m.movesMu.Lock()
	m.moves = append(m.moves, move{src, dst, parent, name, node})
	m.nmoves.Store(int32(len(m.moves)))
	m.movesMu.Unlock()
}

// rebase rewrites p, computed from the tree, for renames whose tree update
// is still pending, and forgets those that are done.
func (m *mount) rebase(p fs.Path) fs.Path {
	m.movesMu.Lock()
	defer m.movesMu.Unlock()
	kept := m.moves[:0]
	for _, mv := range m.moves {
		if mv.parent.GetChild(mv.name) != mv.node {
			continue // go-fuse has moved it
		}
		kept = append(kept, mv)
		if rel, ok := p.Rel(mv.src); ok {
			p = rel.Under(mv.dst)
		}
	}
	clear(m.moves[len(kept):])
	m.moves = kept
	m.nmoves.Store(int32(len(kept)))
	return p
}

type expectKey struct {
	op       fs.Op
	src, dst fs.Path
}

type expectation struct {
	n    int
	when time.Time
}

// expectTTL bounds how long an expected change waits for its event; a
// provider that logs nothing for a change must not hide a later one.
const expectTTL = 10 * time.Second

func (m *mount) expectChange(op fs.Op, src, dst fs.Path) {
	if m.watcher == nil {
		return
	}
	if op == fs.OpMeta {
		op = fs.OpWrite
	}
	k := expectKey{op, src, dst}
	m.expectMu.Lock()
	e := m.expect[k]
	e.n++
	e.when = time.Now()
	m.expect[k] = e
	m.expectMu.Unlock()
}

// unexpect withdraws an expectation after the change failed.
func (m *mount) unexpect(op fs.Op, src, dst fs.Path) {
	if m.watcher == nil {
		return
	}
	if op == fs.OpMeta {
		op = fs.OpWrite
	}
	k := expectKey{op, src, dst}
	m.expectMu.Lock()
	if e, ok := m.expect[k]; ok {
		if e.n--; e.n <= 0 {
			delete(m.expect, k)
		} else {
			m.expect[k] = e
		}
	}
	m.expectMu.Unlock()
}

// expected reports whether ev is a change this mount made, consuming the
// expectation.
func (m *mount) expected(ev fs.Event) bool {
	op := ev.Op
	if op == fs.OpMeta {
		op = fs.OpWrite
	}
	k := expectKey{op, ev.Path, ev.Dest}
	m.expectMu.Lock()
	defer m.expectMu.Unlock()
	e, ok := m.expect[k]
	if !ok {
		return false
	}
	if e.n--; e.n <= 0 {
		delete(m.expect, k)
	} else {
		m.expect[k] = e
	}
	if len(m.expect) > 1024 {
		now := time.Now()
		for k, e := range m.expect {
			if now.Sub(e.when) > expectTTL {
				delete(m.expect, k)
			}
		}
	}
	return time.Since(e.when) <= expectTTL
}

// ctx returns the context a request to the file system runs in: the
// mount's principal, but not the request's cancellation. The kernel interrupts requests for any signal, SIGURG of
// the Go runtime included, and a commit must not fail because the writer
// was preempted.
//
// The request's own values (the calling process) mean nothing to a
// provider, so every request shares one context made at mount time, which
// costs nothing per request.
func (m *mount) ctx(context.Context) context.Context {
	return m.base
}

// pathOf returns the ctxfs path of in from its place in the tree, and
// false if in is no longer connected to the root (it was removed).
func (m *mount) pathOf(in *gofs.Inode) (fs.Path, bool) {
	var elems []string
	rootIn := m.root.EmbeddedInode()
	for p := in; p != rootIn; {
		name, parent := p.Parent()
		if parent == nil {
			return "", false
		}
		elems = append(elems, name)
		p = parent
	}
	if len(elems) == 0 {
		return fs.Root, true
	}
	n := 0
	for _, e := range elems {
		n += len(e) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for i := len(elems) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(elems[i])
	}
	p := fs.Path(b.String())
	if m.nmoves.Load() > 0 {
		p = m.rebase(p)
	}
	return p, true
}

// join returns the path of name in the directory at in.
func (m *mount) join(in *gofs.Inode, name string) (fs.Path, syscall.Errno) {
	dir, ok := m.pathOf(in)
	if !ok {
		return "", syscall.ENOENT
	}
	if len(name) > fs.MaxNameLen {
		return "", syscall.ENAMETOOLONG
	}
	p, err := dir.Join(name)
	if err != nil {
		if len(dir)+1+len(name) > fs.MaxPathLen {
			return "", syscall.ENAMETOOLONG
		}
		return "", syscall.EINVAL
	}
	return p, 0
}

// reserved reports whether name in directory in is one of the views.
func (m *mount) reserved(in *gofs.Inode, name string) bool {
	if m.opts.NoViews || in != m.root.EmbeddedInode() {
		return false
	}
	return (name == HistoryDir && m.versioner != nil) || (name == SearchDir && m.searcher != nil)
}

func timeOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func setTimes(a *gofuse.Attr, t time.Time) {
	a.SetTimes(&t, &t, &t)
}

// fillAttr fills a from info, the node kind and the mount's settings.
func (m *mount) fillAttr(info *fs.Info, a *gofuse.Attr) {
	ro := m.opts.ReadOnly || info.ReadOnly
	a.Owner = gofuse.Owner{Uid: m.uid, Gid: m.gid}
	a.Blksize = blockSize
	if info.Kind == fs.KindDir {
		a.Mode = syscall.S_IFDIR | 0o755
		if ro {
			a.Mode = syscall.S_IFDIR | 0o555
		}
		a.Nlink = 2
		a.Size = 4096
		a.Blocks = 8
	} else {
		a.Mode = syscall.S_IFREG | 0o644
		if ro {
			a.Mode = syscall.S_IFREG | 0o444
		}
		a.Nlink = 1
		a.Size = uint64(info.Size)
		a.Blocks = (a.Size + 511) / 512
	}
	setTimes(a, timeOr(info.Modified, m.started))
}

// blockSize is the st_blksize of every file: programs such as cp size
// their I/O by it, and large requests cost fewer trips through the kernel.
const blockSize = 128 << 10

// childInode returns the inode for child name of parent described by
// info, reusing the one the tree already holds when it is of the same
// kind, so that a file keeps one inode (and its write buffer and page
// cache) however often the kernel looks it up.
func (m *mount) childInode(ctx context.Context, parent *gofs.Inode, name string, info *fs.Info, out *gofuse.EntryOut) *gofs.Inode {
	if ch := parent.GetChild(name); ch != nil {
		switch n := ch.Operations().(type) {
		case *fileNode:
			if info.Kind == fs.KindFile && n.lookedUp(info, &out.Attr) {
				return ch
			}
		case *dirNode:
			if info.Kind == fs.KindDir {
				n.ro.Store(info.ReadOnly)
				m.fillAttr(info, &out.Attr)
				return ch
			}
		}
	}
	if info.Kind == fs.KindDir {
		m.fillAttr(info, &out.Attr)
		d := &dirNode{m: m}
		d.ro.Store(info.ReadOnly)
		return parent.NewInode(ctx, d, gofs.StableAttr{Mode: syscall.S_IFDIR})
	}
	n := &fileNode{m: m}
	n.lookedUp(info, &out.Attr)
	return parent.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG})
}

// register and unregister track the file nodes that hold a write buffer.
func (m *mount) register(n *fileNode) {
	m.openMu.Lock()
	m.open[n] = struct{}{}
	m.openMu.Unlock()
}

func (m *mount) unregister(n *fileNode) {
	m.openMu.Lock()
	delete(m.open, n)
	m.openMu.Unlock()
}

// commitAll commits every buffer with uncommitted writes, for Unmount.
func (m *mount) commitAll(ctx context.Context) error {
	m.openMu.Lock()
	nodes := make([]*fileNode, 0, len(m.open))
	for n := range m.open {
		nodes = append(nodes, n)
	}
	m.openMu.Unlock()
	var first error
	for _, n := range nodes {
		if err := n.commit(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func currentIDs() (uint32, uint32) {
	return uint32(os.Getuid()), uint32(os.Getgid())
}
