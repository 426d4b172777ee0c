package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ctxfs/ctxfs/inference"
)

// Client is an inference.Generator backed by an OpenAI-compatible server. Requests with
// Messages go to /chat/completions, others to /completions; a request with OnToken is
// streamed (SSE). A Client is safe for concurrent use.
type Client struct {
	// BaseURL is the API root including the version, e.g. "http://localhost:8080/v1".
	BaseURL string
	// APIKey, if set, is sent as a bearer token.
	APIKey string
	// Model is sent as the request's model.
	Model string
	// HTTPClient is used for requests (nil: http.DefaultClient).
	HTTPClient *http.Client
}

var _ inference.Generator = (*Client)(nil)

// APIError is an error response from the server.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("openai: %d: %s", e.Status, e.Message) }

// Unwrap makes a 400 response match inference.ErrInvalid.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusBadRequest {
		return inference.ErrInvalid
	}
	return nil
}

// Generate implements inference.Generator. Response.Tokens and PromptTokens are nil (the
// API does not return ids); Usage is filled from the server's usage report.
func (c *Client) Generate(ctx context.Context, req inference.Request) (*inference.Response, error) {
	chat := len(req.Messages) > 0
	if chat && req.Prompt != "" {
		return nil, fmt.Errorf("both a prompt and messages: %w", inference.ErrInvalid)
	}
	maxTok := req.MaxTokens
	if maxTok <= 0 {
		maxTok = inference.DefaultMaxTokens
	}
	temp, topP := req.Temperature, req.TopP
	if topP == 0 {
		topP = 1
	}
	body := completionRequest{Model: c.Model, MaxTokens: &maxTok, Temperature: &temp, TopP: &topP, Stream: req.OnToken != nil}
	if req.TopK > 0 {
		body.TopK = &req.TopK
	}
	if req.MinP > 0 {
		body.MinP = &req.MinP
	}
	if req.RepeatPenalty > 0 && req.RepeatPenalty != 1 {
		body.RepetitionPenalty = &req.RepeatPenalty
	}
	if req.Seed != 0 {
		body.Seed = &req.Seed
	}
	if len(req.Stop) > 0 {
		body.Stop, _ = json.Marshal(req.Stop)
	}
	if body.Stream {
		body.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	path := "/completions"
	if chat {
		path = "/chat/completions"
		body.Messages = req.Messages
	} else {
		body.Prompt, _ = json.Marshal(req.Prompt)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	hresp, err := hc.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer hresp.Body.Close()
	if hresp.StatusCode/100 != 2 {
		return nil, readAPIError(hresp)
	}
	if body.Stream {
		return c.readStream(hresp.Body, req.OnToken)
	}
	var cr struct {
		Choices []struct {
			Text         string             `json:"text"`
			Message      *inference.Message `json:"message"`
			FinishReason *string            `json:"finish_reason"`
		} `json:"choices"`
		Usage *inference.Usage `json:"usage"`
	}
	if err := json.NewDecoder(io.LimitReader(hresp.Body, 64<<20)).Decode(&cr); err != nil {
		return nil, fmt.Errorf("openai: decoding response: %w", err)
	}
	if len(cr.Choices) == 0 {
		return nil, fmt.Errorf("openai: response without choices")
	}
	out := &inference.Response{Text: cr.Choices[0].Text}
	if cr.Choices[0].Message != nil {
		out.Text = cr.Choices[0].Message.Content
	}
	if cr.Choices[0].FinishReason != nil {
		out.FinishReason = *cr.Choices[0].FinishReason
	}
	if cr.Usage != nil {
		out.Usage = *cr.Usage
	}
	return out, nil
}

func (c *Client) readStream(r io.Reader, onToken func(inference.Token) error) (*inference.Response, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	out := &inference.Response{}
	var text strings.Builder
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue // comments, event names, blank separators
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			out.Text = text.String()
			return out, nil
		}
		var ev struct {
			Choices []struct {
				Text         string  `json:"text"`
				Delta        *delta  `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *inference.Usage `json:"usage"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return nil, fmt.Errorf("openai: stream event: %w", err)
		}
		if ev.Error != nil {
			return nil, &APIError{Status: http.StatusInternalServerError, Message: ev.Error.Message}
		}
		if ev.Usage != nil {
			out.Usage = *ev.Usage
		}
		for _, ch := range ev.Choices {
			t := ch.Text
			if ch.Delta != nil {
				t = ch.Delta.Content
			}
			if ch.FinishReason != nil {
				out.FinishReason = *ch.FinishReason
			}
			if t == "" {
				continue
			}
			text.WriteString(t)
			if err := onToken(inference.Token{ID: -1, Text: t}); err != nil {
				return nil, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("openai: stream ended without [DONE]: %w", io.ErrUnexpectedEOF)
}

func readAPIError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var eb errorBody
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		msg = eb.Error.Message
	}
	return &APIError{Status: resp.StatusCode, Message: msg}
}
