package evaluator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/memory"
	"github.com/ctxfs/ctxfs/tokens"
	"github.com/ctxfs/ctxfs/workspace"
)

// Options configure an Evaluator. The zero value gives the defaults.
type Options struct {
	// Counter counts tokens with the tokenizer contexts were built for;
	// nil means tokens.Default() (cl100k_base).
	Counter fs.TokenCounter
	// MinSupport is the share of an answer's sentences that must be
	// supported by the context; below it the evaluation is weak. 0 means 0.6.
	MinSupport float64
	// SentenceSupport is the share of a sentence's content terms that must
	// occur in the context for it to count as supported; 0 means 0.6.
	SentenceSupport float64
	// Memory and Workspace configure write-back.
	Memory    memory.Options
	Workspace workspace.Options
}

// Evaluator checks contexts and answers through an fs.FS.
//
// Concurrency: safe for concurrent use; it keeps no state between calls
// other than its options, and its writes go through the fs.FS.
type Evaluator struct {
	fsys fs.FS
	b    *constructor.Builder
	opts Options
}

// New returns an Evaluator over fsys.
func New(fsys fs.FS, opts Options) *Evaluator {
	if opts.Counter == nil {
		opts.Counter, _ = tokens.Default()
	}
	if opts.MinSupport <= 0 {
		opts.MinSupport = 0.6
	}
	if opts.SentenceSupport <= 0 {
		opts.SentenceSupport = 0.6
	}
	return &Evaluator{fsys: fsys, b: constructor.New(fsys, constructor.Options{Counter: opts.Counter}), opts: opts}
}

