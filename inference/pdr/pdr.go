package pdr

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// Distillation modes.
const (
	DistillSummary    = "summary"    // the model summarizes the drafts
	DistillExtractive = "extractive" // the drafts most in agreement with the others, verbatim
)

// Counter counts tokens (fs.TokenCounter has the same method).
type Counter interface {
	CountTokens(text string) int
}

// Options configures Run. The zero value runs Sequential Refinement over two rounds
// with a workspace of 512 tokens counted as words.
type Options struct {
	// M is the number of drafts of every round but the last (0: 1); R the number of
	// rounds (0: 2). Drafts, if set, gives each round's count instead (its last
	// entry must be 1).
	M, R   int
	Drafts []int
	// Kappa bounds the workspace in tokens (0: 512).
	Kappa int
	// Distill is DistillSummary (default) or DistillExtractive.
	Distill string
	// Counter counts the workspace's tokens (nil: whitespace-separated words).
	Counter Counter
	// Workspace is the initial workspace (cut to Kappa).
	Workspace string
	// Draft is the request each draft starts from (MaxTokens, sampling); its Prompt
	// or Messages are set by Run. Drafts of one round get seeds Seed+i when Seed is
	// set, so that they differ.
	Draft inference.Request
	// Chat sends prompts as one user message (for instruction-tuned models) instead
	// of raw text.
	Chat bool
	// Parallel bounds the drafts generated at once (0: all of a round).
	Parallel int
}

// Round is one round of a run.
type Round struct {
	Drafts      []string `json:"drafts"`
	DraftTokens []int    `json:"draft_tokens"` // completion tokens of each draft
	// Workspace is what the round distilled (empty in the last round), within Kappa.
	Workspace       string `json:"workspace,omitempty"`
	WorkspaceTokens int    `json:"workspace_tokens"`
	DistillTokens   int    `json:"distill_tokens"` // completion tokens of the summary
}

// Result is a run's answer and accounting.
type Result struct {
	Answer string  `json:"answer"`
	Rounds []Round `json:"rounds"`
	// SequentialTokens counts the tokens generated on the critical path; TotalTokens
	// every token generated; PromptTokens every prompt token sent (before any reuse
	// of a cached prefix by the generator).
	SequentialTokens int `json:"sequential_tokens"`
	TotalTokens      int `json:"total_tokens"`
	PromptTokens     int `json:"prompt_tokens"`
	Calls            int `json:"calls"`
}

// ErrInvalid marks options that cannot run.
var ErrInvalid = errors.New("pdr: invalid options")

// Plan returns the number of drafts of each round the options describe.
func (o Options) Plan() ([]int, error) {
	if len(o.Drafts) > 0 {
		for _, m := range o.Drafts {
			if m < 1 {
				return nil, fmt.Errorf("round of %d drafts: %w", m, ErrInvalid)
			}
		}
		if o.Drafts[len(o.Drafts)-1] != 1 {
			return nil, fmt.Errorf("the last round has %d drafts, want 1: %w", o.Drafts[len(o.Drafts)-1], ErrInvalid)
		}
		return o.Drafts, nil
	}
	m, r := o.M, o.R
	if m == 0 {
		m = 1
	}
	if r == 0 {
		r = 2
	}
	if m < 1 || r < 1 {
		return nil, fmt.Errorf("M=%d R=%d: %w", m, r, ErrInvalid)
	}
	plan := make([]int, r)
	for i := range plan {
		plan[i] = m
	}
	plan[r-1] = 1
	return plan, nil
}

// TokenizerCounter counts tokens with a model's tokenizer (no BOS, special-token
// text not parsed).
type TokenizerCounter struct{ Tokenizer tokenizer.Tokenizer }

// CountTokens implements Counter.
func (c TokenizerCounter) CountTokens(s string) int {
	return len(c.Tokenizer.Encode(s, tokenizer.EncodeOptions{}))
}

type words struct{}

func (words) CountTokens(s string) int { return len(strings.Fields(s)) }

