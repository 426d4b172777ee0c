package mcp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/fs"
)

// Options say which MCP server to mount and how. Set Command (stdio) or
// URL (streamable HTTP), not both.
type Options struct {
	// Command and Args start a server that speaks MCP on its stdin and
	// stdout; Env adds KEY=VALUE variables to this process's environment
	// for it.
	Command string
	Args    []string
	Env     []string
	// URL is the endpoint of a streamable HTTP server; Header is sent
	// with every request (for example Authorization).
	URL    string
	Header map[string]string
	// Timeout bounds each call to the server; zero means 60 s.
	Timeout time.Duration
	// CacheTTL is how long lists and contents are reused; zero means 5 s,
	// negative disables caching.
	CacheTTL time.Duration
	// Logger receives the server's stderr (stdio) and errors; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Executor is implemented by file systems whose nodes can be run. For a
// mounted MCP server, the nodes are /tools/<name> and running one calls
// the tool with args.
type Executor interface {
	Exec(ctx context.Context, p fs.Path, args map[string]any) (string, error)
}

// ToolError is the failure a tool reports itself (an isError result), as
// opposed to a failure to reach it.
type ToolError struct {
	Tool string
	Text string // the tool's own message
}

func (e *ToolError) Error() string { return fmt.Sprintf("tool %s failed: %s", e.Tool, e.Text) }

// FS is a mounted MCP server. It is safe for concurrent use; Close ends
// the connection (and the server process, for stdio).
type FS struct {
	c    *client.Client
	opts Options
	log  *slog.Logger
	info []byte // /server.json
	// mount time, reported as every entry's time
	at time.Time

	// mu guards the caches.
	mu        sync.Mutex
	tools     *cached[map[string][]byte]   // name → definition JSON
	resources *cached[map[string]resource] // escaped name → resource
	contents  map[string]*cached[[]byte]   // URI → content
}

// resource is one listed resource.
type resource struct {
	uri  string
	size int64 // from the listing; -1 if the server did not say
}

// listReads is how many resources List reads to report exact sizes; larger
// listings report the sizes the server announced (or 0).
const listReads = 64

type cached[T any] struct {
	v  T
	at time.Time
}

var (
	_ fs.FS    = (*FS)(nil)
	_ Executor = (*FS)(nil)
)

// Dial starts or connects to the server in opts, initializes the MCP
// session and returns it mounted.
func Dial(ctx context.Context, opts Options) (*FS, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	var tr transport.Interface
	switch {
	case opts.Command != "" && opts.URL != "":
		return nil, fmt.Errorf("%w: mount an MCP server by command or by URL, not both", fs.ErrInvalid)
	case opts.Command != "":
		tr = transport.NewStdioWithOptions(opts.Command, opts.Env, opts.Args,
			transport.WithCommandStderrWriter(logWriter{log, opts.Command}))
	case opts.URL != "":
		u, err := url.Parse(opts.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("%w: MCP server URL %q must be http or https", fs.ErrInvalid, opts.URL)
		}
		h, err := transport.NewStreamableHTTP(opts.URL, transport.WithHTTPHeaders(opts.Header), transport.WithHTTPTimeout(opts.Timeout))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", fs.ErrInvalid, err)
		}
		tr = h
	default:
		return nil, fmt.Errorf("%w: no MCP server command or URL", fs.ErrInvalid)
	}
	c := client.NewClient(tr)
	if err := c.Start(ctx); err != nil {
		return nil, fmt.Errorf("%w: starting MCP server: %v", fs.ErrNotExist, err)
	}
	f := &FS{c: c, opts: opts, log: log, at: time.Now(), contents: map[string]*cached[[]byte]{}}
	c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		switch n.Method {
		case mcpgo.MethodNotificationToolsListChanged:
			f.mu.Lock()
			f.tools = nil
			f.mu.Unlock()
		case mcpgo.MethodNotificationResourcesListChanged:
			f.mu.Lock()
			f.resources = nil
			f.mu.Unlock()
		case mcpgo.MethodNotificationResourceUpdated:
			uri, _ := n.Params.AdditionalFields["uri"].(string)
			f.mu.Lock()
			delete(f.contents, uri)
			f.mu.Unlock()
		}
	})
	ictx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	req := mcpgo.InitializeRequest{}
	req.Params.ClientInfo = mcpgo.Implementation{Name: "ctxfs-mount", Version: "1"}
	res, err := c.Initialize(ictx, req)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: initializing MCP session: %v", fs.ErrInvalid, err)
	}
	f.info, _ = json.MarshalIndent(map[string]any{
		"serverInfo": res.ServerInfo, "protocolVersion": res.ProtocolVersion,
		"capabilities": res.Capabilities, "instructions": res.Instructions,
	}, "", "  ")
	return f, nil
}