// ItemCheck is the state of one manifest item.
type ItemCheck struct {
	Path     fs.Path `json:"path"`
	Version  int64   `json:"version"`
	Unit     string  `json:"unit"`
	Readable bool    `json:"readable"` // its recorded version can be read
	Allowed  bool    `json:"allowed"`  // the principal may read it
	Stale    bool    `json:"stale"`    // a newer version exists
	Gone     bool    `json:"gone"`     // the file no longer exists
	Current  int64   `json:"current,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// ContextCheck is the result of checking a built context.
type ContextCheck struct {
	ID         string      `json:"id"`
	Budget     int         `json:"budget"`
	Tokens     int         `json:"tokens"`
	BudgetKept bool        `json:"budget_kept"`
	Identical  bool        `json:"identical"` // replay reproduced the recorded prompt
	Items      []ItemCheck `json:"items"`
	Stale      int         `json:"stale"`
	Refused    int         `json:"refused"`
	Unreadable int         `json:"unreadable"`
	Gone       int         `json:"gone"`
	OK         bool        `json:"ok"`
	// Prompt is the replayed prompt (not stored in the evaluation record).
	Prompt string `json:"-"`
}

// CheckContext checks manifest m for the principal of ctx.
func (e *Evaluator) CheckContext(ctx context.Context, m *constructor.Manifest) (*ContextCheck, error) {
	c := &ContextCheck{ID: m.ID, Budget: m.Budget}
	ver, _ := e.fsys.(fs.Versioner)
	for _, it := range m.Items {
		ic := ItemCheck{Path: it.Path, Version: it.Version, Unit: it.Unit, Allowed: true}
		info, err := e.fsys.Stat(ctx, it.Path)
		switch {
		case errors.Is(err, fs.ErrPermission):
			ic.Allowed = false
			ic.Error = err.Error()
		case errors.Is(err, fs.ErrNotExist):
			ic.Gone = true
		case err != nil:
			return nil, err
		default:
			ic.Current = info.Version
			ic.Stale = info.Version > it.Version
		}
		if ic.Allowed {
			var f fs.File
			if ver != nil && it.Version > 0 {
				f, err = ver.OpenVersion(ctx, it.Path, it.Version)
			} else {
				f, err = e.fsys.Open(ctx, it.Path)
			}
			if err == nil {
				f.Close()
				ic.Readable = true
			} else if errors.Is(err, fs.ErrPermission) {
				ic.Allowed = false
				ic.Error = err.Error()
			} else {
				ic.Error = err.Error()
			}
		}
		if !ic.Allowed {
			c.Refused++
		} else if !ic.Readable {
			c.Unreadable++
		}
		if ic.Stale {
			c.Stale++
		}
		if ic.Gone {
			c.Gone++
		}
		c.Items = append(c.Items, ic)
	}
	if c.Refused == 0 && c.Unreadable == 0 {
		out, err := e.b.ReplayManifest(ctx, m)
		switch {
		case err == nil:
			c.Identical = true
		case errors.Is(err, constructor.ErrChanged):
		default:
			return nil, err
		}
		c.Tokens = out.Tokens
		c.Prompt = out.Prompt
	} else {
		c.Tokens = m.Tokens
	}
	c.BudgetKept = c.Tokens <= m.Budget
	c.OK = c.BudgetKept && c.Identical && c.Refused == 0 && c.Unreadable == 0 && c.Stale == 0 && c.Gone == 0
	return c, nil
}

// SentenceCheck is one sentence of an answer.
type SentenceCheck struct {
	Text      string  `json:"text"`
	Coverage  float64 `json:"coverage"` // share of its content terms found in the context
	Supported bool    `json:"supported"`
}

// Citation is one bracketed reference of an answer.
type Citation struct {
	Ref   string `json:"ref"`
	Valid bool   `json:"valid"`
}

// AnswerCheck is the result of checking an answer against its context.
type AnswerCheck struct {
	Sentences    []SentenceCheck `json:"sentences"`
	Support      float64         `json:"support"` // share of sentences supported
	Citations    []Citation      `json:"citations"`
	BadCitations int             `json:"bad_citations"`
	JSON         *bool           `json:"json_valid,omitempty"` // set when a schema was given
	SchemaErrors []string        `json:"schema_errors,omitempty"`
	OK           bool            `json:"ok"`
}

var (
	reCitation = regexp.MustCompile(`\[([^\[\]\n]{1,200})\]`)
	reSentence = regexp.MustCompile(`[^.!?\n]+[.!?]*`)
)

// CheckAnswer checks answer against the context prompt and its manifest.
// schema, when not empty, is a JSON schema the answer must satisfy.
func (e *Evaluator) CheckAnswer(prompt string, m *constructor.Manifest, answer string, schema []byte) (*AnswerCheck, error) {
	a := &AnswerCheck{Sentences: []SentenceCheck{}, Citations: []Citation{}}
	known := map[string]bool{}
	if m != nil {
		for _, it := range m.Items {
			known[it.Unit] = true
			known[string(it.Path)] = true
			known[string(it.Path)+"#"+it.Unit] = true
			known[it.Path.Base()] = true
		}
	}
	for _, mm := range reCitation.FindAllStringSubmatch(answer, -1) {
		for _, ref := range strings.FieldsFunc(mm[1], func(r rune) bool { return r == ',' || r == ';' }) {
			ref = strings.TrimSpace(ref)
			if ref == "" {
				continue
			}
			c := Citation{Ref: ref, Valid: known[ref]}
			if !c.Valid {
				a.BadCitations++
			}
			a.Citations = append(a.Citations, c)
		}
	}
	have := map[string]bool{}
	for _, t := range constructor.ContentTerms(prompt) {
		have[t] = true
	}
	text := answer
	if len(schema) > 0 {
		valid, errs, err := validateJSON([]byte(answer), schema)
		if err != nil {
			return nil, err
		}
		a.JSON = &valid
		a.SchemaErrors = errs
		text = jsonStrings([]byte(answer))
	}
	supported := 0
	for _, s := range reSentence.FindAllString(reCitation.ReplaceAllString(text, " "), -1) {
		s = strings.TrimSpace(s)
		ts := constructor.ContentTerms(s)
		if len(ts) == 0 {
			continue
		}
		n := 0
		for _, t := range ts {
			if have[t] {
				n++
			}
		}
		sc := SentenceCheck{Text: s, Coverage: float64(n) / float64(len(ts))}
		sc.Supported = sc.Coverage >= e.opts.SentenceSupport
		if sc.Supported {
			supported++
		}
		a.Sentences = append(a.Sentences, sc)
	}
	if len(a.Sentences) > 0 {
		a.Support = float64(supported) / float64(len(a.Sentences))
	} else {
		a.Support = 1 // nothing claimed
	}
	a.OK = a.Support >= e.opts.MinSupport && a.BadCitations == 0 && (a.JSON == nil || *a.JSON)
	return a, nil
}

// jsonStrings returns the string values of a JSON document, one per line,
// so the support check reads what the answer claims, not its syntax.
func jsonStrings(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	var sb strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			sb.WriteString(x)
			sb.WriteString(".\n")
		case []any:
			for _, y := range x {
				walk(y)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(v)
	return sb.String()
}

// Request is one evaluation.
type Request struct {
	// ContextID is the manifest to check (and to check the answer against).
	ContextID string `json:"context_id"`
	// Answer, when not empty, is checked against the context.
	Answer string `json:"answer,omitempty"`
	// Schema, when not empty, is a JSON schema the answer must satisfy.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Session records the evaluation; "" means the manifest's session.
	Session string `json:"session,omitempty"`
}

// Evaluation is a recorded evaluation.
type Evaluation struct {
	ID        string        `json:"id"`
	Session   string        `json:"session"`
	ContextID string        `json:"context_id"`
	Query     string        `json:"query"`
	Principal string        `json:"principal,omitempty"`
	Created   time.Time     `json:"created"`
	Context   *ContextCheck `json:"context"`
	Answer    *AnswerCheck  `json:"answer,omitempty"`
	AnswerRaw string        `json:"answer_text,omitempty"`
	Weak      bool          `json:"weak"`
	Reasons   []string      `json:"reasons,omitempty"`
	Saved     fs.Path       `json:"saved"`
	Review    fs.Path       `json:"review,omitempty"` // the queued review item of a weak result
}

// Evaluate checks a context (and an answer, if given), records the
// evaluation under /history/SESSION/evaluations/ID.json and, if the result
// is weak, queues it under /review/pending/ID.json.
func (e *Evaluator) Evaluate(ctx context.Context, req Request) (*Evaluation, error) {
	m, _, err := constructor.Load(ctx, e.fsys, "", req.ContextID)
	if err != nil {
		return nil, err
	}
	ev := &Evaluation{ID: newID(), Session: req.Session, ContextID: m.ID, Query: m.Query, Principal: fs.AuthorFrom(ctx), Created: time.Now().UTC()}
	if ev.Session == "" {
		ev.Session = m.Session
	}
	if err := fs.ValidName(ev.Session); err != nil {
		return nil, err
	}
	if ev.Context, err = e.CheckContext(ctx, m); err != nil {
		return nil, err
	}
	c := ev.Context
	if !c.BudgetKept {
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("context of %d tokens exceeds its budget of %d", c.Tokens, c.Budget))
	}
	if c.Refused > 0 {
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("%d item(s) not allowed to %s", c.Refused, ev.Principal))
	}
	if c.Unreadable > 0 {
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("%d item(s) unreadable at their version", c.Unreadable))
	}
	if c.Stale > 0 || c.Gone > 0 {
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("%d stale and %d removed item(s)", c.Stale, c.Gone))
	}
	if !c.Identical && c.Refused == 0 && c.Unreadable == 0 {
		ev.Reasons = append(ev.Reasons, "replay does not reproduce the recorded prompt")
	}
	if req.Answer != "" || len(req.Schema) > 0 {
		ev.AnswerRaw = req.Answer
		if ev.Answer, err = e.CheckAnswer(c.Prompt, m, req.Answer, req.Schema); err != nil {
			return nil, err
		}
		a := ev.Answer
		if a.Support < e.opts.MinSupport {
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("only %.0f%% of the answer's sentences are supported by the context", 100*a.Support))
		}
		if a.BadCitations > 0 {
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("%d citation(s) name no item of the context", a.BadCitations))
		}
		if a.JSON != nil && !*a.JSON {
			ev.Reasons = append(ev.Reasons, "the answer does not satisfy its JSON schema")
		}
	}
	ev.Weak = len(ev.Reasons) > 0
	ev.Saved = fs.MustParse("/history").Child(ev.Session).Child("evaluations").Child(ev.ID + ".json")
	if ev.Weak {
		ev.Review = ReviewDir(StatusPending).Child(ev.ID + ".json")
	}
	if err := writeJSON(ctx, e.fsys, ev.Saved, ev, "evaluation"); err != nil {
		return nil, err
	}
	if ev.Weak {
		r := Review{ID: ev.ID, Status: StatusPending, Session: ev.Session, ContextID: ev.ContextID, Query: ev.Query,
			Reasons: ev.Reasons, Evaluation: ev.Saved, Created: ev.Created, Answer: ev.AnswerRaw}
		if err := writeJSON(ctx, e.fsys, ev.Review, r, "review"); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

func writeJSON(ctx context.Context, fsys fs.FS, p fs.Path, v any, kind string) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fsys.Write(ctx, p, bytes.NewReader(append(data, '\n')), fs.WriteOptions{Meta: map[string]string{"kind": kind}})
	return err
}

func readJSON(ctx context.Context, fsys fs.FS, p fs.Path, v any) error {
	f, err := fsys.Open(ctx, p)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &fs.PathError{Op: "read", Path: string(p), Err: fmt.Errorf("%w: %v", fs.ErrInvalid, err)}
	}
	return nil
}

func newID() string {
	var r [4]byte
	rand.Read(r[:])
	return "e" + time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(r[:])
}
