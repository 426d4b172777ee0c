package ask

import (
	"context"
	"fmt"
	"strings"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/evaluator"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/pdr"
)

// Options is one question.
type Options struct {
	Question string
	// User is whose persona memory the exchange is written back to; Workspace the
	// episodic workspace it is observed into; Session the history session of the
	// manifest, the evaluation and the turn ("" : "ask").
	User, Workspace, Session string
	// Budget bounds the context in Counter's tokens.
	Budget  int
	Sources []constructor.Source
	// PDR, if set, generates by Parallel-Distill-Refine (its Draft, Chat and
	// Counter are set from Draft and Counter).
	PDR *pdr.Options
	// Draft carries the sampling options of every generation.
	Draft inference.Request
	// WriteBack writes the exchange to history, persona memory and workspace.
	WriteBack bool
}

// Result is what `ctxfs ask --json` prints.
type Result struct {
	Answer     string                     `json:"answer"`
	ManifestID string                     `json:"manifest_id"`
	Evaluation *evaluator.Evaluation      `json:"evaluation"`
	WriteBack  *evaluator.WriteBackResult `json:"write_back,omitempty"`
	PDR        *PDRSummary                `json:"pdr,omitempty"`
	Usage      inference.Usage            `json:"usage"`
}

// PDRSummary is the accounting of a PDR generation.
type PDRSummary struct {
	M                int `json:"m"`
	R                int `json:"r"`
	Kappa            int `json:"kappa"`
	SequentialTokens int `json:"sequential_tokens"`
	TotalTokens      int `json:"total_tokens"`
	Calls            int `json:"calls"`
}

// System is the instruction answers are generated under.
const System = "Answer the question from the context. Cite the items you use in brackets."

// Run answers o.Question: the constructor builds a context within o.Budget
// (saving its manifest), gen answers from it (by PDR if o.PDR is set), the
// evaluator checks context and answer and records the evaluation, and the
// exchange is written back. counter must count the tokens of gen's model.
func Run(ctx context.Context, fsys fs.FS, gen inference.Generator, counter fs.TokenCounter, o Options) (*Result, error) {
	if strings.TrimSpace(o.Question) == "" {
		return nil, fmt.Errorf("%w: empty question", fs.ErrInvalid)
	}
	if o.Session == "" {
		o.Session = "ask"
	}
	b := constructor.New(fsys, constructor.Options{Counter: counter})
	built, err := b.Build(ctx, constructor.Request{Query: o.Question, Budget: o.Budget, Sources: o.Sources, Session: o.Session})
	if err != nil {
		return nil, fmt.Errorf("building the context: %w", err)
	}
	res := &Result{ManifestID: built.Manifest.ID}
	task := "Context:\n" + built.Prompt + "\n\nQuestion: " + o.Question
	if o.PDR != nil {
		po := *o.PDR
		po.Draft, po.Chat, po.Counter = o.Draft, true, counter
		r, err := pdr.Run(ctx, gen, System+"\n\n"+task, po)
		if err != nil {
			return nil, err
		}
		res.Answer = r.Answer
		res.PDR = &PDRSummary{M: po.M, R: po.R, Kappa: po.Kappa, SequentialTokens: r.SequentialTokens, TotalTokens: r.TotalTokens, Calls: r.Calls}
		res.Usage = inference.Usage{PromptTokens: r.PromptTokens, CompletionTokens: r.TotalTokens, TotalTokens: r.PromptTokens + r.TotalTokens}
	} else {
		req := o.Draft
		req.Prompt = ""
		req.Messages = []inference.Message{{Role: "system", Content: System}, {Role: "user", Content: task}}
		resp, err := gen.Generate(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("generating the answer: %w", err)
		}
		res.Answer = strings.TrimSpace(resp.Text)
		res.Usage = resp.Usage
	}
	ev := evaluator.New(fsys, evaluator.Options{Counter: counter})
	if res.Evaluation, err = ev.Evaluate(ctx, evaluator.Request{ContextID: built.Manifest.ID, Answer: res.Answer, Session: o.Session}); err != nil {
		return nil, fmt.Errorf("evaluating the answer: %w", err)
	}
	if o.WriteBack && res.Answer != "" {
		if res.WriteBack, err = ev.WriteBack(ctx, evaluator.Exchange{Session: o.Session, User: o.User, Workspace: o.Workspace, Query: o.Question, Answer: res.Answer}); err != nil {
			return nil, fmt.Errorf("writing back: %w", err)
		}
	}
	return res, nil
}
