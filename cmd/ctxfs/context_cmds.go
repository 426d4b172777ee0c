package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/constructor"
	ctxfs "github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
	"github.com/ctxfs/ctxfs/tokens"
)

func init() { register(newContextCmd) }

func newContextCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "context",
		Short: "Build token-budgeted contexts with a saved manifest, and replay them",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newContextBuildCmd(a), newContextReplayCmd(a), newContextShowCmd(a))
	return c
}

// tokenCounter returns the counter of --tokenizer: cl100k_base (default)
// or the tokenizer of a GGUF model file.
func (a *app) tokenCounter(spec string) (ctxfs.TokenCounter, string, error) {
	if spec == "" || spec == tokens.Encoding || spec == "cl100k" {
		c, err := tokens.Default()
		return c, tokens.Encoding, err
	}
	f, err := gguf.Open(spec)
	if err != nil {
		return nil, "", usagef("--tokenizer: %v", err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, "", err
	}
	return tokens.ForTokenizer(tok), filepath.Base(spec), nil
}

func newContextBuildCmd(a *app) *cobra.Command {
	var (
		budget     int
		sources    []string
		pins       []string
		user, ws   string
		session    string
		as         string
		tok        string
		asJSON     bool
		dryRun     bool
		noExpand   bool
		noNeighbor bool
	)
	c := &cobra.Command{
		Use:   "build QUERY",
		Short: "Build the best context for QUERY within --budget tokens",
		Long: `context build gathers candidates from the sources, scores them on relevance,
cues, recency of mention and neighbourhood, and fits the best of them into
--budget tokens of the target tokenizer, each at the size (full, excerpt,
compressed, one line) that gives the most value per token. It prints the
prompt (or, with --json, {"prompt","tokens","manifest":{"id","items":[...]}})
and saves the manifest at /history/SESSION/contexts/ID.json.

Sources (--source, repeatable): a path pattern ("/notes/**"), user:NAME,
workspace:NAME, session:NAME or pin:PATH. --user, --workspace and --pin add
those sources; --session names the session the manifest is saved under and,
when it exists, draws on its history too. With no source at all, /notes/**
is used.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if budget <= 0 {
				return usagef("--budget must be a positive number of tokens")
			}
			var srcs []constructor.Source
			for _, s := range sources {
				src, err := constructor.ParseSource(s)
				if err != nil {
					return usageError{err}
				}
				srcs = append(srcs, src)
			}
			if user != "" {
				srcs = append(srcs, constructor.Source{User: user})
			}
			if ws != "" {
				srcs = append(srcs, constructor.Source{Workspace: ws})
			}
			for _, p := range pins {
				srcs = append(srcs, constructor.Source{Pin: p})
			}
			counter, name, err := a.tokenCounter(tok)
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsysAs(cmd.Context(), as)
			if err != nil {
				return err
			}
			if session != "" && len(sources) == 0 {
				if _, err := fsys.Stat(ctx, ctxfs.MustParse("/history").Child(session)); err == nil {
					srcs = append(srcs, constructor.Source{Session: session})
				}
			}
			if len(srcs) == 0 {
				srcs = []constructor.Source{{Glob: "/notes/**"}}
			}
			b := constructor.New(fsys, constructor.Options{Counter: counter, Tokenizer: name})
			out, err := b.Build(ctx, constructor.Request{
				Query: args[0], Budget: budget, Sources: srcs, Session: session, DryRun: dryRun,
				Rank: constructor.RankOptions{NoExpansion: noExpand, NoNeighbours: noNeighbor},
			})
			if err != nil {
				if errors.Is(err, ctxfs.ErrInvalid) {
					return usageError{err}
				}
				return err
			}
			if asJSON {
				return a.printJSON(out)
			}
			fmt.Fprint(a.stdout, out.Prompt)
			if out.Saved != "" {
				fmt.Fprintf(a.stderr, "context %s: %d/%d tokens, %d items, manifest %s\n", out.Manifest.ID, out.Tokens, budget, len(out.Manifest.Items), out.Saved)
			}
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&budget, "budget", 0, "token budget of the prompt (required)")
	f.StringArrayVar(&sources, "source", nil, "a source: PATTERN, user:NAME, workspace:NAME, session:NAME or pin:PATH (repeatable)")
	f.StringArrayVar(&pins, "pin", nil, "a file that always goes in (repeatable)")
	f.StringVar(&user, "user", "", "draw on this user's persona memory")
	f.StringVar(&ws, "workspace", "", "draw on this episodic workspace")
	f.StringVar(&session, "session", "", "history session the manifest is saved under (default \"default\")")
	f.StringVar(&as, "as", "", "build as this principal (its access rules apply)")
	f.StringVar(&tok, "tokenizer", "", "count tokens with cl100k_base (default) or the tokenizer of this GGUF model file")
	f.BoolVar(&asJSON, "json", false, `print {"prompt","tokens","manifest":{...}}`)
	f.BoolVar(&dryRun, "dry-run", false, "do not save the manifest")
	f.BoolVar(&noExpand, "no-expansion", false, "turn off query expansion")
	f.BoolVar(&noNeighbor, "no-neighbours", false, "turn off neighbouring context")
	return c
}

func newContextReplayCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "replay ID",
		Short: "Rebuild the identical prompt of a saved context from the versions it recorded",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			m, _, err := constructor.Load(ctx, fsys, "", args[0])
			if err != nil {
				return err
			}
			// The prompt is rebuilt byte for byte whatever the tokenizer;
			// tokens are counted with the default encoding.
			out, err := constructor.New(fsys, constructor.Options{}).ReplayManifest(ctx, m)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(out)
			}
			fmt.Fprint(a.stdout, out.Prompt)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"prompt","tokens","manifest":{...}}`)
	return c
}

func newContextShowCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Print the manifest of a saved context as JSON",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			m, _, err := constructor.Load(ctx, fsys, "", args[0])
			if err != nil {
				return err
			}
			return a.printJSON(m)
		},
	}
	return c
}
