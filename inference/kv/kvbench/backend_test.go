package kvbench

import (
	"context"
	"slices"
	"testing"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/llama"
)

// The local engine with a compressing backend: a budget above the context gives the
// plain engine's tokens; a small one still generates past the budget.
func TestEngineBackend(t *testing.T) {
	path := testmodel.Path(t, testmodel.Stories260K)
	gen := func(be llama.Backend) []int32 {
		t.Helper()
		e, err := inference.Open(path, true, inference.EngineOptions{Backend: be, Session: llama.SessionOptions{Threads: 2}})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		var out []int32
		for _, p := range []string{"Once upon a time", "Once upon a time, there was a dog"} {
			r, err := e.Generate(context.Background(), inference.Request{Prompt: p, MaxTokens: 150})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.Tokens...)
		}
		return out
	}
	want := gen(nil)
	for _, p := range kv.Policies {
		if got := gen(Backend(kv.Config{Policy: p, Budget: 512})); !slices.Equal(got, want) {
			t.Errorf("%s at budget 512: tokens differ from the full cache", p)
		}
		if got := gen(Backend(kv.Config{Policy: p, Budget: 48})); len(got) < 200 {
			t.Errorf("%s at budget 48: %d tokens", p, len(got))
		}
	}
}
