package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/api"
	ctxfs "github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/fuse"
	"github.com/ctxfs/ctxfs/server"
)

func init() {
	register(newServeCmd)
	register(newMountCmd)
}

// serveHandlers collects the extra HTTP doors of `ctxfs serve` (MCP, AFS,
// OpenAI-compatible inference); each door's file adds its own.
var serveHandlers []func(a *app, env serveEnv) map[string]http.Handler

// serveEnv is what an extra door gets to build its handler.
type serveEnv struct {
	fsys         ctxfs.FS
	namespace    *ctxfs.Namespace
	authenticate func(*http.Request) (ctxfs.Principal, error)
	// onShutdown registers a function to run when shutdown starts.
	onShutdown func(func())
}

func newServeCmd(a *app) *cobra.Command {
	var (
		o        server.Options
		ro       bool
		maxBody  int64
		anonymus string
		force    bool
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the store: HTTP API (TCP and unix socket), optional FUSE mount",
		Long: `serve owns the data directory and serves it:
  - the HTTP API on --addr (bearer tokens from 'ctxfs principal add'),
  - the same API on the data directory's unix socket (mode 0600), which other
    ctxfs commands use automatically while the server runs,
  - /healthz, /metrics (Prometheus text), /v1/openapi.json,
  - AIGNE's AFS RPC protocol at /afs/rpc (--afs-root, --exec-policy, --exec-blocked),
  - the MCP server (streamable HTTP) at /mcp, bearer token required,
  - with --mount DIR, the namespace as a FUSE file system.
SIGINT or SIGTERM drains requests, unmounts and closes the store.`,
		Example: `  ctxfs serve
  ctxfs serve --addr 127.0.0.1:7411 --mount ~/ctx
  ctxfs serve --anonymous-as alice      # single-user local use without tokens`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := a.execPolicy().Validate(); err != nil {
				return usageError{err}
			}
			if s := a.cfg.GetString("afs-root"); s != "" {
				if _, err := ctxfs.Parse(s); err != nil {
					return usageError{err}
				}
			}
			if err := a.openModel(); err != nil {
				return err
			}
			sys, err := a.system(ctx)
			if err != nil {
				return err
			}
			o.Addr = a.cfg.GetString("addr")
			o.Anonymous = anonymus
			if o.Anonymous == "" {
				o.Anonymous = a.cfg.GetString("auth.anonymous")
			}
			o.AllowAnonymousRemote = force
			o.MaxBody = maxBody
			o.Mount.ReadOnly = ro
			o.Owner = ownerPrincipal()
			o.Logger = a.logger()
			var shutdown []func()
			o.BeforeShutdown = func() {
				for _, f := range shutdown {
					f()
				}
			}
			o.Handlers = func(authn func(*http.Request) (ctxfs.Principal, error)) map[string]http.Handler {
				env := serveEnv{fsys: sys.NS, namespace: sys.NS, authenticate: authn,
					onShutdown: func(f func()) { shutdown = append(shutdown, f) }}
				out := map[string]http.Handler{}
				for _, h := range serveHandlers {
					for k, v := range h(a, env) {
						out[k] = v
					}
				}
				return out
			}
			o.Ready = func(addr net.Addr) {
				if addr != nil {
					fmt.Fprintf(a.stderr, "ctxfs: serving http://%s (data %s)\n", addr, sys.Dir)
				} else {
					fmt.Fprintf(a.stderr, "ctxfs: serving the unix socket of %s\n", sys.Dir)
				}
				if o.MountDir != "" {
					fmt.Fprintf(a.stderr, "ctxfs: mounted at %s\n", o.MountDir)
				}
			}
			if err := server.Run(ctx, sys, o); err != nil {
				return err
			}
			return nil
		},
	}
	f := c.Flags()
	f.String("addr", "127.0.0.1:7411", "TCP address of the HTTP API (empty: unix socket only)")
	f.StringVar(&o.MountDir, "mount", "", "also mount the namespace with FUSE at this directory")
	f.BoolVar(&ro, "ro", false, "mount read-only (with --mount)")
	f.Int64Var(&maxBody, "max-body", 64<<20, "largest request body in bytes")
	f.StringVar(&anonymus, "anonymous-as", "", "requests without a token act as this principal (config auth.anonymous; loopback only)")
	f.BoolVar(&force, "force-anonymous", false, "allow --anonymous-as on a non-loopback address")
	f.String("afs-root", "", "root the AFS namespace (/afs/rpc) at this path")
	f.String("exec-policy", "", "AFS node actions allowed: safe, standard (default) or full (config exec.policy)")
	f.StringSlice("exec-blocked", nil, "AFS node actions refused by name (config exec.blocked)")
	f.String("model", "", "serve this GGUF model on the OpenAI-compatible /v1/models, /v1/completions, /v1/chat/completions")
	f.Bool("in-memory", false, "with --model: read the weights into memory instead of mapping the file")
	f.String("kv-policy", "", "with --model: KV-cache policy full, streaming, h2o, snapkv or pyramidkv (config kv.policy)")
	f.Int("kv-budget", 0, "with --model: KV-cache slots per layer kept by --kv-policy (config kv.budget)")
	return c
}

