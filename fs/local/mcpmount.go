package local

import (
	"context"
	"io"
	"sync"

	"github.com/ctxfs/ctxfs/fs"
	mcpmount "github.com/ctxfs/ctxfs/mounts/mcp"
)

// lazyMCP is an MCP server mount that connects on first use, so commands
// that never touch the mount do not start its server process.
//
// It is safe for concurrent use; a failed connection is retried by the
// next call.
type lazyMCP struct {
	opts mcpmount.Options

	// mu guards fs.
	mu sync.Mutex
	fs *mcpmount.FS
}

var (
	_ fs.FS             = (*lazyMCP)(nil)
	_ mcpmount.Executor = (*lazyMCP)(nil)
)

func (l *lazyMCP) get(ctx context.Context) (*mcpmount.FS, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fs != nil {
		return l.fs, nil
	}
	f, err := mcpmount.Dial(ctx, l.opts)
	if err != nil {
		return nil, err
	}
	l.fs = f
	return f, nil
}

// Close closes the connection, if one was made.
func (l *lazyMCP) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fs == nil {
		return nil
	}
	err := l.fs.Close()
	l.fs = nil
	return err
}

func (l *lazyMCP) Stat(ctx context.Context, p fs.Path) (*fs.Info, error) {
	f, err := l.get(ctx)
	if err != nil {
		return nil, fs.Wrap("stat", p, err)
	}
	return f.Stat(ctx, p)
}

func (l *lazyMCP) List(ctx context.Context, p fs.Path) ([]*fs.Info, error) {
	f, err := l.get(ctx)
	if err != nil {
		return nil, fs.Wrap("list", p, err)
	}
	return f.List(ctx, p)
}

func (l *lazyMCP) Open(ctx context.Context, p fs.Path) (fs.File, error) {
	f, err := l.get(ctx)
	if err != nil {
		return nil, fs.Wrap("open", p, err)
	}
	return f.Open(ctx, p)
}

func (l *lazyMCP) Write(ctx context.Context, p fs.Path, r io.Reader, opts fs.WriteOptions) (*fs.Info, error) {
	return nil, &fs.PathError{Op: "write", Path: string(p), Err: fs.ErrReadOnly}
}

func (l *lazyMCP) Mkdir(ctx context.Context, p fs.Path) error {
	return &fs.PathError{Op: "mkdir", Path: string(p), Err: fs.ErrReadOnly}
}

func (l *lazyMCP) Remove(ctx context.Context, p fs.Path, recursive bool) error {
	return &fs.PathError{Op: "remove", Path: string(p), Err: fs.ErrReadOnly}
}

func (l *lazyMCP) Rename(ctx context.Context, src, dst fs.Path) error {
	return &fs.PathError{Op: "rename", Path: string(src), Err: fs.ErrReadOnly}
}

// Exec calls the tool at p (/tools/NAME) with args.
func (l *lazyMCP) Exec(ctx context.Context, p fs.Path, args map[string]any) (string, error) {
	f, err := l.get(ctx)
	if err != nil {
		return "", fs.Wrap("exec", p, err)
	}
	return f.Exec(ctx, p, args)
}
