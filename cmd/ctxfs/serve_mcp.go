package main

import (
	"net/http"

	"github.com/ctxfs/ctxfs/mcp"
	"github.com/ctxfs/ctxfs/services"
)

// serve answers MCP (streamable HTTP) at /mcp for principals with a token.
func init() {
	serveHandlers = append(serveHandlers, func(a *app, env serveEnv) map[string]http.Handler {
		srv := mcp.NewServer(env.fsys, mcp.Options{
			Authenticate: env.authenticate,
			MaxBody:      a.cfg.GetInt64("max-body"),
			Logger:       a.logger(),
			Version:      version,
		})
		if err := services.RegisterMCP(srv, env.fsys, a.serviceOptions()); err != nil {
			a.logger().Error("mcp: service tools not added", "err", err)
		}
		// Open MCP event streams end at once rather than holding the drain.
		env.onShutdown(func() { srv.Close() })
		return map[string]http.Handler{"/mcp": srv}
	})
}