// Close ends the session.
func (f *FS) Close() error { return f.c.Close() }

// logWriter sends a stdio server's stderr to the log.
type logWriter struct {
	log *slog.Logger
	cmd string
}

func (w logWriter) Write(b []byte) (int, error) {
	w.log.Debug("mcp server stderr", "command", w.cmd, "line", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// ResourceName is the file name of resource uri under /resources.
func ResourceName(uri string) string { return url.PathEscape(uri) }

func (f *FS) fresh(at time.Time) bool {
	return f.opts.CacheTTL > 0 && time.Since(at) < f.opts.CacheTTL
}

func (f *FS) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.opts.Timeout)
}

// remoteErr wraps a failure to talk to the server.
func remoteErr(op string, p fs.Path, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &fs.PathError{Op: op, Path: string(p), Err: err}
	}
	return &fs.PathError{Op: op, Path: string(p), Err: fmt.Errorf("%w: MCP server: %v", fs.ErrNotSupported, err)}
}

func (f *FS) toolList(ctx context.Context) (map[string][]byte, error) {
	f.mu.Lock()
	if t := f.tools; t != nil && f.fresh(t.at) {
		f.mu.Unlock()
		return t.v, nil
	}
	f.mu.Unlock()
	out := map[string][]byte{}
	if caps := f.c.GetServerCapabilities(); caps.Tools != nil {
		cctx, cancel := f.callCtx(ctx)
		defer cancel()
		tools, err := f.c.ListTools(cctx, mcpgo.ListToolsRequest{})
		if err != nil {
			return nil, remoteErr("list", "/tools", err)
		}
		for _, t := range tools.Tools {
			if fs.ValidName(t.Name) != nil {
				continue
			}
			b, err := json.MarshalIndent(t, "", "  ")
			if err != nil {
				continue
			}
			out[t.Name] = append(b, '\n')
		}
	}
	f.mu.Lock()
	f.tools = &cached[map[string][]byte]{out, time.Now()}
	f.mu.Unlock()
	return out, nil
}

func (f *FS) resourceList(ctx context.Context) (map[string]resource, error) {
	f.mu.Lock()
	if r := f.resources; r != nil && f.fresh(r.at) {
		f.mu.Unlock()
		return r.v, nil
	}
	f.mu.Unlock()
	out := map[string]resource{}
	if caps := f.c.GetServerCapabilities(); caps.Resources != nil {
		cctx, cancel := f.callCtx(ctx)
		defer cancel()
		res, err := f.c.ListResources(cctx, mcpgo.ListResourcesRequest{})
		if err != nil {
			return nil, remoteErr("list", "/resources", err)
		}
		for _, r := range res.Resources {
			name := ResourceName(r.URI)
			if fs.ValidName(name) != nil {
				f.log.Debug("mcp mount: resource URI is not a valid file name", "uri", r.URI)
				continue
			}
			size := int64(-1)
			if r.Size != nil {
				size = *r.Size
			}
			out[name] = resource{r.URI, size}
		}
	}
	f.mu.Lock()
	f.resources = &cached[map[string]resource]{out, time.Now()}
	f.mu.Unlock()
	return out, nil
}

