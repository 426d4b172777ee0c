package afs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"

	"github.com/ctxfs/ctxfs/fs"
)

// DefaultMaxBody is the AFS limit on request bodies: 10 MB (§1).
const DefaultMaxBody = 10 << 20

// Options configure the handler. The zero value serves the whole namespace
// with the defaults and the standard action policy.
type Options struct {
	// Authenticate returns the principal a request acts for (from its
	// bearer token). An error answers HTTP 401 with code 6 UNAUTHORIZED,
	// except one wrapping fs.ErrPermission, which answers 403 with code 2.
	// Nil means requests carry no principal and the file system alone
	// decides (a Namespace refuses them).
	Authenticate func(*http.Request) (fs.Principal, error)
	// Root is the namespace path that AFS sees as "/" (--afs-root); the
	// zero value is the namespace root.
	Root fs.Path
	// Mounts returns the namespace's mount table ((*fs.Namespace).Mounts);
	// the mount points below Root are the AFS mounts. Nil: when the file
	// system is an *fs.Namespace its own table is used, else there are none.
	Mounts func() []fs.MountPoint
	// MaxBody limits request bodies in bytes (413 beyond it); zero means
	// DefaultMaxBody.
	MaxBody int64
	// Exec is the action policy for exec.
	Exec ExecPolicy
	// ArchiveDir is the host directory where the archive action writes
	// archives that are not given an outputPath in the namespace; empty
	// means os.TempDir().
	ArchiveDir string
	// SearchScanFiles bounds the files one search reads; beyond it a file
	// system with a search index (fs.Searcher) answers from the index, and
	// one without answers from the files scanned so far. Zero means 20000.
	SearchScanFiles int
	// Logger receives unexpected errors; nil means slog.Default().
	Logger *slog.Logger
}

// handler serves AFS RPC over one file system.
//
// It is safe for concurrent use. Its only mutable state is the lock table
// that serializes read-modify-write operations on one path.
type handler struct {
	fsys fs.FS
	opts Options
	root fs.Path
	log  *slog.Logger

	locks pathLocks
}

// NewHandler returns the HTTP handler of the AFS RPC endpoint over fsys
// (mount it at /afs/rpc). See the package documentation for the protocol.
func NewHandler(fsys fs.FS, opts Options) http.Handler {
	return newHandler(fsys, opts)
}

func newHandler(fsys fs.FS, opts Options) *handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Root == "" {
		opts.Root = fs.Root
	}
	if opts.SearchScanFiles <= 0 {
		opts.SearchScanFiles = 20000
	}
	if opts.ArchiveDir == "" {
		opts.ArchiveDir = os.TempDir()
	}
	if opts.Mounts == nil {
		if ns, ok := fsys.(*fs.Namespace); ok {
			opts.Mounts = ns.Mounts
		}
	}
	h := &handler{fsys: fsys, opts: opts, root: opts.Root, log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	if err := opts.Exec.Validate(); err != nil {
		// Fail closed: an unreadable policy allows only ambient actions.
		h.log.Error("afs: invalid exec policy; using safe", "err", err)
		h.opts.Exec.Policy = PolicySafe
	}
	return h
}

// request is the RPC body.
type request struct {
	Method *string          `json:"method"`
	Params *json.RawMessage `json:"params"`
}

// envelope is every answer's body.
type envelope struct {
	Success bool       `json:"success"`
	Data    any        `json:"data,omitempty"`
	Error   *errorJSON `json:"error,omitempty"`
}

type errorJSON struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// method is one RPC operation: it decodes its own params.
type method func(ctx context.Context, params json.RawMessage) (any, error)

func (h *handler) methods() map[string]method {
	return map[string]method{
		"read":    h.read,
		"list":    h.list,
		"stat":    h.stat,
		"write":   h.write,
		"delete":  h.delete,
		"rename":  h.rename,
		"search":  h.search,
		"explain": h.explain,
		"exec":    h.exec,
		"changes": h.changes,
	}
}

