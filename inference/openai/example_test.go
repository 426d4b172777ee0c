package openai_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/openai"
)

// echo is a tiny Generator for the example: it streams the prompt back word by word.
type echo struct{}

func (echo) Generate(ctx context.Context, req inference.Request) (*inference.Response, error) {
	words := strings.Fields(req.Prompt)
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		if req.OnToken != nil {
			if err := req.OnToken(inference.Token{ID: -1, Text: w}); err != nil {
				return nil, err
			}
		}
	}
	return &inference.Response{Text: strings.Join(words, " "), FinishReason: inference.FinishStop,
		Usage: inference.Usage{PromptTokens: len(words), CompletionTokens: len(words), TotalTokens: 2 * len(words)}}, nil
}

// Serve any Generator with the OpenAI API, and reach it (or vLLM, llama.cpp's server,
// Ollama...) with the Client, which is itself a Generator.
func Example() {
	srv := httptest.NewServer(openai.NewHandler(echo{}, openai.HandlerOptions{Model: "echo"}))
	defer srv.Close()
	c := &openai.Client{BaseURL: srv.URL + "/v1", Model: "echo"}
	var pieces []string
	resp, err := c.Generate(context.Background(), inference.Request{
		Prompt:  "streamed over server-sent events",
		OnToken: func(t inference.Token) error { pieces = append(pieces, t.Text); return nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n%d pieces, finish %s, %d tokens\n", resp.Text, len(pieces), resp.FinishReason, resp.Usage.TotalTokens)
	// Output:
	// "streamed over server-sent events"
	// 4 pieces, finish stop, 8 tokens
}
