package evaluator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/memory"
	"github.com/ctxfs/ctxfs/workspace"
)

// Exchange is one finished turn: what the user asked and what was answered.
type Exchange struct {
	Session   string `json:"session"`             // history session of the turn (required)
	User      string `json:"user,omitempty"`      // persona memory to update ("" for none)
	Workspace string `json:"workspace,omitempty"` // workspace to update ("" for none)
	Query     string `json:"query"`
	Answer    string `json:"answer"`
	Time      string `json:"time,omitempty"` // when it happened, as given
}

// WriteBackResult says what a write-back changed.
type WriteBackResult struct {
	History   fs.Path                  `json:"history"`
	Memory    *memory.Result           `json:"memory,omitempty"`
	Workspace *workspace.ObserveResult `json:"workspace,omitempty"`
}

// WriteBack appends the exchange to /history/SESSION/turns.jsonl (which a
// later build from that session reads), feeds it to the user's persona
// memory (the user's words are what memory learns from) and to the named
// workspace as one observation.
func (e *Evaluator) WriteBack(ctx context.Context, x Exchange) (*WriteBackResult, error) {
	if err := fs.ValidName(x.Session); err != nil {
		return nil, err
	}
	if x.Query == "" && x.Answer == "" {
		return nil, fmt.Errorf("%w: empty exchange", fs.ErrInvalid)
	}
	who := x.User
	if who == "" {
		who = "user"
	}
	turns := []memory.Turn{{Role: "user", Content: x.Query, Time: x.Time}, {Role: "assistant", Content: x.Answer, Time: x.Time}}
	res := &WriteBackResult{History: fs.MustParse("/history").Child(x.Session).Child("turns.jsonl")}
	if err := appendLines(ctx, e.fsys, res.History, []any{
		map[string]string{"role": who, "content": x.Query, "time": x.Time},
		map[string]string{"role": "assistant", "content": x.Answer, "time": x.Time},
	}); err != nil {
		return nil, err
	}
	if x.User != "" {
		r, err := memory.New(e.fsys, e.opts.Memory).Observe(ctx, x.User, turns)
		if err != nil {
			return nil, fmt.Errorf("persona memory of %s: %w", x.User, err)
		}
		res.Memory = r
	}
	if x.Workspace != "" {
		ws, err := workspace.New(e.fsys, x.Workspace, e.opts.Workspace)
		if err != nil {
			return nil, err
		}
		r, err := ws.Observe(ctx, workspace.Observation{Text: who + ": " + x.Query + "\nassistant: " + x.Answer, Time: x.Time, Source: x.Session})
		if err != nil {
			return nil, fmt.Errorf("workspace %s: %w", x.Workspace, err)
		}
		res.Workspace = r
	}
	return res, nil
}

// appendLines appends JSON lines to p, retrying when another writer got
// there first, so concurrent write-backs lose nothing.
func appendLines(ctx context.Context, fsys fs.FS, p fs.Path, vs []any) error {
	var add bytes.Buffer
	enc := json.NewEncoder(&add)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	for range 20 {
		var old []byte
		var ver int64
		f, err := fsys.Open(ctx, p)
		switch {
		case err == nil:
			old, err = io.ReadAll(f)
			ver = f.Stat().Version
			f.Close()
			if err != nil {
				return err
			}
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		opts := fs.WriteOptions{IfVersion: ver, Meta: map[string]string{"kind": "history"}}
		if ver == 0 {
			opts.Create = true
		}
		_, err = fsys.Write(ctx, p, bytes.NewReader(append(old, add.Bytes()...)), opts)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrConflict) && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return &fs.PathError{Op: "append", Path: string(p), Err: fmt.Errorf("%w: too many concurrent writers", fs.ErrConflict)}
}
