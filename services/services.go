package services

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/evaluator"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/memory"
	"github.com/ctxfs/ctxfs/workspace"
)

// DefaultMaxBody is the default limit on an HTTP request body.
const DefaultMaxBody = 16 << 20

// MaxBudget bounds the token budgets a caller may ask for, so a typo
// (budget=1e12) is refused instead of building a huge answer.
const MaxBudget = 1 << 20

// Options configure the services. The zero value gives the defaults.
type Options struct {
	// Memory, Workspace, Constructor and Evaluator configure the services
	// (extractors, operators, token counters, roots).
	Memory      memory.Options
	Workspace   workspace.Options
	Constructor constructor.Options
	Evaluator   evaluator.Options
	// Generator answers ask (tool and POST /v1/ask); nil leaves the tool
	// out and the endpoint answers 501. Counter counts its model's tokens
	// (nil: the constructor's counter, cl100k_base by default).
	Generator inference.Generator
	Counter   fs.TokenCounter
	// MaxBody limits HTTP request bodies; zero means DefaultMaxBody.
	MaxBody int64
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// services holds the long-lived service objects over one fs.FS.
//
// Concurrency: safe for concurrent use; memory.Memory, constructor.Builder
// and evaluator.Evaluator are, and workspaces are made per call.
type services struct {
	fsys fs.FS
	opts Options
	log  *slog.Logger
	mem  *memory.Memory
	cb   *constructor.Builder
	ev   *evaluator.Evaluator
}

func newServices(fsys fs.FS, opts Options) *services {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	s := &services{fsys: fsys, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.mem = memory.New(fsys, opts.Memory)
	s.cb = constructor.New(fsys, opts.Constructor)
	s.ev = evaluator.New(fsys, opts.Evaluator)
	return s
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", fs.ErrInvalid, fmt.Sprintf(format, args...))
}

// checkName refuses names that cannot be one path element before any
// service sees them (the services check too; this gives one message).
func checkName(what, name string) error {
	if name == "" {
		return invalidf("%s is required", what)
	}
	if err := fs.ValidName(name); err != nil {
		return fmt.Errorf("%s %q: %w", what, name, err)
	}
	return nil
}

func checkBudget(b int) error {
	if b < 0 || b > MaxBudget {
		return invalidf("budget must be between 0 (default) and %d, not %d", MaxBudget, b)
	}
	return nil
}

// Shown is a persona file as memory_show and GET /v1/memory/{user} return it.
type Shown struct {
	User    string  `json:"user"`
	Path    fs.Path `json:"path"`
	Version int64   `json:"version"` // 0: no file yet
	Text    string  `json:"text"`
	Items   int     `json:"items"`
}

func (s *services) memoryObserve(ctx context.Context, user string, turns []memory.Turn) (*memory.Result, error) {
	if err := checkName("user", user); err != nil {
		return nil, err
	}
	if len(turns) == 0 {
		return nil, invalidf("turns must hold at least one turn")
	}
	for i, t := range turns {
		if strings.TrimSpace(t.Role) == "" {
			return nil, invalidf("turns[%d].role is required", i)
		}
		if strings.TrimSpace(t.Content) == "" {
			return nil, invalidf("turns[%d].content is required", i)
		}
		if len(t.Content) > memory.MaxTurnBytes {
			return nil, fmt.Errorf("%w: turns[%d].content has %d bytes, at most %d", fs.ErrTooLarge, i, len(t.Content), memory.MaxTurnBytes)
		}
	}
	return s.mem.Observe(ctx, user, turns)
}

func (s *services) memoryRecall(ctx context.Context, user, query string, budget int) (*memory.Recalled, error) {
	if err := checkName("user", user); err != nil {
		return nil, err
	}
	if err := checkBudget(budget); err != nil {
		return nil, err
	}
	return s.mem.Recall(ctx, user, query, budget)
}

func (s *services) memoryShow(ctx context.Context, user string) (*Shown, error) {
	if err := checkName("user", user); err != nil {
		return nil, err
	}
	p, err := s.mem.Path(user)
	if err != nil {
		return nil, err
	}
	per, ver, err := s.mem.Read(ctx, user)
	if err != nil {
		return nil, err
	}
	sh := &Shown{User: user, Path: p, Version: ver, Items: len(per.Items)}
	if ver > 0 {
		sh.Text = per.Render()
	}
	return sh, nil
}

// WorkspaceObservation is the input of workspace_observe and
// POST /v1/workspace/{name}/observe.
type WorkspaceObservation struct {
	Text   string `json:"text"`
	Time   string `json:"time,omitempty"`
	Place  string `json:"place,omitempty"`
	Source string `json:"source,omitempty"`
}

func (s *services) workspace(name string) (*workspace.Workspace, error) {
	if err := checkName("workspace name", name); err != nil {
		return nil, err
	}
	return workspace.New(s.fsys, name, s.opts.Workspace)
}

func (s *services) workspaceObserve(ctx context.Context, name string, o WorkspaceObservation) (*workspace.ObserveResult, error) {
	w, err := s.workspace(name)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.Text) == "" {
		return nil, invalidf("text is required")
	}
	if len(o.Text) > workspace.MaxObservationBytes {
		return nil, fmt.Errorf("%w: text has %d bytes, at most %d", fs.ErrTooLarge, len(o.Text), workspace.MaxObservationBytes)
	}
	return w.Observe(ctx, workspace.Observation{Text: o.Text, Time: o.Time, Place: o.Place, Source: o.Source})
}

func (s *services) workspaceQuery(ctx context.Context, name, question string, budget int) (*workspace.Context, error) {
	w, err := s.workspace(name)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(question) == "" {
		return nil, invalidf("question is required")
	}
	if err := checkBudget(budget); err != nil {
		return nil, err
	}
	return w.Query(ctx, question, budget)
}

func (s *services) contextBuild(ctx context.Context, req constructor.Request) (*constructor.Context, error) {
	if strings.TrimSpace(req.Query) == "" {
		return nil, invalidf("query is required")
	}
	if req.Budget <= 0 || req.Budget > MaxBudget {
		return nil, invalidf("budget must be between 1 and %d, not %d", MaxBudget, req.Budget)
	}
	if len(req.Sources) == 0 {
		return nil, invalidf("sources must name at least one source")
	}
	if err := checkSources(req.Sources); err != nil {
		return nil, err
	}
	if req.Session != "" {
		if err := checkName("session", req.Session); err != nil {
			return nil, err
		}
	}
	return s.cb.Build(ctx, req)
}

func checkSources(srcs []constructor.Source) error {
	for i, src := range srcs {
		n := 0
		for _, f := range []string{src.Glob, src.User, src.Workspace, src.Session, src.Pin} {
			if f != "" {
				n++
			}
		}
		if n != 1 {
			return invalidf("sources[%d] must set exactly one of glob, user, workspace, session, pin", i)
		}
	}
	return nil
}

func (s *services) contextEvaluate(ctx context.Context, req evaluator.Request) (*evaluator.Evaluation, error) {
	if err := checkName("context_id", req.ContextID); err != nil {
		return nil, err
	}
	if req.Session != "" {
		if err := checkName("session", req.Session); err != nil {
			return nil, err
		}
	}
	return s.ev.Evaluate(ctx, req)
}
