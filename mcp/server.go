package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ctxfs/ctxfs/fs"
)

// DefaultMaxRead is the default limit on the content one read returns.
const DefaultMaxRead = 8 << 20

// DefaultMaxBody is the default limit on an HTTP request body.
const DefaultMaxBody = 64 << 20

// Options configure a Server. The zero value serves every tool with the
// defaults; stdio then needs Principal and HTTP needs Authenticate.
type Options struct {
	// Principal is who stdio sessions act as (`ctxfs mcp --as NAME`), who
	// HTTP requests act as when Authenticate is nil, and who in-process
	// calls (MCPServer) act as. A zero Principal
	// (no name) leaves such requests without one, so the namespace refuses
	// them (HTTP answers 401).
	Principal fs.Principal
	// Authenticate maps an HTTP request to its principal, normally from
	// its bearer token. An error answers 401 (403 for errors wrapping
	// fs.ErrPermission) before any MCP message is read.
	Authenticate func(*http.Request) (fs.Principal, error)
	// Tools, when non-nil, is the set of tool names to expose (`--tools`);
	// AddTool ignores the others. CheckTools reports names that matched no
	// tool.
	Tools []string
	// WatchAs is the principal that reads the change log to deliver
	// resource updates (each subscription was checked against its own
	// principal when it was made). Zero means fs.System.
	WatchAs fs.Principal
	// MaxRead limits the bytes one read (tool or resource) returns; zero
	// means DefaultMaxRead.
	MaxRead int64
	// MaxBody limits HTTP request bodies; zero means DefaultMaxBody.
	MaxBody int64
	// ResourcePage is how many files one resources/list page holds; zero
	// means 500.
	ResourcePage int
	// Name and Version identify the server to clients; defaults "ctxfs"
	// and "dev".
	Name, Version string
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// ToolFunc runs one tool call. ctx carries the caller's principal
// (fs.PrincipalFrom); an error becomes an error result whose text starts
// with the code of the fs sentinel it wraps (see ErrorCode).
type ToolFunc func(ctx context.Context, args Args) (string, error)

// Server is ctxfs's MCP door over one fs.FS: the ctx_* tools, every file
// as a resource, and resource subscriptions fed by the change log. Serve it
// over stdio (ServeStdio) or streamable HTTP (the Server is an
// http.Handler).
//
// Concurrency: a Server is safe for concurrent use. Add tools before
// serving; AddTool while serving is safe but clients learn of new tools
// only when they list again.
type Server struct {
	fsys fs.FS
	opts Options
	log  *slog.Logger
	mcp  *server.MCPServer
	http *server.StreamableHTTPServer
	subs *subscriptions

	// mu guards tools and bound.
	mu    sync.Mutex
	tools []string // names added, in order
	// bound maps an HTTP session id to the principal that opened it, so
	// a session cannot be used with another principal's token.
	bound map[string]string
}

// NewServer returns the MCP server over fsys with the built-in ctx_* tools.
func NewServer(fsys fs.FS, opts Options) *Server {
	if opts.MaxRead <= 0 {
		opts.MaxRead = DefaultMaxRead
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.ResourcePage <= 0 {
		opts.ResourcePage = 500
	}
	if opts.Name == "" {
		opts.Name = "ctxfs"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.WatchAs.Name == "" {
		opts.WatchAs = fs.System
	}
	s := &Server{fsys: fsys, opts: opts, log: opts.Logger, bound: map[string]string{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.subs = newSubscriptions(s)
	hooks := &server.Hooks{}
	s.subs.hook(hooks)
	hooks.AddAfterListResources(s.listResources)
	hooks.AddOnUnregisterSession(func(_ context.Context, cs server.ClientSession) {
		s.mu.Lock()
		delete(s.bound, cs.SessionID())
		s.mu.Unlock()
	})
	s.mcp = server.NewMCPServer(opts.Name, opts.Version,
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(true, false),
		server.WithHooks(hooks),
		server.WithRecovery(),
		server.WithResourceRecovery(),
		server.WithInstructions(instructions),
	)
	s.addResourceTemplate()
	s.addBuiltinTools()
	s.http = server.NewStreamableHTTPServer(s.mcp,
		server.WithStreamableHTTPLogger(s.log),
		server.WithHeartbeatInterval(0),
	)
	return s
}

const instructions = `ctxfs is a versioned, searchable file namespace for agent context.
Paths are absolute ("/memory/<user>/notes.md"). Use ctx_list and ctx_search to find
files, ctx_read to read them (line ranges for large files), ctx_write to change
them (modes replace, append, prepend, create, update, patch), ctx_history for old
versions. Files are also resources at ctxfs:///<path>.`

// MCPServer returns the underlying mcp-go server, for wiring that needs
// more than AddTool (prompts, for example).
func (s *Server) MCPServer() *server.MCPServer { return s.mcp }

// FS returns the file system the server serves.
func (s *Server) FS() fs.FS { return s.fsys }

// enabled reports whether Options.Tools lets tool name through.
func (s *Server) enabled(name string) bool {
	return s.opts.Tools == nil || slices.Contains(s.opts.Tools, name)
}

// AddTool adds a tool whose handler is fn; it is how later packages
// (memory, workspace, context) extend the server. A tool that Options.Tools
// leaves out is skipped. The call's arguments arrive as Args; fn's text
// becomes the result's text content and its error an error result (never a
// protocol error), and a panic in fn becomes an error result too.
func (s *Server) AddTool(def mcpgo.Tool, fn ToolFunc) {
	if !s.enabled(def.Name) {
		return
	}
	s.mu.Lock()
	s.tools = append(s.tools, def.Name)
	s.mu.Unlock()
	s.mcp.AddTool(def, func(ctx context.Context, req mcpgo.CallToolRequest) (res *mcpgo.CallToolResult, err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("mcp tool panicked", "tool", def.Name, "panic", r)
				res, err = mcpgo.NewToolResultError(fmt.Sprintf("internal: tool %s failed: %v", def.Name, r)), nil
			}
		}()
		ctx = s.principal(ctx)
		if _, ok := fs.PrincipalFrom(ctx); !ok {
			return mcpgo.NewToolResultError(errorText(fmt.Errorf("%w: the request has no principal", fs.ErrUnauthenticated))), nil
		}
		var args Args
		switch raw := req.Params.Arguments.(type) {
		case nil:
			args = Args{}
		case map[string]any:
			args = raw
		default:
			return mcpgo.NewToolResultError(errorText(invalidf("arguments must be a JSON object, not %s", jsonType(raw)))), nil
		}
		text, err := fn(ctx, args)
		if err != nil {
			if ErrorCode(err) == "internal" {
				s.log.Warn("mcp tool failed", "tool", def.Name, "err", err)
			}
			return mcpgo.NewToolResultError(errorText(err)), nil
		}
		return mcpgo.NewToolResultText(text), nil
	})
}

// Tools returns the names of the tools added, in order.
func (s *Server) Tools() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tools)
}

// CheckTools reports the names in Options.Tools that no added tool has
// (call it after adding every tool), so `--tools` typos fail loudly.
func (s *Server) CheckTools() error {
	added := s.Tools()
	var unknown []string
	for _, n := range s.opts.Tools {
		if !slices.Contains(added, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return invalidf("unknown tools %q (available: %q)", unknown, BuiltinTools)
	}
	return nil
}

// principal returns ctx with Options.Principal when it carries none (an
// in-process client, for example); the transports set one themselves.
func (s *Server) principal(ctx context.Context) context.Context {
	if _, ok := fs.PrincipalFrom(ctx); ok || s.opts.Principal.Name == "" {
		return ctx
	}
	return fs.WithPrincipal(ctx, s.opts.Principal)
}

// ServeStdio serves one MCP session over in and out (newline-delimited
// JSON-RPC) until in ends or ctx is done. Calls act as Options.Principal.
// mcp-go keeps one stdio session per process, so serve one stream at a
// time.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	std := server.NewStdioServer(s.mcp)
	std.SetErrorLogger(log.New(slogWriter{s.log}, "", 0))
	pr := s.opts.Principal
	std.SetContextFunc(func(ctx context.Context) context.Context {
		if pr.Name == "" {
			return ctx
		}
		return fs.WithPrincipal(ctx, pr)
	})
	err := std.Listen(ctx, in, out)
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// slogWriter sends mcp-go's log lines to slog.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	w.log.Warn("mcp stdio", "msg", string(b))
	return len(b), nil
}

// ServeHTTP serves MCP's streamable HTTP transport (POST, GET and DELETE
// on one endpoint). Every request is authenticated first: a missing or bad
// credential answers 401 with a JSON body, and a session opened by one
// principal answers 403 to another.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var pr fs.Principal
	var err error
	switch {
	case s.opts.Authenticate != nil:
		pr, err = s.opts.Authenticate(r)
	case s.opts.Principal.Name != "":
		pr = s.opts.Principal
	default:
		err = fmt.Errorf("%w: this server has no way to authenticate requests", fs.ErrUnauthenticated)
	}
	if err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, fs.ErrPermission) {
			status = http.StatusForbidden
		} else if !errors.Is(err, fs.ErrUnauthenticated) {
			err = fmt.Errorf("%w: %v", fs.ErrUnauthenticated, err)
		}
		httpError(w, status, err)
		return
	}
	if id := r.Header.Get(server.HeaderKeySessionID); id != "" {
		s.mu.Lock()
		owner, ok := s.bound[id]
		if !ok {
			s.bound[id] = pr.Name
		}
		s.mu.Unlock()
		if ok && owner != pr.Name {
			httpError(w, http.StatusForbidden, fmt.Errorf("%w: this MCP session belongs to another principal", fs.ErrPermission))
			return
		}
		if r.Method == http.MethodDelete {
			defer func() {
				s.mu.Lock()
				delete(s.bound, id)
				s.mu.Unlock()
			}()
		}
	}
	if r.ContentLength > s.opts.MaxBody {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: request body of %d bytes is over the limit of %d", fs.ErrTooLarge, r.ContentLength, s.opts.MaxBody))
		return
	}
	if r.Body != nil {
		// A body without a length is cut at the limit; mcp-go then answers
		// with a JSON-RPC parse error.
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
	}
	s.http.ServeHTTP(w, r.WithContext(fs.WithPrincipal(r.Context(), pr)))
}

// httpError answers an HTTP-level refusal with the API's JSON error shape.
func httpError(w http.ResponseWriter, status int, err error) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ctxfs"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": ErrorCode(err), "message": err.Error()}})
}

// Close ends the HTTP sessions and the change-log watcher.
func (s *Server) Close() error {
	s.subs.stop()
	s.http.CloseSessions(context.Background())
	return nil
}
