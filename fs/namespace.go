package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// MountPoint describes one provider mounted in a Namespace.
type MountPoint struct {
	At Path // where the provider's root appears
	FS FS
}

// NamespaceOptions configure a Namespace. The zero value has no search and
// the default policy.
type NamespaceOptions struct {
	// Searcher answers Search for the whole namespace; its hits carry
	// namespace paths. Nil makes Search fail with ErrNotSupported.
	Searcher Searcher
	// Policy is the initial access policy; nil means the default rules.
	Policy *Policy
}

// Namespace is the mount table: it routes each path to the provider mounted
// at its longest matching prefix, lists mount points in their parent
// directories, and checks access before any provider is called, so every
// door enforces the same policy.
//
// A request must carry a Principal (WithPrincipal); one without is refused
// with ErrPermission. A Namespace is safe for concurrent use; Mount and
// Unmount may run while requests are served.
type Namespace struct {
	root     FS
	searcher Searcher
	policy   atomic.Pointer[Policy]

	// mu guards mounts, which is sorted by decreasing path length so the
	// first match is the longest prefix.
	mu     sync.RWMutex
	mounts []MountPoint
}

var (
	_ FS         = (*Namespace)(nil)
	_ Versioner  = (*Namespace)(nil)
	_ Searcher   = (*Namespace)(nil)
	_ MetaSetter = (*Namespace)(nil)
	_ Watcher    = (*Namespace)(nil)
)

// NewNamespace returns a namespace whose root is served by root.
func NewNamespace(root FS, opts NamespaceOptions) *Namespace {
	n := &Namespace{root: root, searcher: opts.Searcher}
	n.SetPolicy(opts.Policy)
	return n
}

// SetPolicy replaces the access policy; nil restores the default rules.
func (n *Namespace) SetPolicy(p *Policy) {
	if p == nil {
		p = &Policy{}
	}
	n.policy.Store(p)
}

// Policy returns the access policy in force.
func (n *Namespace) Policy() *Policy { return n.policy.Load() }

// Mount mounts f at at. The root cannot be mounted over, and a path can
// hold one mount; mounts may nest.
func (n *Namespace) Mount(at Path, f FS) error {
	if at == "" || at.IsRoot() {
		return &PathError{Op: "mount", Path: string(at), Err: fmt.Errorf("%w: cannot mount over the root", ErrInvalid)}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.mounts {
		if m.At == at {
			return &PathError{Op: "mount", Path: string(at), Err: fmt.Errorf("%w: already a mount point", ErrExist)}
		}
	}
	n.mounts = append(n.mounts, MountPoint{At: at, FS: f})
	sort.SliceStable(n.mounts, func(i, j int) bool { return len(n.mounts[i].At) > len(n.mounts[j].At) })
	return nil
}

// Unmount removes the mount at at.
func (n *Namespace) Unmount(at Path) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, m := range n.mounts {
		if m.At == at {
			n.mounts = slices.Delete(n.mounts, i, i+1)
			return nil
		}
	}
	return &PathError{Op: "unmount", Path: string(at), Err: fmt.Errorf("%w: not a mount point", ErrNotExist)}
}

// Mounts returns the mount points, sorted by path.
func (n *Namespace) Mounts() []MountPoint {
	n.mu.RLock()
	out := slices.Clone(n.mounts)
	n.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// Root returns the provider of the namespace root.
func (n *Namespace) Root() FS { return n.root }

// resolve returns the provider of p, p relative to that provider, and
// where the provider is mounted.
func (n *Namespace) resolve(p Path) (FS, Path, Path) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, m := range n.mounts {
		if rel, ok := p.Rel(m.At); ok {
			return m.FS, rel, m.At
		}
	}
	return n.root, p, Root
}

// mountsBelow returns the mount points strictly below dir.
func (n *Namespace) mountsBelow(dir Path) []Path {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []Path
	for _, m := range n.mounts {
		if m.At != dir && m.At.Within(dir) {
			out = append(out, m.At)
		}
	}
	return out
}

func (n *Namespace) principal(ctx context.Context, op string, p Path) (Principal, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return pr, &PathError{Op: op, Path: string(p), Err: fmt.Errorf("%w: request has no principal", ErrPermission)}
	}
	return pr, nil
}

