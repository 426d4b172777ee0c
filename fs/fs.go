package fs

import (
	"context"
	"io"
	"time"
)

// Kind is what a path names.
type Kind uint8

const (
	KindFile Kind = iota + 1
	KindDir
)

func (k Kind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	}
	return "unknown"
}

// Info describes a file or directory. Providers fill what they know; zero
// values mean unknown (a host directory has no versions or authors).
type Info struct {
	Path     Path
	Kind     Kind
	Size     int64     // bytes of content; 0 for directories
	Version  int64     // 1 for the first write, +1 per write; 0 if unversioned
	Tokens   int       // token count of the content with the store's counter; 0 if not text
	Created  time.Time // first version
	Modified time.Time // this version
	Author   string    // principal that wrote this version
	Meta     map[string]string
	ReadOnly bool // the provider refuses writes here
}

// IsDir reports whether i describes a directory.
func (i *Info) IsDir() bool { return i.Kind == KindDir }

// Name is the last element of the path.
func (i *Info) Name() string { return i.Path.Base() }

// Clone returns a deep copy of i, so callers may keep or change it.
func (i *Info) Clone() *Info {
	c := *i
	if i.Meta != nil {
		c.Meta = make(map[string]string, len(i.Meta))
		for k, v := range i.Meta {
			c.Meta[k] = v
		}
	}
	return &c
}

// File is an open file's content at one version. It is safe for
// concurrent ReadAt calls; Read and Seek share one offset and are not.
type File interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
	// Stat returns the information of the version that is open.
	Stat() *Info
}

// WriteOptions refine a write. The zero value writes unconditionally and
// keeps no metadata.
type WriteOptions struct {
	// Meta is the user metadata of the new version. Nil keeps the previous
	// version's metadata; an empty map clears it.
	Meta map[string]string
	// IfVersion, when non-zero, makes the write fail with ErrConflict unless
	// the current version is exactly this one.
	IfVersion int64
	// Create makes the write fail with ErrExist if the file exists.
	Create bool
	// MustExist makes the write fail with ErrNotExist if the file does not exist.
	MustExist bool
}

// FS is the interface every provider of the namespace implements: the store,
// host directories, remote clients and the namespace itself.
//
// Errors wrap the sentinels of this package, normally as a *PathError:
// ErrNotExist for a missing path or parent, ErrNotDir when a parent is a file,
// ErrIsDir when a file operation names a directory, ErrExist when a write
// would replace a directory or a mkdir finds a file, ErrReadOnly from
// read-only providers, ErrPermission from access checks. A failed call
// changes nothing.
//
// Implementations are safe for concurrent use.
type FS interface {
	// Stat describes p.
	Stat(ctx context.Context, p Path) (*Info, error)
	// List returns the entries of directory p sorted by name.
	List(ctx context.Context, p Path) ([]*Info, error)
	// Open opens the current version of file p for reading.
	Open(ctx context.Context, p Path) (File, error)
	// Write makes r's content the new version of file p, creating missing
	// parent directories.
	Write(ctx context.Context, p Path, r io.Reader, opts WriteOptions) (*Info, error)
	// Mkdir creates directory p and missing parents; an existing directory
	// is not an error.
	Mkdir(ctx context.Context, p Path) error
	// Remove removes p; a non-empty directory needs recursive.
	Remove(ctx context.Context, p Path, recursive bool) error
	// Rename moves src to dst atomically, replacing a file at dst (or an
	// empty directory when src is one). Moving a directory into itself is
	// ErrInvalid.
	Rename(ctx context.Context, src, dst Path) error
}

// Version describes one stored version of a file, for Versioner.Log.
type Version struct {
	Version int64
	Time    time.Time
	Size    int64
	Author  string
	Tokens  int
}

// Versioner is implemented by providers that keep history.
type Versioner interface {
	// Log lists the stored versions of file p, newest first.
	Log(ctx context.Context, p Path) ([]Version, error)
	// OpenVersion opens version v of file p; ErrNotExist if it is missing
	// or was pruned.
	OpenVersion(ctx context.Context, p Path, v int64) (File, error)
}

// MetaSetter is implemented by providers with user metadata. SetMeta
// changes the user metadata of file p: keys mapped to nil are deleted, the
// others set. It makes a new version with the same content.
type MetaSetter interface {
	SetMeta(ctx context.Context, p Path, changes map[string]*string) (*Info, error)
}

// Query is a search request.
type Query struct {
	// Text uses bleve's query string syntax: words, "phrases", +must,
	// -mustnot, field:value (fields path, content, meta.KEY).
	Text  string
	Under Path // only paths within this directory; zero means everywhere
	Limit int  // at most this many hits; zero means a default of 10
}

// Hit is one search result.
type Hit struct {
	Path    Path
	Score   float64
	Version int64
	Snippet string // content fragment with matches marked
}

// Searcher is implemented by providers that can search their content.
type Searcher interface {
	Search(ctx context.Context, q Query) ([]Hit, error)
}

// Op is the kind of a change.
type Op uint8

const (
	OpWrite  Op = iota + 1 // a file got a new version
	OpMkdir                // a directory was created
	OpRemove               // a file or directory (with all below it) was removed
	OpRename               // Path moved to Dest
	OpMeta                 // reserved: metadata-only change
)

func (o Op) String() string {
	switch o {
	case OpWrite:
		return "write"
	case OpMkdir:
		return "mkdir"
	case OpRemove:
		return "remove"
	case OpRename:
		return "rename"
	case OpMeta:
		return "meta"
	}
	return "unknown"
}

// Event is one entry of a change log.
type Event struct {
	Seq     uint64 // position in the log, strictly increasing from 1
	Op      Op
	Path    Path
	Dest    Path // OpRename only
	Kind    Kind
	Version int64 // OpWrite: the new version
	Time    time.Time
	Author  string
}

// Watcher is implemented by providers with a change log.
type Watcher interface {
	// Changes calls fn for each logged event with Seq > since, in order,
	// until fn returns an error (which Changes returns) or the log ends.
	Changes(ctx context.Context, since uint64, fn func(Event) error) error
	// LastSeq returns the newest sequence number in the log.
	LastSeq(ctx context.Context) (uint64, error)
	// Notify returns a channel that receives a value (without blocking the
	// writer) after each committed change, until ctx is done.
	Notify(ctx context.Context) <-chan struct{}
}

// TokenCounter counts the tokens of a text with a particular tokenizer.
// Implementations are safe for concurrent use.
type TokenCounter interface {
	CountTokens(text string) int
}
