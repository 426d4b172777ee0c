package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference"
)

// LLM extracts persona items with a language model. The model is asked for
// one JSON object matching Schema; anything else is refused with an error
// wrapping fs.ErrInvalid, and nothing is written.
//
// LLM is safe for concurrent use if its Generator is.
type LLM struct {
	Generator inference.Generator
	// MaxTokens bounds the answer; 0 means 1024.
	MaxTokens int
}

var _ Extractor = LLM{}

// Schema is the JSON schema the LLM extractor asks for.
const Schema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["items"],
  "properties": {
    "items": {
      "type": "array",
      "maxItems": 50,
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["section", "key", "text", "turn"],
        "properties": {
          "section": {"enum": ["Preferences", "Facts", "Goals", "Relationships", "Style"]},
          "key": {"type": "string", "maxLength": 100},
          "text": {"type": "string", "maxLength": 200},
          "turn": {"type": "integer", "minimum": 1}
        }
      }
    }
  }
}`

const llmInstructions = `You maintain a user's persona memory. Read the conversation turns and list what the
user states about themself: preferences, facts (home, job, family, age), goals and plans,
relationships and how they want to be answered (style). One item per fact, in third person
("likes green tea"). Give each item a stable slot key: statements that contradict each
other share a key ("home", "job", "pref:green tea", "goal:learn japanese"); a negation or
change of mind is an item with the same key ("no longer likes green tea"). turn is the
number of the turn that states it. Ignore small talk and what others said. Answer with one
JSON object and nothing else, matching this schema:
`

type llmAnswer struct {
	Items []struct {
		Section string `json:"section"`
		Key     string `json:"key"`
		Text    string `json:"text"`
		Turn    int    `json:"turn"`
	} `json:"items"`
}

// Extract implements Extractor.
func (l LLM) Extract(ctx context.Context, turns []Turn) ([]Item, error) {
	if l.Generator == nil {
		return nil, fmt.Errorf("%w: LLM extractor without a generator", fs.ErrInvalid)
	}
	if len(turns) > MaxTurns {
		return nil, fmt.Errorf("%w: %d turns (limit %d)", fs.ErrTooLarge, len(turns), MaxTurns)
	}
	var b strings.Builder
	any := false
	for i, t := range turns {
		c := t.Content
		if len(c) > MaxTurnBytes {
			c = clip(c, MaxTurnBytes)
		}
		fmt.Fprintf(&b, "%d. %s: %s\n", i+1, roleName(t.Role), c)
		any = any || isUser(t.Role) && strings.TrimSpace(c) != ""
	}
	if !any {
		return nil, nil
	}
	max := l.MaxTokens
	if max <= 0 {
		max = 1024
	}
	resp, err := l.Generator.Generate(ctx, inference.Request{
		Messages: []inference.Message{
			{Role: "system", Content: llmInstructions + Schema},
			{Role: "user", Content: b.String()},
		},
		MaxTokens: max,
	})
	if err != nil {
		return nil, err
	}
	obj, err := inference.JSONObject(resp.Text)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", fs.ErrInvalid, err)
	}
	var ans llmAnswer
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ans); err != nil {
		return nil, fmt.Errorf("%w: model answer does not match the schema: %v", fs.ErrInvalid, err)
	}
	if len(ans.Items) > 50 {
		return nil, fmt.Errorf("%w: model answer has %d items (schema allows 50)", fs.ErrInvalid, len(ans.Items))
	}
	var out []Item
	for _, a := range ans.Items {
		sec := canonicalSection(a.Section)
		if !containsStr(Sections, sec) || sec == Superseded {
			return nil, fmt.Errorf("%w: model answer has section %q", fs.ErrInvalid, a.Section)
		}
		if a.Turn < 1 || a.Turn > len(turns) {
			return nil, fmt.Errorf("%w: model answer cites turn %d of %d", fs.ErrInvalid, a.Turn, len(turns))
		}
		key, text := clip(sanitize(strings.ToLower(a.Key)), 100), clip(sanitize(a.Text), maxTextBytes)
		if key == "" || text == "" {
			return nil, fmt.Errorf("%w: model answer has an empty key or text", fs.ErrInvalid)
		}
		t := turns[a.Turn-1]
		if !isUser(t.Role) {
			continue // the model attributed someone else's words to the user
		}
		out = append(out, Item{Section: sec, Key: key, Text: text, Source: sanitizeSource(turnID(t, a.Turn-1)), Since: sanitizeSource(t.Time)})
	}
	return out, nil
}

func roleName(r string) string {
	if isUser(r) {
		return "user"
	}
	return sanitize(strings.ToLower(r))
}
