package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/openai"
	"github.com/ctxfs/ctxfs/memory"
)

// llmFlags adds --llm and --llm-model: an OpenAI-compatible server to use
// instead of the rule-based extractor or operator. The key comes from
// CTXFS_LLM_API_KEY or llm-api-key in the configuration file.
func llmFlags(c *cobra.Command) {
	c.Flags().String("llm", "", "OpenAI-compatible API root (e.g. http://localhost:8080/v1) to extract with a model instead of rules")
	c.Flags().String("llm-model", "", "model name sent to --llm")
}

// generator returns the --llm generator, or nil for the rule-based default.
func (a *app) generator() inference.Generator {
	url := a.cfg.GetString("llm")
	if url == "" {
		return nil
	}
	return &openai.Client{BaseURL: url, Model: a.cfg.GetString("llm-model"), APIKey: a.cfg.GetString("llm-api-key")}
}

func init() { register(newMemoryCmd) }

func newMemoryCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "memory",
		Short: "Persona memory: one bounded, human-readable file per user (/memory/USER/persona.md)",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newMemoryObserveCmd(a), newMemoryShowCmd(a), newMemoryRecallCmd(a))
	return c
}

// openInput opens FILE, or standard input for "-" or no argument.
func (a *app) openInput(args []string, i int) (io.Reader, func(), error) {
	if len(args) <= i || args[i] == "-" {
		return a.stdin, func() {}, nil
	}
	f, err := os.Open(args[i])
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// readTurns reads JSON lines {"role","content","time"} ("id" optional).
func readTurns(r io.Reader) ([]memory.Turn, error) {
	var turns []memory.Turn
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var t memory.Turn
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, usagef("turns line %d: want {\"role\",\"content\",\"time\"}: %v", n, err)
		}
		if t.ID == "" {
			t.ID = fmt.Sprintf("t%d", n)
		}
		turns = append(turns, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return turns, nil
}

func newMemoryObserveCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		budget int
	)
	c := &cobra.Command{
		Use:   "observe USER [FILE|-]",
		Short: "Update USER's persona from conversation turns (JSON lines {\"role\",\"content\",\"time\"})",
		Long: `observe reads turns as JSON lines, one {"role","content","time"} object per line
("id" optional, else the line number), extracts what the user states about
themself (rule-based, no model), reconciles it with /memory/USER/persona.md
(add, merge, supersede) and writes a new version, within --tokens.`,
		Example: `  echo '{"role":"user","content":"I moved to Lyon.","time":"2024-06-01"}' | ctxfs memory observe alice`,
		Args:    rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, done, err := a.openInput(args, 1)
			if err != nil {
				return err
			}
			defer done()
			turns, err := readTurns(r)
			if err != nil {
				return err
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			o := memory.Options{Budget: budget}
			if g := a.generator(); g != nil {
				o.Extractor = memory.LLM{Generator: g}
			}
			res, err := memory.New(fsys, o).Observe(ctx, args[0], turns)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(res)
			}
			if res.Version == 0 {
				fmt.Fprintf(a.stdout, "no statements about %s found in %d turns; nothing written\n", args[0], len(turns))
				return nil
			}
			counts := map[string]int{}
			for _, act := range res.Actions {
				counts[act.Op]++
			}
			fmt.Fprintf(a.stdout, "%s@%d %d items %d/%d tokens", res.Path, res.Version, res.Items, res.Tokens, res.Budget)
			for _, op := range []string{"add", "supersede", "merge", "compact-merge", "drop"} {
				if counts[op] > 0 {
					fmt.Fprintf(a.stdout, " %s %d", op, counts[op])
				}
			}
			fmt.Fprintln(a.stdout)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"path","version","tokens","budget","items","actions"}`)
	c.Flags().IntVar(&budget, "tokens", memory.DefaultBudget, "bound of the persona file in tokens")
	llmFlags(c)
	return c
}

func newMemoryShowCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show USER",
		Short: "Print USER's persona memory",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			m := memory.New(fsys, memory.Options{})
			per, ver, err := m.Read(ctx, args[0])
			if err != nil {
				return err
			}
			p, _ := m.Path(args[0])
			if asJSON {
				items := per.Items
				if items == nil {
					items = []memory.Item{}
				}
				return a.printJSON(map[string]any{"user": args[0], "path": p, "version": ver, "items": items})
			}
			if ver == 0 {
				fmt.Fprintf(a.stderr, "no persona memory for %s yet (%s)\n", args[0], p)
				return nil
			}
			_, err = io.WriteString(a.stdout, per.Render())
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"user","path","version","items"}`)
	return c
}

func newMemoryRecallCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		budget int
	)
	c := &cobra.Command{
		Use:     "recall USER QUERY",
		Short:   "Print USER's persona items relevant to QUERY within a token budget",
		Example: `  ctxfs memory recall alice "where do I live?" --budget 200`,
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if budget < 1 {
				return usagef("--budget must be at least 1")
			}
			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			r, err := memory.New(fsys, memory.Options{}).Recall(ctx, args[0], args[1], budget)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			_, err = io.WriteString(a.stdout, r.Text)
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"user","query","path","version","items","text","tokens","budget"}`)
	c.Flags().IntVar(&budget, "budget", 512, "token budget")
	return c
}