// check verifies that the request's principal holds perm on p.
func (n *Namespace) check(ctx context.Context, op string, p Path, perm Perm) error {
	pr, err := n.principal(ctx, op, p)
	if err != nil {
		return err
	}
	if !n.Policy().Allowed(pr, p, perm) {
		return &PathError{Op: op, Path: string(p), Err: fmt.Errorf("%w: %s may not %s here", ErrPermission, pr.Name, permVerb(perm))}
	}
	return nil
}

func permVerb(p Perm) string {
	switch p {
	case PermRead:
		return "read"
	case PermWrite:
		return "write"
	case PermExec:
		return "execute"
	}
	return "access (" + p.String() + ")"
}

// canSee reports whether the principal may see p in a listing or stat: it
// may read it, or p is a directory on the way to something it may read.
func (n *Namespace) canSee(pr Principal, p Path, isDir bool) bool {
	return n.canSeeWith(n.Policy(), pr, p, isDir)
}

func (n *Namespace) canSeeWith(pol *Policy, pr Principal, p Path, isDir bool) bool {
	if pol.Allowed(pr, p, PermRead) {
		return true
	}
	return isDir && pol.Traversable(pr, p)
}

// wrapAt wraps err for op on p; a *PathError from a provider mounted at at
// names a provider path, which is rewritten into the namespace path.
func wrapAt(op string, p, at Path, err error) error {
	if err == nil {
		return nil
	}
	var pe *PathError
	if !at.IsRoot() && errors.As(err, &pe) {
		rel, perr := Parse(pe.Path)
		if perr == nil {
			return &PathError{Op: pe.Op, Path: string(rel.Under(at)), Err: pe.Err}
		}
	}
	return Wrap(op, p, err)
}

// rebase rewrites an Info from a provider mounted at at into namespace terms.
func rebase(info *Info, at Path) *Info {
	if at.IsRoot() {
		return info
	}
	c := info.Clone()
	c.Path = info.Path.Under(at)
	return c
}

// Stat implements FS.
func (n *Namespace) Stat(ctx context.Context, p Path) (*Info, error) {
	pr, err := n.principal(ctx, "stat", p)
	if err != nil {
		return nil, err
	}
	info, err := n.stat(ctx, p)
	if err != nil {
		return nil, err
	}
	if !n.canSee(pr, p, info.IsDir()) {
		return nil, &PathError{Op: "stat", Path: string(p), Err: fmt.Errorf("%w: %s may not read here", ErrPermission, pr.Name)}
	}
	return info, nil
}

func (n *Namespace) stat(ctx context.Context, p Path) (*Info, error) {
	f, rel, at := n.resolve(p)
	info, err := f.Stat(ctx, rel)
	if err == nil {
		return rebase(info, at), nil
	}
	if IsNotExist(err) && len(n.mountsBelow(p)) > 0 {
		// A directory that exists only because mounts lie below it.
		return &Info{Path: p, Kind: KindDir, ReadOnly: true}, nil
	}
	return nil, wrapAt("stat", p, at, err)
}

// IsNotExist reports whether err wraps ErrNotExist.
func IsNotExist(err error) bool { return err != nil && errors.Is(err, ErrNotExist) }

