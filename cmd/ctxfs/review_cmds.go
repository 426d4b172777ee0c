package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/evaluator"
	ctxfs "github.com/ctxfs/ctxfs/fs"
)

func init() { register(newReviewCmd) }

func newReviewCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "review",
		Short: "Work the queue of weak evaluations (/review/pending/)",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var (
		status string
		asJSON bool
	)
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List review items (pending by default)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			rs, err := evaluator.New(fsys, evaluator.Options{}).Reviews(ctx, status)
			if err != nil {
				if errors.Is(err, ctxfs.ErrInvalid) {
					return usageError{err}
				}
				return err
			}
			if asJSON {
				return a.printJSON(rs)
			}
			for _, r := range rs {
				fmt.Fprintf(a.stdout, "%s  %s  %s  %q: %s\n", r.ID, r.Status, r.Created.Format("2006-01-02 15:04"), r.Query, strings.Join(r.Reasons, "; "))
			}
			return nil
		},
	}
	ls.Flags().StringVar(&status, "status", "pending", "pending, approved or rejected")
	ls.Flags().BoolVar(&asJSON, "json", false, "print the items as JSON")
	c.AddCommand(ls, newReviewDecideCmd(a, "approve", true), newReviewDecideCmd(a, "reject", false))
	return c
}

func newReviewDecideCmd(a *app, verb string, approve bool) *cobra.Command {
	var (
		note   string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   verb + " ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a pending review item",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			r, err := evaluator.New(fsys, evaluator.Options{}).Decide(ctx, args[0], approve, note)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "%s %s\n", r.ID, r.Status)
			return nil
		},
	}
	c.Flags().StringVar(&note, "note", "", "why")
	c.Flags().BoolVar(&asJSON, "json", false, "print the decided item as JSON")
	return c
}
