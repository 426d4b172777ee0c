package llama

import (
	"math"
	"slices"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
)

func openStories(tb testing.TB) *Model {
	tb.Helper()
	f, err := gguf.Open(testmodel.Path(tb, testmodel.Stories260K))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	m, err := Load(f)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// greedy follows llama2.c's loop: prompt tokens are forced, then argmax, stopping at
// BOS (id 1). It returns the tokens at positions 1..steps.
func greedy(tb testing.TB, s Session, vocab int, prompt []int32, steps int, batched bool) []int32 {
	tb.Helper()
	logits := make([]float32, vocab)
	var out []int32
	tok := prompt[0]
	if batched {
		if err := s.Forward(prompt, logits); err != nil {
			tb.Fatal(err)
		}
		out = append(out, prompt[1:]...)
		tok = argmax(logits)
		out = append(out, tok)
	}
	for len(out) < steps {
		if err := s.Forward([]int32{tok}, logits); err != nil {
			tb.Fatal(err)
		}
		pos := s.Pos() - 1
		if pos+1 < len(prompt) {
			tok = prompt[pos+1]
		} else {
			tok = argmax(logits)
			if tok == 1 {
				break
			}
		}
		out = append(out, tok)
	}
	return out
}

func TestStoriesConfig(t *testing.T) {
	m := openStories(t)
	want := Config{Arch: "llama", Dim: 64, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8, FFN: 172, Vocab: 512, Context: 512}
	got := m.Config
	got.NormEps, got.RopeBase, got.RopeDim, got.TiedEmbed = 0, 0, 0, false
	if got != want {
		t.Fatalf("config = %+v, want %+v", got, want)
	}
	if m.RopeDim != 8 || m.RopeNeoX {
		t.Fatalf("rope dim %d neox %v", m.RopeDim, m.RopeNeoX)
	}
}

func TestStoriesGreedy(t *testing.T) {
	m := openStories(t)
	dir := testmodel.SharedDir(t) + "/models/stories260K/expected/"
	for _, c := range []struct {
		file    string
		batched bool
	}{
		{"greedy_t0_n256.ids", false},
		{"greedy_t0_n64_prompt_Once_upon_a_time.ids", false},
		{"greedy_t0_n64_prompt_Once_upon_a_time.ids", true},
	} {
		name := c.file
		if c.batched {
			name += "/batched"
		}
		t.Run(name, func(t *testing.T) {
			ref := testmodel.ReadIDs(t, dir+c.file)
			for _, threads := range []int{1, 2} {
				s, err := NewCPUSession(m, SessionOptions{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				got := greedy(t, s, m.Vocab, ref.Prompt, len(ref.Next), c.batched)
				s.Close()
				if !slices.Equal(got, ref.Next) {
					t.Fatalf("threads=%d:\n got %v\nwant %v", threads, got, ref.Next)
				}
			}
		})
	}
}

func TestStoriesLogits(t *testing.T) {
	m := openStories(t)
	ref := testmodel.ReadLogits(t, testmodel.SharedDir(t)+"/models/stories260K/expected/logits_pos0-2_greedy.txt")
	if len(ref) != 3 {
		t.Fatalf("%d reference positions", len(ref))
	}
	check := func(t *testing.T, got []float32, r testmodel.Logits) {
		t.Helper()
		if len(r.Values) != m.Vocab {
			t.Fatalf("pos %d: %d reference logits", r.Pos, len(r.Values))
		}
		var worst float64
		for i, v := range r.Values {
			worst = math.Max(worst, math.Abs(float64(got[i]-v)))
		}
		if worst > 1e-4 {
			t.Fatalf("pos %d: max |logit - reference| = %g > 1e-4", r.Pos, worst)
		}
		t.Logf("pos %d: max |logit - reference| = %.3g", r.Pos, worst)
	}
	t.Run("one-by-one", func(t *testing.T) {
		s, _ := NewCPUSession(m, SessionOptions{})
		defer s.Close()
		logits := make([]float32, m.Vocab)
		for _, r := range ref {
			if s.Pos() != r.Pos {
				t.Fatalf("at position %d, reference is for %d", s.Pos(), r.Pos)
			}
			if err := s.Forward([]int32{int32(r.Token)}, logits); err != nil {
				t.Fatal(err)
			}
			check(t, logits, r)
		}
	})
	t.Run("batched", func(t *testing.T) {
		for n := 1; n <= len(ref); n++ {
			s, _ := NewCPUSession(m, SessionOptions{Batch: 2})
			toks := make([]int32, n)
			for i := range toks {
				toks[i] = int32(ref[i].Token)
			}
			logits := make([]float32, m.Vocab)
			if err := s.Forward(toks, logits); err != nil {
				t.Fatal(err)
			}
			check(t, logits, ref[n-1])
			s.Close()
		}
	})
}
