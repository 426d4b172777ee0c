package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/bench"
	"github.com/ctxfs/ctxfs/fs/fuse"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/tokens"
)

func init() { registerBench(newBenchStoreCmd) }

// benchCommands holds the `ctxfs bench` subcommands; each benchmark's file
// adds its own.
var benchCommands []func(a *app) *cobra.Command

func registerBench(c func(a *app) *cobra.Command) { benchCommands = append(benchCommands, c) }

func init() {
	register(func(a *app) *cobra.Command {
		c := &cobra.Command{
			Use:   "bench",
			Short: "Measure ctxfs against baselines run on the same data in the same run",
			Args:  exactArgs(0),
			RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
		}
		for _, b := range benchCommands {
			c.AddCommand(b(a))
		}
		return c
	})
}

func newBenchStoreCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		o      bench.StoreOptions
	)
	c := &cobra.Command{
		Use:   "store",
		Short: "Import throughput, search latency and ls time against plain bbolt + bleve",
		Long: `bench store generates a corpus of text files and measures, in one run:
  - import throughput of ctxfs (store + index) and of a baseline made of plain
    bbolt puts plus a plain bleve batch index of the same files;
  - search latency (p50, p99) of ctxfs and of plain bleve on the same queries;
  - the time to list a directory of --ls entries.
It works in a temporary directory and leaves the data directory untouched.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Files < 1 {
				return usagef("--files must be at least 1")
			}
			if !asJSON {
				o.Progress = func(s string) { fmt.Fprintf(a.stderr, "bench store: %s\n", s) }
			}
			r, err := bench.Store(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "corpus: %d files, %.1f MB\n", r.Files, float64(r.Bytes)/1e6)
			fmt.Fprintf(a.stdout, "import   ctxfs    %8.0f files/s %6.2f MB/s\n", r.Import.FilesPerSec, r.Import.MBPerSec)
			fmt.Fprintf(a.stdout, "import   baseline %8.0f files/s %6.2f MB/s   ratio %.2f (goal >= 0.5)\n", r.BaselineImport.FilesPerSec, r.BaselineImport.MBPerSec, r.ImportRatio)
			fmt.Fprintf(a.stdout, "search   ctxfs    p50 %6.2f ms  p99 %6.2f ms\n", r.Search.P50, r.Search.P99)
			fmt.Fprintf(a.stdout, "search   bleve    p50 %6.2f ms  p99 %6.2f ms   ratio %.2f (goal <= 1.2; both return snippets)\n", r.BaselineSearch.P50, r.BaselineSearch.P99, r.SearchRatio)
			fmt.Fprintf(a.stdout, "search   bleve, ids only  p50 %6.2f ms  p99 %6.2f ms   ratio %.2f\n", r.BaselineBare.P50, r.BaselineBare.P99, r.BareRatio)
			fmt.Fprintf(a.stdout, "ls %d entries     p50 %6.2f ms  p99 %6.2f ms   (goal < 50 ms)\n", r.ListEntries, r.List.P50, r.List.P99)
			fmt.Fprintf(a.stdout, "mode: %s\n", r.Mode)
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.IntVar(&o.Files, "files", 10000, "files in the generated corpus")
	f.IntVar(&o.Queries, "queries", 300, "search queries")
	f.IntVar(&o.ListSize, "ls", 10000, "entries of the directory whose listing is timed")
	f.StringVar(&o.Dir, "dir", "", "scratch directory (default: a temporary one, removed after)")
	f.Uint64Var(&o.Seed, "seed", 1, "corpus seed")
	return c
}

func init() {
	registerBench(newBenchServeCmd)
	registerBench(newBenchFuseCmd)
}

func newBenchServeCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		o      bench.ServeOptions
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "HTTP API under concurrent load against a bare net/http server, same run",
		Long: `bench serve runs --clients concurrent clients for --duration per phase
(reads only, writes only, then 8:1:1 reads/writes/searches) against the HTTP
API of a fresh data directory, and the same load against a bare net/http
server answering from memory. It reports requests/s, p50/p99 and errors.
Goals: reads at least 0.5 of the bare server's requests/s with p99 under 50 ms;
at least 500 acknowledged writes/s; no errors.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !asJSON {
				o.Progress = func(s string) { fmt.Fprintf(a.stderr, "bench serve: %s\n", s) }
			}
			r, err := bench.Serve(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			for _, p := range r.Phases {
				fmt.Fprintf(a.stdout, "== %s: ratio %.2f (ctxfs req/s over bare)\n-- ctxfs\n%s-- bare net/http\n%s", p.Mix, p.Ratio, p.Ctxfs, p.Bare)
			}
			fmt.Fprintf(a.stdout, "mode: %s\n", r.Mode)
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.IntVar(&o.Clients, "clients", 64, "concurrent clients")
	f.DurationVar(&o.Duration, "duration", 10e9, "load time per phase")
	f.StringVar(&o.Dir, "dir", "", "scratch directory (default: a temporary one)")
	return c
}

func newBenchFuseCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		dir    string
		o      fuse.BenchOptions
	)
	c := &cobra.Command{
		Use:   "fuse",
		Short: "Mount throughput against go-fuse's loopback file system, same disk, same run",
		Long: `bench fuse mounts a fresh store and go-fuse's loopback file system (kernel
passthrough off, so its data goes through the server as ctxfs's does) over a
directory on the same disk, and measures sequential write and read of one
large file and create, stat and read of many small files on both, reads after
a remount. Goals: reads at least 0.5 of loopback's throughput, writes and
small-file operations at least 0.3.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if dir == "" {
				d, err := os.MkdirTemp("", "ctxfs-bench-fuse")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				dir = d
			}
			counter, _ := tokens.Default()
			// The store syncs exactly when the loopback side does (--fsync),
			// so both sides pay for durability under the same rule.
			st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{Counter: counter, Populate: true, NoSync: !o.Fsync})
			if err != nil {
				return err
			}
			defer st.Close()
			o.FS = st
			o.Dir = dir
			o.Mount.Principal = ownerPrincipal()
			if !asJSON {
				o.Progress = func(r fuse.Result) { fmt.Fprintf(a.stderr, "bench fuse: %s done\n", r.Phase) }
			}
			r, err := fuse.Bench(ctx, o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			return r.WriteText(a.stdout)
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&dir, "dir", "", "scratch directory on the disk to measure (default: a temporary one)")
	f.Int64Var(&o.FileSize, "size", 256<<20, "size of the sequential file in bytes")
	f.IntVar(&o.SmallFiles, "files", 10000, "number of small files")
	f.BoolVar(&o.Fsync, "fsync", false, "fsync every written file in both file systems")
	return c
}
