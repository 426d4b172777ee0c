package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/ctxfs/ctxfs/fs"
)

// Compile-time checks of the capabilities the store provides.
var (
	_ fs.FS         = (*Store)(nil)
	_ fs.Versioner  = (*Store)(nil)
	_ fs.MetaSetter = (*Store)(nil)
	_ fs.Watcher    = (*Store)(nil)
)

// ErrLocked is returned by Open when another process holds the store file
// for longer than Options.LockTimeout.
var ErrLocked = errors.New("the data directory is in use by another process")

// Defaults of Options.
const (
	// DefaultChunkSize is the content chunk length. 256 KiB rather than
	// 1 MiB: bbolt stores a large value in contiguous overflow pages, and
	// smaller runs are easier to allocate from a fragmented freelist after
	// prunes; a 64 MiB file is still only 256 chunks (10 KiB of refs), a
	// small file is one chunk, and a reader copies only the bytes it asks
	// for, never a whole chunk.
	DefaultChunkSize   = 256 << 10
	DefaultLockTimeout = 10 * time.Second
	DefaultMaxFileSize = 1 << 30
)

// initialMmap is the address space mapped when the store opens.
const initialMmap = 1 << 30

// maxExactTokenText is the largest text whose tokens are counted in one
// piece; longer texts are counted chunk by chunk (cut at rune boundaries),
// which can differ from the exact count by a token or two per chunk but
// keeps memory bounded.
const maxExactTokenText = 16 << 20

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file; then it fails with ErrLocked. Zero means DefaultLockTimeout; a
	// negative value means try once.
	LockTimeout time.Duration
	// ChunkSize is the length of content chunks for new writes; zero means
	// DefaultChunkSize. Versions written with another size stay readable.
	ChunkSize int
	// Counter counts the tokens of text content; nil records no counts.
	Counter fs.TokenCounter
	// NoSync skips fsync on commit: a crash may lose recent commits. For
	// tests and benchmarks only.
	NoSync bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ReadOnly opens the file shared and refuses writes with fs.ErrReadOnly.
	ReadOnly bool
	// MaxFileSize bounds the content of one file; larger writes fail with
	// fs.ErrTooLarge. Zero means DefaultMaxFileSize.
	MaxFileSize int64
	// Populate maps the file with MAP_POPULATE, so reads do not fault pages
	// in one by one (benchmarks on machines that evict the page cache).
	Populate bool
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
}

// Bucket names. See doc.go for what each holds.
var (
	bktMeta     = []byte("meta")
	bktNodes    = []byte("nodes")
	bktVersions = []byte("versions")
	bktChunks   = []byte("chunks")
	bktChunkIdx = []byte("chunkidx")
	bktLog      = []byte("log")
	bktSys      = []byte("sys")
)

var (
	keyFormat  = []byte("format")
	keyCreated = []byte("created")
)

// formatVersion is the layout version stored in the meta bucket.
const formatVersion = 2 // 2: chunks keyed by id, with a hash index

// rootID is the id of the root directory, which has no node record.
const rootID uint64 = 1

// Store is the bbolt system of record: files, directories, versions,
// chunked content, the change log and a small system key/value area.
//
// A Store is safe for concurrent use by many goroutines. Reads run in
// their own bbolt read transactions and never wait for writers; writes are
// serialized, and concurrent single writes are committed together (group
// commit). Callbacks given to the store (Changes, Batch) must not call back
// into the store except through the Batch they are given.
type Store struct {
	db     *bolt.DB
	opts   Options
	chunk  int
	log    *slog.Logger
	closed atomic.Bool

	// gcMu guards the group-commit queue.
	gcMu    sync.Mutex
	queue   []*commitReq
	leading bool

	// notifyMu guards the watchers' channels.
	notifyMu sync.Mutex
	watchers map[chan struct{}]struct{}
}

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.LockTimeout < 0 {
		opts.LockTimeout = time.Nanosecond // bbolt treats zero as "wait forever"
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	bo := &bolt.Options{
		Timeout:        opts.LockTimeout,
		NoSync:         opts.NoSync,
		NoGrowSync:     opts.NoSync, // no fsync at all means none when the file grows either
		ReadOnly:       opts.ReadOnly,
		FreelistType:   bolt.FreelistMapType, // prunes free many pages; the map freelist stays fast
		NoFreelistSync: true,                 // rebuilt on open; saves a page write per commit
		// Each time bbolt grows its mapping it copies every value of the
		// open write transaction onto the heap; mapping 1 GiB of address
		// space up front (the file itself grows only as needed) spares a
		// large write those copies, and readers never block a remap.
		InitialMmapSize: initialMmap,
	}
	if opts.Populate {
		bo.MmapFlags = mapPopulate
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
	}
	db, err := bolt.Open(path, 0o600, bo)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w (waited %s for its lock)", path, ErrLocked, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts, chunk: opts.ChunkSize, log: opts.Logger, watchers: map[chan struct{}]struct{}{}}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets of a new file and checks the format of an
// existing one.
func (s *Store) init() error {
	check := func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		if m == nil {
			return nil
		}
		if f := m.Get(keyFormat); len(f) != 1 || f[0] != formatVersion {
			return fmt.Errorf("%w: unknown store format %v", fs.ErrInvalid, f)
		}
		return nil
	}
	if s.opts.ReadOnly {
		return s.db.View(func(tx *bolt.Tx) error {
			if tx.Bucket(bktMeta) == nil {
				return fmt.Errorf("%w: not an initialized store", fs.ErrInvalid)
			}
			return check(tx)
		})
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		for _, name := range [][]byte{bktMeta, bktNodes, bktVersions, bktChunks, bktChunkIdx, bktLog, bktSys} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		m := tx.Bucket(bktMeta)
		if m.Get(keyFormat) != nil {
			return nil
		}
		if err := m.Put(keyFormat, []byte{formatVersion}); err != nil {
			return err
		}
		if err := m.Put(keyCreated, u64(uint64(s.now()))); err != nil {
			return err
		}
		// Node ids come from the nodes bucket's sequence; 1 is the root.
		return tx.Bucket(bktNodes).SetSequence(rootID)
	})
}

