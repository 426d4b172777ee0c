// Package locomo ingests LoCoMo conversations (Maharana et al., "Evaluating
// Very Long-Term Conversational Memory of LLM Agents") into ctxfs: each
// session's turns under /history/<sample>/, a persona memory per speaker
// and an episodic workspace per conversation.
//
// Only what a conversation itself holds is read: the speakers, each
// turn's speaker, id, text and image caption, and the session dates. The
// dataset's annotations (observations, session and event summaries,
// questions and answers, image search queries) are never read: they would
// leak the answers into the memories under test.
package locomo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/memory"
	"github.com/ctxfs/ctxfs/workspace"
)

// turn is the part of a LoCoMo turn that is read.
type turn struct {
	Speaker string `json:"speaker"`
	ID      string `json:"dia_id"`
	Text    string `json:"text"`
	Caption string `json:"blip_caption"`
}

// sample is the part of a LoCoMo sample that is read: its id and its
// conversation (decoded lazily, field by field).
type sample struct {
	ID           string                     `json:"sample_id"`
	Conversation map[string]json.RawMessage `json:"conversation"`
}

// Session is one conversation session.
type Session struct {
	Name  string // "session_3"
	N     int
	Date  string
	Turns []memory.Turn // Role is the speaker's name
}

// Conversation is one LoCoMo sample as read.
type Conversation struct {
	ID       string
	Speakers []string
	Sessions []Session
}

// Read reads a LoCoMo file (a JSON array of samples).
func Read(file string) ([]Conversation, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var samples []sample
	if err := json.Unmarshal(data, &samples); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", file, fs.ErrInvalid, err)
	}
	var out []Conversation
	for i, s := range samples {
		c := Conversation{ID: s.ID}
		if c.ID == "" {
			c.ID = fmt.Sprintf("conv-%d", i+1)
		}
		if fs.ValidName(c.ID) != nil {
			return nil, fmt.Errorf("%s: %w: sample id %q", file, fs.ErrInvalid, c.ID)
		}
		for _, k := range []string{"speaker_a", "speaker_b"} {
			var sp string
			if raw, ok := s.Conversation[k]; ok && json.Unmarshal(raw, &sp) == nil && sp != "" {
				c.Speakers = append(c.Speakers, sp)
			}
		}
		for k, raw := range s.Conversation {
			rest, ok := strings.CutPrefix(k, "session_")
			n, err := strconv.Atoi(rest)
			if !ok || err != nil {
				continue // session_N_date_time and the annotations
			}
			var ts []turn
			if err := json.Unmarshal(raw, &ts); err != nil {
				return nil, fmt.Errorf("%s: %s %s: %w: %v", file, c.ID, k, fs.ErrInvalid, err)
			}
			ses := Session{Name: k, N: n}
			if d, ok := s.Conversation[k+"_date_time"]; ok {
				json.Unmarshal(d, &ses.Date)
			}
			for _, t := range ts {
				text := t.Text
				if t.Caption != "" {
					text = strings.TrimSpace(text + " [shares an image: " + t.Caption + "]")
				}
				ses.Turns = append(ses.Turns, memory.Turn{Role: t.Speaker, Content: text, Time: ses.Date, ID: t.ID})
			}
			c.Sessions = append(c.Sessions, ses)
		}
		sort.Slice(c.Sessions, func(i, j int) bool { return c.Sessions[i].N < c.Sessions[j].N })
		out = append(out, c)
	}
	return out, nil
}

// Stats counts what Ingest wrote.
type Stats struct {
	Conversations int       `json:"conversations"`
	Sessions      int       `json:"sessions"`
	Turns         int       `json:"turns"`
	Personas      []fs.Path `json:"personas"`
	Workspaces    []fs.Path `json:"workspaces"`
	History       []fs.Path `json:"history"`
}

// Options configure Ingest.
type Options struct {
	Memory    memory.Options
	Workspace workspace.Options
	// Progress, if set, is called after each session.
	Progress func(done, total int)
}

// UserName is the persona user of a speaker: the sample id and the
// speaker's name, so the same first name in two conversations is two people.
func UserName(convID, speaker string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(convID + "-" + speaker) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// Ingest writes convs into fsys: /history/<id>/<session>.jsonl (JSON
// lines {"role","content","time","id"}), persona memories of each speaker
// (their own turns are the user's) and the workspace /workspace/<id>/ with
// one observation per session.
func Ingest(ctx context.Context, fsys fs.FS, convs []Conversation, o Options) (*Stats, error) {
	st := &Stats{Personas: []fs.Path{}, Workspaces: []fs.Path{}, History: []fs.Path{}}
	mem := memory.New(fsys, o.Memory)
	total := 0
	for _, c := range convs {
		total += len(c.Sessions)
	}
	done := 0
	for _, c := range convs {
		ws, err := workspace.New(fsys, c.ID, o.Workspace)
		if err != nil {
			return nil, err
		}
		hist := fs.MustParse("/history").Child(c.ID)
		personas := map[string]fs.Path{}
		for _, ses := range c.Sessions {
			var jl bytes.Buffer
			enc := json.NewEncoder(&jl)
			var text strings.Builder
			for _, t := range ses.Turns {
				if err := enc.Encode(t); err != nil {
					return nil, err
				}
				fmt.Fprintf(&text, "%s: %s\n", t.Role, t.Content)
			}
			hp := hist.Child(ses.Name + ".jsonl")
			if _, err := fsys.Write(ctx, hp, &jl, fs.WriteOptions{Meta: map[string]string{"kind": "history", "date": ses.Date}}); err != nil {
				return nil, err
			}
			st.History = append(st.History, hp)
			for _, sp := range c.Speakers {
				turns := make([]memory.Turn, len(ses.Turns))
				for i, t := range ses.Turns {
					t.Role = "assistant" // the other party
					if ses.Turns[i].Role == sp {
						t.Role = "user"
					}
					turns[i] = t
				}
				user := UserName(c.ID, sp)
				res, err := mem.Observe(ctx, user, turns)
				if err != nil {
					return nil, fmt.Errorf("%s %s persona %s: %w", c.ID, ses.Name, user, err)
				}
				if res.Version > 0 {
					personas[user] = res.Path
				}
			}
			if text.Len() > 0 {
				if _, err := ws.Observe(ctx, workspace.Observation{Text: text.String(), Time: ses.Date, Source: ses.Name}); err != nil {
					return nil, fmt.Errorf("%s %s: %w", c.ID, ses.Name, err)
				}
			}
			st.Sessions++
			st.Turns += len(ses.Turns)
			done++
			if o.Progress != nil {
				o.Progress(done, total)
			}
		}
		st.Conversations++
		st.Workspaces = append(st.Workspaces, ws.Dir())
		users := make([]string, 0, len(personas))
		for u := range personas {
			users = append(users, u)
		}
		sort.Strings(users)
		for _, u := range users {
			st.Personas = append(st.Personas, personas[u])
		}
	}
	return st, nil
}
