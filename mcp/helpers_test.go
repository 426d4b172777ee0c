package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/mcp"
)

// The stdio tests re-execute the test binary as the MCP server process:
// with these variables set, TestMain serves MCP over stdin/stdout through
// the API client of the data directory's unix socket, exactly as `ctxfs
// mcp` does while `ctxfs serve` runs.
const (
	envChild = "CTXFS_MCP_TEST_CHILD" // data directory
	envAs    = "CTXFS_MCP_TEST_AS"    // principal ("" = the socket's admin owner)
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envChild); dir != "" {
		os.Exit(child(dir, os.Getenv(envAs)))
	}
	os.Exit(m.Run())
}

func child(dir, as string) int {
	ctx := context.Background()
	c, err := api.DialSocket(ctx, dir)
	if err != nil {
		os.Stderr.WriteString("child: " + err.Error() + "\n")
		return 1
	}
	defer c.Close()
	pr := fs.Principal{Name: "admin", Admin: true}
	if as != "" {
		c = c.As(as)
		pr = fs.Principal{Name: as}
	}
	srv := mcp.NewServer(c, mcp.Options{Principal: pr})
	if err := srv.ServeStdio(ctx, os.Stdin, os.Stdout); err != nil {
		os.Stderr.WriteString("child: " + err.Error() + "\n")
		return 1
	}
	return 0
}

// tokens are the bearer tokens of the HTTP tests.
var tokens = map[string]fs.Principal{
	"alice-token": {Name: "alice"},
	"bob-token":   {Name: "bob"},
	"admin-token": {Name: "admin", Admin: true},
}

func tokenAuth(r *http.Request) (fs.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fs.Principal{}, errors.Join(fs.ErrUnauthenticated, errors.New("no bearer token"))
	}
	pr, ok := tokens[tok]
	if !ok {
		return fs.Principal{}, errors.Join(fs.ErrUnauthenticated, errors.New("unknown token"))
	}
	return pr, nil
}

// env is a data directory served over the unix socket (for stdio
// children) and over HTTP by an in-process MCP server.
type env struct {
	dir  string
	sys  *local.System
	srv  *mcp.Server
	http *httptest.Server
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir, err := os.MkdirTemp("", "mcpt") // short: the socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	sys, err := local.Open(ctx, dir, local.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: dir, sys: sys}
	e.srv = mcp.NewServer(sys.NS, mcp.Options{Authenticate: tokenAuth})
	e.http = httptest.NewServer(e.srv)
	served := make(chan error, 1)
	go func() {
		served <- api.ServeUnix(ctx, api.SocketPath(dir), api.NewHandler(sys.NS, api.Options{Authenticate: api.LocalOwner("admin")}))
	}()
	t.Cleanup(func() {
		e.http.Close()
		e.srv.Close()
		cancel()
		<-served
		sys.Close()
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := api.DialSocket(ctx, dir)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

// admin is a context acting as the store's admin.
func admin() context.Context {
	return fs.WithPrincipal(context.Background(), fs.Principal{Name: "admin", Admin: true})
}

func (e *env) lastSeq(t testing.TB) uint64 {
	t.Helper()
	seq, err := e.sys.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func (e *env) put(t testing.TB, p, content string) {
	t.Helper()
	if _, err := e.sys.NS.Write(admin(), fs.MustParse(p), strings.NewReader(content), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) get(t testing.TB, p string) (string, bool) {
	t.Helper()
	f, err := e.sys.NS.Open(admin(), fs.MustParse(p))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String(), true
}

// catchUp brings the search index up to date with the change log.
func (e *env) catchUp(t testing.TB) {
	t.Helper()
	idx, err := e.sys.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// conn is an MCP client connection with the resource updates it received.
type conn struct {
	*client.Client
	updates chan string
}

func initialize(t testing.TB, c *client.Client) *conn {
	t.Helper()
	cn := &conn{Client: c, updates: make(chan string, 100)}
	c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		if n.Method == mcpgo.MethodNotificationResourceUpdated {
			uri, _ := n.Params.AdditionalFields["uri"].(string)
			select {
			case cn.updates <- uri:
			default:
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcpgo.InitializeRequest{}
	req.Params.ClientInfo = mcpgo.Implementation{Name: "ctxfs-test", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return cn
}

// httpConn connects over streamable HTTP with token; legacy pins the
// 2025-11-25 protocol (initialize handshake, GET stream, resources/subscribe).
func (e *env) httpConn(t testing.TB, token string, legacy bool) *conn {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(e.http.URL, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}), transport.WithContinuousListening())
	if err != nil {
		t.Fatal(err)
	}
	var opts []client.ClientOption
	if legacy {
		opts = append(opts, client.WithProtocolVersion("2025-11-25"))
	}
	c := client.NewClient(tr, opts...)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return initialize(t, c)
}

// stdioConn starts a child MCP server acting as principal as ("" = admin).
func (e *env) stdioConn(t testing.TB, as string) *conn {
	t.Helper()
	tr := transport.NewStdioWithOptions(os.Args[0], []string{envChild + "=" + e.dir, envAs + "=" + as}, []string{"-test.run=^$"},
		transport.WithCommandStderrWriter(testWriter{t}))
	c := client.NewClient(tr)
	// Client.Start starts the transport and installs the notification
	// handler (NewStdioMCPClient leaves the latter out).
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return initialize(t, c)
}

// call calls a tool and returns its text and whether it is an error result.
func call(t testing.TB, c *conn, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcpgo.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s %v: protocol error %v", tool, args, err)
	}
	var b strings.Builder
	for _, ct := range res.Content {
		if tc, ok := ct.(mcpgo.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// ok calls a tool that must succeed.
func ok(t testing.TB, c *conn, tool string, args map[string]any) string {
	t.Helper()
	text, isErr := call(t, c, tool, args)
	if isErr {
		t.Fatalf("%s %v: error result %s", tool, args, text)
	}
	return text
}

// fails calls a tool that must fail with an error result starting with code.
func fails(t testing.TB, c *conn, tool string, args map[string]any, code string) string {
	t.Helper()
	text, isErr := call(t, c, tool, args)
	if !isErr {
		t.Fatalf("%s %v: succeeded with %s, want error %s", tool, args, text, code)
	}
	if !strings.HasPrefix(text, code+":") {
		t.Fatalf("%s %v: error %q, want code %s", tool, args, text, code)
	}
	return text
}

func decode[T any](t testing.TB, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

// subscribe subscribes to uri: resources/subscribe on a legacy
// connection, a subscriptions/listen stream on a modern one.
func subscribe(t testing.TB, c *conn, uri string) {
	t.Helper()
	ctx := context.Background()
	req := mcpgo.SubscribeRequest{}
	req.Params.URI = uri
	if err := c.Subscribe(ctx, req); err != nil {
		t.Fatalf("subscribe %s: %v", uri, err)
	}
	if mcpgo.IsModernProtocol(c.ProtocolVersion()) {
		stop, err := c.ListenAsync(ctx, mcpgo.SubscriptionFilter{ResourceSubscriptions: []string{uri}}, nil)
		if err != nil {
			t.Fatalf("listen %s: %v", uri, err)
		}
		t.Cleanup(stop)
	}
}

// awaitUpdate calls write until an update of uri arrives (at most 10 s).
func awaitUpdate(t testing.TB, c *conn, uri string, write func()) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		write()
		select {
		case got := <-c.updates:
			if got == uri {
				return
			}
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no notifications/resources/updated for %s", uri)
		}
	}
}

// testWriter logs a child's stderr through the test.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