// Methods lists the RPC methods the handler answers, sorted.
func Methods() []string {
	m := (&handler{}).methods()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, transportErr(http.StatusMethodNotAllowed, "method %s not allowed: AFS RPC takes POST", r.Method))
		return
	}
	ctx := r.Context()
	if h.opts.Authenticate != nil {
		pr, err := h.opts.Authenticate(r)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				h.fail(w, &rpcError{status: http.StatusForbidden, code: CodePermissionDenied, msg: err.Error(), err: err})
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ctxfs"`)
				h.fail(w, &rpcError{status: http.StatusUnauthorized, code: CodeUnauthorized, msg: "unauthorized: missing or invalid token", err: fs.ErrUnauthenticated})
			}
			return
		}
		ctx = fs.WithPrincipal(ctx, pr)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, transportErr(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", h.opts.MaxBody))
		} else {
			h.fail(w, transportErr(http.StatusBadRequest, "reading the request body: %v", err))
		}
		return
	}
	data, rerr := h.call(ctx, body)
	if rerr != nil {
		h.fail(w, rerr)
		return
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Data: data})
}

// call decodes one request body and runs it.
func (h *handler) call(ctx context.Context, body []byte) (any, *rpcError) {
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, transportErr(http.StatusBadRequest, "malformed JSON request: %v", err)
	}
	if dec.More() {
		return nil, transportErr(http.StatusBadRequest, "malformed JSON request: data after the request object")
	}
	if req.Method == nil || *req.Method == "" {
		return nil, transportErr(http.StatusBadRequest, "missing method")
	}
	fn, ok := h.methods()[*req.Method]
	if !ok {
		return nil, transportErr(http.StatusBadRequest, "unknown method %q", truncate(*req.Method, 64))
	}
	if req.Params == nil || len(*req.Params) == 0 || (*req.Params)[0] != '{' {
		return nil, transportErr(http.StatusBadRequest, "params must be an object")
	}
	data, err := fn(ctx, *req.Params)
	if err != nil {
		return nil, h.toRPC(err)
	}
	return data, nil
}

func (h *handler) fail(w http.ResponseWriter, e *rpcError) {
	writeJSON(w, e.status, envelope{Error: &errorJSON{Code: e.code, Message: e.msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusOK
		b = []byte(`{"success":false,"error":{"code":5,"message":"encoding the response failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// decodeParams decodes params into v; a type mismatch is a bad request.
func decodeParams(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badParams("invalid params: %s must be %s, not %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
		}
		return badParams("invalid params: %v", err)
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map", "ptr":
		return "an object"
	case "slice":
		return "an array"
	}
	return "a number"
}

// afsPath parses a path parameter: an absolute AFS path.
func afsPath(name, s string) (fs.Path, error) {
	if s == "" {
		return "", badParams("invalid params: %s is required", name)
	}
	p, err := fs.Parse(s)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", badParams("invalid params: %s %q: %v", name, truncate(s, 120), err)
	}
	return p, nil
}

// ns maps an AFS path into the namespace.
func (h *handler) ns(p fs.Path) fs.Path { return p.Under(h.root) }

// afs maps a namespace path into the AFS namespace; ok is false when it
// lies outside the AFS root.
func (h *handler) afs(p fs.Path) (fs.Path, bool) { return p.Rel(h.root) }

// pathLocks serializes read-modify-write operations on one path within
// this handler, so that concurrent appends to a provider without versions
// (a host directory) lose nothing; versioned providers are also guarded by
// WriteOptions.IfVersion against writers through other doors.
type pathLocks struct {
	// mu guards m.
	mu sync.Mutex
	m  map[fs.Path]*pathLock
}

type pathLock struct {
	mu   sync.Mutex
	refs int
}

func (l *pathLocks) lock(p fs.Path) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[fs.Path]*pathLock{}
	}
	pl := l.m[p]
	if pl == nil {
		pl = &pathLock{}
		l.m[p] = pl
	}
	pl.refs++
	l.mu.Unlock()
	pl.mu.Lock()
	return func() {
		pl.mu.Unlock()
		l.mu.Lock()
		pl.refs--
		if pl.refs == 0 {
			delete(l.m, p)
		}
		l.mu.Unlock()
	}
}

var errStop = fmt.Errorf("stop")
