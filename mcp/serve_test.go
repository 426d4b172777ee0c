package mcp_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/mcp"
	"github.com/ctxfs/ctxfs/server"
)

// TestServeWiring mounts the MCP server at /mcp of `ctxfs serve`'s HTTP
// server (server.Run) with its real token authenticator, as cmd/ctxfs
// wires it: a registered principal's token works, a wrong one is 401.
func TestServeWiring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "mcps")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sys, err := local.Open(ctx, dir, local.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	token, err := sys.Auth.Add(ctx, "alice", false)
	if err != nil {
		t.Fatal(err)
	}
	var srv *mcp.Server
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, sys, server.Options{
			Addr: "127.0.0.1:0",
			Handlers: func(authn func(*http.Request) (fs.Principal, error)) map[string]http.Handler {
				srv = mcp.NewServer(sys.NS, mcp.Options{Authenticate: authn})
				return map[string]http.Handler{"/mcp": srv}
			},
			Ready: func(a net.Addr) { ready <- a },
		})
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	defer func() {
		srv.Close()
		cancel()
		<-done
	}()
	url := "http://" + addr.String() + "/mcp"
	connect := func(tok string) (*conn, error) {
		tr, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok}))
		if err != nil {
			return nil, err
		}
		c := client.NewClient(tr)
		if err := c.Start(ctx); err != nil {
			return nil, err
		}
		return initialize(t, c), nil
	}
	c, err := connect(token)
	if err != nil {
		t.Fatal(err)
	}
	ok(t, c, "ctx_write", map[string]any{"path": "/memory/alice/served.md", "content": "via /mcp"})
	fails(t, c, "ctx_read", map[string]any{"path": "/memory/bob/x"}, "permission_denied")
	if status, body, _ := post(t, url, "Bearer wrong", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d %s", status, body)
	}
}
