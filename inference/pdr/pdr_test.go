package pdr

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

var tokenizerOpts = tokenizer.EncodeOptions{AddBOS: true}

// script is a Generator that answers from a script: drafts are "draft <call> w w
// w..." of draftLen[call] words, summaries are much longer than any kappa. It records
// every prompt, and holds each draft until the whole round is in flight, so a run
// whose drafts were not parallel times out.
type script struct {
	draftLen func(call int) int
	summary  int // words of each summary

	mu       sync.Mutex
	cond     *sync.Cond
	calls    []inference.Request
	inFlight int
	want     int // drafts expected in flight at once
}

func newScript(summary int, draftLen func(int) int) *script {
	s := &script{draftLen: draftLen, summary: summary}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func repeat(n int, w string) string { return strings.TrimSpace(strings.Repeat(w+" ", n)) }

func (s *script) Generate(ctx context.Context, req inference.Request) (*inference.Response, error) {
	s.mu.Lock()
	call := len(s.calls)
	s.calls = append(s.calls, req)
	summary := strings.Contains(req.Prompt, "Candidate answers:")
	if !summary && s.want > 1 {
		s.inFlight++
		s.cond.Broadcast()
		deadline := time.Now().Add(10 * time.Second)
		for s.inFlight < s.want && time.Now().Before(deadline) {
			// Wake periodically to check the deadline.
			go func() { time.Sleep(10 * time.Millisecond); s.cond.Broadcast() }()
			s.cond.Wait()
		}
		if s.inFlight < s.want {
			s.mu.Unlock()
			return nil, fmt.Errorf("drafts not run in parallel: %d of %d in flight", s.inFlight, s.want)
		}
	}
	s.mu.Unlock()
	var text string
	if summary {
		text = "summary " + repeat(s.summary, "s")
	} else {
		text = fmt.Sprintf("draft%d %s", call, repeat(s.draftLen(call)-1, "w"))
	}
	n := len(strings.Fields(text))
	if req.MaxTokens > 0 && n > req.MaxTokens {
		text = strings.Join(strings.Fields(text)[:req.MaxTokens], " ")
		n = req.MaxTokens
	}
	pt := len(strings.Fields(req.Prompt))
	return &inference.Response{Text: text, Usage: inference.Usage{PromptTokens: pt, CompletionTokens: n, TotalTokens: pt + n}}, nil
}

func (s *script) round(m int) {
	s.mu.Lock()
	s.want, s.inFlight = m, 0
	s.mu.Unlock()
}

func TestRunScripted(t *testing.T) {
	for _, c := range []struct {
		name    string
		m, r    int
		kappa   int
		distill string
	}{
		{"pdr-summary", 3, 3, 20, DistillSummary},
		{"pdr-extractive", 4, 2, 25, DistillExtractive},
		{"sequential", 1, 4, 15, DistillSummary},
		{"one-round", 5, 1, 10, DistillSummary},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newScript(100, func(call int) int { return 5 + call })
			o := Options{M: c.m, R: c.r, Kappa: c.kappa, Distill: c.distill, Workspace: repeat(50, "initial")}
			o.Draft.MaxTokens = 64
			// The script checks parallelism per round; with one shared script the
			// "want" must follow the rounds, so run the rounds' drafts through a
			// generator that sets it.
			rg := &rounds{s: g, plan: mustPlan(t, o)}
			res, err := Run(context.Background(), rg, "TASK: count the words.", o)
			if err != nil {
				t.Fatal(err)
			}
			plan := mustPlan(t, o)
			if len(res.Rounds) != c.r || len(plan) != c.r || plan[c.r-1] != 1 {
				t.Fatalf("%d rounds, plan %v", len(res.Rounds), plan)
			}
			wantCalls := 0
			seq, total := 0, 0
			prevWS := Truncate(words{}, o.Workspace, c.kappa)
			call := 0
			for r, round := range res.Rounds {
				wantM := c.m
				if r == c.r-1 {
					wantM = 1
				}
				if len(round.Drafts) != wantM {
					t.Fatalf("round %d has %d drafts, want %d", r+1, len(round.Drafts), wantM)
				}
				// Every draft of the round saw the task first and the previous workspace.
				longest := 0
				for i := 0; i < wantM; i++ {
					p := g.calls[call+i].Prompt
					if !strings.HasPrefix(p, "TASK: count the words.") || !strings.Contains(p, prevWS) {
						t.Fatalf("round %d draft %d prompt %q lacks the task or workspace %q", r+1, i, p, prevWS)
					}
					longest = max(longest, round.DraftTokens[i])
					total += round.DraftTokens[i]
				}
				call += wantM
				wantCalls += wantM
				seq += longest
				if r == c.r-1 {
					if round.Workspace != "" || res.Answer != round.Drafts[0] {
						t.Fatalf("last round: workspace %q, answer %q, draft %q", round.Workspace, res.Answer, round.Drafts[0])
					}
					break
				}
				if n := (words{}).CountTokens(round.Workspace); n > c.kappa || n != round.WorkspaceTokens || n == 0 {
					t.Fatalf("round %d workspace of %d tokens (reported %d), kappa %d", r+1, n, round.WorkspaceTokens, c.kappa)
				}
				if c.distill == DistillSummary {
					if !strings.Contains(g.calls[call].Prompt, "Candidate answers:") || g.calls[call].MaxTokens != c.kappa {
						t.Fatalf("round %d: call %d is not the summary: %+v", r+1, call, g.calls[call])
					}
					for _, d := range round.Drafts {
						if !strings.Contains(g.calls[call].Prompt, d) {
							t.Fatalf("summary prompt lacks draft %q", d)
						}
					}
					call++
					wantCalls++
					seq += round.DistillTokens
					total += round.DistillTokens
				} else if !strings.HasPrefix(round.Workspace, "draft") {
					t.Fatalf("extractive workspace %q is not made of drafts", round.Workspace)
				}
				prevWS = round.Workspace
			}
			if res.Calls != wantCalls || len(g.calls) != wantCalls {
				t.Fatalf("%d calls reported, %d made, want %d", res.Calls, len(g.calls), wantCalls)
			}
			if res.SequentialTokens != seq || res.TotalTokens != total || res.SequentialTokens > res.TotalTokens {
				t.Fatalf("budgets: sequential %d total %d, want %d %d", res.SequentialTokens, res.TotalTokens, seq, total)
			}
			if c.m > 1 && c.r > 1 && res.TotalTokens <= res.SequentialTokens {
				t.Fatalf("parallel drafts but total %d <= sequential %d", res.TotalTokens, res.SequentialTokens)
			}
			prompts := 0
			for _, req := range g.calls {
				prompts += len(strings.Fields(req.Prompt))
			}
			if res.PromptTokens != prompts {
				t.Fatalf("prompt tokens %d, want %d", res.PromptTokens, prompts)
			}
		})
	}
}

