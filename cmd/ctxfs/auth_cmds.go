package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/server"
)

func init() {
	register(newPrincipalCmd)
	register(newACLCmd)
}

func newPrincipalCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "principal",
		Short: "Manage the principals (users and agents) that may use the server",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var admin, asJSON bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a principal and print its bearer token (shown once; stored hashed)",
		Long: `Add a principal. By default it may read and write /memory/NAME/** and nothing
else; grant more with 'ctxfs acl add'. --admin may do anything.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.registry(cmd.Context())
			if err != nil {
				return err
			}
			token, err := reg.Add(cmd.Context(), args[0], admin)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"name": args[0], "token": token, "admin": admin})
			}
			fmt.Fprintf(a.stdout, "principal %s added; its token (shown only now):\n%s\n", args[0], token)
			return nil
		},
	}
	add.Flags().BoolVar(&admin, "admin", false, "may do anything")
	add.Flags().BoolVar(&asJSON, "json", false, `print {"name","token","admin"}`)
	var lsJSON bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the principals",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.registry(cmd.Context())
			if err != nil {
				return err
			}
			ps, err := reg.List(cmd.Context())
			if err != nil {
				return err
			}
			if lsJSON {
				return a.printJSON(ps)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, p := range ps {
				role := "user"
				if p.Admin {
					role = "admin"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, role, p.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	ls.Flags().BoolVar(&lsJSON, "json", false, `print [{"name","admin","created"}]`)
	rm := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a principal and revoke its token",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.registry(cmd.Context())
			if err != nil {
				return err
			}
			return reg.Remove(cmd.Context(), args[0])
		},
	}
	c.AddCommand(add, ls, rm)
	return c
}

func newACLCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "acl",
		Short: "Manage access rules (principal, path pattern, permissions)",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var addJSON bool
	add := &cobra.Command{
		Use:   "add PRINCIPAL PATTERN PERMS",
		Short: "Grant PERMS (letters r, w, x) on paths matching PATTERN to PRINCIPAL (* for all)",
		Long: `PATTERN is an absolute path whose elements may be glob patterns; ** matches
any number of elements and {user} stands for the requesting principal's name.`,
		Example: `  ctxfs acl add alice '/notes/**' r
  ctxfs acl add '*' '/shared/{user}/**' rw`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.registry(cmd.Context())
			if err != nil {
				return err
			}
			rule, err := reg.AddRule(cmd.Context(), args[0], args[1], args[2])
			if err != nil {
				return err
			}
			if addJSON {
				return a.printJSON(rule)
			}
			fmt.Fprintf(a.stdout, "rule %s: %s %s %s\n", rule.ID, rule.Principal, rule.Pattern, rule.Perms)
			return nil
		},
	}
	add.Flags().BoolVar(&addJSON, "json", false, "print the rule as JSON")
	var lsJSON bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the access rules (beyond the defaults)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.registry(cmd.Context())
			if err != nil {
				return err
			}
			rules, err := reg.Rules(cmd.Context())
			if err != nil {
				return err
			}
			if lsJSON {
				return a.printJSON(rules)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "(default)\t*\t/memory/{user}/**\trw-\n")
			for _, r := range rules {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Principal, r.Pattern, r.Perms)
			}
			return tw.Flush()
		},
	}
	ls.Flags().BoolVar(&lsJSON, "json", false, "print JSON")
	rm := &cobra.Command{
		Use:   "rm ID",
		Short: "Remove an access rule",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.registry(cmd.Context())
			if err != nil {
				return err
			}
			return reg.RemoveRule(cmd.Context(), args[0])
		},
	}
	c.AddCommand(add, ls, rm)
	return c
}

// registry returns the principals and rules of the data directory: through
// the running server's socket when there is one, so changes apply to it at
// once, else from the store itself.
func (a *app) registry(ctx context.Context) (server.Registry, error) {
	c, err := server.DialAdmin(ctx, a.dataDir())
	if err == nil {
		a.onClose(c.Close)
		return c, nil
	}
	if !errors.Is(err, api.ErrNoServer) {
		return nil, err
	}
	sys, err := a.system(ctx)
	if err != nil {
		return nil, err
	}
	return sys.Auth, nil
}
