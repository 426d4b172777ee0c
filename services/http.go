package services

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/evaluator"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/mcp"
	"github.com/ctxfs/ctxfs/memory"
)

// Routes are the path patterns Handler serves, for registering it on an
// outer mux (each more specific than a "/" catch-all).
var Routes = []string{"/v1/memory/", "/v1/workspace/", "/v1/context", "/v1/evaluate", "/v1/ask"}

// Handler returns the HTTP door of the services (routes in the package
// doc). authenticate maps a request to its principal, normally from its
// bearer token; its error answers 401 (403 for errors wrapping
// fs.ErrPermission) before the body is read. A nil authenticate leaves
// requests without a principal, which the namespace refuses.
//
// The handler is safe for concurrent use.
func Handler(fsys fs.FS, authenticate func(*http.Request) (fs.Principal, error), opts Options) http.Handler {
	s := newServices(fsys, opts)
	h := &handler{s: s, authn: authenticate}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/memory/{user}/observe", h.wrap(h.memoryObserve))
	mux.HandleFunc("GET /v1/memory/{user}", h.wrap(h.memoryGet))
	mux.HandleFunc("POST /v1/workspace/{name}/observe", h.wrap(h.workspaceObserve))
	mux.HandleFunc("GET /v1/workspace/{name}/query", h.wrap(h.workspaceQueryGet))
	mux.HandleFunc("POST /v1/workspace/{name}/query", h.wrap(h.workspaceQueryPost))
	mux.HandleFunc("POST /v1/context", h.wrap(h.contextBuild))
	mux.HandleFunc("POST /v1/evaluate", h.wrap(h.contextEvaluate))
	mux.HandleFunc("POST /v1/ask", h.wrap(h.ask))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no route %s %s (see the services package doc for the routes)", fs.ErrNotExist, r.Method, r.URL.Path))
	})
	return mux
}

type handler struct {
	s     *services
	authn func(*http.Request) (fs.Principal, error)
}

// wrap authenticates the request, bounds its body and turns the
// operation's result or error into JSON.
func (h *handler) wrap(op func(ctx context.Context, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h.authn != nil {
			pr, err := h.authn(r)
			if err != nil {
				if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrUnauthenticated) {
					err = fmt.Errorf("%w: %v", fs.ErrUnauthenticated, err)
				}
				writeError(w, err)
				return
			}
			ctx = fs.WithPrincipal(ctx, pr)
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.s.opts.MaxBody)
		res, err := op(ctx, r)
		if err != nil {
			if api.StatusCode(err) == http.StatusInternalServerError {
				h.s.log.Warn("service call failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	status := api.StatusCode(err)
	code := mcp.ErrorCode(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		code = "too_large"
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ctxfs"`)
	}
	writeJSON(w, status, errorBody{errorJSON{Code: code, Message: err.Error()}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{errorJSON{Code: "internal", Message: err.Error()}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// decodeBody decodes the request's JSON body strictly into v: unknown
// fields, trailing data and wrong types are fs.ErrInvalid errors.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: request body over %d bytes", fs.ErrTooLarge, mbe.Limit)
		}
		return err
	}
	return decodeJSON(data, v)
}

// decodeJSON decodes data strictly into v.
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return invalidf("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalidf("field %q must be %s, not a JSON %s", te.Field, jsonKind(te.Type), te.Value)
		}
		return invalidf("malformed JSON body: %v", err)
	}
	if dec.More() {
		return invalidf("malformed JSON body: data after the object")
	}
	return nil
}

// jsonKind names the JSON value a Go type decodes from, for messages.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// queryBudget reads the budget query parameter (absent: 0, the default).
func queryBudget(r *http.Request) (int, error) {
	v := r.URL.Query().Get("budget")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, invalidf("budget must be an integer, not %q", v)
	}
	return n, nil
}

func (h *handler) memoryObserve(ctx context.Context, r *http.Request) (any, error) {
	var body struct {
		Turns []memory.Turn `json:"turns"`
	}
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	return h.s.memoryObserve(ctx, r.PathValue("user"), body.Turns)
}

func (h *handler) memoryGet(ctx context.Context, r *http.Request) (any, error) {
	user := r.PathValue("user")
	q := r.URL.Query()
	if !q.Has("q") {
		if q.Has("budget") {
			return nil, invalidf("budget needs q (a recall); without q the whole file is returned")
		}
		return h.s.memoryShow(ctx, user)
	}
	b, err := queryBudget(r)
	if err != nil {
		return nil, err
	}
	return h.s.memoryRecall(ctx, user, q.Get("q"), b)
}

func (h *handler) workspaceObserve(ctx context.Context, r *http.Request) (any, error) {
	var o WorkspaceObservation
	if err := decodeBody(r, &o); err != nil {
		return nil, err
	}
	return h.s.workspaceObserve(ctx, r.PathValue("name"), o)
}

func (h *handler) workspaceQueryGet(ctx context.Context, r *http.Request) (any, error) {
	b, err := queryBudget(r)
	if err != nil {
		return nil, err
	}
	return h.s.workspaceQuery(ctx, r.PathValue("name"), r.URL.Query().Get("q"), b)
}

func (h *handler) workspaceQueryPost(ctx context.Context, r *http.Request) (any, error) {
	var body struct {
		Question string `json:"question"`
		Budget   int    `json:"budget"`
	}
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	return h.s.workspaceQuery(ctx, r.PathValue("name"), body.Question, body.Budget)
}

func (h *handler) contextBuild(ctx context.Context, r *http.Request) (any, error) {
	var req constructor.Request
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	return h.s.contextBuild(ctx, req)
}

func (h *handler) contextEvaluate(ctx context.Context, r *http.Request) (any, error) {
	var req evaluator.Request
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	return h.s.contextEvaluate(ctx, req)
}

func (h *handler) ask(ctx context.Context, r *http.Request) (any, error) {
	var req AskRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	return h.s.ask(ctx, req)
}
