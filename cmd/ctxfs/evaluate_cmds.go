package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/evaluator"
	ctxfs "github.com/ctxfs/ctxfs/fs"
)

func init() { register(newEvaluateCmd) }

func newEvaluateCmd(a *app) *cobra.Command {
	var (
		answer, answerFile string
		schemaFile         string
		session            string
		as                 string
		asJSON             bool
		writeBack          bool
		user, ws           string
	)
	c := &cobra.Command{
		Use:   "evaluate CONTEXT_ID",
		Short: "Check a saved context and an answer given from it; queue weak results for review",
		Long: `evaluate replays the context CONTEXT_ID and checks that it keeps its budget and
that every item is still readable at its version, allowed to the principal
(--as) and current (stale items are flagged). With --answer TEXT or
--answer-file FILE ("-" for standard input) it checks the answer too: the
share of its sentences supported by the context, that its [citations] name
items of the context, and with --schema FILE that it is JSON satisfying that
schema. The evaluation is written to /history/SESSION/evaluations/ID.json;
a weak one is queued under /review/pending/ (see ctxfs review).

--write-back then feeds the exchange (the context's query and the answer) to
the session's history, to --user's persona memory and to --workspace.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if answer != "" && answerFile != "" {
				return usagef("give --answer or --answer-file, not both")
			}
			if answerFile != "" {
				var r io.Reader = a.stdin
				if answerFile != "-" {
					f, err := os.Open(answerFile)
					if err != nil {
						return err
					}
					defer f.Close()
					r = f
				}
				b, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				answer = string(b)
			}
			var schema []byte
			if schemaFile != "" {
				b, err := os.ReadFile(schemaFile)
				if err != nil {
					return err
				}
				schema = b
			}
			if writeBack && answer == "" {
				return usagef("--write-back needs an answer")
			}
			fsys, ctx, err := a.fsysAs(cmd.Context(), as)
			if err != nil {
				return err
			}
			e := evaluator.New(fsys, evaluator.Options{})
			ev, err := e.Evaluate(ctx, evaluator.Request{ContextID: args[0], Answer: answer, Schema: schema, Session: session})
			if err != nil {
				if errors.Is(err, ctxfs.ErrInvalid) {
					return usageError{err}
				}
				return err
			}
			var wb *evaluator.WriteBackResult
			if writeBack {
				wb, err = e.WriteBack(ctx, evaluator.Exchange{Session: ev.Session, User: user, Workspace: ws, Query: ev.Query, Answer: answer})
				if err != nil {
					return err
				}
			}
			if asJSON {
				return a.printJSON(struct {
					*evaluator.Evaluation
					WriteBack *evaluator.WriteBackResult `json:"write_back,omitempty"`
				}{ev, wb})
			}
			c := ev.Context
			fmt.Fprintf(a.stdout, "context %s: %d/%d tokens (budget kept: %v), replay identical: %v\n", ev.ContextID, c.Tokens, c.Budget, c.BudgetKept, c.Identical)
			fmt.Fprintf(a.stdout, "items: %d, stale %d, refused %d, unreadable %d, removed %d\n", len(c.Items), c.Stale, c.Refused, c.Unreadable, c.Gone)
			for _, it := range c.Items {
				switch {
				case !it.Allowed:
					fmt.Fprintf(a.stdout, "  refused    %s@%d %s\n", it.Path, it.Version, it.Unit)
				case !it.Readable:
					fmt.Fprintf(a.stdout, "  unreadable %s@%d %s\n", it.Path, it.Version, it.Unit)
				case it.Gone:
					fmt.Fprintf(a.stdout, "  removed    %s@%d %s\n", it.Path, it.Version, it.Unit)
				case it.Stale:
					fmt.Fprintf(a.stdout, "  stale      %s@%d %s (now @%d)\n", it.Path, it.Version, it.Unit, it.Current)
				}
			}
			if an := ev.Answer; an != nil {
				fmt.Fprintf(a.stdout, "answer: %.0f%% of %d sentence(s) supported, %d citation(s), %d bad", 100*an.Support, len(an.Sentences), len(an.Citations), an.BadCitations)
				if an.JSON != nil {
					fmt.Fprintf(a.stdout, ", JSON valid: %v", *an.JSON)
				}
				fmt.Fprintln(a.stdout)
				for _, s := range an.Sentences {
					if !s.Supported {
						fmt.Fprintf(a.stdout, "  unsupported (%.0f%%): %s\n", 100*s.Coverage, s.Text)
					}
				}
				for _, e := range an.SchemaErrors {
					fmt.Fprintf(a.stdout, "  schema: %s\n", e)
				}
			}
			fmt.Fprintf(a.stdout, "evaluation %s saved at %s\n", ev.ID, ev.Saved)
			if ev.Weak {
				fmt.Fprintf(a.stdout, "weak: queued for review at %s\n", ev.Review)
				for _, r := range ev.Reasons {
					fmt.Fprintf(a.stdout, "  - %s\n", r)
				}
			}
			if wb != nil {
				fmt.Fprintf(a.stdout, "written back to %s", wb.History)
				if wb.Memory != nil {
					fmt.Fprintf(a.stdout, ", %s", wb.Memory.Path)
				}
				if wb.Workspace != nil {
					fmt.Fprintf(a.stdout, ", workspace %s", ws)
				}
				fmt.Fprintln(a.stdout)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&answer, "answer", "", "the answer to check")
	f.StringVar(&answerFile, "answer-file", "", `read the answer from FILE ("-" for standard input)`)
	f.StringVar(&schemaFile, "schema", "", "a JSON schema the answer must satisfy")
	f.StringVar(&session, "session", "", "session to record the evaluation in (default: the context's)")
	f.StringVar(&as, "as", "", "evaluate as this principal (access to each item is checked for it)")
	f.BoolVar(&asJSON, "json", false, "print the evaluation as JSON")
	f.BoolVar(&writeBack, "write-back", false, "feed the exchange to the session's history, --user's memory and --workspace")
	f.StringVar(&user, "user", "", "with --write-back: the persona memory to update")
	f.StringVar(&ws, "workspace", "", "with --write-back: the workspace to update")
	return c
}
