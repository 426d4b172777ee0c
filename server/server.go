// Package server runs the doors of one data directory in one process: the
// HTTP API on TCP and on the data directory's unix socket, the FUSE mount,
// and the index follower that keeps search fresh. It is what `ctxfs serve`
// and `ctxfs mount` run; the doors themselves live in api, fs/fuse and mcp.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/fuse"
	"github.com/ctxfs/ctxfs/fs/local"
)

// Options configure Run. The zero value serves only the unix socket.
type Options struct {
	// Addr is the TCP address of the HTTP API; empty serves no TCP.
	Addr string
	// Anonymous, if set, is the principal of TCP requests without a token.
	Anonymous string
	// AllowAnonymousRemote permits Anonymous on a non-loopback address.
	AllowAnonymousRemote bool
	// MaxBody bounds request bodies; zero means the api default (64 MiB).
	MaxBody int64
	// MountDir, if set, is where the namespace is mounted with FUSE.
	MountDir string
	// Mount configures the FUSE mount.
	Mount fuse.Options
	// Owner is the principal the unix socket's owner acts as.
	Owner fs.Principal
	// Handlers are extra HTTP handlers by pattern (for example "/mcp" and
	// "/afs/rpc"), each given the TCP authenticator.
	Handlers func(authenticate func(*http.Request) (fs.Principal, error)) map[string]http.Handler
	// BeforeShutdown, if not nil, runs when shutdown starts, before the
	// HTTP servers drain (extra doors end their long-lived streams there).
	BeforeShutdown func()
	// ShutdownTimeout bounds the drain on shutdown; zero means 10 s.
	ShutdownTimeout time.Duration
	// Ready, if not nil, is called once every door is up.
	Ready  func(addr net.Addr)
	Logger *slog.Logger
}

// ErrAnonymousRemote refuses anonymous access on a non-loopback address.
var ErrAnonymousRemote = errors.New("anonymous access is refused on a non-loopback address (force it explicitly if you mean it)")

// Authenticator returns the authenticator of TCP requests: a bearer token
// of a registered principal, or, without a token, the anonymous principal
// if one is configured.
func Authenticator(sys *local.System, anonymous string) func(*http.Request) (fs.Principal, error) {
	return func(r *http.Request) (fs.Principal, error) {
		h := r.Header.Get("Authorization")
		if h == "" {
			if anonymous == "" {
				return fs.Principal{}, fmt.Errorf("%w: missing bearer token", fs.ErrUnauthenticated)
			}
			return principalNamed(r.Context(), sys, anonymous), nil
		}
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return fs.Principal{}, fmt.Errorf("%w: Authorization must be 'Bearer TOKEN'", fs.ErrUnauthenticated)
		}
		return sys.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
	}
}

// principalNamed returns the registered principal name (with its admin
// flag), or a plain principal of that name.
func principalNamed(ctx context.Context, sys *local.System, name string) fs.Principal {
	ps, err := sys.Auth.List(ctx)
	if err == nil {
		for _, p := range ps {
			if p.Name == name {
				return fs.Principal{Name: p.Name, Admin: p.Admin}
			}
		}
	}
	return fs.Principal{Name: name}
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run serves sys until ctx is done, then shuts every door down gracefully:
// the HTTP servers drain, the mount is unmounted, the index is flushed.
func Run(ctx context.Context, sys *local.System, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.Owner.Name == "" {
		o.Owner = fs.System
	}
	if o.Anonymous != "" {
		if err := fs.ValidPrincipalName(o.Anonymous); err != nil {
			return err
		}
		if o.Addr != "" && !isLoopback(o.Addr) && !o.AllowAnonymousRemote {
			return ErrAnonymousRemote
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metrics := api.NewMetrics()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		cancel()
	}

	// Search stays fresh while the server runs.
	if _, err := sys.Index(ctx); err != nil {
		return err
	}
	wg.Go(func() {
		if err := sys.Follow(ctx); err != nil && ctx.Err() == nil {
			log.Error("index follower stopped", "err", err)
		}
	})

	// The unix socket: the local owner's door, used by the CLI.
	ownerAuth := api.LocalOwner(o.Owner.Name)
	sockMux := http.NewServeMux()
	sockMux.Handle("/", api.NewHandler(sys.NS, api.Options{
		Authenticate: ownerAuth, MaxBody: o.MaxBody, Metrics: metrics, Logger: log,
	}))
	sockMux.Handle("/v1/admin/", adminHandler(sys, ownerAuth))
	var sockHandler http.Handler = sockMux
	sockReady := make(chan struct{})
	wg.Go(func() {
		close(sockReady)
		if err := api.ServeUnix(ctx, local.SocketPath(sys.Dir), sockHandler); err != nil && ctx.Err() == nil {
			fail(fmt.Errorf("unix socket: %w", err))
		}
	})
	<-sockReady

	var tcpAddr net.Addr
	if o.Addr != "" {
		authn := Authenticator(sys, o.Anonymous)
		mux := http.NewServeMux()
		mux.Handle("/", api.NewHandler(sys.NS, api.Options{Authenticate: authn, MaxBody: o.MaxBody, Metrics: metrics, Logger: log}))
		mux.Handle("GET /metrics", metrics)
		mux.Handle("/v1/admin/", adminHandler(sys, authn))
		if o.Handlers != nil {
			for pattern, h := range o.Handlers(authn) {
				mux.Handle(pattern, h)
			}
		}
		ln, err := net.Listen("tcp", o.Addr)
		if err != nil {
			cancel()
			wg.Wait()
			return err
		}
		tcpAddr = ln.Addr()
		srv := &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		api.DrainOnShutdown(srv)
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fail(fmt.Errorf("http: %w", err))
			}
		})
		wg.Go(func() {
			<-ctx.Done()
			if o.BeforeShutdown != nil {
				o.BeforeShutdown()
			}
			sctx, scancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
			defer scancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("http shutdown", "err", err)
			}
		})
		log.Info("serving HTTP", "addr", tcpAddr.String())
	}

	if o.MountDir != "" {
		mo := o.Mount
		if mo.Principal.Name == "" {
			mo.Principal = o.Owner
		}
		if mo.Logger == nil {
			mo.Logger = log
		}
		m, err := fuse.Mount(ctx, o.MountDir, sys.NS, mo)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("mount %s: %w", o.MountDir, err)
		}
		log.Info("mounted", "dir", o.MountDir)
		wg.Go(func() {
			<-ctx.Done()
			if err := m.Unmount(); err != nil {
				log.Warn("unmount", "dir", o.MountDir, "err", err)
			}
		})
	}
	if o.Ready != nil {
		o.Ready(tcpAddr)
	}
	<-ctx.Done()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}
