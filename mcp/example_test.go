package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/mcp"
)

// An MCP server over a local store, called by mcp-go's in-process client.
// `ctxfs mcp` serves the same Server with ServeStdio, and `ctxfs serve`
// mounts it (an http.Handler) at /mcp.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "ctxfs-example")
	defer os.RemoveAll(dir)
	sys, err := local.Open(ctx, dir, local.Options{NoSync: true})
	if err != nil {
		panic(err)
	}
	defer sys.Close()

	srv := mcp.NewServer(sys.NS, mcp.Options{Principal: fs.Principal{Name: "alice"}})
	defer srv.Close()
	c, err := client.NewInProcessClient(srv.MCPServer())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	if _, err := c.Initialize(ctx, mcpgo.InitializeRequest{}); err != nil {
		panic(err)
	}
	callTool := func(name string, args map[string]any) {
		req := mcpgo.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		res, err := c.CallTool(ctx, req)
		if err != nil {
			panic(err)
		}
		text := res.Content[0].(mcpgo.TextContent).Text
		if name == "ctx_write" && !res.IsError {
			var info fs.Info
			json.Unmarshal([]byte(text), &info)
			text = fmt.Sprintf("%s version %d by %s", info.Path, info.Version, info.Author)
		}
		fmt.Printf("error=%v %s\n", res.IsError, text)
	}
	callTool("ctx_write", map[string]any{"path": "/memory/alice/todo.md", "content": "- buy milk\n- call bob\n", "mode": "create"})
	callTool("ctx_read", map[string]any{"path": "/memory/alice/todo.md", "startLine": 2})
	callTool("ctx_read", map[string]any{"path": "/memory/bob/todo.md"})
	// Output:
	// error=false /memory/alice/todo.md version 1 by alice
	// error=false - call bob
	// error=true permission_denied: open /memory/bob/todo.md: permission denied: alice may not read here
}
