package mcp_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/mcp"
)

// transports are the ways the tests reach the server: mcp-go's client over
// streamable HTTP (the current protocol and the 2025-11-25 one) and over
// stdio (a child process on the unix socket's API client).
var transports = []struct {
	name string
	conn func(t testing.TB, e *env, who string) *conn
}{
	{"http", func(t testing.TB, e *env, who string) *conn { return e.httpConn(t, who+"-token", false) }},
	{"http-2025-11-25", func(t testing.TB, e *env, who string) *conn { return e.httpConn(t, who+"-token", true) }},
	{"stdio", func(t testing.TB, e *env, who string) *conn {
		if who == "admin" {
			who = ""
		}
		return e.stdioConn(t, who)
	}},
}

func TestTools(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := newEnv(t)
			c := tr.conn(t, e, "admin")
			ctx := context.Background()

			// tools/list: every tool, with a schema and annotations.
			lt, err := c.ListTools(ctx, mcpgo.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range lt.Tools {
				names = append(names, tool.Name)
				if tool.Description == "" || tool.InputSchema.Type != "object" {
					t.Errorf("%s: no description or schema", tool.Name)
				}
				ro := tool.Annotations.ReadOnlyHint != nil && *tool.Annotations.ReadOnlyHint
				if want := slices.Contains([]string{"ctx_list", "ctx_read", "ctx_search", "ctx_stat", "ctx_history"}, tool.Name); ro != want {
					t.Errorf("%s: readOnlyHint %v, want %v", tool.Name, ro, want)
				}
				if slices.Contains([]string{"ctx_write", "ctx_delete", "ctx_move"}, tool.Name) &&
					(tool.Annotations.DestructiveHint == nil || !*tool.Annotations.DestructiveHint) {
					t.Errorf("%s: not marked destructive", tool.Name)
				}
			}
			slices.Sort(names)
			want := slices.Sorted(slices.Values(mcp.BuiltinTools))
			if !slices.Equal(names, want) {
				t.Fatalf("tools %v, want %v", names, want)
			}

			// ctx_write in every mode.
			st := decode[fs.Info](t, ok(t, c, "ctx_write", map[string]any{"path": "/notes/a.md", "content": "line1\nline2\n"}))
			if st.Path != "/notes/a.md" || st.Version != 1 || st.Size != 12 {
				t.Fatalf("write stat %+v", st)
			}
			ok(t, c, "ctx_write", map[string]any{"path": "/notes/a.md", "content": "line3\n", "mode": "append"})
			ok(t, c, "ctx_write", map[string]any{"path": "/notes/a.md", "content": "line0\n", "mode": "prepend"})
			ok(t, c, "ctx_write", map[string]any{"path": "/notes/new.md", "content": "fresh", "mode": "append"})
			fails(t, c, "ctx_write", map[string]any{"path": "/notes/a.md", "content": "x", "mode": "create"}, "exists")
			fails(t, c, "ctx_write", map[string]any{"path": "/notes/missing.md", "content": "x", "mode": "update"}, "not_found")
			ok(t, c, "ctx_write", map[string]any{"path": "/notes/c.md", "content": "hello world", "mode": "create"})
			ok(t, c, "ctx_write", map[string]any{"path": "/notes/c.md", "content": "hello world, again", "mode": "update"})
			ok(t, c, "ctx_write", map[string]any{"path": "/notes/c.md", "mode": "patch", "patches": []any{
				map[string]any{"op": "str_replace", "target": "world", "content": "earth"},
				map[string]any{"op": "insert_before", "target": "hello", "content": "> "},
				map[string]any{"op": "insert_after", "target": "again", "content": "!"},
				map[string]any{"op": "delete", "target": ", "},
			}})
			if got, _ := e.get(t, "/notes/c.md"); got != "> hello earthagain!" {
				t.Fatalf("patched content %q", got)
			}
			fails(t, c, "ctx_write", map[string]any{"path": "/notes/c.md", "mode": "patch", "patches": []any{
				map[string]any{"op": "str_replace", "target": "nowhere", "content": "x"}}}, "invalid")
			fails(t, c, "ctx_write", map[string]any{"path": "/notes/nope.md", "mode": "patch", "patches": []any{
				map[string]any{"op": "delete", "target": "x"}}}, "not_found")

			// ctx_read: whole file, ranges, errors.
			if got := ok(t, c, "ctx_read", map[string]any{"path": "/notes/a.md"}); got != "line0\nline1\nline2\nline3\n" {
				t.Fatalf("read %q", got)
			}
			for _, tc := range []struct {
				start, end any
				want       string
			}{{2, 3, "line1\nline2"}, {3, nil, "line2\nline3"}, {3, -1, "line2\nline3"}, {nil, 1, "line0"}, {4, 99, "line3"}} {
				args := map[string]any{"path": "/notes/a.md"}
				if tc.start != nil {
					args["startLine"] = tc.start
				}
				if tc.end != nil {
					args["endLine"] = tc.end
				}
				if got := ok(t, c, "ctx_read", args); got != tc.want {
					t.Errorf("read %v: %q, want %q", args, got, tc.want)
				}
			}
			fails(t, c, "ctx_read", map[string]any{"path": "/notes/a.md", "startLine": 3, "endLine": 2}, "invalid")
			fails(t, c, "ctx_read", map[string]any{"path": "/notes/a.md", "startLine": 9}, "invalid")
			fails(t, c, "ctx_read", map[string]any{"path": "/notes/zzz"}, "not_found")

			// ctx_stat, ctx_list.
			if st := decode[fs.Info](t, ok(t, c, "ctx_stat", map[string]any{"path": "/notes/a.md"})); st.Version != 3 || st.Kind != fs.KindFile {
				t.Fatalf("stat %+v", st)
			}
			list := decode[[]fs.Info](t, ok(t, c, "ctx_list", map[string]any{"path": "/notes"}))
			var listed []string
			for _, in := range list {
				listed = append(listed, string(in.Path))
			}
			if !slices.Equal(listed, []string{"/notes/a.md", "/notes/c.md", "/notes/new.md"}) {
				t.Fatalf("list %v", listed)
			}
			if deep := decode[[]fs.Info](t, ok(t, c, "ctx_list", map[string]any{"maxDepth": 2})); len(deep) != 4 {
				t.Fatalf("list / depth 2: %d entries, want 4", len(deep))
			}

			// ctx_search.
			e.catchUp(t)
			hits := decode[[]fs.Hit](t, ok(t, c, "ctx_search", map[string]any{"query": "hello", "path": "/notes", "limit": 5}))
			if len(hits) != 1 || hits[0].Path != "/notes/c.md" {
				t.Fatalf("search hits %+v", hits)
			}
			if hits := decode[[]fs.Hit](t, ok(t, c, "ctx_search", map[string]any{"query": "nothingmatchesthis"})); len(hits) != 0 {
				t.Fatalf("search for nothing: %+v", hits)
			}

			// ctx_history: versions and an old version's text.
			vs := decode[[]fs.Version](t, ok(t, c, "ctx_history", map[string]any{"path": "/notes/a.md"}))
			if len(vs) != 3 || vs[0].Version != 3 || vs[0].Author != "admin" {
				t.Fatalf("history %+v", vs)
			}
			if got := ok(t, c, "ctx_history", map[string]any{"path": "/notes/a.md", "version": 1}); got != "line1\nline2\n" {
				t.Fatalf("version 1: %q", got)
			}
			if got := ok(t, c, "ctx_read", map[string]any{"path": "/notes/a.md", "version": 2, "startLine": 3}); got != "line3" {
				t.Fatalf("version 2 line 3: %q", got)
			}
			fails(t, c, "ctx_history", map[string]any{"path": "/notes/a.md", "version": 9}, "not_found")

			// ctx_move, ctx_delete.
			ok(t, c, "ctx_move", map[string]any{"path": "/notes/new.md", "newPath": "/archive/new.md"})
			if got, _ := e.get(t, "/archive/new.md"); got != "fresh" {
				t.Fatalf("moved content %q", got)
			}
			fails(t, c, "ctx_stat", map[string]any{"path": "/notes/new.md"}, "not_found")
			fails(t, c, "ctx_delete", map[string]any{"path": "/notes"}, "not_empty")
			ok(t, c, "ctx_delete", map[string]any{"path": "/notes", "recursive": true})
			if _, found := e.get(t, "/notes/a.md"); found {
				t.Fatal("/notes/a.md survived a recursive delete")
			}
		})
	}
}

