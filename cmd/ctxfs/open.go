package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

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
// command ends.
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
	return sys, nil
}

// fsys returns the namespace to act on and a context carrying the
// principal the command acts as: the local owner of the data directory.
func (a *app) fsys(ctx context.Context) (ctxfs.FS, context.Context, error) {
	sys, err := a.system(ctx)
	if err != nil {
		return nil, nil, err
	}
	return sys.NS, ctxfs.WithPrincipal(ctx, ownerPrincipal()), nil
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
