package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	ctxfs "github.com/ctxfs/ctxfs/fs"
)

func init() {
	register(newInitCmd)
	register(newPutCmd)
	register(newCatCmd)
	register(newStatCmd)
	register(newLsCmd)
	register(newRmCmd)
	register(newMvCmd)
	register(newLogCmd)
	register(newSearchCmd)
}

func newInitCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "init",
		Short: "Create the data directory and an empty store",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys, err := a.system(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]string{"data": sys.Dir, "store": sys.Store.Path()})
			}
			fmt.Fprintf(a.stdout, "ctxfs store ready in %s\n", sys.Dir)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// parseMeta parses repeated key=value flags.
func parseMeta(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--meta %q: want key=value", kv)
		}
		m[k] = v
	}
	return m, nil
}

func newPutCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		metas  []string
	)
	c := &cobra.Command{
		Use:   "put PATH [FILE]",
		Short: "Write a file's new version from FILE or standard input",
		Example: `  echo "likes tea" | ctxfs put /memory/alice/notes.md
  ctxfs put /notes/design.md ./design.md --meta source=wiki --json`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePath(args[0])
			if err != nil {
				return err
			}
			meta, err := parseMeta(metas)
			if err != nil {
				return err
			}
			var r io.Reader = a.stdin
			if len(args) == 2 && args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			info, err := fsys.Write(ctx, p, r, ctxfs.WriteOptions{Meta: meta})
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"path": info.Path, "version": info.Version, "size": info.Size, "tokens": info.Tokens})
			}
			fmt.Fprintf(a.stdout, "%s@%d %d bytes %d tokens\n", info.Path, info.Version, info.Size, info.Tokens)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"path","version","size","tokens"}`)
	c.Flags().StringArrayVar(&metas, "meta", nil, "user metadata key=value (repeatable)")
	return c
}

func newCatCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "cat PATH[@VERSION]",
		Short: "Print a file, or one of its versions",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, v, err := ctxfs.ParseVersioned(args[0])
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			var f ctxfs.File
			if v > 0 {
				vs, ok := fsys.(ctxfs.Versioner)
				if !ok {
					return fmt.Errorf("%s: %w: no version history", p, ctxfs.ErrNotSupported)
				}
				f, err = vs.OpenVersion(ctx, p, v)
			} else {
				f, err = fsys.Open(ctx, p)
			}
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(a.stdout, f)
			return err
		},
	}
}

func newStatCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "stat PATH",
		Short: "Describe a file or directory",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePath(args[0])
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			info, err := fsys.Stat(ctx, p)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(info)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
			fmt.Fprintf(tw, "path:\t%s\nkind:\t%s\nsize:\t%d\nversion:\t%d\ntokens:\t%d\n", info.Path, info.Kind, info.Size, info.Version, info.Tokens)
			if !info.Created.IsZero() {
				fmt.Fprintf(tw, "created:\t%s\n", info.Created.UTC().Format(time.RFC3339))
			}
			if !info.Modified.IsZero() {
				fmt.Fprintf(tw, "modified:\t%s\n", info.Modified.UTC().Format(time.RFC3339))
			}
			if info.Author != "" {
				fmt.Fprintf(tw, "author:\t%s\n", info.Author)
			}
			keys := make([]string, 0, len(info.Meta))
			for k := range info.Meta {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(tw, "meta.%s:\t%s\n", k, info.Meta[k])
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the stat object as JSON")
	return c
}

func newLsCmd(a *app) *cobra.Command {
	var asJSON, recursive, long bool
	c := &cobra.Command{
		Use:   "ls [PATH]",
		Short: "List a directory",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := ctxfs.Root
			if len(args) == 1 {
				var err error
				if p, err = parsePath(args[0]); err != nil {
					return err
				}
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			var all []*ctxfs.Info
			var walk func(dir ctxfs.Path) error
			walk = func(dir ctxfs.Path) error {
				entries, err := fsys.List(ctx, dir)
				if err != nil {
					return err
				}
				for _, e := range entries {
					all = append(all, e)
					if recursive && e.IsDir() {
						if err := walk(e.Path); err != nil {
							return err
						}
					}
				}
				return nil
			}
			info, err := fsys.Stat(ctx, p)
			if err != nil {
				return err
			}
			if info.IsDir() {
				if err := walk(p); err != nil {
					return err
				}
			} else {
				all = []*ctxfs.Info{info}
			}
			if asJSON {
				if all == nil {
					all = []*ctxfs.Info{}
				}
				return a.printJSON(all)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, e := range all {
				name := e.Name()
				if recursive || !info.IsDir() {
					name = string(e.Path)
				}
				if e.IsDir() {
					name += "/"
				}
				if long {
					mod := ""
					if !e.Modified.IsZero() {
						mod = e.Modified.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%d\tv%d\t%d tok\t%s\t%s\n", e.Kind, e.Size, e.Version, e.Tokens, mod, name)
				} else {
					fmt.Fprintln(tw, name)
				}
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print an array of stat objects")
	c.Flags().BoolVarP(&recursive, "recursive", "R", false, "list subdirectories recursively")
	c.Flags().BoolVarP(&long, "long", "l", false, "long listing")
	return c
}

func newRmCmd(a *app) *cobra.Command {
	var recursive bool
	c := &cobra.Command{
		Use:   "rm PATH",
		Short: "Remove a file, or a directory tree with -r",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePath(args[0])
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			return fsys.Remove(ctx, p, recursive)
		},
	}
	c.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove a directory and everything below it")
	return c
}

func newMvCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "mv SRC DST",
		Short: "Move or rename a file or directory tree atomically",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := parsePath(args[0])
			if err != nil {
				return err
			}
			dst, err := parsePath(args[1])
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			return fsys.Rename(ctx, src, dst)
		},
	}
}

func newLogCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "log PATH",
		Short: "List the versions of a file, newest first",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePath(args[0])
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			vs, ok := fsys.(ctxfs.Versioner)
			if !ok {
				return fmt.Errorf("%s: %w: no version history", p, ctxfs.ErrNotSupported)
			}
			versions, err := vs.Log(ctx, p)
			if err != nil {
				return err
			}
			if asJSON {
				if versions == nil {
					versions = []ctxfs.Version{}
				}
				return a.printJSON(versions)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, v := range versions {
				fmt.Fprintf(tw, "%d\t%s\t%d bytes\t%s\n", v.Version, v.Time.UTC().Format(time.RFC3339), v.Size, v.Author)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print [{"version","time","size","author"}]`)
	return c
}

func newSearchCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		under  string
		limit  int
	)
	c := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search content, paths and metadata (bleve query string syntax)",
		Example: `  ctxfs search 'tea -coffee'
  ctxfs search '"exact phrase"' --under /notes --limit 5 --json
  ctxfs search 'meta.source:wiki'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := ctxfs.Query{Text: args[0], Limit: limit}
			if under != "" {
				p, err := parsePath(under)
				if err != nil {
					return err
				}
				q.Under = p
			}
			if limit < 0 {
				return usagef("--limit must be positive")
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			se, ok := fsys.(ctxfs.Searcher)
			if !ok {
				return fmt.Errorf("%w: no search index", ctxfs.ErrNotSupported)
			}
			hits, err := se.Search(ctx, q)
			if err != nil {
				return err
			}
			if asJSON {
				if hits == nil {
					hits = []ctxfs.Hit{}
				}
				return a.printJSON(hits)
			}
			for _, h := range hits {
				fmt.Fprintf(a.stdout, "%s@%d\t%.3f\n", h.Path, h.Version, h.Score)
				if h.Snippet != "" {
					fmt.Fprintf(a.stdout, "    %s\n", strings.ReplaceAll(h.Snippet, "\n", " "))
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print [{"path","score","snippet","version"}]`)
	c.Flags().StringVar(&under, "under", "", "only paths within this directory")
	c.Flags().IntVar(&limit, "limit", 10, "at most this many results")
	return c
}
