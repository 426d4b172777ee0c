package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/bench"
	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/synth"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

func init() {
	register(newModelCmd)
	register(newGenerateCmd)
	registerBench(newBenchInferenceCmd)
	register(newTokenizeCmd)
}

func newModelCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "model",
		Short: "Inspect and create GGUF models for the local inference engine",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newModelInfoCmd(a), newModelSynthCmd(a))
	return c
}

func newModelInfoCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "info PATH",
		Short: "Print a GGUF model's architecture, hyper-parameters, tensor types and tokenizer",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := inference.Inspect(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(info)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "path\t%s\n", info.Path)
			fmt.Fprintf(tw, "name\t%s\n", info.Name)
			fmt.Fprintf(tw, "architecture\t%s\n", info.Arch)
			fmt.Fprintf(tw, "gguf version\t%d\n", info.GGUFVersion)
			fmt.Fprintf(tw, "file size\t%d bytes\n", info.FileBytes)
			fmt.Fprintf(tw, "tensors\t%d (%s)\n", info.Tensors, strings.Join(info.SortedTypes(), ", "))
			fmt.Fprintf(tw, "parameters\t%d\n", info.Parameters)
			if cfg := info.Config; cfg != nil {
				fmt.Fprintf(tw, "layers\t%d\n", cfg.Layers)
				fmt.Fprintf(tw, "embedding\t%d\n", cfg.Dim)
				fmt.Fprintf(tw, "heads\t%d (kv %d, head dim %d)\n", cfg.Heads, cfg.KVHeads, cfg.HeadDim)
				fmt.Fprintf(tw, "feed-forward\t%d\n", cfg.FFN)
				fmt.Fprintf(tw, "context\t%d\n", cfg.Context)
				fmt.Fprintf(tw, "rope\tbase %g, %d dims, neox %v\n", cfg.RopeBase, cfg.RopeDim, cfg.RopeNeoX)
				fmt.Fprintf(tw, "tied embeddings\t%v\n", cfg.TiedEmbed)
			}
			fmt.Fprintf(tw, "tokenizer\t%s (%d tokens, bos %d, eos %d)\n", info.Tokenizer, info.VocabSize, info.BOS, info.EOS)
			fmt.Fprintf(tw, "chat template\t%s\n", info.ChatTemplate)
			fmt.Fprintf(tw, "supported\t%v\n", info.Supported)
			if info.ConfigError != "" {
				fmt.Fprintf(tw, "problem\t%s\n", info.ConfigError)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newModelSynthCmd(a *app) *cobra.Command {
	var shape, typ, vocab string
	var seed uint64
	var asJSON bool
	c := &cobra.Command{
		Use:   "synth --shape 110m|1.1b --type f32|f16|q8_0|q4_0 [--vocab GGUF] OUT",
		Short: "Write a random-weight LLaMA model of a realistic shape, for benchmarks",
		Long: `Synth writes a GGUF model with random weights: shape 110m (dim 768, 12 layers,
12 heads, ffn 2048) or 1.1b (TinyLlama: dim 2048, 22 layers, 32 heads, 4 KV
heads, ffn 5632), vocabulary 32000 or that of --vocab, whose tokenizer metadata
is copied so that the model can tokenize real text. Weights are generated while
they are written, so the 4.4 GB F32 1.1b model needs little memory.`,
		Example: `  ctxfs model synth --shape 110m --type q4_0 --vocab ggml-vocab-llama-spm.gguf 110m-q4_0.gguf`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, ok := synth.Shapes[shape]
			if !ok {
				return usagef("--shape %q: want 110m or 1.1b", shape)
			}
			t, err := synth.ParseType(typ)
			if err != nil {
				return usageError{err}
			}
			opts := synth.Options{Shape: s, Type: t, Seed: seed}
			if vocab != "" {
				vf, err := gguf.Open(vocab)
				if err != nil {
					return err
				}
				defer vf.Close()
				opts.Vocab = vf
			}
			n, err := synth.WriteFile(args[0], opts)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"path": args[0], "bytes": n, "shape": shape, "type": t.String()})
			}
			fmt.Fprintf(a.stdout, "wrote %s (%d bytes)\n", args[0], n)
			return nil
		},
	}
	c.Flags().StringVar(&shape, "shape", "110m", "model shape: 110m or 1.1b")
	c.Flags().StringVar(&typ, "type", "f32", "weight type: f32, f16, q8_0, q4_0, q4_k or q6_k")
	c.Flags().StringVar(&vocab, "vocab", "", "GGUF file whose tokenizer to copy")
	c.Flags().Uint64Var(&seed, "seed", 1, "random seed of the weights")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newGenerateCmd(a *app) *cobra.Command {
	var model, prompt string
	var n, threads int
	var temp, topP float32
	var seed uint64
	var asJSON, inMemory bool
	c := &cobra.Command{
		Use:   "generate --model PATH --prompt TEXT",
		Short: "Generate text with a local GGUF model",
		Long: `Generate encodes the prompt with BOS (an empty prompt starts from BOS alone)
and continues it, streaming the text as it comes. --temp 0 (the default) is
greedy decoding. --json prints {"text","tokens","prompt_tokens"} at the end.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" {
				return usagef("--model is required")
			}
			e, err := inference.Open(model, inMemory, inference.EngineOptions{Session: llama.SessionOptions{Threads: threads}})
			if err != nil {
				return err
			}
			a.onClose(e.Close)
			req := inference.Request{Prompt: prompt, MaxTokens: n, Temperature: temp, TopP: topP, Seed: seed}
			if !asJSON {
				req.OnToken = func(t inference.Token) error {
					_, err := io.WriteString(a.stdout, t.Text)
					return err
				}
			}
			resp, err := e.Generate(cmd.Context(), req)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(struct {
					Text         string  `json:"text"`
					Tokens       []int32 `json:"tokens"`
					PromptTokens []int32 `json:"prompt_tokens"`
					FinishReason string  `json:"finish_reason"`
				}{resp.Text, nonNil(resp.Tokens), nonNil(resp.PromptTokens), resp.FinishReason})
			}
			fmt.Fprintln(a.stdout)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&model, "model", "", "GGUF model file")
	f.StringVar(&prompt, "prompt", "", "prompt text")
	f.IntVarP(&n, "n", "n", 128, "maximum number of tokens to generate")
	f.Float32Var(&temp, "temp", 0, "temperature (0: greedy)")
	f.Float32Var(&topP, "top-p", 0, "nucleus sampling threshold (0: off)")
	f.Uint64Var(&seed, "seed", 0, "sampling seed (0: random)")
	f.IntVar(&threads, "threads", 0, "worker threads (0: all cores)")
	f.BoolVar(&inMemory, "in-memory", false, "read the weights into memory instead of mapping the file")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

func newBenchInferenceCmd(a *app) *cobra.Command {
	var o bench.Options
	var asJSON bool
	c := &cobra.Command{
		Use:   "inference --model PATH",
		Short: "Measure prefill and decode tokens/s of a local model",
		Long: `Bench prefills --prompt-tokens random tokens (in batches), then decodes
--gen-tokens tokens one at a time, and reports tokens/s for both, the peak
resident memory, and decode speed as a fraction of the memory-bandwidth bound:
bytes of weights read per token times tokens/s over the read bandwidth measured
with the same number of threads. The weights are read into memory unless --mmap
is given (a VM that evicts the page cache turns a mapped run into a disk test).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Model == "" {
				return usagef("--model is required")
			}
			r, err := bench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "model\t%s (%s, %s)\n", r.Model, r.Type, r.Mode)
			fmt.Fprintf(tw, "threads\t%d (simd %v)\n", r.Threads, r.SIMD)
			fmt.Fprintf(tw, "prefill\t%.1f tokens/s (%d tokens; %.1f per CPU-second x threads)\n", r.PrefillTPS, r.PromptTokens, r.PrefillCPUTPS)
			fmt.Fprintf(tw, "decode\t%.2f tokens/s (%d tokens; %.2f per CPU-second x threads)\n", r.DecodeTPS, r.GenTokens, r.DecodeCPUTPS)
			fmt.Fprintf(tw, "load average\t%.2f\n", r.LoadAverage)
			fmt.Fprintf(tw, "weights per token\t%.1f MB\n", float64(r.WeightBytesPerToken)/1e6)
			fmt.Fprintf(tw, "read bandwidth\t%.2f GB/s (copy %.2f GB/s)\n", r.ReadBandwidth/1e9, r.CopyBandwidth/1e9)
			fmt.Fprintf(tw, "bandwidth fraction\t%.2f\n", r.BandwidthFraction)
			fmt.Fprintf(tw, "peak rss\t%.1f MB\n", float64(r.PeakRSSBytes)/1e6)
			return tw.Flush()
		},
	}
	f := c.Flags()
	f.StringVar(&o.Model, "model", "", "GGUF model file")
	f.IntVar(&o.Threads, "threads", 0, "worker threads (0: all cores)")
	f.IntVar(&o.PromptTokens, "prompt-tokens", 128, "prompt tokens to prefill")
	f.IntVar(&o.GenTokens, "gen-tokens", 32, "tokens to decode")
	f.BoolVar(&o.MMap, "mmap", false, "map the weights instead of reading them into memory")
	f.IntVar(&o.Repeat, "repeat", 1, "run prefill and decode this many times and report the fastest")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newTokenizeCmd(a *app) *cobra.Command {
	var model string
	var asJSON, bos, special, count, batch bool
	c := &cobra.Command{
		Use:   "tokenize --model PATH",
		Short: "Print the token ids of the text on stdin, with a model's tokenizer",
		Long: `Tokenize reads text from stdin and prints its token ids. No BOS is added and
special-token text is encoded as plain text unless --bos / --special are given.
--count prints only the number of tokens. --batch reads a JSON array of strings
and prints a JSON array of id arrays (or of counts with --count).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" {
				return usagef("--model is required")
			}
			f, err := gguf.Open(model)
			if err != nil {
				return err
			}
			defer f.Close()
			tok, err := tokenizer.FromGGUF(f)
			if err != nil {
				return err
			}
			opts := tokenizer.EncodeOptions{AddBOS: bos, ParseSpecial: special}
			in, err := io.ReadAll(a.stdin)
			if err != nil {
				return err
			}
			if batch {
				var texts []string
				if err := json.Unmarshal(in, &texts); err != nil {
					return usagef("--batch: stdin is not a JSON array of strings: %v", err)
				}
				out := make([]any, len(texts))
				for i, t := range texts {
					ids := tok.Encode(t, opts)
					if count {
						out[i] = len(ids)
					} else {
						out[i] = nonNil(ids)
					}
				}
				b, err := json.Marshal(out)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "%s\n", b)
				return err
			}
			ids := tok.Encode(string(in), opts)
			switch {
			case asJSON && count:
				return a.printJSON(map[string]int{"count": len(ids)})
			case asJSON:
				return a.printJSON(map[string]any{"ids": nonNil(ids), "count": len(ids)})
			case count:
				_, err = fmt.Fprintln(a.stdout, len(ids))
				return err
			}
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = strconv.Itoa(int(id))
			}
			_, err = fmt.Fprintln(a.stdout, strings.Join(parts, " "))
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&model, "model", "", "GGUF model (or vocabulary) file")
	f.BoolVar(&bos, "bos", false, "add the BOS token")
	f.BoolVar(&special, "special", false, "parse special-token text such as <s>")
	f.BoolVar(&count, "count", false, "print only the number of tokens")
	f.BoolVar(&batch, "batch", false, "read a JSON array of strings, print a JSON array of id arrays")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
