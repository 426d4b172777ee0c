package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/workspace"
	"github.com/ctxfs/ctxfs/workspace/epbench"
	"github.com/ctxfs/ctxfs/workspace/locomo"
)

func init() { register(newIngestCmd) }

func newIngestCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "ingest",
		Short: "Load benchmark datasets into history, persona memories and workspaces",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newIngestLocomoCmd(a), newIngestEpbenchCmd(a))
	return c
}

func newIngestLocomoCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "locomo FILE",
		Short: "Ingest LoCoMo conversations: /history, persona memories and a workspace per conversation",
		Long: `ingest locomo writes each session's turns to /history/SAMPLE/session_N.jsonl,
updates the persona memory of each speaker (/memory/SAMPLE-SPEAKER/persona.md)
and observes each session into the workspace /workspace/SAMPLE/. It reads only
the turns, speakers, image captions and session dates, never the dataset's
observations, summaries, questions or answers.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			convs, err := locomo.Read(args[0])
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			var o locomo.Options
			if a.progressOn(asJSON) {
				total := 0
				for _, c := range convs {
					total += len(c.Sessions)
				}
				bar := a.bar(int64(total), "sessions", false)
				o.Progress = func(done, _ int) { bar.Set(done) }
				defer bar.Finish()
			}
			st, err := locomo.Ingest(ctx, fsys, convs, o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(st)
			}
			fmt.Fprintf(a.stdout, "%d conversations, %d sessions, %d turns: %d personas, %d workspaces\n",
				st.Conversations, st.Sessions, st.Turns, len(st.Personas), len(st.Workspaces))
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"conversations","sessions","turns","personas","workspaces","history"}`)
	return c
}

func newIngestEpbenchCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		name   string
	)
	c := &cobra.Command{
		Use:     "epbench BOOK.json",
		Short:   "Observe an EpBench book into a workspace, one observation per chapter",
		Example: `  ctxfs ingest epbench book_20.json --workspace book20`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usagef("--workspace is required")
			}
			b, err := epbench.ReadBook(args[0])
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			w, err := workspace.New(fsys, name, workspace.Options{})
			if err != nil {
				return err
			}
			var progress func(done, total int)
			if a.progressOn(asJSON) {
				bar := a.bar(int64(len(b)), "chapters", false)
				progress = func(done, _ int) { bar.Set(done) }
				defer bar.Finish()
			}
			if err := epbench.Ingest(ctx, w, b, progress); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"workspace": w.Dir(), "chapters": len(b)})
			}
			fmt.Fprintf(a.stdout, "%d chapters observed into %s\n", len(b), w.Dir())
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"workspace","chapters"}`)
	c.Flags().StringVar(&name, "workspace", "", "workspace name (required)")
	return c
}
