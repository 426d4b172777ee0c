package main

import (
	"strings"

	"github.com/spf13/cobra"

	ctxfs "github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/mcp"
	"github.com/ctxfs/ctxfs/services"
)

func init() { register(newMCPCmd) }

func newMCPCmd(a *app) *cobra.Command {
	var (
		as    string
		tools string
	)
	c := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the namespace to an MCP host over stdio",
		Long: `mcp speaks the Model Context Protocol on stdin and stdout (newline-delimited
JSON-RPC) until stdin ends, for agent hosts that start their servers as commands.
It goes through the running ctxfs server when there is one (its unix socket),
else it opens the store itself. Logs go to stderr.

Tools: ` + strings.Join(mcp.BuiltinTools, ", ") + `; services: ` + strings.Join(services.Tools, ", ") + `. Every file is also a
resource ctxfs:///PATH, with subscriptions.

A host configuration (Claude Desktop, Cursor, ...):

  {"mcpServers": {"ctxfs": {"command": "ctxfs", "args": ["mcp", "--as", "alice"]}}}`,
		Example: `  ctxfs mcp
  ctxfs mcp --as alice
  ctxfs mcp --tools ctx_read,ctx_search,ctx_list`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var subset []string
			if tools != "" {
				for _, t := range strings.Split(tools, ",") {
					if t = strings.TrimSpace(t); t != "" {
						subset = append(subset, t)
					}
				}
			}
			fsys, ctx, err := a.fsysAs(cmd.Context(), as)
			if err != nil {
				return err
			}
			// A long session without a server keeps its own index fresh.
			a.followIndex(ctx)
			pr, _ := ctxfs.PrincipalFrom(ctx)
			srv := mcp.NewServer(fsys, mcp.Options{Principal: pr, Tools: subset, Logger: a.logger(), Version: version})
			defer srv.Close()
			if err := services.RegisterMCP(srv, fsys, services.Options{Logger: a.logger()}); err != nil {
				return err
			}
			if err := srv.CheckTools(); err != nil {
				return usageError{err}
			}
			return srv.ServeStdio(ctx, a.stdin, a.stdout)
		},
	}
	f := c.Flags()
	f.StringVar(&as, "as", "", "act as this principal (its access rules apply); default the data directory's owner")
	f.StringVar(&tools, "tools", "", "comma-separated tools to expose (default all)")
	return c
}
