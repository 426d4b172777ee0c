package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"

	"github.com/ctxfs/ctxfs/api"
	ctxfs "github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/tokens"
)

// logger returns the logger configured by --log-level.
func (a *app) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(a.cfg.GetString("log-level")))); err != nil {
		lvl = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: lvl}))
}

// system opens the data directory for this command, closing it when the
// command ends. Commands that need the store itself (import, reindex,
// prune, mounts, serve) use it; while a server owns the directory they
// wait for its lock and then fail with a message that says so.
func (a *app) system(ctx context.Context) (*local.System, error) {
	counter, err := tokens.Default()
	if err != nil {
		return nil, err
	}
	sys, err := local.Open(ctx, a.dataDir(), local.Options{
		LockTimeout: a.cfg.GetDuration("lock-timeout"),
		Counter:     counter,
		Logger:      a.logger(),
	})
	if err != nil {
		return nil, err
	}
	a.onClose(sys.Close)
	a.sys = sys
	return sys, nil
}

// followIndex keeps the search index up to date with the change log until
// ctx is done, when this command opened the store itself (a server does
// that for the commands that go through it). For long-running commands.
func (a *app) followIndex(ctx context.Context) {
	if a.sys == nil {
		return
	}
	sys := a.sys
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sys.Follow(ctx); err != nil && ctx.Err() == nil {
			a.logger().Warn("search index follower stopped", "err", err)
		}
	}()
	// Closers run last-registered first: the follower stops before the
	// store and index close.
	a.onClose(func() error {
		cancel()
		<-done
		return nil
	})
}

// fsys returns the namespace to act on and a context carrying the principal
// the command acts as: the owner of the data directory (an admin), or the
// principal named by as. When a server owns the data directory, requests
// go through its unix socket; otherwise the command opens the store itself.
func (a *app) fsys(ctx context.Context) (ctxfs.FS, context.Context, error) {
	return a.fsysAs(ctx, "")
}

// fsysAs is fsys acting as principal as ("" for the owner).
func (a *app) fsysAs(ctx context.Context, as string) (ctxfs.FS, context.Context, error) {
	if as != "" {
		if err := ctxfs.ValidPrincipalName(as); err != nil {
			return nil, nil, usageError{err}
		}
	}
	c, err := api.DialSocket(ctx, a.dataDir())
	switch {
	case err == nil:
		a.onClose(c.Close)
		if as != "" {
			c = c.As(as)
		}
		return c, ctxfs.WithPrincipal(ctx, ownerPrincipal()), nil
	case !errors.Is(err, api.ErrNoServer):
		return nil, nil, err
	}
	sys, err := a.system(ctx)
	if err != nil {
		return nil, nil, err
	}
	pr := ownerPrincipal()
	if as != "" {
		pr = ctxfs.Principal{Name: as}
	}
	return sys.NS, ctxfs.WithPrincipal(ctx, pr), nil
}

// ownerPrincipal is who local commands act as: the user running them, with
// the rights of the data directory's owner.
func ownerPrincipal() ctxfs.Principal {
	name := os.Getenv("USER")
	if ctxfs.ValidPrincipalName(name) != nil {
		name = "local"
	}
	return ctxfs.Principal{Name: name, Admin: true}
}
