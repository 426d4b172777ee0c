package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// openAPI is the OpenAPI 3 description of the endpoints, served at
// /v1/openapi.json.
//
//go:embed openapi.json
var openAPI []byte

// DefaultMaxBody is the default limit on request bodies.
const DefaultMaxBody = 64 << 20

// Options configure the handler. The zero value serves with the defaults.
type Options struct {
	// Authenticate returns the principal a request acts for; its errors
	// answer the request (fs.ErrUnauthenticated → 401, fs.ErrPermission →
	// 403; any other error is taken as 401). Nil means requests carry no
	// principal and the file system alone decides.
	Authenticate func(*http.Request) (fs.Principal, error)
	// MaxBody limits request bodies in bytes (413 beyond it); zero means
	// DefaultMaxBody.
	MaxBody int64
	// MaxWait caps the long-poll wait of GET /v1/changes; zero means 60 s.
	MaxWait time.Duration
	// Logger receives server errors (5xx); nil means slog.Default().
	Logger *slog.Logger
	// Metrics, when set, counts requests (serve it at /metrics).
	Metrics *Metrics
}

// Header names of the API.
const (
	// HeaderStat carries the stat object (ASCII JSON) of a file served by
	// GET /v1/fs.
	HeaderStat = "X-Ctxfs-Stat"
	// HeaderKind is "file" or "dir" on GET /v1/fs responses.
	HeaderKind = "X-Ctxfs-Kind"
	// HeaderMetaPrefix starts headers that set user metadata on PUT; the
	// key is the rest of the header name, lower-cased.
	HeaderMetaPrefix = "X-Ctxfs-Meta-"
)

// handler serves the API for one file system.
//
// It is safe for concurrent use; it holds no mutable state of its own.
type handler struct {
	fsys fs.FS
	opts Options
	log  *slog.Logger
}

// NewHandler returns the HTTP handler of the API over fsys (see the package
// documentation for the endpoints).
func NewHandler(fsys fs.FS, opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 60 * time.Second
	}
	h := &handler{fsys: fsys, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	for _, rt := range h.routes() {
		fn := h.auth(rt.fn)
		if opts.Metrics != nil {
			_, path, _ := strings.Cut(rt.pattern, " ")
			fn = opts.Metrics.measure(path, fn)
		}
		mux.HandleFunc(rt.pattern, fn)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, fmt.Errorf("%w: no endpoint %s %s", errNoRoute, r.Method, r.URL.Path))
	})
	return mux
}

// route is one authenticated endpoint.
type route struct {
	pattern string // a ServeMux pattern: "METHOD /path"
	fn      http.HandlerFunc
}

// routes lists the authenticated endpoints; the OpenAPI test checks that
// openapi.json documents each of them.
func (h *handler) routes() []route {
	return []route{
		{"GET /v1/fs/{path...}", h.get},
		{"PUT /v1/fs/{path...}", h.put},
		{"DELETE /v1/fs/{path...}", h.delete},
		{"POST /v1/fs/{path...}", h.post},
		{"GET /v1/stat/{path...}", h.stat},
		{"GET /v1/list/{path...}", h.list},
		{"GET /v1/log/{path...}", h.logVersions},
		{"PATCH /v1/meta/{path...}", h.meta},
		{"GET /v1/search", h.search},
		{"GET /v1/changes", h.changes},
		{"GET /v1/events", h.events},
	}
}

// errNoRoute answers unknown endpoints with 404 and code "not_found".
var errNoRoute = fs.ErrNotExist

// auth runs the Authenticate hook and puts the principal in the context.
func (h *handler) auth(next func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Authenticate != nil {
			pr, err := h.opts.Authenticate(r)
			if err != nil {
				if st, _ := classify(err); st != http.StatusForbidden && st != http.StatusUnauthorized {
					err = fmt.Errorf("%w: %v", fs.ErrUnauthenticated, err)
				}
				h.fail(w, r, err)
				return
			}
			r = r.WithContext(fs.WithPrincipal(r.Context(), pr))
		}
		next(w, r)
	}
}

