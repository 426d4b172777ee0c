package inference_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ctxfs/ctxfs/inference"
)

// Open a GGUF model and generate greedily, streaming tokens as they come. (Not run as a
// test: it needs a model file; engine_test.go runs the same calls on stories260K.)
func ExampleEngine_Generate() {
	e, err := inference.Open("stories260K.gguf", false, inference.EngineOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	resp, err := e.Generate(context.Background(), inference.Request{
		Prompt:    "Once upon a time",
		MaxTokens: 64,
		Stop:      []string{"\n"},
		OnToken:   func(t inference.Token) error { fmt.Print(t.Text); return nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("\n", resp.FinishReason, resp.Usage.CompletionTokens)
}
