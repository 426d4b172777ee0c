package fuse

import (
	"context"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/ctxfs/ctxfs/fs"
)

// pollInterval is how often the watcher reads the change log even without
// a notification, in case a provider's notifications get lost (a remote
// connection that dropped, say).
const pollInterval = time.Second

// startWatch subscribes to the change log and returns the goroutine that
// follows it. It reads the log's position before Mount returns, so no
// change made after Mount is missed.
func (m *mount) startWatch(ctx context.Context, done chan<- struct{}) func() {
	notify := m.watcher.Notify(ctx)
	since, err := m.watcher.LastSeq(ctx)
	if err != nil {
		m.log.Warn("ctxfs fuse: reading the change log", "err", err)
	}
	return func() { m.watch(ctx, notify, since, done) }
}

// watch follows the change log and invalidates what the kernel caches
// about paths changed through other doors, until ctx is done.
func (m *mount) watch(ctx context.Context, notify <-chan struct{}, since uint64, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-notify:
		case <-tick.C:
		}
		err := m.watcher.Changes(ctx, since, func(ev fs.Event) error {
			since = ev.Seq
			m.apply(ev)
			return nil
		})
		if err != nil && ctx.Err() == nil {
			m.log.Warn("ctxfs fuse: reading the change log", "err", err)
		}
	}
}

// apply invalidates the kernel's view of the paths ev changed, unless
// this mount made the change itself (then go-fuse's tree and the kernel
// already agree with it).
func (m *mount) apply(ev fs.Event) {
	if m.expected(ev) {
		return
	}
	switch ev.Op {
	case fs.OpWrite, fs.OpMeta:
		in := m.find(ev.Path)
		if in == nil {
			return
		}
		switch n := in.Operations().(type) {
		case *fileNode:
			n.forget()
			in.NotifyContent(0, 0) // attributes and every cached page
		case *dirNode:
			m.drop(ev.Path) // a file took a directory's place
		}
	case fs.OpMkdir:
		if in := m.find(ev.Path); in != nil {
			if _, ok := in.Operations().(*fileNode); ok {
				m.drop(ev.Path)
			}
		}
	case fs.OpRemove:
		m.drop(ev.Path)
	case fs.OpRename:
		m.drop(ev.Path)
		m.drop(ev.Dest)
	}
}

// find returns the inode of p if the tree holds one.
func (m *mount) find(p fs.Path) *gofs.Inode {
	in := m.root.EmbeddedInode()
	for i, e := range p.Elems() {
		if i == 0 && m.reserved(in, e) {
			return nil
		}
		if in = in.GetChild(e); in == nil {
			return nil
		}
	}
	return in
}

// drop makes the kernel and the tree forget the entry at p, so the next
// access looks it up afresh. Open files of a dropped entry keep reading
// what they read; their writes are no longer committed.
func (m *mount) drop(p fs.Path) {
	if p == "" || p.IsRoot() {
		return
	}
	parent := m.find(p.Dir())
	if parent == nil {
		return
	}
	name := p.Base()
	ch := parent.GetChild(name)
	if ch == nil {
		return
	}
	if n, ok := ch.Operations().(*fileNode); ok {
		if n.isPending() {
			return // it exists only here; the change was elsewhere
		}
		n.markUnlinked()
	}
	parent.NotifyDelete(name, ch)
	parent.RmChild(name)
}
