package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// TestServeServices drives the service endpoints and tools through a real
// `ctxfs serve` with real tokens: they answer beside the file API (which
// they do not shadow), access rules apply, and stdio `ctxfs mcp` lists the
// service tools too.
func TestServeServices(t *testing.T) {
	data := t.TempDir()
	var alice, bob, root struct{ Token string }
	json.Unmarshal([]byte(mustRun(t, data, nil, "principal", "add", "alice", "--json")), &alice)
	json.Unmarshal([]byte(mustRun(t, data, nil, "principal", "add", "bob", "--json")), &bob)
	json.Unmarshal([]byte(mustRun(t, data, nil, "principal", "add", "root", "--admin", "--json")), &root)
	addr := freeAddr(t)
	startDaemon(t, data, "serving", "serve", "--addr", addr)

	do := func(token, method, path, body string) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, "http://"+addr+path, rd)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	turns := `{"turns":[{"role":"user","content":"I live in Lyon and I love jazz.","time":"2024-01-02"}]}`
	cases := []struct {
		name, token, method, path, body string
		code                            int
		want                            string
	}{
		{"alice observes", alice.Token, "POST", "/v1/memory/alice/observe", turns, 200, `"version":1`},
		{"alice recalls", alice.Token, "GET", "/v1/memory/alice?q=music", "", 200, "loves jazz"},
		{"alice shows", alice.Token, "GET", "/v1/memory/alice", "", 200, "lives in Lyon"},
		{"the file API still answers", alice.Token, "GET", "/v1/fs/memory/alice/persona.md", "", 200, "lives in Lyon"},
		{"bob recalls alice", bob.Token, "GET", "/v1/memory/alice?q=music", "", 403, "permission_denied"},
		{"bob observes into alice", bob.Token, "POST", "/v1/memory/alice/observe", turns, 403, "permission_denied"},
		{"bad token", "ctxfs_wrong", "GET", "/v1/memory/alice", "", 401, "unauthenticated"},
		{"no token", "", "POST", "/v1/context", `{}`, 401, "unauthenticated"},
		{"malformed", alice.Token, "POST", "/v1/memory/alice/observe", `{"turns":`, 400, "invalid"},
		{"root observes a workspace", root.Token, "POST", "/v1/workspace/w1/observe", `{"text":"On May 7, 2024 Alice Moreau met Bob Lee at Central Park."}`, 200, "000001"},
		{"root queries it", root.Token, "GET", "/v1/workspace/w1/query?q=Where+did+Alice+Moreau+meet+Bob+Lee", "", 200, "Central Park"},
		{"ask without --model", root.Token, "POST", "/v1/ask", `{"question":"Where does alice live?"}`, 501, "not_supported"},
		{"root builds a context", root.Token, "POST", "/v1/context", `{"query":"Where does alice live?","budget":200,"sources":[{"user":"alice"}]}`, 200, "Lyon"},
	}
	for _, c := range cases {
		if code, body := do(c.token, c.method, c.path, c.body); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %.300s, want %d with %q", c.name, code, body, c.code, c.want)
		}
	}

	// MCP over HTTP: alice calls a service tool.
	tr, err := transport.NewStreamableHTTP("http://"+addr+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + alice.Token}))
	if err != nil {
		t.Fatal(err)
	}
	mc := client.NewClient(tr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	ini := mcpgo.InitializeRequest{}
	ini.Params.ClientInfo = mcpgo.Implementation{Name: "test", Version: "1"}
	if _, err := mc.Initialize(ctx, ini); err != nil {
		t.Fatal(err)
	}
	req := mcpgo.CallToolRequest{}
	req.Params.Name = "memory_recall"
	req.Params.Arguments = map[string]any{"user": "alice", "query": "where do I live"}
	res, err := mc.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := res.Content[0].(mcpgo.TextContent); res.IsError || !ok || !strings.Contains(tc.Text, "Lyon") {
		t.Errorf("memory_recall over /mcp: %+v", res.Content)
	}

	// stdio: `ctxfs mcp` lists the service tools (through the server's socket).
	in := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
`
	out := mustRun(t, data, []byte(in), "mcp", "--as", "alice")
	for _, name := range []string{"memory_observe", "memory_recall", "memory_show", "workspace_observe", "workspace_query", "context_build", "context_evaluate", "ctx_read"} {
		if !strings.Contains(out, `"name":"`+name+`"`) {
			t.Errorf("ctxfs mcp tools/list lacks %s: %.500s", name, out)
		}
	}
}

// TestServeServicesAsk: with --model, POST /v1/ask answers end to end and
// the MCP door lists the ask tool.
func TestServeServicesAsk(t *testing.T) {
	model := filepath.Join(sharedTestdata(t), "models", "stories260K", "stories260K.gguf")
	data := t.TempDir()
	var root struct{ Token string }
	json.Unmarshal([]byte(mustRun(t, data, nil, "principal", "add", "root", "--admin", "--json")), &root)
	addr := freeAddr(t)
	startDaemon(t, data, "serving", "serve", "--addr", addr, "--model", model)
	mustRun(t, data, []byte("# Park\nLily went to the park with her dog Max.\n"), "put", "/notes/park.md")

	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/ask", strings.NewReader(`{"question":"Where did Lily go?","user":"lily","budget":150,"max_tokens":8,"sources":[{"glob":"/notes/**"}]}`))
	req.Header.Set("Authorization", "Bearer "+root.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Answer     string          `json:"answer"`
		ManifestID string          `json:"manifest_id"`
		Evaluation json.RawMessage `json:"evaluation"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 || res.ManifestID == "" || len(res.Evaluation) == 0 {
		t.Fatalf("POST /v1/ask: %d %+v %v", resp.StatusCode, res, err)
	}
	if got := mustRun(t, data, nil, "ls", "/history/ask"); strings.TrimSpace(got) == "" {
		t.Errorf("the exchange left nothing in /history/ask")
	}
}
