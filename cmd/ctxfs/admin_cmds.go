package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ctxfs/ctxfs/fs/local"
)

func init() {
	register(newImportCmd)
	register(newReindexCmd)
	register(newPruneCmd)
	register(newMountsCmd)
}

// progressOn reports whether progress bars should be drawn: only on a
// terminal, and never with --json.
func (a *app) progressOn(asJSON bool) bool {
	f, ok := a.stderr.(*os.File)
	return ok && !asJSON && term.IsTerminal(int(f.Fd()))
}

func (a *app) bar(total int64, desc string, bytes bool) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100e6),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	return progressbar.NewOptions64(total, opts...)
}

func newImportCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "import HOSTDIR DEST",
		Short: "Copy a host directory tree into the store (bulk, with progress)",
		Long: `Import copies every regular file below HOSTDIR into the store under DEST,
in batches of one transaction each, and indexes them for search. Symbolic
links are followed only within HOSTDIR. Names that are not valid ctxfs
names and special files are skipped and reported.`,
		Example: `  ctxfs import ~/notes /notes
  ctxfs import ./docs /notes/docs --json`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dest, err := parsePath(args[1])
			if err != nil {
				return err
			}
			sys, err := a.system(cmd.Context())
			if err != nil {
				return err
			}
			opts := local.ImportOptions{}
			var bar *progressbar.ProgressBar
			if a.progressOn(asJSON) {
				opts.Progress = func(p local.ImportProgress) {
					if bar == nil {
						bar = a.bar(int64(p.TotalFiles), "importing", false)
					}
					bar.Set(p.Files)
				}
			}
			stats, err := sys.Import(cmd.Context(), args[0], dest, opts)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(stats)
			}
			fmt.Fprintf(a.stdout, "imported %d files (%d bytes) and %d directories into %s in %.2fs\n", stats.Files, stats.Bytes, stats.Dirs, dest, stats.Seconds)
			for _, s := range stats.Skipped {
				fmt.Fprintf(a.stderr, "skipped %s: %s\n", s.Path, s.Reason)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print a summary {"files","dirs","bytes","skipped","seconds"}`)
	return c
}

func newReindexCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the store and the host mounts",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys, err := a.system(cmd.Context())
			if err != nil {
				return err
			}
			var bar *progressbar.ProgressBar
			var progress func(done, total int)
			if a.progressOn(asJSON) {
				progress = func(done, total int) {
					if bar == nil {
						bar = a.bar(int64(total), "indexing", false)
					}
					bar.ChangeMax(total)
					bar.Set(done)
				}
			}
			err = sys.Reindex(cmd.Context(), progress)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			idx, err := sys.Index(cmd.Context())
			if err != nil {
				return err
			}
			n, err := idx.DocCount()
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]uint64{"documents": n})
			}
			fmt.Fprintf(a.stdout, "reindexed: %d documents in the store's index\n", n)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newPruneCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		keep   int
	)
	c := &cobra.Command{
		Use:   "prune",
		Short: "Delete old versions, keeping the newest --keep of each file",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keep < 1 {
				return usagef("--keep must be at least 1")
			}
			sys, err := a.system(cmd.Context())
			if err != nil {
				return err
			}
			st, err := sys.Store.Prune(cmd.Context(), keep)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"files": st.Files, "versions": st.Versions, "chunks": st.Chunks, "bytes": st.Bytes})
			}
			fmt.Fprintf(a.stdout, "pruned %d versions of %d files, freed %d chunks (%d bytes)\n", st.Versions, st.Files, st.Chunks, st.Bytes)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().IntVar(&keep, "keep", 10, "versions to keep per file (at least 1)")
	return c
}

func newMountsCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "mounts",
		Short: "Manage host directories mounted into the namespace",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var (
		rw             bool
		at             string
		mcpCmd, mcpURL string
	)
	add := &cobra.Command{
		Use:   "add NAME [HOSTDIR]",
		Short: "Mount a host directory (read-only unless --rw) or an MCP server at /mnt/NAME",
		Long: `Mount a host directory at /mnt/NAME (or --at PATH), read-only unless --rw;
or, with --mcp-command or --mcp-url instead of HOSTDIR, an external MCP server,
read-only: its resources under resources/, its tools under tools/ (each file
holds the tool's definition). An MCP server is started on first use.`,
		Example: `  ctxfs mounts add docs ~/docs
  ctxfs mounts add scratch /tmp/scratch --rw --at /scratch
  ctxfs mounts add everything --mcp-command "npx -y @modelcontextprotocol/server-everything"
  ctxfs mounts add remote --mcp-url http://127.0.0.1:7411/mcp`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m := local.Mount{Name: args[0], Writable: rw, MCPURL: mcpURL}
			if len(args) == 2 {
				m.HostDir = args[1]
			}
			if mcpCmd != "" {
				m.MCPCommand = strings.Fields(mcpCmd)
			}
			if (m.HostDir != "") == (mcpCmd != "" || mcpURL != "") || (mcpCmd != "" && mcpURL != "") {
				return usagef("give HOSTDIR, --mcp-command or --mcp-url (exactly one)")
			}
			if at != "" {
				p, err := parsePath(at)
				if err != nil {
					return err
				}
				m.At = p
			}
			sys, err := a.system(cmd.Context())
			if err != nil {
				return err
			}
			return sys.AddMount(cmd.Context(), m)
		},
	}
	add.Flags().BoolVar(&rw, "rw", false, "allow writes to the host directory")
	add.Flags().StringVar(&at, "at", "", "mount point (default /mnt/NAME)")
	add.Flags().StringVar(&mcpCmd, "mcp-command", "", "mount the MCP server this command starts (stdio; split on spaces)")
	add.Flags().StringVar(&mcpURL, "mcp-url", "", "mount the MCP server at this streamable-HTTP URL")
	var asJSON bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the host mounts",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys, err := a.system(cmd.Context())
			if err != nil {
				return err
			}
			ms := sys.Mounts()
			if asJSON {
				return a.printJSON(ms)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, m := range ms {
				mode := "ro"
				if m.Writable {
					mode = "rw"
				}
				src := m.HostDir
				switch {
				case len(m.MCPCommand) > 0:
					src = "mcp: " + strings.Join(m.MCPCommand, " ")
				case m.MCPURL != "":
					src = "mcp: " + m.MCPURL
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.At, mode, src)
			}
			return tw.Flush()
		},
	}
	ls.Flags().BoolVar(&asJSON, "json", false, `print [{"name","hostdir"|"mcp_command"|"mcp_url","at","rw"}]`)
	rm := &cobra.Command{
		Use:   "rm NAME",
		Short: "Unmount a host directory (its files are untouched)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys, err := a.system(cmd.Context())
			if err != nil {
				return err
			}
			return sys.RemoveMount(cmd.Context(), args[0])
		},
	}
	c.AddCommand(add, ls, rm)
	return c
}
