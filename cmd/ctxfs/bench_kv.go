package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/kv/kvbench"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/synth"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

func init() { registerBench(newBenchKVCmd) }

// decodeShapes are the random-weight shapes `bench kv --decode --synth` can build:
// llama2.c's stories15M and stories42M, real pretrained shapes small enough for a
// 4,096-token prefill on a small machine, and the synth package's own.
var decodeShapes = map[string]synth.Shape{
	"15m":  {Name: "15m", Dim: 288, Layers: 6, Heads: 6, KVHeads: 6, FFN: 768, Vocab: 32000, Context: 4096 + 512},
	"42m":  {Name: "42m", Dim: 512, Layers: 8, Heads: 8, KVHeads: 8, FFN: 1376, Vocab: 32000, Context: 4096 + 512},
	"110m": synth.Shapes["110m"],
	"1.1b": synth.Shapes["1.1b"],
}

func newBenchKVCmd(a *app) *cobra.Command {
	var (
		model, policies, budgets, synthShape, synthType, synthVocab string
		asJSON, decode, inMemory                                    bool
		o                                                           kvbench.Options
		do                                                          kvbench.DecodeOptions
	)
	c := &cobra.Command{
		Use:   "kv --model PATH [--policies full,streaming,h2o,snapkv,pyramidkv] [--budgets 64,128,256]",
		Short: "Measure KV-cache compression policies against the full cache",
		Long: `bench kv scores KV-cache compression policies against the full cache on the
same texts in the same run: each text's first 3/4 is prefilled, the cache is
compressed to the budget (tokens per layer; PyramidKV: the average), and every
later token is fed teacher-forced while the policy keeps the cache within the
budget. It reports the fraction of positions whose most likely next token is
the full cache's (top1), the mean KL divergence KL(full || compressed) in nats,
and the bytes of keys and values held. The texts are long stories the model
writes itself from varied seeds (a story that ends is followed by the next).

With --decode it measures decode tokens/s instead: --context random tokens are
prefilled once, --gen tokens are decoded with the full cache, then the cache is
compressed to --budgets (one budget; memory released) and --gen tokens are
decoded again, the policy compressing the cache back to the budget whenever
it grows --slack slots past it. --synth SHAPE writes a random-weight model of that shape
(15m, 42m: llama2.c's stories15M/42M shapes; 110m; 1.1b) instead of --model,
with the vocabulary of --synth-vocab if given.`,
		Example: `  ctxfs bench kv --model stories260K.gguf --policies full,streaming,h2o,snapkv,pyramidkv --budgets 64,128,256
  ctxfs bench kv --decode --synth 15m --context 4096 --budgets 512 --gen 16`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bs []int
			for _, s := range strings.Split(budgets, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				b, err := strconv.Atoi(s)
				if err != nil || b <= 0 {
					return usagef("--budgets: %q is not a positive number of tokens", s)
				}
				bs = append(bs, b)
			}
			if synthShape != "" {
				if !decode {
					return usagef("--synth needs --decode (a random-weight model writes no meaningful text)")
				}
				shape, ok := decodeShapes[synthShape]
				if !ok {
					return usagef("--synth %q: want 15m, 42m, 110m or 1.1b", synthShape)
				}
				t, err := synth.ParseType(synthType)
				if err != nil {
					return usageError{err}
				}
				dir, err := os.MkdirTemp("", "ctxfs-bench-kv-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				model = filepath.Join(dir, "synth.gguf")
				so := synth.Options{Shape: shape, Type: t, Seed: 1}
				if synthVocab != "" {
					vf, err := gguf.Open(synthVocab)
					if err != nil {
						return err
					}
					defer vf.Close()
					so.Vocab = vf
				}
				if _, err := synth.WriteFile(model, so); err != nil {
					return err
				}
			}
			if model == "" {
				return usagef("--model (or --decode --synth SHAPE) is required")
			}
			f, err := gguf.OpenFile(model, gguf.Options{InMemory: inMemory || synthShape != ""})
			if err != nil {
				return err
			}
			defer f.Close()
			m, err := llama.Load(f)
			if err != nil {
				return err
			}
			if decode {
				if len(bs) > 1 {
					return usagef("--decode takes one budget")
				}
				do.Threads = o.Threads
				if len(bs) == 1 {
					do.Budget = bs[0]
				}
				if policies != "" && !strings.Contains(policies, ",") {
					do.Policy = policies
				}
				r, err := kvbench.Decode(cmd.Context(), m, do)
				if err != nil {
					return err
				}
				if asJSON {
					return a.printJSON(r)
				}
				fmt.Fprintf(a.stdout, "model %s: dim %d, %d layers, %d heads (%d KV), %s weights, %d threads\n", model, m.Dim, m.Layers, m.Heads, m.KVHeads, m.Blocks[0].Q.Type, r.Threads)
				fmt.Fprintf(a.stdout, "prefill of %d tokens: %.1f s; then %d tokens decoded each way, %d times alternately, fastest kept\n", r.Context, r.PrefillSeconds, r.Tokens, r.Repeat)
				fmt.Fprintf(a.stdout, "decode, full cache (%d slots, %.1f MB):   %8.2f tokens/s\n", r.Context, float64(r.FullBytes)/1e6, r.FullTPS)
				fmt.Fprintf(a.stdout, "decode, %s at %d+%d (%.1f MB):  %8.2f tokens/s\n", r.Policy, r.Budget, r.Slack, float64(r.CompressedBytes)/1e6, r.CompressedTPS)
				fmt.Fprintf(a.stdout, "speedup %.2fx wall-clock, %.2fx in CPU time (%.2f -> %.2f tokens per CPU-second x threads; goal >= 3)\n", r.Speedup, r.CPUSpeedup, r.FullCPUTPS, r.CompressedCPUTPS)
				return nil
			}
			o.Budgets = bs
			if policies != "" {
				o.Policies = strings.Split(policies, ",")
				for _, p := range o.Policies {
					if _, err := kv.NewPolicy(kv.Config{Policy: p}, kvbench.Geometry(m, 1)); err != nil {
						return usageError{err}
					}
				}
			}
			if tok, err := tokenizer.FromGGUF(f); err == nil {
				o.BOS, o.EOS = tok.BOS(), tok.EOS()
			}
			res, err := kvbench.Quality(cmd.Context(), m, o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"results": res})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "policy\tbudget\ttop1\tkl\tkv_bytes\tpositions\t\n")
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.5f\t%d\t%d\t\n", r.Policy, r.Budget, r.Top1, r.KL, r.KVBytes, r.Positions)
			}
			return tw.Flush()
		},
	}
	fl := c.Flags()
	fl.StringVar(&model, "model", "", "GGUF model file")
	fl.StringVar(&policies, "policies", strings.Join(kv.Policies, ","), "comma-separated policies (with --decode: the one policy, default snapkv)")
	fl.StringVar(&budgets, "budgets", "", "comma-separated budgets in tokens (default 1/8, 1/4, 1/2 of the text length; --decode: 512)")
	fl.IntVar(&o.Stories, "texts", 4, "number of generated stories")
	fl.IntVar(&o.Length, "length", 0, "tokens per story (0: the model's context)")
	fl.IntVar(&o.Threads, "threads", 0, "worker threads (0: all cores)")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed of the first story")
	fl.BoolVar(&inMemory, "in-memory", true, "read the weights into memory instead of mapping them")
	fl.BoolVar(&decode, "decode", false, "measure decode tokens/s at long context instead")
	fl.IntVar(&do.Context, "context", 4096, "--decode: tokens of context prefilled")
	fl.IntVar(&do.Tokens, "gen", 16, "--decode: tokens decoded each way")
	fl.IntVar(&do.Repeat, "repeat", 3, "--decode: alternate full and compressed decoding this many times from the one prefill; report the fastest of each")
	fl.StringVar(&synthShape, "synth", "", "--decode: write a random-weight model of this shape (15m, 42m, 110m, 1.1b)")
	fl.StringVar(&synthType, "synth-type", "q8_0", "--decode --synth: weight type")
	fl.StringVar(&synthVocab, "synth-vocab", "", "--decode --synth: GGUF file whose vocabulary (and its size) the model takes")
	fl.IntVar(&do.Slack, "slack", 0, "--decode: slots the compressed cache may grow past the budget before it is compressed again (0: 32; -1: none)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
