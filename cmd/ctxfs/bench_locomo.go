package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/constructor/locomo"
)

func init() { registerBench(newBenchLocomoCmd) }

func newBenchLocomoCmd(a *app) *cobra.Command {
	var (
		budgets string
		asJSON  bool
		detail  bool
		dir     string
	)
	c := &cobra.Command{
		Use:   "locomo FILE",
		Short: "Evidence recall of built contexts on LoCoMo conversations, beside a BM25 baseline",
		Long: `bench locomo writes each conversation of a LoCoMo file into a fresh store as
history files (turns, speakers, image captions and session dates only: the
observation and summary fields, answers and evidence are never written), and
for every question of categories 1-4 builds a context from that conversation
with the question as the query at each budget. It reports the share of each
question's evidence turns the context contains (in full or compressed),
overall and per category, the mean tokens (cl100k_base) and the build time
per query (p50, p99), for ctxfs and, in the same run, for the BM25 baseline:
single turns, each hit with its previous and next turn, in score order until
the budget is full. --detail adds every built context to the JSON.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bs []int
			for _, s := range strings.Split(budgets, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n <= 0 {
					return usagef("--budgets: %q is not a positive number", s)
				}
				bs = append(bs, n)
			}
			if detail && !asJSON {
				return usagef("--detail needs --json")
			}
			convs, err := locomo.Load(args[0])
			if err != nil {
				return err
			}
			o := locomo.Options{Budgets: bs, Detail: detail, Dir: dir}
			if !asJSON {
				o.Progress = func(s string) { fmt.Fprintf(a.stderr, "bench locomo: %s\n", s) }
			}
			r, err := locomo.Run(cmd.Context(), convs, o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "%d conversations, %d turns, %d questions scored (%d without matchable evidence, %d evidence ids unmatched)\n",
				r.Conversations, r.Turns, r.Scored, r.NoEvidence, len(r.Unmatched))
			fmt.Fprintf(a.stdout, "%-14s %6s %7s %7s %7s %7s %7s %9s %8s %8s %8s %8s\n", "method", "budget", "recall", "cat1", "cat2", "cat3", "cat4", "tokens", "p50 ms", "p99 ms", "cpu p50", "cpu p99")
			for _, row := range r.Results {
				cats := make([]string, 0, 4)
				for _, k := range []string{"1", "2", "3", "4"} {
					cats = append(cats, fmt.Sprintf("%7.3f", row.ByCategory[k]))
				}
				fmt.Fprintf(a.stdout, "%-14s %6d %7.3f %s %9.1f %8.2f %8.2f %8.2f %8.2f\n", row.Method, row.Budget, row.Recall, strings.Join(cats, " "), row.TokensMean, row.P50ms, row.P99ms, row.CPUp50ms, row.CPUp99ms)
			}
			fmt.Fprintf(a.stdout, "tokenizer: %s; mode: %s\n", r.Tokenizer, r.Mode)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&budgets, "budgets", "512,1024,2048,4096", "comma-separated token budgets")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&detail, "detail", false, "with --json: add every question's built context")
	f.StringVar(&dir, "dir", "", "scratch directory (default: a temporary one, removed after)")
	return c
}
