package main

import (
	"encoding/json"
	"net/http"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/kv/kvbench"
	"github.com/ctxfs/ctxfs/inference/openai"
)

// With --model, serve also answers the OpenAI-compatible API over the local
// engine, for the same principals as the rest of the server.
func init() {
	serveHandlers = append(serveHandlers, func(a *app, env serveEnv) map[string]http.Handler {
		if a.model == nil {
			return nil
		}
		h := openai.NewHandler(a.model, openai.HandlerOptions{Model: a.model.Name(), Logger: a.logger()})
		authed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := env.authenticate(r); err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": err.Error(), "type": "invalid_request_error", "code": "invalid_api_key"}})
				return
			}
			h.ServeHTTP(w, r)
		})
		return map[string]http.Handler{
			"GET /v1/models":            authed,
			"POST /v1/completions":      authed,
			"POST /v1/chat/completions": authed,
		}
	})
}

// openModel loads the model named by --model for serve, if any.
func (a *app) openModel() error {
	path := a.cfg.GetString("model")
	if path == "" {
		return nil
	}
	opts := inference.EngineOptions{}
	policy := a.cfg.GetString("kv-policy")
	if policy == "" {
		policy = a.cfg.GetString("kv.policy")
	}
	budget := a.cfg.GetInt("kv-budget")
	if budget == 0 {
		budget = a.cfg.GetInt("kv.budget")
	}
	if policy != "" && policy != kv.PolicyFull {
		cfg := kv.Config{Policy: policy, Budget: budget}
		// Refuse a bad policy name or budget at start, not at the first request.
		if _, err := kv.NewPolicy(cfg, kv.Geometry{Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 1, Capacity: 1}); err != nil {
			return usageError{err}
		}
		opts.Backend = kvbench.Backend(cfg)
	}
	e, err := inference.Open(path, a.cfg.GetBool("in-memory"), opts)
	if err != nil {
		return err
	}
	a.model = e
	a.onClose(e.Close)
	return nil
}
