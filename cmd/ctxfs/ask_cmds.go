package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ctxfs/ctxfs/constructor"
	ctxfs "github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/ask"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/kv/kvbench"
	"github.com/ctxfs/ctxfs/inference/openai"
	"github.com/ctxfs/ctxfs/inference/pdr"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
	"github.com/ctxfs/ctxfs/tokens"
)

func init() { register(newAskCmd) }

// tokenizerCounter counts with the local model's tokenizer, so that the context
// budget is in the tokens of the model that reads it.
type tokenizerCounter struct{ tok tokenizer.Tokenizer }

func (c tokenizerCounter) CountTokens(s string) int {
	return len(c.tok.Encode(s, tokenizer.EncodeOptions{}))
}

func newAskCmd(a *app) *cobra.Command {
	var (
		user, workspace, session, pdrSpec, model, endpoint, apiKey, distill, kvPolicy string
		sources                                                                       []string
		budget, maxTokens, kvBudget                                                   int
		temp                                                                          float32
		seed                                                                          uint64
		asJSON, noWriteBack                                                           bool
	)
	c := &cobra.Command{
		Use:   "ask QUESTION [--user U] [--workspace W] [--budget N] [--pdr M,R,KAPPA] [--model PATH] [--json]",
		Short: "Answer a question from the store: build a context, generate, evaluate, write back",
		Long: `ask answers QUESTION end to end:
  1. the constructor builds a context of at most --budget tokens from the user's
     persona memory (--user), the workspace (--workspace), the history session
     (--session) and any --source patterns, and saves its manifest in history;
  2. the model answers from that context, in one generation or, with
     --pdr M,R,KAPPA, by Parallel-Distill-Refine (M drafts per round, R rounds,
     a workspace of KAPPA tokens; M=1 is Sequential Refinement);
  3. the evaluator checks the context and the answer and records the evaluation
     in history (weak results go to the review queue);
  4. the exchange is written back to the session's history, the user's persona
     memory and the workspace.
The model is a local GGUF file (--model PATH; --kv-policy/--kv-budget compress
its KV cache) or, with --endpoint URL, any OpenAI-compatible server (--model is
then the served model's name).`,
		Example: `  ctxfs ask "Where did Ana move?" --user ana --workspace trip --model stories260K.gguf --json
  ctxfs ask "Summarize the plan" --endpoint http://localhost:8080/v1 --api-key $TOKEN --pdr 3,2,256`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			question := strings.TrimSpace(args[0])
			if question == "" {
				return usagef("empty question")
			}
			if model == "" {
				model = a.cfg.GetString("model")
			}
			if endpoint == "" && model == "" {
				return usagef("--model PATH (a local GGUF model) or --endpoint URL is required")
			}
			var popts *pdr.Options
			if pdrSpec != "" {
				parts := strings.Split(pdrSpec, ",")
				nums := make([]int, len(parts))
				for i, p := range parts {
					n, err := strconv.Atoi(strings.TrimSpace(p))
					if err != nil || n < 1 {
						return usagef("--pdr %q: want M,R,KAPPA (positive numbers)", pdrSpec)
					}
					nums[i] = n
				}
				if len(nums) != 3 {
					return usagef("--pdr %q: want M,R,KAPPA", pdrSpec)
				}
				popts = &pdr.Options{M: nums[0], R: nums[1], Kappa: nums[2], Distill: distill}
			}
			if budget < 1 {
				return usagef("--budget must be positive")
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
			if workspace != "" {
				srcs = append(srcs, constructor.Source{Workspace: workspace})
			}
			srcs = append(srcs, constructor.Source{Session: session})

			// The generator and the token counter of its model.
			var gen inference.Generator
			var counter ctxfs.TokenCounter
			if endpoint != "" {
				gen = &openai.Client{BaseURL: strings.TrimRight(endpoint, "/"), APIKey: apiKey, Model: model}
				var err error
				if counter, err = tokens.Default(); err != nil {
					return err
				}
			} else {
				opts := inference.EngineOptions{}
				if kvPolicy == "" {
					kvPolicy = a.cfg.GetString("kv.policy")
				}
				if kvBudget == 0 {
					kvBudget = a.cfg.GetInt("kv.budget")
				}
				if kvPolicy != "" && kvPolicy != kv.PolicyFull {
					opts.Backend = kvbench.Backend(kv.Config{Policy: kvPolicy, Budget: kvBudget})
				}
				e, err := inference.Open(model, a.cfg.GetBool("in-memory"), opts)
				if err != nil {
					return err
				}
				a.onClose(e.Close)
				gen, counter = e, tokenizerCounter{e.Tokenizer()}
			}

			fsys, ctx, err := a.fsys(cmd.Context())
			if err != nil {
				return err
			}
			res, err := ask.Run(ctx, fsys, gen, counter, ask.Options{
				Question: question, User: user, Workspace: workspace, Session: session,
				Budget: budget, Sources: srcs, PDR: popts, WriteBack: !noWriteBack,
				Draft: inference.Request{MaxTokens: maxTokens, Temperature: temp, Seed: seed},
			})
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintln(a.stdout, res.Answer)
			ev := res.Evaluation
			status := "ok"
			if ev.Weak {
				status = "weak: " + strings.Join(ev.Reasons, "; ")
			}
			fmt.Fprintf(a.stderr, "context %s (%d tokens), evaluation %s: %s\n", res.ManifestID, ev.Context.Tokens, ev.ID, status)
			if res.PDR != nil {
				fmt.Fprintf(a.stderr, "pdr M=%d R=%d kappa=%d: %d calls, sequential %d tokens, total %d\n", res.PDR.M, res.PDR.R, res.PDR.Kappa, res.PDR.Calls, res.PDR.SequentialTokens, res.PDR.TotalTokens)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&user, "user", "", "user whose persona memory informs (and learns from) the answer")
	f.StringVar(&workspace, "workspace", "", "episodic workspace to draw on and update")
	f.StringVar(&session, "session", "ask", "history session of the exchange")
	f.StringArrayVar(&sources, "source", nil, "more context sources: glob:PATTERN, pin:PATH, session:S, user:U, workspace:W (repeatable)")
	f.IntVar(&budget, "budget", 1024, "context budget in tokens")
	f.StringVar(&pdrSpec, "pdr", "", "Parallel-Distill-Refine: M,R,KAPPA")
	f.StringVar(&distill, "distill", pdr.DistillSummary, "PDR distillation: summary or extractive")
	f.StringVar(&model, "model", "", "local GGUF model (with --endpoint: the served model's name)")
	f.StringVar(&endpoint, "endpoint", "", "OpenAI-compatible API root, e.g. http://localhost:8080/v1")
	f.StringVar(&apiKey, "api-key", "", "bearer token for --endpoint")
	f.IntVarP(&maxTokens, "max-tokens", "n", 256, "tokens per generation")
	f.Float32Var(&temp, "temp", 0, "sampling temperature (0: greedy; PDR drafts need > 0 to differ)")
	f.Uint64Var(&seed, "seed", 0, "sampling seed")
	f.StringVar(&kvPolicy, "kv-policy", "", "local model: KV-cache policy (full, streaming, h2o, snapkv, pyramidkv; config kv.policy)")
	f.IntVar(&kvBudget, "kv-budget", 0, "local model: KV-cache budget in tokens (config kv.budget)")
	f.BoolVar(&noWriteBack, "no-write-back", false, "do not write the exchange back to history, memory and workspace")
	f.BoolVar(&asJSON, "json", false, `print {"answer","manifest_id","evaluation",...} as JSON`)
	return c
}
