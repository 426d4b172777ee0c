package mcp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/mcp"
)

// TestAccess walks the access cases through both transports: alice reads
// and writes /memory/alice, cannot read or write /memory/bob (tools,
// resources or subscriptions), an admin can do both, and over HTTP a
// missing or bad token is refused before any MCP message is read.
func TestAccess(t *testing.T) {
	for _, tr := range []string{"http", "stdio"} {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t)
			e.put(t, "/memory/bob/secret.md", "bob's")
			connect := func(who string) *conn {
				if tr == "http" {
					return e.httpConn(t, who+"-token", false)
				}
				if who == "admin" {
					who = ""
				}
				return e.stdioConn(t, who)
			}
			alice, adm := connect("alice"), connect("admin")
			cases := []struct {
				who   *conn
				name  string
				tool  string
				args  map[string]any
				allow bool
			}{
				{alice, "alice writes her memory", "ctx_write", map[string]any{"path": "/memory/alice/n.md", "content": "mine"}, true},
				{alice, "alice reads her memory", "ctx_read", map[string]any{"path": "/memory/alice/n.md"}, true},
				{alice, "alice appends to her memory", "ctx_write", map[string]any{"path": "/memory/alice/n.md", "content": "!", "mode": "append"}, true},
				{alice, "alice reads bob's memory", "ctx_read", map[string]any{"path": "/memory/bob/secret.md"}, false},
				{alice, "alice stats bob's memory", "ctx_stat", map[string]any{"path": "/memory/bob/secret.md"}, false},
				{alice, "alice lists bob's memory", "ctx_list", map[string]any{"path": "/memory/bob"}, false},
				{alice, "alice reads bob's history", "ctx_history", map[string]any{"path": "/memory/bob/secret.md"}, false},
				{alice, "alice writes bob's memory", "ctx_write", map[string]any{"path": "/memory/bob/secret.md", "content": "alice was here"}, false},
				{alice, "alice patches bob's memory", "ctx_write", map[string]any{"path": "/memory/bob/secret.md", "mode": "patch", "patches": []any{map[string]any{"op": "delete", "target": "bob"}}}, false},
				{alice, "alice deletes bob's memory", "ctx_delete", map[string]any{"path": "/memory/bob/secret.md"}, false},
				{alice, "alice moves bob's memory to hers", "ctx_move", map[string]any{"path": "/memory/bob/secret.md", "newPath": "/memory/alice/stolen.md"}, false},
				{alice, "alice writes outside /memory", "ctx_write", map[string]any{"path": "/notes/x.md", "content": "x"}, false},
				{adm, "admin reads bob's memory", "ctx_read", map[string]any{"path": "/memory/bob/secret.md"}, true},
				{adm, "admin reads alice's memory", "ctx_read", map[string]any{"path": "/memory/alice/n.md"}, true},
				{adm, "admin writes alice's memory", "ctx_write", map[string]any{"path": "/memory/alice/by-admin.md", "content": "a"}, true},
				{adm, "admin writes bob's memory", "ctx_write", map[string]any{"path": "/memory/bob/by-admin.md", "content": "b"}, true},
			}
			for _, tc := range cases {
				before := e.lastSeq(t)
				text, isErr := call(t, tc.who, tc.tool, tc.args)
				switch {
				case tc.allow && isErr:
					t.Errorf("%s: refused: %s", tc.name, text)
				case !tc.allow && !isErr:
					t.Errorf("%s: allowed: %s", tc.name, text)
				case !tc.allow && !strings.HasPrefix(text, "permission_denied:"):
					t.Errorf("%s: error %q, want permission_denied", tc.name, text)
				}
				if !tc.allow && e.lastSeq(t) != before {
					t.Errorf("%s: a refused call changed the store", tc.name)
				}
			}
			if got, _ := e.get(t, "/memory/bob/secret.md"); got != "bob's" {
				t.Fatalf("bob's file is now %q", got)
			}
			if got, _ := e.get(t, "/memory/alice/n.md"); got != "mine!" {
				t.Fatalf("alice's file is %q", got)
			}

			// Resources: alice sees only her files, cannot read or subscribe to bob's.
			ctx := context.Background()
			res, err := alice.ListResources(ctx, mcpgo.ListResourcesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Resources {
				if !strings.HasPrefix(r.URI, "ctxfs:///memory/alice/") {
					t.Errorf("alice's resource list shows %s", r.URI)
				}
			}
			if len(res.Resources) != 2 {
				t.Errorf("alice lists %d resources, want 2", len(res.Resources))
			}
			rd := mcpgo.ReadResourceRequest{}
			rd.Params.URI = "ctxfs:///memory/bob/secret.md"
			if _, err := alice.ReadResource(ctx, rd); err == nil || !strings.Contains(err.Error(), "permission_denied") {
				t.Errorf("alice reads bob's resource: %v", err)
			}
			if _, err := adm.ReadResource(ctx, rd); err != nil {
				t.Errorf("admin reads bob's resource: %v", err)
			}
			if tr == "http" {
				sub := mcpgo.SubscribeRequest{}
				sub.Params.URI = rd.Params.URI
				legacy := e.httpConn(t, "alice-token", true)
				if err := legacy.Subscribe(ctx, sub); err == nil || !strings.Contains(err.Error(), "permission_denied") {
					t.Errorf("alice subscribes to bob's file: %v", err)
				}
			}
		})
	}
}