// rounds sets the script's expected parallelism at the start of each round.
type rounds struct {
	s    *script
	plan []int
	mu   sync.Mutex
	r    int // drafts seen
}

func (g *rounds) Generate(ctx context.Context, req inference.Request) (*inference.Response, error) {
	if !strings.Contains(req.Prompt, "Candidate answers:") {
		g.mu.Lock()
		// The first draft of a round sets the round's width.
		seen := 0
		for _, m := range g.plan {
			if g.r == seen {
				g.s.round(m)
			}
			seen += m
		}
		g.r++
		g.mu.Unlock()
	}
	return g.s.Generate(ctx, req)
}

func mustPlan(tb testing.TB, o Options) []int {
	p, err := o.Plan()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestPlanAndErrors(t *testing.T) {
	if p, _ := (Options{}).Plan(); len(p) != 2 || p[0] != 1 || p[1] != 1 {
		t.Errorf("default plan %v", p)
	}
	if p, _ := (Options{Drafts: []int{4, 2, 1}}).Plan(); len(p) != 3 || p[0] != 4 {
		t.Errorf("explicit plan %v", p)
	}
	for _, o := range []Options{{Drafts: []int{2, 2}}, {M: -1}, {Distill: "vote"}, {Kappa: -1}} {
		if _, err := Run(context.Background(), newScript(1, func(int) int { return 1 }), "t", o); err == nil {
			t.Errorf("Run(%+v) succeeded", o)
		}
	}
}

func TestTruncateAndExtract(t *testing.T) {
	c := words{}
	if got := Truncate(c, "a b c d e", 3); got != "a b c" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate(c, "a b", 3); got != "a b" {
		t.Errorf("Truncate = %q", got)
	}
	drafts := []string{"the cat sat on the mat", "a dog ran far away", "the cat sat on a mat"}
	ws := Extract(c, drafts, 12)
	if !strings.HasPrefix(ws, "the cat sat") || strings.Contains(ws, "dog") || c.CountTokens(ws) > 12 {
		t.Errorf("Extract = %q", ws)
	}
	if ws := Extract(c, []string{repeat(30, "x")}, 5); c.CountTokens(ws) != 5 {
		t.Errorf("Extract of one long draft = %q", ws)
	}
}

// counting wraps the CPU backend and records, for each request, how many tokens the
// engine ran as its prompt (the first Forward after the engine's Rewind).
type counting struct {
	mu       sync.Mutex
	prefills []int
}

func (c *counting) Name() string { return "counting" }
func (c *counting) NewSession(m *llama.Model, o llama.SessionOptions) (llama.Session, error) {
	s, err := llama.CPU.NewSession(m, o)
	if err != nil {
		return nil, err
	}
	return &countingSession{Session: s, c: c}, nil
}

type countingSession struct {
	llama.Session
	c       *counting
	rewound bool
}

func (s *countingSession) Rewind(pos int) error {
	s.rewound = true
	return s.Session.Rewind(pos)
}

func (s *countingSession) Forward(tokens []int32, logits []float32) error {
	if s.rewound {
		s.rewound = false
		s.c.mu.Lock()
		s.c.prefills = append(s.c.prefills, len(tokens))
		s.c.mu.Unlock()
	}
	return s.Session.Forward(tokens, logits)
}

func (s *countingSession) Capacity() int { return s.Session.(interface{ Capacity() int }).Capacity() }

// On the local engine, the drafts of a round share the task's prefix: it is
// prefilled once, and every later request runs only what follows the shared part.
func TestLocalEngineSharesPrefix(t *testing.T) {
	be := &counting{}
	e, err := inference.Open(testmodel.Path(t, testmodel.Stories260K), true, inference.EngineOptions{Backend: be, Session: llama.SessionOptions{Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	task := "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball"
	o := Options{M: 3, R: 2, Kappa: 40, Distill: DistillExtractive, Counter: TokenizerCounter{e.Tokenizer()}}
	o.Draft = inference.Request{MaxTokens: 24, Temperature: 0.8, Seed: 7}
	res, err := Run(context.Background(), e, task, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rounds) != 2 || len(res.Rounds[0].Drafts) != 3 || res.Answer == "" {
		t.Fatalf("result %+v", res)
	}
	if n := res.Rounds[0].WorkspaceTokens; n == 0 || n > 40 {
		t.Fatalf("workspace of %d tokens", n)
	}
	taskTokens := len(e.Tokenizer().Encode(task, tokenizerOpts))
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.prefills) != res.Calls {
		t.Fatalf("%d prefills for %d calls", len(be.prefills), res.Calls)
	}
	round1 := len(e.Tokenizer().Encode(DraftPrompt(task, ""), tokenizerOpts))
	// The first draft prefills its whole prompt; the other drafts of the round reuse
	// it and run only the last prompt token (the engine needs its logits).
	if be.prefills[0] != round1 || be.prefills[1] != 1 || be.prefills[2] != 1 {
		t.Fatalf("round 1 prefills %v, prompt of %d tokens", be.prefills[:3], round1)
	}
	// The last round's prompt reuses the task's tokens (all but the boundary).
	full := len(e.Tokenizer().Encode(DraftPrompt(task, res.Rounds[0].Workspace), tokenizerOpts))
	if last := be.prefills[3]; last > full-taskTokens+2 {
		t.Fatalf("last round prefilled %d of %d tokens; the task's %d were cached", last, full, taskTokens)
	}
	sum := 0
	for _, p := range be.prefills {
		sum += p
	}
	if sum >= res.PromptTokens-(res.Calls-1)*(taskTokens-2) {
		t.Fatalf("prefilled %d tokens of %d prompt tokens sent: the task prefix was recomputed", sum, res.PromptTokens)
	}
	t.Logf("prompt tokens sent %d, prefilled %d (%v); sequential budget %d, total %d", res.PromptTokens, sum, be.prefills, res.SequentialTokens, res.TotalTokens)
}
