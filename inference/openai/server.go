package openai

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/ctxfs/ctxfs/inference"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 4 << 20

// HandlerOptions configures NewHandler.
type HandlerOptions struct {
	// Model is the model id listed by /v1/models and echoed in responses.
	Model string
	// Logger receives one line per failed request (nil: slog.Default()).
	Logger *slog.Logger
}

// handler serves the OpenAI API over a Generator. It is safe for concurrent use; the
// Generator decides how requests share the model.
type handler struct {
	gen  inference.Generator
	opts HandlerOptions
	mux  *http.ServeMux
}

// NewHandler returns an http.Handler serving GET /v1/models, POST /v1/completions and
// POST /v1/chat/completions over gen. Mount it at the root of a server (the paths
// include /v1).
func NewHandler(gen inference.Generator, opts HandlerOptions) http.Handler {
	if opts.Model == "" {
		opts.Model = "local"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &handler{gen: gen, opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /v1/models", h.models)
	h.mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { h.complete(w, r, false) })
	h.mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { h.complete(w, r, true) })
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *handler) models(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelInfo{{ID: h.opts.Model, Object: "model", Created: time.Now().Unix(), OwnedBy: "ctxfs"}}})
}

var errTooLarge = errors.New("request body too large")

// statusOf is the one table from errors to HTTP statuses.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe), errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, inference.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	h.opts.Logger.Info("openai: request failed", "path", r.URL.Path, "status", status, "err", err)
	var body errorBody
	body.Error.Message = err.Error()
	body.Error.Type = "server_error"
	if status < 500 {
		body.Error.Type = "invalid_request_error"
	}
	writeJSON(w, status, body)
}

func (h *handler) complete(w http.ResponseWriter, r *http.Request, chat bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := parseRequest(body, chat)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := newID(chat)
	created := time.Now().Unix()
	model := h.opts.Model
	if !p.stream {
		resp, err := h.gen.Generate(r.Context(), p.req)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		fr := resp.FinishReason
		usage := resp.Usage
		if chat {
			writeJSON(w, http.StatusOK, chatResponse{ID: id, Object: "chat.completion", Created: created, Model: model,
				Choices: []chatChoice{{Message: &inference.Message{Role: "assistant", Content: resp.Text}, FinishReason: &fr}}, Usage: &usage})
		} else {
			writeJSON(w, http.StatusOK, completionResponse{ID: id, Object: "text_completion", Created: created, Model: model,
				Choices: []completionChoice{{Text: resp.Text, FinishReason: &fr}}, Usage: &usage})
		}
		return
	}
	// Streaming: headers go out with the first event, so errors after that can only
	// end the stream.
	flusher, _ := w.(http.Flusher)
	started := false
	start := func() {
		if started {
			return
		}
		started = true
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
	}
	event := func(v any) error {
		start()
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	chunk := func(text string, role string, finish *string, usage *inference.Usage) error {
		if chat {
			c := chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Usage: usage,
				Choices: []chatChoice{{Delta: &delta{Role: role, Content: text}, FinishReason: finish}}}
			if usage != nil {
				c.Choices = []chatChoice{}
			}
			return event(c)
		}
		c := completionResponse{ID: id, Object: "text_completion", Created: created, Model: model, Usage: usage,
			Choices: []completionChoice{{Text: text, FinishReason: finish}}}
		if usage != nil {
			c.Choices = []completionChoice{}
		}
		return event(c)
	}
	req := p.req
	first := true
	req.OnToken = func(t inference.Token) error {
		if t.Text == "" && !first {
			return nil
		}
		role := ""
		if first && chat {
			role = "assistant"
		}
		first = false
		return chunk(t.Text, role, nil, nil)
	}
	resp, err := h.gen.Generate(r.Context(), req)
	if err != nil {
		if !started {
			h.fail(w, r, err)
			return
		}
		h.opts.Logger.Info("openai: stream ended by error", "path", r.URL.Path, "err", err)
		var body errorBody
		body.Error.Message, body.Error.Type = err.Error(), "server_error"
		event(body)
		return
	}
	fr := resp.FinishReason
	if err := chunk("", "", &fr, nil); err != nil {
		return
	}
	if p.includeUsage {
		u := resp.Usage
		if err := chunk("", "", nil, &u); err != nil {
			return
		}
	}
	start()
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func newID(chat bool) string {
	var b [12]byte
	rand.Read(b[:])
	if chat {
		return "chatcmpl-" + hex.EncodeToString(b[:])
	}
	return "cmpl-" + hex.EncodeToString(b[:])
}
