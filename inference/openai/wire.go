package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/ctxfs/ctxfs/inference"
)

// completionRequest is the union of the /v1/completions and /v1/chat/completions
// request bodies that this package reads and writes.
type completionRequest struct {
	Model               string              `json:"model,omitempty"`
	Prompt              json.RawMessage     `json:"prompt,omitempty"`
	Messages            []inference.Message `json:"messages,omitempty"`
	MaxTokens           *int                `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int                `json:"max_completion_tokens,omitempty"`
	Temperature         *float32            `json:"temperature,omitempty"`
	TopP                *float32            `json:"top_p,omitempty"`
	TopK                *int                `json:"top_k,omitempty"`
	MinP                *float32            `json:"min_p,omitempty"`
	RepetitionPenalty   *float32            `json:"repetition_penalty,omitempty"`
	Seed                *uint64             `json:"seed,omitempty"`
	Stop                json.RawMessage     `json:"stop,omitempty"`
	Stream              bool                `json:"stream,omitempty"`
	StreamOptions       *streamOptions      `json:"stream_options,omitempty"`
	N                   *int                `json:"n,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// parsed is a request as the handler serves it.
type parsed struct {
	req          inference.Request
	model        string
	stream       bool
	includeUsage bool
}

// maxStops bounds the stop strings of one request, as OpenAI does.
const maxStops = 4

// parseRequest decodes a completion (chat false) or chat completion (chat true) request
// body. OpenAI's defaults apply: temperature 1 and top_p 1 when absent. It never
// panics, whatever the input (FuzzParseRequest).
func parseRequest(body []byte, chat bool) (parsed, error) {
	var cr completionRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&cr); err != nil {
		return parsed{}, fmt.Errorf("request body: %v: %w", err, inference.ErrInvalid)
	}
	if dec.More() {
		return parsed{}, fmt.Errorf("request body: trailing data: %w", inference.ErrInvalid)
	}
	p := parsed{model: cr.Model, stream: cr.Stream}
	if cr.StreamOptions != nil {
		p.includeUsage = cr.StreamOptions.IncludeUsage
	}
	r := &p.req
	if chat {
		if len(cr.Messages) == 0 {
			return p, fmt.Errorf("messages: none given: %w", inference.ErrInvalid)
		}
		for _, m := range cr.Messages {
			switch m.Role {
			case "system", "user", "assistant", "developer":
			default:
				return p, fmt.Errorf("messages: role %q: %w", m.Role, inference.ErrInvalid)
			}
		}
		r.Messages = cr.Messages
	} else {
		prompt, err := oneString(cr.Prompt, "prompt")
		if err != nil {
			return p, err
		}
		// An empty prompt is valid: generation starts from BOS alone.
		r.Prompt = prompt
	}
	if cr.N != nil && *cr.N != 1 {
		return p, fmt.Errorf("n = %d: only 1 is supported: %w", *cr.N, inference.ErrInvalid)
	}
	maxTok := cr.MaxTokens
	if cr.MaxCompletionTokens != nil {
		maxTok = cr.MaxCompletionTokens
	}
	if maxTok != nil {
		if *maxTok < 0 || *maxTok > 1<<20 {
			return p, fmt.Errorf("max_tokens = %d: %w", *maxTok, inference.ErrInvalid)
		}
		r.MaxTokens = *maxTok
	}
	r.Temperature, r.TopP = 1, 1
	checks := []struct {
		name   string
		v      *float32
		lo, hi float32
		dst    *float32
	}{
		{"temperature", cr.Temperature, 0, 2, &r.Temperature},
		{"top_p", cr.TopP, 0, 1, &r.TopP},
		{"min_p", cr.MinP, 0, 1, &r.MinP},
		{"repetition_penalty", cr.RepetitionPenalty, 0, 10, &r.RepeatPenalty},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		if math.IsNaN(float64(*c.v)) || *c.v < c.lo || *c.v > c.hi {
			return p, fmt.Errorf("%s = %v, want %v..%v: %w", c.name, *c.v, c.lo, c.hi, inference.ErrInvalid)
		}
		*c.dst = *c.v
	}
	if cr.TopK != nil {
		if *cr.TopK < 0 {
			return p, fmt.Errorf("top_k = %d: %w", *cr.TopK, inference.ErrInvalid)
		}
		r.TopK = *cr.TopK
	}
	if cr.Seed != nil {
		r.Seed = *cr.Seed
	}
	stops, err := stringOrStrings(cr.Stop, "stop")
	if err != nil {
		return p, err
	}
	if len(stops) > maxStops {
		return p, fmt.Errorf("stop: %d strings, at most %d: %w", len(stops), maxStops, inference.ErrInvalid)
	}
	r.Stop = stops
	return p, nil
}

// oneString accepts a JSON string or an array holding one string.
func oneString(raw json.RawMessage, field string) (string, error) {
	ss, err := stringOrStrings(raw, field)
	if err != nil {
		return "", err
	}
	switch len(ss) {
	case 0:
		return "", nil
	case 1:
		return ss[0], nil
	}
	return "", fmt.Errorf("%s: %d prompts, only one is supported: %w", field, len(ss), inference.ErrInvalid)
}

func stringOrStrings(raw json.RawMessage, field string) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}
	var ss []string
	if err := json.Unmarshal(raw, &ss); err != nil {
		return nil, fmt.Errorf("%s: want a string or an array of strings: %w", field, inference.ErrInvalid)
	}
	return ss, nil
}

// Response bodies.

type completionChoice struct {
	Index        int                `json:"index"`
	Text         string             `json:"text"`
	Message      *inference.Message `json:"message,omitempty"`
	Delta        *delta             `json:"delta,omitempty"`
	FinishReason *string            `json:"finish_reason"`
}

type delta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

type completionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *inference.Usage   `json:"usage,omitempty"`
}

// chatChoice is how chat choices are encoded (no "text" field).
type chatChoice struct {
	Index        int                `json:"index"`
	Message      *inference.Message `json:"message,omitempty"`
	Delta        *delta             `json:"delta,omitempty"`
	FinishReason *string            `json:"finish_reason"`
}

type chatResponse struct {
	ID      string           `json:"id"`
	Object  string           `json:"object"`
	Created int64            `json:"created"`
	Model   string           `json:"model"`
	Choices []chatChoice     `json:"choices"`
	Usage   *inference.Usage `json:"usage,omitempty"`
}

type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code,omitempty"`
	} `json:"error"`
}

type modelList struct {
	Object string      `json:"object"`
	Data   []modelInfo `json:"data"`
}

type modelInfo struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}
