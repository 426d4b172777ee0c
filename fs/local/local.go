package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctxfs/ctxfs/auth"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/mounts/hostdir"
	mcpmount "github.com/ctxfs/ctxfs/mounts/mcp"
)

// Options configure Open. The zero value gives the defaults.
type Options struct {
	// LockTimeout is how long to wait for another process that holds the
	// data directory; zero means the store's default (10 s).
	LockTimeout time.Duration
	// Counter counts tokens of text content; nil records none.
	Counter fs.TokenCounter
	// ReadOnly opens the store shared and refuses writes.
	ReadOnly bool
	// NoSync skips fsync (tests and benchmarks only).
	NoSync bool
	// Populate maps the store file with MAP_POPULATE (benchmarks).
	Populate bool
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Mount is a provider mounted into the namespace, as persisted: a host
// directory (HostDir), or an MCP server reached by a command (MCPCommand)
// or a URL (MCPURL), mounted read-only.
type Mount struct {
	Name       string   `json:"name"`
	HostDir    string   `json:"hostdir,omitempty"`
	MCPCommand []string `json:"mcp_command,omitempty"`
	MCPURL     string   `json:"mcp_url,omitempty"`
	At         fs.Path  `json:"at"`
	Writable   bool     `json:"rw"`
}

// Kind is "hostdir" or "mcp".
func (m Mount) Kind() string {
	if m.HostDir != "" {
		return "hostdir"
	}
	return "mcp"
}

const mountsBucket = "mounts"

// System is an open data directory.
//
// Concurrency: safe for concurrent use. The index is opened on first use;
// mounts may be added and removed while requests are served.
type System struct {
	Dir   string
	Store *store.Store
	NS    *fs.Namespace
	Auth  *auth.Registry // principals, tokens and access rules

	opts Options
	log  *slog.Logger

	// indexed is a change-log sequence the store's index is known to have
	// applied, so a search can tell cheaply that it need not catch up.
	indexed atomic.Uint64

	// mu guards the indexes and the host mounts.
	mu       sync.Mutex
	idx      *index.Index
	hosts    map[string]*hostMount // by mount name
	closed   bool
	stopWait []func()
}

type hostMount struct {
	Mount
	fs  *hostdir.FS  // nil for an MCP mount
	mcp *lazyMCP     // nil for a host directory
	idx *index.Index // nil until first needed
}

func (h *hostMount) close() error {
	if h.mcp != nil {
		return h.mcp.Close()
	}
	return h.fs.Close()
}

// StorePath is the bbolt file of a data directory.
func StorePath(dir string) string { return filepath.Join(dir, "store.db") }

// SocketPath is the unix socket of the process serving a data directory.
func SocketPath(dir string) string { return filepath.Join(dir, "ctxfs.sock") }

// Open opens (creating if needed) the data directory dir.
func Open(ctx context.Context, dir string, opts Options) (*System, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := store.Open(StorePath(dir), store.Options{
		LockTimeout: opts.LockTimeout, Counter: opts.Counter, ReadOnly: opts.ReadOnly,
		NoSync: opts.NoSync, Populate: opts.Populate, Logger: opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	s := &System{Dir: dir, Store: st, Auth: auth.New(st), opts: opts, log: opts.Logger, hosts: map[string]*hostMount{}}
	s.NS = fs.NewNamespace(st, fs.NamespaceOptions{Searcher: searcher{s}})
	if err := s.ReloadPolicy(ctx); err != nil {
		st.Close()
		return nil, err
	}
	kvs, err := st.SysList(ctx, mountsBucket)
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, kv := range kvs {
		var m Mount
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			s.log.Warn("skipping unreadable mount record", "name", kv.Key, "err", err)
			continue
		}
		if err := s.attach(m); err != nil {
			// A missing host directory must not make the store unusable.
			s.log.Warn("host mount unavailable", "name", m.Name, "hostdir", m.HostDir, "err", err)
		}
	}
	return s, nil
}

// ReloadPolicy loads the stored access rules into the namespace; call it
// after changing rules through Auth.
func (s *System) ReloadPolicy(ctx context.Context) error {
	pol, err := s.Auth.Policy(ctx)
	if err != nil {
		return err
	}
	s.NS.SetPolicy(pol)
	return nil
}

func (s *System) attach(m Mount) error {
	if m.HostDir == "" {
		l := &lazyMCP{opts: mcpmount.Options{URL: m.MCPURL, Logger: s.log}}
		if len(m.MCPCommand) > 0 {
			l.opts.Command, l.opts.Args = m.MCPCommand[0], m.MCPCommand[1:]
		}
		if err := s.NS.Mount(m.At, l); err != nil {
			return err
		}
		s.hosts[m.Name] = &hostMount{Mount: m, mcp: l}
		return nil
	}
	h, err := hostdir.New(m.HostDir, hostdir.Options{Writable: m.Writable, Counter: s.opts.Counter})
	if err != nil {
		return err
	}
	if err := s.NS.Mount(m.At, h); err != nil {
		h.Close()
		return err
	}
	s.hosts[m.Name] = &hostMount{Mount: m, fs: h}
	return nil
}

// Close closes the indexes, the host mounts and the store.
func (s *System) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, stop := range s.stopWait {
		stop()
	}
	var errs []error
	if s.idx != nil {
		errs = append(errs, s.idx.Close())
	}
	for _, h := range s.hosts {
		if h.idx != nil {
			errs = append(errs, h.idx.Close())
		}
		errs = append(errs, h.close())
	}
	errs = append(errs, s.Store.Close())
	return errors.Join(errs...)
}

// Index returns the store's index, opening it (and catching up with the
// change log) on first use.
func (s *System) Index(ctx context.Context) (*index.Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeIndex(ctx)
}

func (s *System) storeIndex(ctx context.Context) (*index.Index, error) {
	if s.closed {
		return nil, fs.ErrClosed
	}
	if s.idx != nil {
		return s.idx, nil
	}
	idx, err := index.OpenContext(ctx, filepath.Join(s.Dir, "index"), s.Store, index.Options{Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	s.idx = idx
	return idx, nil
}

// FollowDelay is how long Follow lets writes gather after a change before
// it indexes them: one bleve batch per burst instead of one per write, so
// a busy server builds few, larger segments and bleve spends its time
// searching rather than merging. Search lags the store by about this much.
const FollowDelay = 100 * time.Millisecond

// Follow keeps the store's index up to date with the change log until ctx
// is done (for long-running processes).
func (s *System) Follow(ctx context.Context) error {
	idx, err := s.Index(ctx)
	if err != nil {
		return err
	}
	changed := s.Store.Notify(ctx)
	for {
		last, err := s.Store.LastSeq(ctx)
		if err == nil {
			err = idx.CatchUp(ctx)
		}
		if err == nil {
			s.noteIndexed(last)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, fs.ErrClosed) {
				return err
			}
			s.log.Error("search index: catching up with the change log", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(5 * time.Second):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-changed:
			if !ok {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(FollowDelay):
		}
	}
}

func (s *System) hostIndex(ctx context.Context, h *hostMount, rebuild bool) (*index.Index, error) {
	if h.idx == nil {
		idx, err := index.OpenContext(ctx, filepath.Join(s.Dir, "index-mounts", h.Name), hostSource{h.fs}, index.Options{Logger: s.log})
		if err != nil {
			return nil, fmt.Errorf("index of mount %s: %w", h.Name, err)
		}
		h.idx = idx
	}
	if rebuild {
		if err := h.idx.Rebuild(ctx, nil); err != nil {
			return nil, fmt.Errorf("index of mount %s: %w", h.Name, err)
		}
	}
	return h.idx, nil
}

// Mounts lists the host mounts, sorted by name.
func (s *System) Mounts() []Mount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mount, 0, len(s.hosts))
	for _, h := range s.hosts {
		out = append(out, h.Mount)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AddMount mounts host directory m.HostDir at m.At (default /mnt/NAME),
// persists it, and indexes its files.
func (s *System) AddMount(ctx context.Context, m Mount) error {
	if err := fs.ValidName(m.Name); err != nil {
		return fmt.Errorf("mount name: %w", err)
	}
	if m.At == "" {
		m.At = fs.MustParse("/mnt").Child(m.Name)
	}
	switch {
	case m.HostDir != "" && (len(m.MCPCommand) > 0 || m.MCPURL != ""),
		m.HostDir == "" && (len(m.MCPCommand) > 0) == (m.MCPURL != ""):
		return fmt.Errorf("mount %s: %w: give a host directory, an MCP command or an MCP URL (one of them)", m.Name, fs.ErrInvalid)
	case m.HostDir != "":
		abs, err := filepath.Abs(m.HostDir)
		if err != nil {
			return err
		}
		m.HostDir = abs
		if st, err := os.Stat(abs); err != nil {
			return fmt.Errorf("host directory: %w", err)
		} else if !st.IsDir() {
			return fmt.Errorf("host directory %s: %w", abs, fs.ErrNotDir)
		}
	case m.Writable:
		return fmt.Errorf("mount %s: %w: MCP mounts are read-only", m.Name, fs.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.hosts[m.Name]; ok {
		return &fs.PathError{Op: "mount", Path: string(m.At), Err: fmt.Errorf("%w: a mount named %q exists", fs.ErrExist, m.Name)}
	}
	// The mount point must not hide store content.
	if info, err := s.Store.Stat(ctx, m.At); err == nil {
		if !info.IsDir() {
			return &fs.PathError{Op: "mount", Path: string(m.At), Err: fmt.Errorf("%w: a file is there", fs.ErrExist)}
		}
		if entries, err := s.Store.List(ctx, m.At); err == nil && len(entries) > 0 {
			return &fs.PathError{Op: "mount", Path: string(m.At), Err: fmt.Errorf("%w: the store has files there", fs.ErrNotEmpty)}
		}
	}
	if err := s.attach(m); err != nil {
		return err
	}
	rec, _ := json.Marshal(m)
	if err := s.Store.SysPut(ctx, mountsBucket, m.Name, rec); err != nil {
		s.detach(m.Name)
		return err
	}
	if m.HostDir == "" {
		return nil // MCP mounts are read live, not indexed
	}
	if _, err := s.hostIndex(ctx, s.hosts[m.Name], true); err != nil {
		s.log.Warn("mount added but not indexed", "name", m.Name, "err", err)
	}
	return nil
}

func (s *System) detach(name string) {
	h := s.hosts[name]
	if h == nil {
		return
	}
	s.NS.Unmount(h.At)
	if h.idx != nil {
		h.idx.Close()
	}
	h.close()
	delete(s.hosts, name)
}

// RemoveMount unmounts and forgets the host mount name (the host
// directory itself is untouched).
func (s *System) RemoveMount(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.hosts[name]; !ok {
		if b, err := s.Store.SysGet(ctx, mountsBucket, name); err != nil || b == nil {
			return fmt.Errorf("mount %q: %w", name, fs.ErrNotExist)
		}
	}
	if err := s.Store.SysDelete(ctx, mountsBucket, name); err != nil {
		return err
	}
	s.detach(name)
	os.RemoveAll(filepath.Join(s.Dir, "index-mounts", name))
	return nil
}

// Reindex rebuilds every index from scratch. progress, if not nil, is
// called with the number of files done and the total known so far.
func (s *System) Reindex(ctx context.Context, progress func(done, total int)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.storeIndex(ctx)
	if err != nil {
		return err
	}
	if err := idx.Rebuild(ctx, progress); err != nil {
		return err
	}
	for _, h := range s.hosts {
		if h.fs == nil {
			continue
		}
		if _, err := s.hostIndex(ctx, h, true); err != nil {
			return err
		}
	}
	return nil
}

// searcher searches the store's index and every host mount's, merging by
// score. Hits carry namespace paths.
type searcher struct{ s *System }

func (se searcher) Search(ctx context.Context, q fs.Query) ([]fs.Hit, error) {
	s := se.s
	under := q.Under
	if under == "" {
		under = fs.Root
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	s.mu.Lock()
	idx, err := s.storeIndex(ctx)
	type part struct {
		idx *index.Index
		at  fs.Path
	}
	var parts []part
	if err == nil {
		parts = append(parts, part{idx, fs.Root})
		for _, h := range s.hosts {
			if h.fs == nil || (!h.At.Within(under) && !under.Within(h.At)) {
				continue
			}
			hi, herr := s.hostIndex(ctx, h, false)
			if herr != nil {
				s.log.Warn("mount not searchable", "name", h.Name, "err", herr)
				continue
			}
			parts = append(parts, part{hi, h.At})
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Read your writes: a search sees every write acknowledged before it,
	// even when the follower has not indexed it yet.
	if err := s.catchUpIfBehind(ctx, parts[0].idx); err != nil {
		return nil, err
	}
	var hits []fs.Hit
	var mounted []fs.MountPoint
	if s.NS != nil {
		mounted = s.NS.Mounts()
	}
	for _, p := range parts {
		sub := q
		sub.Limit = limit
		if p.at.IsRoot() {
			sub.Under = under
		} else if rel, ok := under.Rel(p.at); ok {
			sub.Under = rel
		} else {
			sub.Under = fs.Root
		}
		hs, err := p.idx.Search(ctx, sub)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			h.Path = h.Path.Under(p.at)
			if p.at.IsRoot() && shadowed(mounted, h.Path) {
				continue // store content hidden under a mount point
			}
			hits = append(hits, h)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// catchUpIfBehind brings idx up to the store's last change if it lags.
// The common case costs one read transaction of the store.
func (s *System) catchUpIfBehind(ctx context.Context, idx *index.Index) error {
	last, err := s.Store.LastSeq(ctx)
	if err != nil {
		return err
	}
	if last <= s.indexed.Load() {
		return nil
	}
	applied, err := idx.Applied()
	if err != nil {
		return err
	}
	if applied < last {
		if err := idx.CatchUp(ctx); err != nil {
			return err
		}
		applied = last
	}
	s.noteIndexed(applied)
	return nil
}

// noteIndexed records that the index has applied the log up to seq.
func (s *System) noteIndexed(seq uint64) {
	for {
		cur := s.indexed.Load()
		if seq <= cur || s.indexed.CompareAndSwap(cur, seq) {
			return
		}
	}
}

func shadowed(mounted []fs.MountPoint, p fs.Path) bool {
	for _, m := range mounted {
		if p.Within(m.At) {
			return true
		}
	}
	return false
}

// hostSource presents a host directory as an index source with an empty
// change log: its index is built by Rebuild.
type hostSource struct{ *hostdir.FS }

func (hostSource) Changes(context.Context, uint64, func(fs.Event) error) error { return nil }
func (hostSource) LastSeq(context.Context) (uint64, error)                     { return 0, nil }
func (hostSource) Notify(context.Context) <-chan struct{}                      { return nil }
