package inference

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
)

func openStories(tb testing.TB) *Engine {
	tb.Helper()
	e, err := Open(testmodel.Path(tb, testmodel.Stories260K), false, EngineOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

func expected(tb testing.TB, name string) string {
	return testmodel.SharedDir(tb) + "/models/stories260K/expected/" + name
}

func TestEngineReference(t *testing.T) {
	e := openStories(t)
	ctx := context.Background()
	t.Run("prompt", func(t *testing.T) {
		ref := testmodel.ReadIDs(t, expected(t, "greedy_t0_n64_prompt_Once_upon_a_time.ids"))
		resp, err := e.Generate(ctx, Request{Prompt: "Once upon a time", MaxTokens: len(ref.Next) - len(ref.Prompt) + 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(resp.PromptTokens, ref.Prompt) {
			t.Fatalf("prompt tokens %v, want %v", resp.PromptTokens, ref.Prompt)
		}
		if want := ref.Next[len(ref.Prompt)-1:]; !slices.Equal(resp.Tokens, want) {
			t.Fatalf("tokens\n got %v\nwant %v", resp.Tokens, want)
		}
		txt, err := os.ReadFile(expected(t, "greedy_t0_n64_prompt_Once_upon_a_time.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if got := "Once upon a time" + resp.Text; strings.TrimSpace(got) != strings.TrimSpace(string(txt)) {
			t.Fatalf("text\n got %q\nwant %q", got, txt)
		}
		if resp.FinishReason != FinishLength || resp.Usage.PromptTokens != 5 || resp.Usage.CompletionTokens != len(resp.Tokens) {
			t.Fatalf("finish %q usage %+v", resp.FinishReason, resp.Usage)
		}
	})
	t.Run("bos", func(t *testing.T) {
		ref := testmodel.ReadIDs(t, expected(t, "greedy_t0_n256.ids"))
		resp, err := e.Generate(ctx, Request{MaxTokens: len(ref.Next)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(resp.PromptTokens, []int32{1}) || !slices.Equal(resp.Tokens, ref.Next) {
			t.Fatalf("prompt %v tokens\n got %v\nwant %v", resp.PromptTokens, resp.Tokens, ref.Next)
		}
	})
	t.Run("seeded", func(t *testing.T) {
		ref := testmodel.ReadIDs(t, expected(t, "sample_t1_p0.9_seed133742_n256.ids"))
		resp, err := e.Generate(ctx, Request{MaxTokens: len(ref.Next), Temperature: 1, TopP: 0.9, Seed: 133742})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(resp.Tokens, ref.Next) {
			t.Fatalf("tokens\n got %v\nwant %v", resp.Tokens, ref.Next)
		}
	})
}

func TestEngineStopAndStream(t *testing.T) {
	e := openStories(t)
	ctx := context.Background()
	full, err := e.Generate(ctx, Request{Prompt: "Once upon a time", MaxTokens: 40})
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(full.Text, "Lily")
	if i < 0 {
		t.Fatalf("reference text has no Lily: %q", full.Text)
	}
	var streamed strings.Builder
	var ids []int32
	resp, err := e.Generate(ctx, Request{Prompt: "Once upon a time", MaxTokens: 40, Stop: []string{"Lily"},
		OnToken: func(tk Token) error {
			streamed.WriteString(tk.Text)
			if tk.ID >= 0 {
				ids = append(ids, tk.ID)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != full.Text[:i] || resp.FinishReason != FinishStop {
		t.Fatalf("stopped text %q (%s), want %q", resp.Text, resp.FinishReason, full.Text[:i])
	}
	if streamed.String() != resp.Text || !slices.Equal(ids, resp.Tokens) {
		t.Fatalf("streamed %q ids %v; response %q %v", streamed.String(), ids, resp.Text, resp.Tokens)
	}
	// An OnToken error stops generation and is returned.
	boom := errors.New("boom")
	if _, err := e.Generate(ctx, Request{Prompt: "Once", OnToken: func(Token) error { return boom }}); !errors.Is(err, boom) {
		t.Fatalf("OnToken error: %v", err)
	}
	// A cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Generate(cctx, Request{Prompt: "Once"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// After all that (and with the cache holding another prompt), results are unchanged.
	again, err := e.Generate(ctx, Request{Prompt: "Once upon a time", MaxTokens: 40})
	if err != nil {
		t.Fatal(err)
	}
	if again.Text != full.Text {
		t.Fatalf("after reuse: %q, want %q", again.Text, full.Text)
	}
	if _, err := e.Generate(ctx, Request{Prompt: "x", Messages: []Message{{"user", "y"}}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("prompt and messages: %v", err)
	}
	if _, err := e.Generate(ctx, Request{Prompt: strings.Repeat("Once upon a time ", 200)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("over-long prompt: %v", err)
	}
}

func TestEngineChat(t *testing.T) {
	e := openStories(t)
	if e.Template().Name != "plain" {
		t.Fatalf("stories260K template %q, want plain", e.Template().Name)
	}
	resp, err := e.Generate(context.Background(), Request{Messages: []Message{{"user", "Tell me a story."}}, MaxTokens: 20})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := e.PromptIDs(Request{Messages: []Message{{"user", "Tell me a story."}}})
	if !slices.Equal(resp.PromptTokens, ids) || ids[0] != 1 || len(resp.Tokens) == 0 {
		t.Fatalf("prompt %v tokens %v", resp.PromptTokens, resp.Tokens)
	}
}