// Close closes the store. Open Files fail afterwards; Notify channels are
// closed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.notifyMu.Lock()
	for ch := range s.watchers {
		close(ch)
	}
	s.watchers = nil
	s.notifyMu.Unlock()
	return s.db.Close()
}

// Path returns the file the store lives in.
func (s *Store) Path() string { return s.db.Path() }

func (s *Store) now() int64 { return s.opts.Now().UnixNano() }

// dbErr maps bbolt's errors to the fs sentinels callers test for.
func dbErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen), errors.Is(err, berrors.ErrTxClosed):
		return fmt.Errorf("%w: store: %v", fs.ErrClosed, err)
	case errors.Is(err, berrors.ErrDatabaseReadOnly), errors.Is(err, berrors.ErrTxNotWritable):
		return fmt.Errorf("%w: store: %v", fs.ErrReadOnly, err)
	}
	return err
}

func (s *Store) usable() error {
	if s.closed.Load() {
		return fmt.Errorf("%w: store", fs.ErrClosed)
	}
	return nil
}

func (s *Store) writable() error {
	if err := s.usable(); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("%w: store opened read-only", fs.ErrReadOnly)
	}
	return nil
}

// view runs fn in a read transaction.
func (s *Store) view(fn func(t *txn) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	return dbErr(s.db.View(func(tx *bolt.Tx) error {
		return fn(s.newTxn(tx, ""))
	}))
}

// A commitReq is one writer waiting in the group-commit queue.
type commitReq struct {
	author string
	fn     func(t *txn) error
	done   chan commitResult
}

type commitResult struct {
	err  error
	lead bool // the receiver must now commit the queue
}

// update runs fn in a write transaction shared with the other writers that
// are waiting at the same moment: one commit (one fsync) for all of them.
//
// fn must check everything before it changes anything, so that a failed fn
// leaves the shared transaction as it found it; the txn's mutation helpers
// record bbolt failures, which abort the whole transaction.
//
// There is no timer: a writer that finds nobody committing commits at
// once, and writers that arrive meanwhile queue up for the next commit,
// led by the first of them.
func (s *Store) update(ctx context.Context, fn func(t *txn) error) error {
	if err := s.writable(); err != nil {
		return err
	}
	req := &commitReq{author: fs.AuthorFrom(ctx), fn: fn, done: make(chan commitResult, 1)}
	s.gcMu.Lock()
	s.queue = append(s.queue, req)
	lead := !s.leading
	s.leading = true
	s.gcMu.Unlock()
	if lead {
		s.lead()
	}
	for {
		r := <-req.done
		if r.lead {
			s.lead()
			continue
		}
		return r.err
	}
}

// lead commits the queue as it is now, then hands leadership to the first
// writer that queued meanwhile, so no writer commits for others for long.
func (s *Store) lead() {
	s.gcMu.Lock()
	reqs := s.queue
	s.queue = nil
	s.gcMu.Unlock()

	results := s.commit(reqs)
	for i, r := range reqs {
		r.done <- commitResult{err: results[i]}
	}

	s.gcMu.Lock()
	if len(s.queue) > 0 {
		s.queue[0].done <- commitResult{lead: true}
	} else {
		s.leading = false
	}
	s.gcMu.Unlock()
}

func (s *Store) commit(reqs []*commitReq) []error {
	results := make([]error, len(reqs))
	fail := func(err error) []error {
		for i := range results {
			results[i] = dbErr(err)
		}
		return results
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return fail(err)
	}
	t := s.newTxn(tx, "")
	for i, r := range reqs {
		t.author = r.author
		results[i] = r.fn(t)
		if t.err != nil {
			tx.Rollback()
			return fail(t.err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	if t.events > 0 {
		s.signal()
	}
	return results
}

// Batch runs fn with a Batch whose writes all happen in one transaction:
// one commit and one fsync for many files, for bulk import. The content of
// every write is held in memory until the commit, so callers should bound
// a batch (say a few thousand files or a few hundred MiB).
//
// An operation of the Batch that fails changes nothing, and fn may go on;
// if fn returns an error, nothing of the batch is committed. fn must not
// call the Store's own methods (the transaction is held).
func (s *Store) Batch(ctx context.Context, fn func(b *Batch) error) error {
	if err := s.writable(); err != nil {
		return err
	}
	var events int
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := &Batch{ctx: ctx, s: s, t: s.newTxn(tx, fs.AuthorFrom(ctx))}
		if err := fn(b); err != nil {
			return err
		}
		if b.t.err != nil {
			return b.t.err
		}
		events = b.t.events
		return nil
	})
	if err != nil {
		return dbErr(err)
	}
	if events > 0 {
		s.signal()
	}
	return nil
}

// Notify implements fs.Watcher. The channel has a buffer of one, so a
// slow receiver sees one pending signal for any number of commits; it is
// closed when ctx is done or the store is closed.
func (s *Store) Notify(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	if s.watchers == nil { // closed
		close(ch)
		return ch
	}
	s.watchers[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		s.notifyMu.Lock()
		defer s.notifyMu.Unlock()
		if _, ok := s.watchers[ch]; ok {
			delete(s.watchers, ch)
			close(ch)
		}
	})
	return ch
}

// signal wakes every watcher without blocking.
func (s *Store) signal() {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
