package fuse

import (
	"log/slog"
	"os"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// Defaults of Options.
const (
	DefaultAttrTimeout  = time.Second
	DefaultEntryTimeout = time.Second
	DefaultMemoryBuffer = 8 << 20
	DefaultSearchLimit  = 100
	// HistoryDir and SearchDir are the names of the virtual views in the
	// root of the mount.
	HistoryDir = ".history"
	SearchDir  = ".search"
)

// Options configure a mount. The zero value mounts read-write with one
// second attribute and entry timeouts, no principal and no logging.
type Options struct {
	// ReadOnly mounts read-only: the kernel refuses every change with EROFS.
	ReadOnly bool
	// Principal, when its Name is set, is put into the context of every
	// request with fs.WithPrincipal, so the file system checks access and
	// records authorship for it. The zero Principal adds none.
	Principal fs.Principal
	// AttrTimeout and EntryTimeout are how long the kernel may cache
	// attributes and names without asking again. They bound how stale the
	// mount can be when a change notification is lost; notifications
	// normally invalidate sooner. Zero means the defaults; a negative value
	// disables caching.
	AttrTimeout  time.Duration
	EntryTimeout time.Duration
	// MemoryBuffer is how many bytes of a file being written are kept in
	// memory before its buffer moves to a temporary file in TempDir. Zero
	// means DefaultMemoryBuffer.
	MemoryBuffer int64
	// TempDir holds the temporary files of large writes; empty means
	// os.TempDir().
	TempDir string
	// MaxFileSize, when positive, makes writes beyond this size fail with
	// EFBIG at once instead of when the file is closed. Set it to the
	// provider's limit.
	MaxFileSize int64
	// SearchLimit is how many results a .search directory lists; zero
	// means DefaultSearchLimit.
	SearchLimit int
	// NoViews hides the .history and .search views.
	NoViews bool
	// AllowOther lets other users reach the mount (needs user_allow_other
	// in /etc/fuse.conf unless root mounts).
	AllowOther bool
	// Logger receives diagnostics (failed commits at release, lost
	// notifications); nil discards them.
	Logger *slog.Logger
	// Debug logs every FUSE request and reply to Logger.
	Debug bool
}

func (o Options) withDefaults() Options {
	if o.AttrTimeout == 0 {
		o.AttrTimeout = DefaultAttrTimeout
	}
	if o.AttrTimeout < 0 {
		o.AttrTimeout = 0
	}
	if o.EntryTimeout == 0 {
		o.EntryTimeout = DefaultEntryTimeout
	}
	if o.EntryTimeout < 0 {
		o.EntryTimeout = 0
	}
	if o.MemoryBuffer <= 0 {
		o.MemoryBuffer = DefaultMemoryBuffer
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.SearchLimit <= 0 {
		o.SearchLimit = DefaultSearchLimit
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
