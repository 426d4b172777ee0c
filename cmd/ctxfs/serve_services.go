package main

import (
	"net/http"

	"github.com/ctxfs/ctxfs/services"
)

// serve answers the service endpoints (persona memory, workspaces, context
// build and evaluation) under /v1/memory/, /v1/workspace/, /v1/context and
// /v1/evaluate, with the same bearer tokens as the file API.
func init() {
	serveHandlers = append(serveHandlers, func(a *app, env serveEnv) map[string]http.Handler {
		h := services.Handler(env.fsys, env.authenticate, services.Options{
			MaxBody: a.cfg.GetInt64("max-body"),
			Logger:  a.logger(),
		})
		out := map[string]http.Handler{}
		for _, p := range services.Routes {
			out[p] = h
		}
		return out
	})
}