// content returns resource uri's bytes (blobs decoded).
func (f *FS) content(ctx context.Context, p fs.Path, uri string) ([]byte, error) {
	f.mu.Lock()
	if c := f.contents[uri]; c != nil && f.fresh(c.at) {
		f.mu.Unlock()
		return c.v, nil
	}
	f.mu.Unlock()
	cctx, cancel := f.callCtx(ctx)
	defer cancel()
	req := mcpgo.ReadResourceRequest{}
	req.Params.URI = uri
	res, err := f.c.ReadResource(cctx, req)
	if err != nil {
		return nil, remoteErr("open", p, err)
	}
	var b []byte
	for _, c := range res.Contents {
		switch c := c.(type) {
		case mcpgo.TextResourceContents:
			b = append(b, c.Text...)
		case mcpgo.BlobResourceContents:
			d, err := base64.StdEncoding.DecodeString(c.Blob)
			if err != nil {
				return nil, &fs.PathError{Op: "open", Path: string(p), Err: fmt.Errorf("%w: resource blob is not base64", fs.ErrInvalid)}
			}
			b = append(b, d...)
		}
	}
	f.mu.Lock()
	f.contents[uri] = &cached[[]byte]{b, time.Now()}
	f.mu.Unlock()
	return b, nil
}

func (f *FS) dirInfo(p fs.Path) *fs.Info {
	return &fs.Info{Path: p, Kind: fs.KindDir, ReadOnly: true, Created: f.at, Modified: f.at}
}

func (f *FS) fileInfo(p fs.Path, size int64) *fs.Info {
	return &fs.Info{Path: p, Kind: fs.KindFile, Size: size, ReadOnly: true, Created: f.at, Modified: f.at}
}

func notExist(op string, p fs.Path) error {
	return &fs.PathError{Op: op, Path: string(p), Err: fs.ErrNotExist}
}

// node resolves p: a directory (content nil) or a file with its content.
func (f *FS) node(ctx context.Context, op string, p fs.Path) (isDir bool, content []byte, err error) {
	el := p.Elems()
	switch {
	case len(el) == 0:
		return true, nil, nil
	case len(el) == 1 && el[0] == "server.json":
		return false, f.info, nil
	case len(el) == 1 && (el[0] == "tools" || el[0] == "resources"):
		return true, nil, nil
	case len(el) == 2 && el[0] == "tools":
		tools, err := f.toolList(ctx)
		if err != nil {
			return false, nil, err
		}
		if b, ok := tools[el[1]]; ok {
			return false, b, nil
		}
	case len(el) == 2 && el[0] == "resources":
		res, err := f.resourceList(ctx)
		if err != nil {
			return false, nil, err
		}
		if r, ok := res[el[1]]; ok {
			b, err := f.content(ctx, p, r.uri)
			return false, b, err
		}
	}
	return false, nil, notExist(op, p)
}

// Stat implements fs.FS.
func (f *FS) Stat(ctx context.Context, p fs.Path) (*fs.Info, error) {
	isDir, b, err := f.node(ctx, "stat", p)
	if err != nil {
		return nil, err
	}
	if isDir {
		return f.dirInfo(p), nil
	}
	return f.fileInfo(p, int64(len(b))), nil
}

