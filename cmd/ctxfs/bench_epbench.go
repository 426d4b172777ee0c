package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/tokens"
	"github.com/ctxfs/ctxfs/workspace"
	"github.com/ctxfs/ctxfs/workspace/epbench"
)

func init() { registerBench(newBenchEpbenchCmd) }

func newBenchEpbenchCmd(a *app) *cobra.Command {
	var (
		asJSON, detail  bool
		book, questions string
		budgets         string
	)
	c := &cobra.Command{
		Use:   "epbench",
		Short: "Workspace query contexts against BM25 paragraph retrieval on EpBench, at several token budgets",
		Long: `bench epbench observes the book into a workspace in a temporary store (the data
directory is untouched), then gives each question's text, and nothing else of
it, to the workspace query at each budget. It reports, per budget, the mean
share of each question's answer chapters that the context cites and the mean
share of its answers the context contains, beside a BM25 paragraph-retrieval
baseline at the same budgets (and at twice them, for the goal: the workspace
at a budget covers at least as much as BM25 with twice the tokens).
Tokens are cl100k_base. --detail adds every workspace context:
"questions":[{"q_index","budget","tokens","context"}].`,
		Example: `  ctxfs bench epbench --book book_20.json --questions questions-dev.json --json --detail`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if book == "" || questions == "" {
				return usagef("--book and --questions are required")
			}
			var bs []int
			for _, f := range strings.Split(budgets, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 1 {
					return usagef("--budgets %q: want positive integers separated by commas", budgets)
				}
				bs = append(bs, n)
			}
			b, err := epbench.ReadBook(book)
			if err != nil {
				return err
			}
			qs, err := epbench.ReadQuestions(questions)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "ctxfs-epbench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			counter, _ := tokens.Default()
			sys, err := local.Open(cmd.Context(), dir, local.Options{NoSync: true, Counter: counter, Logger: a.logger()})
			if err != nil {
				return err
			}
			defer sys.Close()
			w, err := workspace.New(sys.Store, "epbench", workspace.Options{Counter: counter})
			if err != nil {
				return err
			}
			if !asJSON {
				fmt.Fprintf(a.stderr, "bench epbench: observing %d chapters\n", len(b))
			}
			if err := epbench.Ingest(cmd.Context(), w, b, nil); err != nil {
				return err
			}
			s, err := w.Load(cmd.Context())
			if err != nil {
				return err
			}
			r, err := epbench.Run(s, b, qs, epbench.Options{Budgets: bs, Detail: detail, Counter: counter})
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "epbench: %d chapters, %d paragraphs, %d questions (%d with answer chapters)\n", r.Chapters, r.Paragraphs, r.Questions, r.Scored)
			fmt.Fprintf(a.stdout, "%7s | %-26s | %-26s | %s\n", "", "workspace", "BM25 paragraphs", "goal: workspace >= BM25 at 2x")
			fmt.Fprintf(a.stdout, "%7s | %8s %8s %8s | %8s %8s %8s | %8s %s\n", "budget", "chapters", "answers", "tokens", "chapters", "answers", "tokens", "BM25@2x", "")
			for i, row := range r.Workspace {
				bm, g := r.BM25[i], r.Goals[i]
				met := "met"
				if !g.Met {
					met = "NOT met"
				}
				fmt.Fprintf(a.stdout, "%7d | %8.3f %8.3f %8.0f | %8.3f %8.3f %8.0f | %8.3f %s\n",
					row.Budget, row.Coverage, row.Answers, row.MeanTokens, bm.Coverage, bm.Answers, bm.MeanTokens, g.BM25Double, met)
			}
			fmt.Fprintf(a.stdout, "chapters: mean share of answer chapters cited; answers: mean share of answers contained; tokens: mean context tokens (cl100k_base)\n")
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&detail, "detail", false, `add "questions":[{"q_index","budget","tokens","context"}] (with --json)`)
	f.StringVar(&book, "book", "", "EpBench book (JSON object of chapters)")
	f.StringVar(&questions, "questions", "", "EpBench questions (JSON array)")
	f.StringVar(&budgets, "budgets", "256,512,1024,2048", "token budgets, comma-separated")
	return c
}
