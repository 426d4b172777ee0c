package main

import (
	"encoding/json"
	"net/http"

	"github.com/ctxfs/ctxfs/inference"
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
	e, err := inference.Open(path, a.cfg.GetBool("in-memory"), inference.EngineOptions{})
	if err != nil {
		return err
	}
	a.model = e
	a.onClose(e.Close)
	return nil
}