func TestResources(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := newEnv(t)
			e.put(t, "/docs/a b.md", "# A\n")
			e.put(t, "/docs/bin", "\xff\xfe")
			c := tr.conn(t, e, "admin")
			ctx := context.Background()

			tpl, err := c.ListResourceTemplates(ctx, mcpgo.ListResourceTemplatesRequest{})
			if err != nil || len(tpl.ResourceTemplates) != 1 {
				t.Fatalf("templates %+v %v", tpl, err)
			}
			res, err := c.ListResources(ctx, mcpgo.ListResourcesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var uris []string
			for _, r := range res.Resources {
				uris = append(uris, r.URI)
			}
			if !slices.Equal(uris, []string{"ctxfs:///docs/a%20b.md", "ctxfs:///docs/bin"}) {
				t.Fatalf("resources %v", uris)
			}
			rd := mcpgo.ReadResourceRequest{}
			rd.Params.URI = "ctxfs:///docs/a%20b.md"
			got, err := c.ReadResource(ctx, rd)
			if err != nil {
				t.Fatal(err)
			}
			if tc, isText := got.Contents[0].(mcpgo.TextResourceContents); !isText || tc.Text != "# A\n" || !strings.HasPrefix(tc.MIMEType, "text/markdown") {
				t.Fatalf("read resource %+v", got.Contents)
			}
			rd.Params.URI = "ctxfs:///docs/bin"
			if got, err := c.ReadResource(ctx, rd); err != nil {
				t.Fatal(err)
			} else if b, isBlob := got.Contents[0].(mcpgo.BlobResourceContents); !isBlob || b.Blob != "//4=" {
				t.Fatalf("binary resource %+v", got.Contents)
			}
			rd.Params.URI = "ctxfs:///docs/missing"
			if _, err := c.ReadResource(ctx, rd); err == nil || !strings.Contains(err.Error(), "not_found") {
				t.Fatalf("missing resource: %v", err)
			}

			// Subscribe, then a write through another door arrives as an update.
			uri := "ctxfs:///docs/a%20b.md"
			subscribe(t, c, uri)
			n := 0
			awaitUpdate(t, c, uri, func() {
				n++
				e.put(t, "/docs/a b.md", fmt.Sprintf("# A %d\n", n))
			})
			// A write through the MCP door itself, and a write elsewhere
			// that must not be reported for this URI.
			awaitUpdate(t, c, uri, func() {
				e.put(t, "/docs/other.md", "x")
				ok(t, c, "ctx_write", map[string]any{"path": "/docs/a b.md", "content": "more", "mode": "append"})
			})
			// Removing a directory above the file updates it too.
			drain(c, 500*time.Millisecond)
			if err := e.sys.NS.Remove(admin(), "/docs", true); err != nil {
				t.Fatal(err)
			}
			awaitUpdate(t, c, uri, func() {})
			// After unsubscribing, writes send nothing.
			if !mcpgo.IsModernProtocol(c.ProtocolVersion()) {
				un := mcpgo.UnsubscribeRequest{}
				un.Params.URI = uri
				if err := c.Unsubscribe(ctx, un); err != nil {
					t.Fatal(err)
				}
				drain(c, 500*time.Millisecond)
				e.put(t, "/docs/a b.md", "after unsubscribe")
				if got := drain(c, time.Second); len(got) > 0 {
					t.Fatalf("updates after unsubscribe: %v", got)
				}
			}
		})
	}
}