// TestHTTPAuth checks the HTTP door's refusals: no token, a bad token, and
// a session used with another principal's token.
func TestHTTPAuth(t *testing.T) {
	e := newEnv(t)
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"bad token", "Bearer nope", http.StatusUnauthorized},
		{"not bearer", "Basic YWxpY2U6eA==", http.StatusUnauthorized},
		{"good token", "Bearer alice-token", http.StatusOK},
	} {
		before := e.lastSeq(t)
		status, body, _ := post(t, e.http.URL, tc.auth, "", init)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, status, tc.status, body)
		}
		if tc.status == http.StatusUnauthorized && !strings.Contains(body, `"unauthenticated"`) {
			t.Errorf("%s: body %s", tc.name, body)
		}
		if e.lastSeq(t) != before {
			t.Errorf("%s changed the store", tc.name)
		}
	}
	// mcp-go's client with a bad token cannot connect.
	c := e.httpConn(t, "alice-token", true)
	sid := c.GetSessionId()
	if sid == "" {
		t.Fatal("no session id on a 2025-11-25 connection")
	}
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ctx_read","arguments":{"path":"/memory/alice/x"}}}`
	if status, body, _ := post(t, e.http.URL, "Bearer bob-token", sid, call); status != http.StatusForbidden {
		t.Errorf("bob on alice's session: %d %s", status, body)
	}
}

// post sends one JSON-RPC body to the MCP endpoint.
func post(t testing.TB, url, auth, session, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestBadInput sends wrong argument types, unknown tools, invalid paths and
// malformed JSON-RPC: each gets a clear error and the store does not change.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/notes/a.md", "hello\n")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			c := tr.conn(t, e, "admin")
			for _, tc := range []struct {
				tool string
				args map[string]any
				want string // error text fragment
			}{
				{"ctx_read", map[string]any{"path": 42}, `"path" must be a string`},
				{"ctx_read", map[string]any{}, `"path" is required`},
				{"ctx_read", map[string]any{"path": "/notes/a.md", "startLine": "2"}, `"startLine" must be an integer`},
				{"ctx_read", map[string]any{"path": "/notes/a.md", "startLine": 1.5}, `"startLine" must be an integer`},
				{"ctx_read", map[string]any{"path": "/notes/a.md", "startLine": 0}, "startLine must be at least 1"},
				{"ctx_read", map[string]any{"path": "notes/a.md"}, "absolute"},
				{"ctx_read", map[string]any{"path": "/notes/../etc/passwd"}, "invalid"},
				{"ctx_read", map[string]any{"path": "/notes/a\x00.md"}, "NUL"},
				{"ctx_write", map[string]any{"path": "/notes/a.md", "content": 7}, `"content" must be a string`},
				{"ctx_write", map[string]any{"path": "/notes/a.md"}, `"content" is required`},
				{"ctx_write", map[string]any{"path": "/notes/a.md", "content": "x", "mode": "sideways"}, "unknown mode"},
				{"ctx_write", map[string]any{"path": "/notes/a.md", "mode": "patch", "patches": "nope"}, `"patches" has the wrong shape`},
				{"ctx_write", map[string]any{"path": "/notes/a.md", "mode": "patch", "patches": []any{map[string]any{"op": "explode", "target": "hello"}}}, "unknown op"},
				{"ctx_write", map[string]any{"path": "/notes/a.md", "content": "x", "patches": []any{}}, "needs mode patch"},
				{"ctx_write", map[string]any{"path": "/", "content": "x"}, ""},
				{"ctx_delete", map[string]any{"path": "/notes/a.md", "recursive": "yes"}, `"recursive" must be a boolean`},
				{"ctx_delete", map[string]any{"path": "/"}, "invalid"},
				{"ctx_move", map[string]any{"path": "/notes/a.md"}, `"newPath" is required`},
				{"ctx_move", map[string]any{"path": "/notes", "newPath": "/notes/sub"}, "invalid"},
				{"ctx_search", map[string]any{"query": ""}, "query"},
				{"ctx_search", map[string]any{"query": "x", "limit": -1}, "limit"},
				{"ctx_list", map[string]any{"path": "/notes", "maxDepth": 99}, "maxDepth"},
				{"ctx_history", map[string]any{"path": "/notes/a.md", "version": 0}, "version"},
			} {
				before := e.lastSeq(t)
				text, isErr := call(t, c, tc.tool, tc.args)
				if !isErr || !strings.Contains(text, tc.want) {
					t.Errorf("%s %v: %v %q, want an error with %q", tc.tool, tc.args, isErr, text, tc.want)
				}
				if e.lastSeq(t) != before {
					t.Errorf("%s %v changed the store", tc.tool, tc.args)
				}
			}
			// An unknown tool is a JSON-RPC error that names it.
			before := e.lastSeq(t)
			req := mcpgo.CallToolRequest{}
			req.Params.Name = "ctx_format_disk"
			if _, err := c.CallTool(context.Background(), req); err == nil || !strings.Contains(err.Error(), "ctx_format_disk") {
				t.Errorf("unknown tool: %v", err)
			}
			if e.lastSeq(t) != before {
				t.Error("an unknown tool changed the store")
			}
			if got, _ := e.get(t, "/notes/a.md"); got != "hello\n" {
				t.Fatalf("content changed to %q", got)
			}
		})
	}
}

