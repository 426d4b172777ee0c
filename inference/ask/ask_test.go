package ask_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/ask"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/pdr"
)

type counter struct{ e *inference.Engine }

func (c counter) CountTokens(s string) int {
	return (pdr.TokenizerCounter{Tokenizer: c.e.Tokenizer()}).CountTokens(s)
}

func read(tb testing.TB, ctx context.Context, fsys fs.FS, p string) string {
	tb.Helper()
	f, err := fsys.Open(ctx, fs.MustParse(p))
	if err != nil {
		tb.Fatalf("open %s: %v", p, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// Concurrent questions on a real store with the local engine: each leaves its
// manifest, evaluation and turn in history.
func TestRunConcurrent(t *testing.T) {
	sys, err := local.Open(context.Background(), t.TempDir(), local.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	ctx := fs.WithPrincipal(context.Background(), fs.Principal{Name: "owner", Admin: true})
	if _, err := sys.NS.Write(ctx, fs.MustParse("/notes/park.md"), strings.NewReader("# Park\nLily went to the park with her dog Max.\n"), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	e, err := inference.Open(testmodel.Path(t, testmodel.Stories260K), true, inference.EngineOptions{Session: llama.SessionOptions{Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	src, _ := constructor.ParseSource("/notes/**")
	questions := []string{"I live in Paris. Where did Lily go?", "What is the dog called?", "Who went to the park?"}
	results := make([]*ask.Result, len(questions))
	var wg sync.WaitGroup
	for i, q := range questions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := ask.Options{Question: q, User: "lily", Workspace: "park", Budget: 150, Sources: []constructor.Source{src}, WriteBack: true}
			o.Draft.MaxTokens = 16
			if i == 1 {
				o.PDR = &pdr.Options{M: 2, R: 2, Kappa: 20, Distill: pdr.DistillExtractive}
				o.Draft.Temperature, o.Draft.Seed = 0.8, 5
			}
			r, err := ask.Run(ctx, sys.NS, e, counter{e}, o)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = r
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	turns := read(t, ctx, sys.NS, "/history/ask/turns.jsonl")
	for i, r := range results {
		if r.Answer == "" || r.Evaluation == nil || r.Evaluation.Context.Tokens > 150 || !r.Evaluation.Context.BudgetKept {
			t.Fatalf("question %d: %+v", i, r)
		}
		if m := read(t, ctx, sys.NS, "/history/ask/contexts/"+r.ManifestID+".json"); !strings.Contains(m, questions[i]) {
			t.Fatalf("manifest of question %d: %s", i, m)
		}
		if ev := read(t, ctx, sys.NS, r.Evaluation.Saved.String()); !strings.Contains(ev, r.ManifestID) {
			t.Fatalf("evaluation of question %d: %s", i, ev)
		}
		if !strings.Contains(turns, questions[i]) {
			t.Fatalf("turn of question %d missing: %s", i, turns)
		}
	}
	if results[1].PDR == nil || results[1].PDR.Calls != 3 {
		t.Fatalf("pdr: %+v", results[1].PDR)
	}
	if _, err := ask.Run(ctx, sys.NS, e, counter{e}, ask.Options{Question: " ", Budget: 10}); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("empty question: %v", err)
	}
}
