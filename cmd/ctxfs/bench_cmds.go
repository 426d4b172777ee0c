package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/bench"
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