// Run runs PDR on task with g.
func Run(ctx context.Context, g inference.Generator, task string, o Options) (*Result, error) {
	plan, err := o.Plan()
	if err != nil {
		return nil, err
	}
	if o.Kappa == 0 {
		o.Kappa = 512
	}
	if o.Kappa < 0 {
		return nil, fmt.Errorf("kappa %d: %w", o.Kappa, ErrInvalid)
	}
	switch o.Distill {
	case "":
		o.Distill = DistillSummary
	case DistillSummary, DistillExtractive:
	default:
		return nil, fmt.Errorf("distillation %q: %w", o.Distill, ErrInvalid)
	}
	if o.Counter == nil {
		o.Counter = words{}
	}
	res := &Result{}
	ws := Truncate(o.Counter, o.Workspace, o.Kappa)
	for r, m := range plan {
		drafts, usage, err := draft(ctx, g, o, DraftPrompt(task, ws), m)
		if err != nil {
			return nil, fmt.Errorf("pdr: round %d: %w", r+1, err)
		}
		round := Round{Drafts: make([]string, m), DraftTokens: make([]int, m)}
		longest := 0
		for i, d := range drafts {
			round.Drafts[i] = d
			round.DraftTokens[i] = usage[i].CompletionTokens
			longest = max(longest, usage[i].CompletionTokens)
			res.TotalTokens += usage[i].CompletionTokens
			res.PromptTokens += usage[i].PromptTokens
			res.Calls++
		}
		res.SequentialTokens += longest
		if r == len(plan)-1 {
			res.Answer = drafts[0]
			res.Rounds = append(res.Rounds, round)
			break
		}
		switch o.Distill {
		case DistillSummary:
			req := o.Draft
			req.Seed = o.Draft.Seed
			req.MaxTokens = o.Kappa
			setPrompt(&req, SummaryPrompt(task, drafts), o.Chat)
			resp, err := g.Generate(ctx, req)
			if err != nil {
				return nil, fmt.Errorf("pdr: round %d distillation: %w", r+1, err)
			}
			ws = strings.TrimSpace(resp.Text)
			round.DistillTokens = resp.Usage.CompletionTokens
			res.TotalTokens += resp.Usage.CompletionTokens
			res.SequentialTokens += resp.Usage.CompletionTokens
			res.PromptTokens += resp.Usage.PromptTokens
			res.Calls++
		case DistillExtractive:
			ws = Extract(o.Counter, drafts, o.Kappa)
		}
		// A summary may run past Kappa in the counter's tokens (or the model's
		// MaxTokens may count differently): the bound is enforced here.
		ws = Truncate(o.Counter, ws, o.Kappa)
		round.Workspace = ws
		round.WorkspaceTokens = o.Counter.CountTokens(ws)
		res.Rounds = append(res.Rounds, round)
	}
	return res, nil
}

// draft generates m drafts in parallel from prompt.
func draft(ctx context.Context, g inference.Generator, o Options, prompt string, m int) ([]string, []inference.Usage, error) {
	texts := make([]string, m)
	usage := make([]inference.Usage, m)
	errs := make([]error, m)
	par := o.Parallel
	if par <= 0 {
		par = m
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < m; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req := o.Draft
			req.OnToken = nil // drafts run concurrently; streaming them would interleave
			if req.Seed != 0 {
				req.Seed += uint64(i)
			}
			setPrompt(&req, prompt, o.Chat)
			resp, err := g.Generate(ctx, req)
			if err != nil {
				errs[i] = err
				return
			}
			texts[i] = strings.TrimSpace(resp.Text)
			usage[i] = resp.Usage
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return texts, usage, nil
}

func setPrompt(req *inference.Request, text string, chat bool) {
	req.Prompt, req.Messages = "", nil
	if chat {
		req.Messages = []inference.Message{{Role: "user", Content: text}}
	} else {
		req.Prompt = text
	}
}

// DraftPrompt is the prompt of a draft: the task first (so that it is a shared,
// cacheable prefix), then the workspace if any.
func DraftPrompt(task, workspace string) string {
	if workspace == "" {
		return task + "\n\nAnswer:"
	}
	return task + "\n\nNotes from earlier attempts:\n" + workspace + "\n\nAnswer:"
}

// SummaryPrompt asks for a distillation of the drafts.
func SummaryPrompt(task string, drafts []string) string {
	var b strings.Builder
	b.WriteString(task)
	b.WriteString("\n\nCandidate answers:\n")
	for i, d := range drafts {
		fmt.Fprintf(&b, "\n[%d] %s\n", i+1, d)
	}
	b.WriteString("\nSummarize what the candidate answers agree on, where they differ, and which parts look wrong:")
	return b.String()
}

// Truncate returns the longest prefix of s, cut at a word boundary where possible,
// that c counts at most kappa tokens in.
func Truncate(c Counter, s string, kappa int) string {
	if c.CountTokens(s) <= kappa {
		return s
	}
	// Binary search over word boundaries.
	cuts := []int{0}
	for i := 1; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\n' {
			cuts = append(cuts, i)
		}
	}
	k := sort.Search(len(cuts), func(i int) bool { return c.CountTokens(s[:cuts[i]]) > kappa })
	if k == 0 {
		return ""
	}
	return strings.TrimSpace(s[:cuts[k-1]])
}

// Extract builds a workspace from the drafts most in agreement with the others
// (mean word-set overlap), best first, separated by blank lines, within kappa tokens.
func Extract(c Counter, drafts []string, kappa int) string {
	sets := make([]map[string]bool, len(drafts))
	for i, d := range drafts {
		sets[i] = map[string]bool{}
		for _, w := range strings.Fields(strings.ToLower(d)) {
			sets[i][w] = true
		}
	}
	score := make([]float64, len(drafts))
	for i := range drafts {
		for j := range drafts {
			if i == j {
				continue
			}
			inter := 0
			for w := range sets[i] {
				if sets[j][w] {
					inter++
				}
			}
			if union := len(sets[i]) + len(sets[j]) - inter; union > 0 {
				score[i] += float64(inter) / float64(union)
			}
		}
	}
	order := make([]int, len(drafts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return score[order[a]] > score[order[b]] })
	var ws string
	for _, i := range order {
		if drafts[i] == "" {
			continue
		}
		next := drafts[i]
		if ws != "" {
			next = ws + "\n\n" + drafts[i]
		}
		if c.CountTokens(next) > kappa {
			if ws == "" {
				ws = Truncate(c, drafts[i], kappa)
			}
			break
		}
		ws = next
	}
	return ws
}
