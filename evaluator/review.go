package evaluator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// Review states, which are also the directories under /review.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// ReviewDir is the directory of review items with status.
func ReviewDir(status string) fs.Path { return fs.MustParse("/review").Child(status) }

// Review is one item of the review queue.
type Review struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Session    string     `json:"session"`
	ContextID  string     `json:"context_id"`
	Query      string     `json:"query"`
	Answer     string     `json:"answer,omitempty"`
	Reasons    []string   `json:"reasons"`
	Evaluation fs.Path    `json:"evaluation"`
	Created    time.Time  `json:"created"`
	Decided    *time.Time `json:"decided,omitempty"`
	By         string     `json:"by,omitempty"`
	Note       string     `json:"note,omitempty"`
}

// Reviews lists the review items with status (pending when ""), oldest first.
func (e *Evaluator) Reviews(ctx context.Context, status string) ([]Review, error) {
	if status == "" {
		status = StatusPending
	}
	if status != StatusPending && status != StatusApproved && status != StatusRejected {
		return nil, fmt.Errorf("%w: review status %q (pending, approved or rejected)", fs.ErrInvalid, status)
	}
	entries, err := e.fsys.List(ctx, ReviewDir(status))
	if errors.Is(err, fs.ErrNotExist) {
		return []Review{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Review{}
	for _, en := range entries {
		if en.IsDir() || !strings.HasSuffix(en.Path.Base(), ".json") {
			continue
		}
		var r Review
		if err := readJSON(ctx, e.fsys, en.Path, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Decide approves or rejects pending review item id with a note: the item
// moves to /review/approved/ or /review/rejected/ with who decided and
// when, and the decision is added to the evaluation record.
func (e *Evaluator) Decide(ctx context.Context, id string, approve bool, note string) (*Review, error) {
	if err := fs.ValidName(id + ".json"); err != nil {
		return nil, err
	}
	from := ReviewDir(StatusPending).Child(id + ".json")
	var r Review
	if err := readJSON(ctx, e.fsys, from, &r); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	r.Status = StatusRejected
	if approve {
		r.Status = StatusApproved
	}
	r.Decided, r.By, r.Note = &now, fs.AuthorFrom(ctx), note
	to := ReviewDir(r.Status).Child(id + ".json")
	// Move first, so a concurrent decision on the same item fails with
	// ErrNotExist instead of deciding twice; then record the decision.
	if err := e.fsys.Mkdir(ctx, to.Dir()); err != nil {
		return nil, err
	}
	if err := e.fsys.Rename(ctx, from, to); err != nil {
		return nil, err
	}
	if err := writeJSON(ctx, e.fsys, to, r, "review"); err != nil {
		return nil, err
	}
	if r.Evaluation != "" {
		var ev map[string]any
		if err := readJSON(ctx, e.fsys, r.Evaluation, &ev); err == nil {
			ev["review_status"], ev["review_note"], ev["review_by"] = r.Status, note, r.By
			ev["review"] = to
			if err := writeJSON(ctx, e.fsys, r.Evaluation, ev, "evaluation"); err != nil {
				return nil, err
			}
		}
	}
	return &r, nil
}