// TestMalformedJSONRPC sends broken messages over raw HTTP and a raw stdio
// pipe: each is answered with a JSON-RPC error (or an HTTP 400), the
// connection keeps working, and nothing changes.
func TestMalformedJSONRPC(t *testing.T) {
	e := newEnv(t)
	bad := []string{
		`{not json`,
		`[]`,
		`{"jsonrpc":"1.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":1,"method":"no/such/method"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ctx_write","arguments":[1,2]}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"ctxfs://host/x"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"ctxfs:///../x"}}`,
	}
	before := e.lastSeq(t)
	t.Run("http", func(t *testing.T) {
		c := e.httpConn(t, "admin-token", true)
		sid := c.GetSessionId()
		for _, m := range bad {
			status, body, _ := post(t, e.http.URL, "Bearer admin-token", sid, m)
			if status == http.StatusOK && !strings.Contains(body, `"error"`) && !strings.Contains(body, `"isError":true`) {
				t.Errorf("%s: %d %s", m, status, body)
			}
			if status >= 500 {
				t.Errorf("%s: server error %d %s", m, status, body)
			}
		}
		ok(t, c, "ctx_stat", map[string]any{"path": "/"})
	})
	t.Run("stdio", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+e.dir)
		cmd.Stderr = testWriter{t}
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer in.Close()
		lines := bufio.NewScanner(out)
		lines.Buffer(make([]byte, 1<<20), 1<<20)
		send := func(m string) map[string]any {
			t.Helper()
			io.WriteString(in, m+"\n")
			done := make(chan map[string]any, 1)
			go func() {
				if lines.Scan() {
					var v map[string]any
					json.Unmarshal(lines.Bytes(), &v)
					done <- v
				} else {
					done <- nil
				}
			}()
			select {
			case v := <-done:
				return v
			case <-time.After(20 * time.Second):
				t.Fatalf("no answer to %s", m)
				return nil
			}
		}
		send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
		io.WriteString(in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
		for _, m := range bad {
			v := send(m)
			if v == nil {
				t.Fatalf("%s: no answer", m)
			}
			_, isErr := v["error"]
			res, _ := v["result"].(map[string]any)
			if !isErr && (res == nil || res["isError"] != true) {
				t.Errorf("%s: answered %v", m, v)
			}
		}
		v := send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"ctx_stat","arguments":{"path":"/"}}}`)
		if res, _ := v["result"].(map[string]any); res == nil || res["isError"] == true {
			t.Fatalf("the session broke after bad input: %v", v)
		}
	})
	if e.lastSeq(t) != before {
		t.Fatal("malformed messages changed the store")
	}
}

// TestOversizedBody: a body over Options.MaxBody is refused with 413 (or a
// parse error when it has no length) and changes nothing.
func TestOversizedBody(t *testing.T) {
	e := newEnv(t)
	srv := mcp.NewServer(e.sys.NS, mcp.Options{Authenticate: tokenAuth, MaxBody: 1 << 10})
	defer srv.Close()
	e.http.Config.Handler = srv
	c := e.httpConn(t, "admin-token", true)
	before := e.lastSeq(t)
	big := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"ctx_write","arguments":{"path":"/big","content":"` + strings.Repeat("x", 4<<10) + `"}}}`
	status, body, _ := post(t, e.http.URL, "Bearer admin-token", c.GetSessionId(), big)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too_large") {
		t.Fatalf("oversized body: %d %s", status, body)
	}
	// Through mcp-go's client: the call fails, the session survives.
	req := mcpgo.CallToolRequest{}
	req.Params.Name = "ctx_write"
	req.Params.Arguments = map[string]any{"path": "/big", "content": strings.Repeat("x", 4<<10)}
	if _, err := c.CallTool(context.Background(), req); err == nil {
		t.Fatal("an oversized call succeeded")
	}
	ok(t, c, "ctx_write", map[string]any{"path": "/small", "content": "fits"})
	if e.lastSeq(t) != before+1 {
		t.Fatalf("log moved by %d, want 1 (the small write)", e.lastSeq(t)-before)
	}
}
