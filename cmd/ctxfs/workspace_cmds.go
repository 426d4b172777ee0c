package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/workspace"
)

func init() { register(newWorkspaceCmd) }

func newWorkspaceCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "workspace",
		Short: "Episodic workspaces: observations reconciled into actors, events and a timeline (/workspace/NAME)",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newWorkspaceObserveCmd(a), newWorkspaceQueryCmd(a))
	return c
}

func newWorkspaceObserveCmd(a *app) *cobra.Command {
	var (
		asJSON              bool
		when, place, source string
	)
	c := &cobra.Command{
		Use:   "observe NAME [FILE|-]",
		Short: "Add an observation (text from FILE or standard input) to workspace NAME",
		Example: `  echo "Zoe Brown sang at Hither Hills State Park." | ctxfs workspace observe trip --time 2024-05-07
  ctxfs workspace observe book chapter3.txt --place "Port Jefferson" --json`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, done, err := a.openInput(args, 1)
			if err != nil {
				return err
			}
			defer done()
			text, err := io.ReadAll(io.LimitReader(r, workspace.MaxObservationBytes+1))
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			o := workspace.Options{}
			if g := a.generator(); g != nil {
				o.Operator = workspace.LLM{Generator: g}
			}
			w, err := workspace.New(fsys, args[0], o)
			if err != nil {
				return err
			}
			res, err := w.Observe(ctx, workspace.Observation{Text: string(text), Time: when, Place: place, Source: source})
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "%s: %d actors, %d events, %d entity files updated", res.Observation, len(res.Structure.Actors), len(res.Structure.Events), len(res.Entities))
			if len(res.Conflicts) > 0 {
				fmt.Fprintf(a.stdout, ", %d conflicts", len(res.Conflicts))
			}
			fmt.Fprintln(a.stdout)
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, `print {"observation","id","structure","entities","conflicts"}`)
	f.StringVar(&when, "time", "", "when it happened (a hint: \"May 7, 2024\", 2024-05-07)")
	f.StringVar(&place, "place", "", "where it happened (a hint)")
	f.StringVar(&source, "source", "", "a label of the observation's origin")
	llmFlags(c)
	return c
}

func newWorkspaceQueryCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		budget int
	)
	c := &cobra.Command{
		Use:     "query NAME QUESTION",
		Short:   "Answer QUESTION with a context of the workspace's matching events within a token budget",
		Example: `  ctxfs workspace query book "Where was Chloe Castillo observed?" --budget 256`,
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if budget < 1 {
				return usagef("--budget must be at least 1")
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			w, err := workspace.New(fsys, args[0], workspace.Options{})
			if err != nil {
				return err
			}
			c, err := w.Query(ctx, args[1], budget)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(c)
			}
			io.WriteString(a.stdout, c.Text)
			fmt.Fprintf(a.stderr, "%d tokens of %d; files:", c.Tokens, c.Budget)
			for _, f := range c.Files {
				fmt.Fprintf(a.stderr, " %s", f)
			}
			fmt.Fprintln(a.stderr)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"question","cues","text","tokens","budget","lines":[{"text","obs","file","source"}],"files"}`)
	c.Flags().IntVar(&budget, "budget", workspace.DefaultBudget, "token budget")
	return c
}
