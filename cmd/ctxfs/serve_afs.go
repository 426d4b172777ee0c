package main

import (
	"net/http"

	"github.com/ctxfs/ctxfs/api/afs"
	ctxfs "github.com/ctxfs/ctxfs/fs"
)

// serve answers AIGNE's AFS RPC protocol at /afs/rpc over the namespace.
func init() {
	serveHandlers = append(serveHandlers, func(a *app, env serveEnv) map[string]http.Handler {
		root := ctxfs.Root
		if s := a.cfg.GetString("afs-root"); s != "" {
			p, err := ctxfs.Parse(s)
			if err != nil {
				a.logger().Error("ignoring --afs-root", "err", err)
			} else {
				root = p
			}
		}
		return map[string]http.Handler{
			"/afs/rpc": afs.NewHandler(env.fsys, afs.Options{
				Authenticate: env.authenticate,
				Root:         root,
				Mounts:       env.namespace.Mounts,
				Exec:         a.execPolicy(),
				Logger:       a.logger(),
			}),
		}
	})
}

// execPolicy is the AFS action policy from --exec-policy/--exec-blocked
// (config exec.policy, exec.blocked).
func (a *app) execPolicy() afs.ExecPolicy {
	pol := a.cfg.GetString("exec-policy")
	if pol == "" {
		pol = a.cfg.GetString("exec.policy")
	}
	blocked := a.cfg.GetStringSlice("exec-blocked")
	if len(blocked) == 0 {
		blocked = a.cfg.GetStringSlice("exec.blocked")
	}
	return afs.ExecPolicy{Policy: pol, Blocked: blocked}
}