func TestResourcePages(t *testing.T) {
	e := newEnv(t)
	var want []string
	for i := range 7 {
		p := fmt.Sprintf("/d%d/f%d.txt", i%3, i)
		e.put(t, p, "x")
		want = append(want, mcp.URI(fs.MustParse(p)))
	}
	slices.Sort(want)
	srv := mcp.NewServer(e.sys.NS, mcp.Options{Principal: fs.Principal{Name: "admin", Admin: true}, ResourcePage: 2})
	e.http.Config.Handler = srv
	defer srv.Close()
	c := e.httpConn(t, "admin-token", false)
	res, err := c.ListResources(context.Background(), mcpgo.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Resources {
		got = append(got, r.URI)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged listing %v, want %v", got, want)
	}
}

func TestToolSubset(t *testing.T) {
	e := newEnv(t)
	srv := mcp.NewServer(e.sys.NS, mcp.Options{Authenticate: tokenAuth, Tools: []string{"ctx_read", "ctx_stat"}})
	defer srv.Close()
	if err := srv.CheckTools(); err != nil {
		t.Fatal(err)
	}
	if got := srv.Tools(); !slices.Equal(got, []string{"ctx_read", "ctx_stat"}) {
		t.Fatalf("tools %v", got)
	}
	bad := mcp.NewServer(e.sys.NS, mcp.Options{Tools: []string{"ctx_read", "ctx_nope"}})
	defer bad.Close()
	if err := bad.CheckTools(); err == nil || !strings.Contains(err.Error(), "ctx_nope") {
		t.Fatalf("CheckTools: %v", err)
	}
	e.http.Config.Handler = srv
	c := e.httpConn(t, "admin-token", false)
	lt, err := c.ListTools(context.Background(), mcpgo.ListToolsRequest{})
	if err != nil || len(lt.Tools) != 2 {
		t.Fatalf("listed %+v %v", lt, err)
	}
	req := mcpgo.CallToolRequest{}
	req.Params.Name = "ctx_write"
	req.Params.Arguments = map[string]any{"path": "/a", "content": "x"}
	if _, err := c.CallTool(context.Background(), req); err == nil {
		t.Fatal("a tool left out by Options.Tools answered")
	}
}

func TestAddTool(t *testing.T) {
	e := newEnv(t)
	srv := mcp.NewServer(e.sys.NS, mcp.Options{Authenticate: tokenAuth})
	defer srv.Close()
	srv.AddTool(mcpgo.NewTool("whoami", mcpgo.WithDescription("Who the call acts as.")), func(ctx context.Context, a mcp.Args) (string, error) {
		pr, _ := fs.PrincipalFrom(ctx)
		if a.Has("panic") {
			panic("boom")
		}
		return pr.Name, nil
	})
	e.http.Config.Handler = srv
	c := e.httpConn(t, "alice-token", false)
	if got := ok(t, c, "whoami", nil); got != "alice" {
		t.Fatalf("whoami %q", got)
	}
	fails(t, c, "whoami", map[string]any{"panic": true}, "internal")
}

func TestConcurrentAppends(t *testing.T) {
	e := newEnv(t)
	const writers, each = 4, 10
	conns := make([]*conn, writers)
	for i := range conns {
		conns[i] = e.httpConn(t, "admin-token", false)
	}
	done := make(chan struct{})
	for w, c := range conns {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				ok(t, c, "ctx_write", map[string]any{"path": "/log.txt", "content": fmt.Sprintf("w%d-%d\n", w, i), "mode": "append"})
			}
		}()
	}
	timeout := time.After(60 * time.Second)
	for range writers {
		select {
		case <-done:
		case <-timeout:
			t.Fatal("appends did not finish")
		}
	}
	got, _ := e.get(t, "/log.txt")
	if n := strings.Count(got, "\n"); n != writers*each {
		t.Fatalf("%d lines after %d appends: a write was lost", n, writers*each)
	}
}

// drain returns the updates that arrive within d.
func drain(c *conn, d time.Duration) []string {
	var got []string
	deadline := time.After(d)
	for {
		select {
		case u := <-c.updates:
			got = append(got, u)
		case <-deadline:
			return got
		}
	}
}