// List implements FS. Mount points appear in their parent directory, and
// entries the principal may not see are left out.
func (n *Namespace) List(ctx context.Context, p Path) ([]*Info, error) {
	pr, err := n.principal(ctx, "list", p)
	if err != nil {
		return nil, err
	}
	if !n.canSee(pr, p, true) {
		return nil, &PathError{Op: "list", Path: string(p), Err: fmt.Errorf("%w: %s may not read here", ErrPermission, pr.Name)}
	}
	f, rel, at := n.resolve(p)
	entries, err := f.List(ctx, rel)
	below := n.mountsBelow(p)
	if err != nil {
		if !(IsNotExist(err) && len(below) > 0) {
			return nil, wrapAt("list", p, at, err)
		}
		entries = nil
	}
	pol := n.Policy()
	if len(below) == 0 {
		// The common case: no mount points here, so the provider's sorted
		// listing only needs rebasing and filtering, in place.
		out := entries[:0]
		for _, e := range entries {
			e = rebase(e, at)
			if pr.Admin || n.canSeeWith(pol, pr, e.Path, e.IsDir()) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	byName := make(map[string]*Info, len(entries)+len(below))
	for _, e := range entries {
		e = rebase(e, at)
		byName[e.Name()] = e
	}
	// Mount points (or directories leading to them) directly in p.
	for _, m := range below {
		rel, _ := m.Rel(p)
		name := rel.Elems()[0]
		child := p.Child(name)
		if child == m {
			mf, mrel, mat := n.resolve(m)
			if info, err := mf.Stat(ctx, mrel); err == nil {
				byName[name] = rebase(info, mat)
				continue
			}
		}
		if _, ok := byName[name]; !ok {
			byName[name] = &Info{Path: child, Kind: KindDir, ReadOnly: true}
		}
	}
	out := make([]*Info, 0, len(byName))
	for _, e := range byName {
		if pr.Admin || n.canSeeWith(pol, pr, e.Path, e.IsDir()) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Open implements FS.
func (n *Namespace) Open(ctx context.Context, p Path) (File, error) {
	if err := n.check(ctx, "open", p, PermRead); err != nil {
		return nil, err
	}
	f, rel, at := n.resolve(p)
	file, err := f.Open(ctx, rel)
	if err != nil {
		return nil, wrapAt("open", p, at, err)
	}
	return rebasedFile{file, at}, nil
}

// rebasedFile reports namespace paths from Stat.
type rebasedFile struct {
	File
	at Path
}

func (f rebasedFile) Stat() *Info { return rebase(f.File.Stat(), f.at) }

// Write implements FS.
func (n *Namespace) Write(ctx context.Context, p Path, r io.Reader, opts WriteOptions) (*Info, error) {
	if err := n.check(ctx, "write", p, PermWrite); err != nil {
		return nil, err
	}
	if err := n.notMountPoint("write", p); err != nil {
		return nil, err
	}
	f, rel, at := n.resolve(p)
	info, err := f.Write(ctx, rel, r, opts)
	if err != nil {
		return nil, wrapAt("write", p, at, err)
	}
	return rebase(info, at), nil
}

// Mkdir implements FS.
func (n *Namespace) Mkdir(ctx context.Context, p Path) error {
	if err := n.check(ctx, "mkdir", p, PermWrite); err != nil {
		return err
	}
	f, rel, at := n.resolve(p)
	if rel.IsRoot() {
		return nil // a mount point is a directory already
	}
	return wrapAt("mkdir", p, at, f.Mkdir(ctx, rel))
}

// notMountPoint refuses changes to a mount point itself or to a tree that
// contains one.
func (n *Namespace) notMountPoint(op string, p Path) error {
	_, rel, _ := n.resolve(p)
	if rel.IsRoot() || len(n.mountsBelow(p)) > 0 {
		return &PathError{Op: op, Path: string(p), Err: fmt.Errorf("%w: is or contains a mount point", ErrInvalid)}
	}
	return nil
}

// Remove implements FS.
func (n *Namespace) Remove(ctx context.Context, p Path, recursive bool) error {
	if err := n.check(ctx, "remove", p, PermWrite); err != nil {
		return err
	}
	if p.IsRoot() {
		return &PathError{Op: "remove", Path: string(p), Err: fmt.Errorf("%w: cannot remove the root", ErrInvalid)}
	}
	if err := n.notMountPoint("remove", p); err != nil {
		return err
	}
	f, rel, at := n.resolve(p)
	return wrapAt("remove", p, at, f.Remove(ctx, rel, recursive))
}

// Rename implements FS. Both paths must be served by the same provider.
func (n *Namespace) Rename(ctx context.Context, src, dst Path) error {
	if err := n.check(ctx, "rename", src, PermWrite); err != nil {
		return err
	}
	if err := n.check(ctx, "rename", dst, PermWrite); err != nil {
		return err
	}
	for _, p := range []Path{src, dst} {
		if p.IsRoot() {
			return &PathError{Op: "rename", Path: string(p), Err: fmt.Errorf("%w: cannot rename the root", ErrInvalid)}
		}
		if err := n.notMountPoint("rename", p); err != nil {
			return err
		}
	}
	sf, srel, sat := n.resolve(src)
	_, drel, dat := n.resolve(dst)
	if sat != dat {
		return &PathError{Op: "rename", Path: string(src), Err: fmt.Errorf("%w: %s and %s are on different mounts", ErrNotSupported, src, dst)}
	}
	return wrapAt("rename", src, sat, sf.Rename(ctx, srel, drel))
}

// Log implements Versioner for providers that keep history.
func (n *Namespace) Log(ctx context.Context, p Path) ([]Version, error) {
	if err := n.check(ctx, "log", p, PermRead); err != nil {
		return nil, err
	}
	f, rel, at := n.resolve(p)
	v, ok := f.(Versioner)
	if !ok {
		return nil, &PathError{Op: "log", Path: string(p), Err: fmt.Errorf("%w: this mount keeps no history", ErrNotSupported)}
	}
	vs, err := v.Log(ctx, rel)
	return vs, wrapAt("log", p, at, err)
}

// OpenVersion implements Versioner.
func (n *Namespace) OpenVersion(ctx context.Context, p Path, version int64) (File, error) {
	if err := n.check(ctx, "open", p, PermRead); err != nil {
		return nil, err
	}
	f, rel, at := n.resolve(p)
	v, ok := f.(Versioner)
	if !ok {
		return nil, &PathError{Op: "open", Path: string(p), Err: fmt.Errorf("%w: this mount keeps no history", ErrNotSupported)}
	}
	file, err := v.OpenVersion(ctx, rel, version)
	if err != nil {
		return nil, wrapAt("open", p, at, err)
	}
	return rebasedFile{file, at}, nil
}

// SetMeta implements MetaSetter.
func (n *Namespace) SetMeta(ctx context.Context, p Path, changes map[string]*string) (*Info, error) {
	if err := n.check(ctx, "setmeta", p, PermWrite); err != nil {
		return nil, err
	}
	f, rel, at := n.resolve(p)
	m, ok := f.(MetaSetter)
	if !ok {
		return nil, &PathError{Op: "setmeta", Path: string(p), Err: fmt.Errorf("%w: this mount has no user metadata", ErrNotSupported)}
	}
	info, err := m.SetMeta(ctx, rel, changes)
	if err != nil {
		return nil, wrapAt("setmeta", p, at, err)
	}
	return rebase(info, at), nil
}

// Search implements Searcher over the whole namespace; hits the principal
// may not read are dropped.
func (n *Namespace) Search(ctx context.Context, q Query) ([]Hit, error) {
	under := q.Under
	if under == "" {
		under = Root
	}
	pr, err := n.principal(ctx, "search", under)
	if err != nil {
		return nil, err
	}
	if n.searcher == nil {
		return nil, &PathError{Op: "search", Path: string(under), Err: fmt.Errorf("%w: no search index", ErrNotSupported)}
	}
	if !n.canSee(pr, under, true) {
		return nil, &PathError{Op: "search", Path: string(under), Err: fmt.Errorf("%w: %s may not read here", ErrPermission, pr.Name)}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	pol := n.Policy()
	if pr.Admin {
		return n.searcher.Search(ctx, q)
	}
	// Ask for more than the limit so that filtering still fills it.
	q.Limit = limit * 4
	hits, err := n.searcher.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	out := hits[:0]
	for _, h := range hits {
		if pol.Allowed(pr, h.Path, PermRead) {
			out = append(out, h)
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// Changes implements Watcher with the root provider's change log, keeping
// only events the request's principal may read.
func (n *Namespace) Changes(ctx context.Context, since uint64, fn func(Event) error) error {
	pr, err := n.principal(ctx, "changes", Root)
	if err != nil {
		return err
	}
	w, ok := n.root.(Watcher)
	if !ok {
		return &PathError{Op: "changes", Path: "/", Err: fmt.Errorf("%w: no change log", ErrNotSupported)}
	}
	pol := n.Policy()
	return w.Changes(ctx, since, func(e Event) error {
		if pr.Admin || pol.Allowed(pr, e.Path, PermRead) || (e.Dest != "" && pol.Allowed(pr, e.Dest, PermRead)) {
			return fn(e)
		}
		return nil
	})
}

// LastSeq implements Watcher.
func (n *Namespace) LastSeq(ctx context.Context) (uint64, error) {
	w, ok := n.root.(Watcher)
	if !ok {
		return 0, &PathError{Op: "changes", Path: "/", Err: fmt.Errorf("%w: no change log", ErrNotSupported)}
	}
	return w.LastSeq(ctx)
}

// Notify implements Watcher.
func (n *Namespace) Notify(ctx context.Context) <-chan struct{} {
	if w, ok := n.root.(Watcher); ok {
		return w.Notify(ctx)
	}
	return nil
}

// String describes the mount table, for debugging.
func (n *Namespace) String() string {
	var b strings.Builder
	b.WriteString("namespace{/")
	for _, m := range n.Mounts() {
		b.WriteString(" ")
		b.WriteString(string(m.At))
	}
	b.WriteString("}")
	return b.String()
}