// List implements fs.FS. For up to listReads resources it reads each (from
// the cache when fresh) so that sizes are exact; beyond that it reports
// the sizes the server announced, 0 when it announced none.
func (f *FS) List(ctx context.Context, p fs.Path) ([]*fs.Info, error) {
	var out []*fs.Info
	switch string(p) {
	case "/":
		out = []*fs.Info{f.dirInfo("/resources"), f.fileInfo("/server.json", int64(len(f.info))), f.dirInfo("/tools")}
	case "/tools":
		tools, err := f.toolList(ctx)
		if err != nil {
			return nil, err
		}
		for name, b := range tools {
			out = append(out, f.fileInfo(p.Child(name), int64(len(b))))
		}
	case "/resources":
		res, err := f.resourceList(ctx)
		if err != nil {
			return nil, err
		}
		for name, r := range res {
			size := max(r.size, 0)
			if len(res) <= listReads {
				b, err := f.content(ctx, p.Child(name), r.uri)
				if err != nil {
					continue // unreadable now: leave it out, as Stat would fail
				}
				size = int64(len(b))
			}
			out = append(out, f.fileInfo(p.Child(name), size))
		}
	default:
		isDir, _, err := f.node(ctx, "list", p)
		if err != nil {
			return nil, err
		}
		if !isDir {
			return nil, &fs.PathError{Op: "list", Path: string(p), Err: fs.ErrNotDir}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Open implements fs.FS.
func (f *FS) Open(ctx context.Context, p fs.Path) (fs.File, error) {
	isDir, b, err := f.node(ctx, "open", p)
	if err != nil {
		return nil, err
	}
	if isDir {
		return nil, &fs.PathError{Op: "open", Path: string(p), Err: fs.ErrIsDir}
	}
	return &memFile{Reader: bytes.NewReader(b), info: f.fileInfo(p, int64(len(b)))}, nil
}

func readOnly(op string, p fs.Path) error {
	return &fs.PathError{Op: op, Path: string(p), Err: fmt.Errorf("%w: a mounted MCP server is read-only (run its tools with exec)", fs.ErrReadOnly)}
}

// Write implements fs.FS: always fs.ErrReadOnly.
func (f *FS) Write(_ context.Context, p fs.Path, _ io.Reader, _ fs.WriteOptions) (*fs.Info, error) {
	return nil, readOnly("write", p)
}

// Mkdir implements fs.FS: always fs.ErrReadOnly.
func (f *FS) Mkdir(_ context.Context, p fs.Path) error { return readOnly("mkdir", p) }

// Remove implements fs.FS: always fs.ErrReadOnly.
func (f *FS) Remove(_ context.Context, p fs.Path, _ bool) error { return readOnly("remove", p) }

// Rename implements fs.FS: always fs.ErrReadOnly.
func (f *FS) Rename(_ context.Context, src, _ fs.Path) error { return readOnly("rename", src) }

// Exec implements Executor: p must be /tools/<name>.
func (f *FS) Exec(ctx context.Context, p fs.Path, args map[string]any) (string, error) {
	el := p.Elems()
	if len(el) != 2 || el[0] != "tools" {
		return "", &fs.PathError{Op: "exec", Path: string(p), Err: fmt.Errorf("%w: only /tools/<name> can be run", fs.ErrInvalid)}
	}
	tools, err := f.toolList(ctx)
	if err != nil {
		return "", err
	}
	if _, ok := tools[el[1]]; !ok {
		return "", notExist("exec", p)
	}
	cctx, cancel := f.callCtx(ctx)
	defer cancel()
	req := mcpgo.CallToolRequest{}
	req.Params.Name = el[1]
	if args == nil {
		args = map[string]any{}
	}
	req.Params.Arguments = args
	res, err := f.c.CallTool(cctx, req)
	if err != nil {
		return "", remoteErr("exec", p, err)
	}
	var b strings.Builder
	for i, c := range res.Content {
		if i > 0 {
			b.WriteByte('\n')
		}
		if tc, ok := c.(mcpgo.TextContent); ok {
			b.WriteString(tc.Text)
			continue
		}
		j, _ := json.Marshal(c)
		b.Write(j)
	}
	if res.IsError {
		return "", &ToolError{Tool: el[1], Text: b.String()}
	}
	return b.String(), nil
}

// memFile is an fs.File over bytes read whole.
type memFile struct {
	*bytes.Reader
	info *fs.Info
}

func (m *memFile) Stat() *fs.Info { return m.info.Clone() }
func (m *memFile) Close() error   { return nil }
