package services_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/mcp"
	"github.com/ctxfs/ctxfs/services"
)

// tokens are the bearer tokens of the tests.
var tokens = map[string]fs.Principal{
	"alice-token": {Name: "alice"},
	"bob-token":   {Name: "bob"},
	"admin-token": {Name: "root", Admin: true},
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

// env is a real store (bbolt, bleve index, namespace with the default
// policy) served over HTTP: the services' endpoints and /mcp with the
// service tools.
type env struct {
	sys *local.System
	srv *httptest.Server
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, services.Options{})
}

// newEnvWith is newEnv with opts for both doors (MaxBody is set to 1 MiB).
func newEnvWith(t testing.TB, opts services.Options) *env {
	t.Helper()
	opts.MaxBody = 1 << 20
	sys, err := local.Open(context.Background(), t.TempDir(), local.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	m := mcp.NewServer(sys.NS, mcp.Options{Authenticate: tokenAuth})
	if err := services.RegisterMCP(m, sys.NS, opts); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", m)
	h := services.Handler(sys.NS, tokenAuth, opts)
	for _, p := range services.Routes {
		mux.Handle(p, h)
	}
	e := &env{sys: sys, srv: httptest.NewServer(mux)}
	t.Cleanup(func() {
		e.srv.Close()
		m.Close()
		sys.Close()
	})
	return e
}

func (e *env) lastSeq(t testing.TB) uint64 {
	t.Helper()
	seq, err := e.sys.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func admin() context.Context {
	return fs.WithPrincipal(context.Background(), tokens["admin-token"])
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
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

// do sends one request with token (none when "") and returns the status
// and the decoded JSON body.
func (e *env) do(t testing.TB, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, data, err)
	}
	return resp.StatusCode, v
}

func jsonBody(t testing.TB, v any) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// mcpConn connects an MCP client over streamable HTTP with token.
func (e *env) mcpConn(t testing.TB, token string) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(e.srv.URL+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcpgo.InitializeRequest{}
	req.Params.ClientInfo = mcpgo.Implementation{Name: "services-test", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c
}

// call calls a tool and returns its text and whether it is an error result.
func call(t testing.TB, c *client.Client, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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

func ok(t testing.TB, c *client.Client, tool string, args map[string]any) map[string]any {
	t.Helper()
	text, isErr := call(t, c, tool, args)
	if isErr {
		t.Fatalf("%s %v: error result %s", tool, args, text)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("%s: result %q is not a JSON object: %v", tool, text, err)
	}
	return v
}

func errCode(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func mustPath(t testing.TB, s string) fs.Path {
	t.Helper()
	p, err := fs.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