func newMountCmd(a *app) *cobra.Command {
	var (
		ro         bool
		as, remote string
		token      string
	)
	c := &cobra.Command{
		Use:   "mount MOUNTPOINT",
		Short: "Mount the store (or a remote ctxfs) as a file system, in the foreground",
		Long: `mount serves the namespace at MOUNTPOINT with FUSE until SIGINT or SIGTERM,
then unmounts cleanly. A stale mount left by a killed process is cleared first.
While it owns the local store it also serves the data directory's unix socket,
so other ctxfs commands keep working; when a server already owns the store,
the mount goes through that server's socket. With --server it mounts a remote ctxfs
through its HTTP API instead.`,
		Example: `  ctxfs mount ~/ctx
  ctxfs mount ~/alice --as alice
  ctxfs mount ~/remote --server http://host:7411 --token ctxfs_...`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			pr := ownerPrincipal()
			if as != "" {
				if err := ctxfs.ValidPrincipalName(as); err != nil {
					return usageError{err}
				}
				pr = ctxfs.Principal{Name: as}
			}
			if remote != "" {
				client, err := api.NewClient(remote, token)
				if err != nil {
					return err
				}
				a.onClose(client.Close)
				if err := client.Ping(ctx); err != nil {
					return fmt.Errorf("server %s: %w", remote, err)
				}
				// The server authenticates the token; the mount adds no principal.
				m, err := fuse.Mount(ctx, args[0], client, fuse.Options{ReadOnly: ro, Logger: a.logger()})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "ctxfs: %s mounted at %s\n", remote, args[0])
				<-ctx.Done()
				return m.Unmount()
			}
			// A running server owns the store: mount through its socket.
			if c, err := api.DialSocket(ctx, a.dataDir()); err == nil {
				a.onClose(c.Close)
				if as != "" {
					c = c.As(as)
				}
				m, err := fuse.Mount(ctx, args[0], c, fuse.Options{ReadOnly: ro, Logger: a.logger()})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "ctxfs: mounted at %s as %s through the running server (Ctrl-C to unmount)\n", args[0], pr.Name)
				<-ctx.Done()
				return m.Unmount()
			} else if !errors.Is(err, api.ErrNoServer) {
				return err
			}
			sys, err := a.system(ctx)
			if err != nil {
				return err
			}
			o := server.Options{
				MountDir: args[0],
				Mount:    fuse.Options{ReadOnly: ro, Principal: pr},
				Owner:    ownerPrincipal(),
				Logger:   a.logger(),
				Ready: func(net.Addr) {
					fmt.Fprintf(a.stderr, "ctxfs: mounted at %s as %s (Ctrl-C to unmount)\n", args[0], pr.Name)
				},
			}
			return server.Run(ctx, sys, o)
		},
	}
	f := c.Flags()
	f.BoolVar(&ro, "ro", false, "mount read-only")
	f.StringVar(&as, "as", "", "act as this principal (its access rules apply)")
	f.StringVar(&remote, "server", "", "mount a remote ctxfs at this URL instead of the local store")
	f.StringVar(&token, "token", "", "bearer token for --server")
	return c
}
