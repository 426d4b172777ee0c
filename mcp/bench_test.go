package mcp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
)

// BenchmarkRead reads a 1 KiB file through the MCP door (ctx_read with
// mcp-go's client over streamable HTTP, and over stdio through the unix
// socket's API client) and, as the baseline in the same run, through the
// REST API's Go client over HTTP. The store is warm: the same file is read
// again and again, so its pages stay in memory.
func BenchmarkRead(b *testing.B) {
	e := newEnv(b)
	const p = "/bench/a.md"
	e.put(b, p, strings.Repeat("0123456789abcde\n", 64))
	args := map[string]any{"path": p}

	b.Run("rest-baseline", func(b *testing.B) {
		hs := httptest.NewServer(api.NewHandler(e.sys.NS, api.Options{Authenticate: func(*http.Request) (fs.Principal, error) {
			return fs.Principal{Name: "admin", Admin: true}, nil
		}}))
		defer hs.Close()
		c, err := api.NewClient(hs.URL, "")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		for b.Loop() {
			f, err := c.Open(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			if n, _ := io.Copy(io.Discard, f); n != 1024 {
				b.Fatalf("read %d bytes", n)
			}
			f.Close()
		}
	})
	b.Run("mcp-http", func(b *testing.B) {
		c := e.httpConn(b, "admin-token", false)
		for b.Loop() {
			if text := ok(b, c, "ctx_read", args); len(text) != 1024 {
				b.Fatalf("read %d bytes", len(text))
			}
		}
	})
	b.Run("mcp-stdio-socket", func(b *testing.B) {
		c := e.stdioConn(b, "")
		for b.Loop() {
			if text := ok(b, c, "ctx_read", args); len(text) != 1024 {
				b.Fatalf("read %d bytes", len(text))
			}
		}
	})
}
