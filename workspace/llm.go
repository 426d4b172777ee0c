package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference"
)

// LLM is the operator that asks a language model for the structure as one
// JSON object matching Schema. An answer that does not match is refused
// with an error wrapping fs.ErrInvalid and nothing is written.
//
// LLM is safe for concurrent use if its Generator is.
type LLM struct {
	Generator inference.Generator
	// MaxTokens bounds the answer; 0 means 2048.
	MaxTokens int
}

var _ Operator = LLM{}

// Schema is the JSON schema of the LLM operator's answer.
const Schema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["actors", "events"],
  "properties": {
    "when": {"type": "string"},
    "place": {"type": "string"},
    "kinds": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
    "actors": {"type": "array", "maxItems": 200, "items": {
      "type": "object", "additionalProperties": false, "required": ["name", "kind"],
      "properties": {
        "name": {"type": "string"},
        "kind": {"enum": ["person", "place", "organization", "object"]},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "roles": {"type": "array", "items": {"type": "string"}},
        "states": {"type": "array", "items": {"type": "string"}}
      }}},
    "events": {"type": "array", "maxItems": 500, "items": {
      "type": "object", "additionalProperties": false, "required": ["what"],
      "properties": {
        "when": {"type": "string"}, "place": {"type": "string"}, "kind": {"type": "string"},
        "what": {"type": "string"}, "actors": {"type": "array", "items": {"type": "string"}}
      }}}
  }
}`

const llmInstructions = `You turn an observation into a semantic workspace structure. List the actors
(people, places, organizations, objects) with their aliases, roles and states, and the
events: what happened, who took part (actor names exactly as listed), when (as written) and
where. "when" and "place" of the whole observation are its main time and place. Use the
hints if given. Answer with one JSON object and nothing else, matching this schema:
`

// Operate implements Operator.
func (l LLM) Operate(ctx context.Context, obs Observation) (*Structure, error) {
	if err := checkText(obs.Text); err != nil {
		return nil, err
	}
	if l.Generator == nil {
		return nil, fmt.Errorf("%w: LLM operator without a generator", fs.ErrInvalid)
	}
	var b strings.Builder
	if obs.Time != "" {
		fmt.Fprintf(&b, "Time hint: %s\n", obs.Time)
	}
	if obs.Place != "" {
		fmt.Fprintf(&b, "Place hint: %s\n", obs.Place)
	}
	b.WriteString("Observation:\n")
	b.WriteString(obs.Text)
	max := l.MaxTokens
	if max <= 0 {
		max = 2048
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
	var st Structure
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: model answer does not match the schema: %v", fs.ErrInvalid, err)
	}
	if len(st.Actors) > maxActors || len(st.Events) > maxEvents {
		return nil, fmt.Errorf("%w: model answer has %d actors and %d events (limits %d, %d)", fs.ErrInvalid, len(st.Actors), len(st.Events), maxActors, maxEvents)
	}
	names := map[string]bool{}
	for _, a := range st.Actors {
		switch a.Kind {
		case KindPerson, KindPlace, KindOrganization, KindObject:
		default:
			return nil, fmt.Errorf("%w: model answer has actor kind %q", fs.ErrInvalid, a.Kind)
		}
		if strings.TrimSpace(a.Name) == "" {
			return nil, fmt.Errorf("%w: model answer has an actor without a name", fs.ErrInvalid)
		}
		names[a.Name] = true
	}
	for _, ev := range st.Events {
		if strings.TrimSpace(ev.What) == "" {
			return nil, fmt.Errorf("%w: model answer has an event without what", fs.ErrInvalid)
		}
		for _, a := range ev.Actors {
			if !names[a] {
				return nil, fmt.Errorf("%w: model answer's event names unknown actor %q", fs.ErrInvalid, a)
			}
		}
	}
	if obs.Time != "" {
		st.When = obs.Time
	}
	if obs.Place != "" {
		st.Place = obs.Place
	}
	for i := range st.Events {
		if st.Events[i].When == "" {
			st.Events[i].When = st.When
		}
		if st.Events[i].Place == "" {
			st.Events[i].Place = st.Place
		}
	}
	if st.Actors == nil {
		st.Actors = []Actor{}
	}
	if st.Events == nil {
		st.Events = []Event{}
	}
	return &st, nil
}
