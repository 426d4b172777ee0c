package services

import (
	"context"
	"fmt"
	"strings"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/ask"
	"github.com/ctxfs/ctxfs/inference/pdr"
)

// DefaultAskBudget is the context budget of an ask without one (as `ctxfs ask`).
const DefaultAskBudget = 1024

// MaxAskTokens bounds the tokens one ask generation may ask for.
const MaxAskTokens = 8192

// AskRequest is the input of the ask tool and POST /v1/ask.
type AskRequest struct {
	Question string `json:"question"`
	// User's persona memory and Workspace inform the answer and learn from
	// the exchange; Session is the history session ("" means "ask").
	User      string `json:"user,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	Session   string `json:"session,omitempty"`
	// Budget is the context budget in the model's tokens (0: 1024).
	Budget int `json:"budget,omitempty"`
	// Sources are more context sources beside user, workspace and session.
	Sources []constructor.Source `json:"sources,omitempty"`
	// PDR, when set, generates by Parallel-Distill-Refine.
	PDR *AskPDR `json:"pdr,omitempty"`
	// MaxTokens per generation (0: 256), Temperature (0: greedy), Seed.
	MaxTokens   int     `json:"max_tokens,omitempty"`
	Temperature float32 `json:"temperature,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`
	// WriteBack writes the exchange to history, memory and workspace
	// (absent: true).
	WriteBack *bool `json:"write_back,omitempty"`
}

// AskPDR are the Parallel-Distill-Refine settings of an ask.
type AskPDR struct {
	M       int    `json:"m"`
	R       int    `json:"r"`
	Kappa   int    `json:"kappa"`
	Distill string `json:"distill,omitempty"` // summary (default) or extractive
}

func (s *services) ask(ctx context.Context, req AskRequest) (*ask.Result, error) {
	if s.opts.Generator == nil {
		return nil, fmt.Errorf("%w: ask needs a model (ctxfs serve --model PATH)", fs.ErrNotSupported)
	}
	if strings.TrimSpace(req.Question) == "" {
		return nil, invalidf("question is required")
	}
	o := ask.Options{Question: req.Question, User: req.User, Workspace: req.Workspace, Session: req.Session,
		Budget: req.Budget, WriteBack: req.WriteBack == nil || *req.WriteBack,
		Draft: inference.Request{MaxTokens: req.MaxTokens, Temperature: req.Temperature, Seed: req.Seed}}
	if o.Session == "" {
		o.Session = "ask"
	}
	if o.Budget == 0 {
		o.Budget = DefaultAskBudget
	}
	if o.Budget < 0 || o.Budget > MaxBudget {
		return nil, invalidf("budget must be between 1 and %d, not %d", MaxBudget, o.Budget)
	}
	if o.Draft.MaxTokens == 0 {
		o.Draft.MaxTokens = 256
	}
	if o.Draft.MaxTokens < 0 || o.Draft.MaxTokens > MaxAskTokens {
		return nil, invalidf("max_tokens must be between 1 and %d, not %d", MaxAskTokens, o.Draft.MaxTokens)
	}
	if req.Temperature < 0 || req.Temperature > 5 {
		return nil, invalidf("temperature must be between 0 and 5, not %v", req.Temperature)
	}
	for what, name := range map[string]string{"user": o.User, "workspace": o.Workspace} {
		if name != "" {
			if err := checkName(what, name); err != nil {
				return nil, err
			}
		}
	}
	if err := checkName("session", o.Session); err != nil {
		return nil, err
	}
	if err := checkSources(req.Sources); err != nil {
		return nil, err
	}
	o.Sources = append(o.Sources, req.Sources...)
	if o.User != "" {
		o.Sources = append(o.Sources, constructor.Source{User: o.User})
	}
	if o.Workspace != "" {
		o.Sources = append(o.Sources, constructor.Source{Workspace: o.Workspace})
	}
	o.Sources = append(o.Sources, constructor.Source{Session: o.Session})
	if p := req.PDR; p != nil {
		if p.M < 1 || p.R < 1 || p.Kappa < 1 || p.M > 16 || p.R > 8 || p.Kappa > MaxBudget {
			return nil, invalidf("pdr needs 1 <= m <= 16, 1 <= r <= 8 and kappa >= 1, not %+v", *p)
		}
		if p.Distill == "" {
			p.Distill = pdr.DistillSummary
		}
		if p.Distill != pdr.DistillSummary && p.Distill != pdr.DistillExtractive {
			return nil, invalidf("pdr.distill must be %q or %q, not %q", pdr.DistillSummary, pdr.DistillExtractive, p.Distill)
		}
		o.PDR = &pdr.Options{M: p.M, R: p.R, Kappa: p.Kappa, Distill: p.Distill}
	}
	return ask.Run(ctx, s.fsys, s.opts.Generator, s.counter(), o)
}

// counter is the token counter of the ask model: Options.Counter, else the
// constructor's (cl100k_base by default).
func (s *services) counter() fs.TokenCounter {
	if s.opts.Counter != nil {
		return s.opts.Counter
	}
	return s.cb.Counter()
}
