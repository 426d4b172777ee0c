package main

import (
	"net/http"

	"github.com/ctxfs/ctxfs/inference/tokenizer"
	"github.com/ctxfs/ctxfs/services"
)

// serve answers the service endpoints (persona memory, workspaces, context
// build and evaluation, and ask with --model) under /v1/memory/,
// /v1/workspace/, /v1/context, /v1/evaluate and /v1/ask, with the same
// bearer tokens as the file API.
func init() {
	serveHandlers = append(serveHandlers, func(a *app, env serveEnv) map[string]http.Handler {
		o := a.serviceOptions()
		o.MaxBody = a.cfg.GetInt64("max-body")
		h := services.Handler(env.fsys, env.authenticate, o)
		out := map[string]http.Handler{}
		for _, p := range services.Routes {
			out[p] = h
		}
		return out
	})
}

// serviceOptions are the services' options: the served model (serve
// --model), if any, answers ask, its budgets counted in its own tokens.
func (a *app) serviceOptions() services.Options {
	o := services.Options{Logger: a.logger()}
	if a.model != nil {
		o.Generator = a.model
		o.Counter = modelCounter{a.model.Tokenizer()}
	}
	return o
}

// modelCounter counts tokens with a served model's tokenizer.
type modelCounter struct{ tok tokenizer.Tokenizer }

func (c modelCounter) CountTokens(s string) int {
	return len(c.tok.Encode(s, tokenizer.EncodeOptions{}))
}