// fail writes err as a JSON error response.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := toErrorJSON(err)
	if status >= 500 && status != http.StatusNotImplemented && status != http.StatusServiceUnavailable {
		h.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ctxfs"`)
	}
	writeJSON(w, status, errorBody{Error: body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"encoding the response failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// pathOf parses the {path...} wildcard as a ctxfs path.
func pathOf(r *http.Request) (fs.Path, error) {
	return fs.Parse("/" + r.PathValue("path"))
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{fs.ErrInvalid}, args...)...)
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// parseETag accepts "N", W/"N" and a bare N.
func parseETag(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	s = strings.Trim(s, `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, badRequest("entity tag %q is not a version number", s)
	}
	return v, nil
}

func queryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, badRequest("query parameter %s=%q is not a non-negative number", name, s)
	}
	return v, nil
}

func queryBool(r *http.Request, name string) bool {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// get serves a file's bytes (current or ?version=N), with Range support,
// or a directory's listing.
func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	version, err := queryInt(r, "version", 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var f fs.File
	if version > 0 {
		vr, ok := h.fsys.(fs.Versioner)
		if !ok {
			h.fail(w, r, fs.Wrap("open", p, fmt.Errorf("%w: this file system keeps no versions", fs.ErrNotSupported)))
			return
		}
		f, err = vr.OpenVersion(ctx, p, version)
	} else {
		f, err = h.fsys.Open(ctx, p)
	}
	if errors.Is(err, fs.ErrIsDir) && version == 0 {
		h.list(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	info := f.Stat()
	hd := w.Header()
	hd.Set(HeaderKind, "file")
	hd.Set(HeaderStat, asciiJSON(info))
	if info.Version > 0 {
		hd.Set("ETag", etag(info.Version))
	}
	hd.Set("Content-Type", "application/octet-stream")
	// ServeContent answers Range, If-Range, If-Match and HEAD requests.
	http.ServeContent(w, r, "", info.Modified, f)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ents, err := h.fsys.List(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set(HeaderKind, "dir")
	writeJSON(w, http.StatusOK, ents)
}

func (h *handler) stat(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	info, err := h.fsys.Stat(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if info.Version > 0 {
		w.Header().Set("ETag", etag(info.Version))
	}
	writeJSON(w, http.StatusOK, info)
}

// put writes the request body as the new version of a file.
func (h *handler) put(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.ContentLength > h.opts.MaxBody {
		h.fail(w, r, fs.Wrap("write", p, fmt.Errorf("%w: body of %d bytes is over the limit of %d", fs.ErrTooLarge, r.ContentLength, h.opts.MaxBody)))
		return
	}
	var opts fs.WriteOptions
	if im := r.Header.Get("If-Match"); im != "" {
		if strings.TrimSpace(im) == "*" {
			opts.MustExist = true
		} else if opts.IfVersion, err = parseETag(im); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if strings.TrimSpace(inm) != "*" {
			h.fail(w, r, badRequest("If-None-Match supports only *"))
			return
		}
		opts.Create = true
	}
	if opts.Meta, err = metaOf(r); err != nil {
		h.fail(w, r, err)
		return
	}
	body := http.MaxBytesReader(w, r.Body, h.opts.MaxBody)
	info, err := h.fsys.Write(r.Context(), p, body, opts)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe) && !errors.Is(err, fs.ErrTooLarge):
			err = fs.Wrap("write", p, fmt.Errorf("%w: body over the limit of %d bytes", fs.ErrTooLarge, h.opts.MaxBody))
		case errors.Is(err, io.ErrUnexpectedEOF) && r.Context().Err() == nil:
			// The client sent less than it announced or hung up: its
			// fault, not a server error to log.
			err = fs.Wrap("write", p, fmt.Errorf("%w: the request body ended early", fs.ErrInvalid))
		}
		h.fail(w, r, err)
		return
	}
	if info.Version > 0 {
		w.Header().Set("ETag", etag(info.Version))
	}
	writeJSON(w, http.StatusOK, info)
}

// metaOf collects user metadata from ?meta=KEY=VALUE parameters (any meta
// parameter makes the map non-nil, so a lone "meta=" clears the metadata)
// and X-Ctxfs-Meta-KEY headers. Nil means "keep the previous metadata".
func metaOf(r *http.Request) (map[string]string, error) {
	var meta map[string]string
	if vals, ok := r.URL.Query()["meta"]; ok {
		meta = map[string]string{}
		for _, kv := range vals {
			if kv == "" {
				continue
			}
			k, v, found := strings.Cut(kv, "=")
			if !found || k == "" {
				return nil, badRequest("meta parameter %q is not KEY=VALUE", kv)
			}
			meta[k] = v
		}
	}
	for name, vals := range r.Header {
		if len(name) > len(HeaderMetaPrefix) && strings.EqualFold(name[:len(HeaderMetaPrefix)], HeaderMetaPrefix) {
			if meta == nil {
				meta = map[string]string{}
			}
			meta[strings.ToLower(name[len(HeaderMetaPrefix):])] = vals[0]
		}
	}
	return meta, nil
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.fsys.Remove(r.Context(), p, queryBool(r, "recursive")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// post handles ?move=DEST and ?mkdir.
func (h *handler) post(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	ctx := r.Context()
	target := p
	switch {
	case q.Has("move"):
		dst, err := fs.Parse(q.Get("move"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if err := h.fsys.Rename(ctx, p, dst); err != nil {
			h.fail(w, r, err)
			return
		}
		target = dst
	case q.Has("mkdir"):
		if err := h.fsys.Mkdir(ctx, p); err != nil {
			h.fail(w, r, err)
			return
		}
	default:
		h.fail(w, r, badRequest("POST /v1/fs needs ?move=DEST or ?mkdir"))
		return
	}
	info, err := h.fsys.Stat(ctx, target)
	if err != nil {
		// The change succeeded; a concurrent one may have removed it since.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (h *handler) logVersions(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vr, ok := h.fsys.(fs.Versioner)
	if !ok {
		h.fail(w, r, fs.Wrap("log", p, fmt.Errorf("%w: this file system keeps no versions", fs.ErrNotSupported)))
		return
	}
	vs, err := vr.Log(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

// meta applies a JSON object of metadata changes: "key": "value" sets,
// "key": null deletes.
func (h *handler) meta(w http.ResponseWriter, r *http.Request) {
	p, err := pathOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ms, ok := h.fsys.(fs.MetaSetter)
	if !ok {
		h.fail(w, r, fs.Wrap("setmeta", p, fmt.Errorf("%w: this file system keeps no metadata", fs.ErrNotSupported)))
		return
	}
	var changes map[string]*string
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&changes); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, r, fmt.Errorf("%w: metadata body over 1 MiB", fs.ErrTooLarge))
			return
		}
		h.fail(w, r, badRequest("metadata body must be a JSON object of strings or nulls: %v", err))
		return
	}
	info, err := ms.SetMeta(r.Context(), p, changes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	s, ok := h.fsys.(fs.Searcher)
	if !ok {
		h.fail(w, r, fmt.Errorf("search: %w: this file system has no index", fs.ErrNotSupported))
		return
	}
	q := fs.Query{Text: r.URL.Query().Get("q")}
	if q.Text == "" {
		h.fail(w, r, badRequest("search needs a query: ?q=..."))
		return
	}
	if u := r.URL.Query().Get("under"); u != "" {
		p, err := fs.Parse(u)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		q.Under = p
	}
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q.Limit = int(min(limit, 10000))
	hits, err := s.Search(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hits)
}

// errPageFull stops a Changes scan once a page is full.
var errPageFull = errors.New("page full")

// changes returns events after ?since (at most ?limit, default 1000),
// waiting up to ?wait seconds for one when there are none yet.
func (h *handler) changes(w http.ResponseWriter, r *http.Request) {
	wt, ok := h.fsys.(fs.Watcher)
	if !ok {
		h.fail(w, r, fmt.Errorf("changes: %w: this file system keeps no change log", fs.ErrNotSupported))
		return
	}
	since, err := queryInt(r, "since", 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", 1000)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	limit = min(limit, 10000)
	waitS, err := queryInt(r, "wait", 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	wait := min(time.Duration(waitS)*time.Second, h.opts.MaxWait)
	if wait > 0 {
		// A server-wide WriteTimeout must not cut a long poll short.
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + 30*time.Second))
	}
	var notify <-chan struct{}
	if wait > 0 && limit > 0 {
		// Subscribe before reading, so a change between the read and the
		// wait is not missed.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
		notify = wt.Notify(ctx)
	}
	page := changesPage{Events: []Event{}}
	for {
		page.Last, err = wt.LastSeq(ctx)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if limit > 0 && page.Last > uint64(since) {
			err = wt.Changes(ctx, uint64(since), func(e fs.Event) error {
				page.Events = append(page.Events, NewEvent(e))
				if int64(len(page.Events)) >= limit {
					return errPageFull
				}
				return nil
			})
			if err != nil && err != errPageFull {
				h.fail(w, r, err)
				return
			}
		}
		if len(page.Events) > 0 || notify == nil {
			break
		}
		select {
		case <-notify:
			continue
		case <-ctx.Done():
		case <-drainFrom(r.Context()):
		}
		if r.Context().Err() != nil {
			return // the client went away
		}
		break
	}
	if n := len(page.Events); n > 0 && page.Events[n-1].Seq > page.Last {
		page.Last = page.Events[n-1].Seq
	}
	writeJSON(w, http.StatusOK, page)
}

type drainKey struct{}

// drainFrom returns the channel that DrainOnShutdown closes when the server
// shuts down, or nil.
func drainFrom(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainKey{}).(chan struct{})
	return ch
}

// DrainOnShutdown makes srv end the long polls of GET /v1/changes as soon
// as srv.Shutdown begins (they answer with what they have, so clients poll
// again elsewhere), instead of holding a graceful shutdown for up to
// Options.MaxWait. Requests doing real work are still drained normally.
// It sets srv.BaseContext, wrapping one that is already set.
func DrainOnShutdown(srv *http.Server) {
	ch := make(chan struct{})
	var once sync.Once
	srv.RegisterOnShutdown(func() { once.Do(func() { close(ch) }) })
	base := srv.BaseContext
	srv.BaseContext = func(l net.Listener) context.Context {
		ctx := context.Background()
		if base != nil {
			ctx = base(l)
		}
		return context.WithValue(ctx, drainKey{}, ch)
	}
}

// heartbeat is how often an idle event stream sends a comment, so proxies
// and clients see the connection alive.
const heartbeat = 15 * time.Second

// events streams the change log as server-sent events, from ?since=N or the
// Last-Event-ID header (default: only new events). Each event is
// "id: SEQ", "event: change" and "data: " the event's JSON. The file system
// filters what the principal may not read (the namespace does).
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	wt, ok := h.fsys.(fs.Watcher)
	if !ok {
		h.fail(w, r, fmt.Errorf("events: %w: this file system keeps no change log", fs.ErrNotSupported))
		return
	}
	ctx := r.Context()
	notify := wt.Notify(ctx)
	var since uint64
	from := r.URL.Query().Get("since")
	if from == "" {
		from = r.Header.Get("Last-Event-ID")
	}
	if from != "" {
		v, err := strconv.ParseUint(from, 10, 64)
		if err != nil {
			h.fail(w, r, badRequest("since=%q is not a sequence number", from))
			return
		}
		since = v
	} else {
		last, err := wt.LastSeq(ctx)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		since = last
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // streams outlive any server-wide WriteTimeout
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": ctxfs change stream\n\n")
	rc.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		err := wt.Changes(ctx, since, func(e fs.Event) error {
			b, err := json.Marshal(NewEvent(e))
			if err != nil {
				return err
			}
			since = e.Seq
			_, err = fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", e.Seq, b)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", asciiJSON(errorBody{Error: func() errorJSON { _, e := toErrorJSON(err); return e }()}))
				rc.Flush()
			}
			return
		}
		if rc.Flush() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-drainFrom(ctx):
			return
		case <-tick.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-notify:
		}
	}
}
