package sample

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/llama"
)

// TestLlama2cRNG checks the generator against values computed by hand from llama2.c's
// random_u32 definition.
func TestLlama2cRNG(t *testing.T) {
	s := New(Options{Seed: 133742}, 1)
	// Reference: the same xorshift written out with explicit uint64 arithmetic.
	state := uint64(133742)
	for i := 0; i < 1000; i++ {
		state ^= state >> 12
		state ^= state << 25
		state ^= state >> 27
		want := uint32((state * 0x2545F4914F6CDD1D) >> 32)
		if got := s.Uint32(); got != want {
			t.Fatalf("step %d: %d want %d", i, got, want)
		}
	}
	if f := s.Float32(); f < 0 || f >= 1 {
		t.Fatalf("Float32 = %v", f)
	}
}

func TestFilters(t *testing.T) {
	logits := func() []float32 { return []float32{1, 5, 3, 4, 2} }
	if got := New(Options{}, 5).Sample(logits(), nil); got != 1 {
		t.Fatalf("greedy = %d", got)
	}
	// Repetition penalty demotes a seen token below the next one.
	if got := New(Options{RepeatPenalty: 2}, 5).Sample(logits(), []int32{1}); got != 3 {
		t.Fatalf("greedy with penalty = %d", got)
	}
	draw := func(o Options) map[int32]int {
		s := New(o, 5)
		seen := map[int32]int{}
		for i := 0; i < 2000; i++ {
			seen[s.Sample(logits(), nil)]++
		}
		return seen
	}
	for _, c := range []struct {
		name string
		o    Options
		want []int32
	}{
		{"topk2", Options{Temperature: 1, TopK: 2, Seed: 1}, []int32{1, 3}},
		{"topp", Options{Temperature: 1, TopP: 0.8, Seed: 2}, []int32{1, 3}},
		{"minp", Options{Temperature: 1, MinP: 0.3, Seed: 3}, []int32{1, 3}},
		{"all", Options{Temperature: 1, Seed: 4}, []int32{0, 1, 2, 3, 4}},
		{"topk1", Options{Temperature: 5, TopK: 1, Seed: 5}, []int32{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := draw(c.o)
			var keys []int32
			for k := range got {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, c.want) {
				t.Fatalf("drew %v (%v), want tokens %v", keys, got, c.want)
			}
		})
	}
	// Frequencies follow the softmax: p(1)/p(3) = e.
	got := draw(Options{Temperature: 1, TopK: 2, Seed: 9})
	if r := float64(got[1]) / float64(got[3]); math.Abs(r-math.E) > 0.4 {
		t.Fatalf("ratio %v, want about e", r)
	}
}

func TestStopper(t *testing.T) {
	for _, c := range []struct {
		stops  []string
		pieces []string
		want   string
		stop   bool
	}{
		{nil, []string{"a", "b"}, "ab", false},
		{[]string{"\n\n"}, []string{"hello", "\n", "world"}, "hello\nworld", false},
		{[]string{"\n\n"}, []string{"hello", "\n", "\nworld"}, "hello", true},
		{[]string{"END", "ST"}, []string{"aE", "xS", "T!"}, "aEx", true},
		{[]string{"é"}, []string{"ab\xc3", "\xa9c"}, "ab", true},
		{nil, []string{"ab\xc3", "\xa9c"}, "abéc", false},
	} {
		s := NewStopper(c.stops)
		var out strings.Builder
		stopped := false
		for _, p := range c.pieces {
			e, st := s.Push(p)
			if strings.ContainsRune(e, utf8RuneError) {
				t.Fatalf("%q: emitted a split character %q", c.pieces, e)
			}
			out.WriteString(e)
			stopped = st
			if st {
				break
			}
		}
		out.WriteString(s.Flush())
		if out.String() != c.want || stopped != c.stop {
			t.Errorf("%q %q: got %q %v, want %q %v", c.stops, c.pieces, out.String(), stopped, c.want, c.stop)
		}
	}
}

const utf8RuneError = '\uFFFD'

// TestLlama2cSample reproduces llama2.c's `run stories260K.bin -t 1.0 -p 0.9 -s 133742`.
func TestLlama2cSample(t *testing.T) {
	f, err := gguf.Open(testmodel.Path(t, testmodel.Stories260K))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := llama.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	ref := testmodel.ReadIDs(t, testmodel.SharedDir(t)+"/models/stories260K/expected/sample_t1_p0.9_seed133742_n256.ids")
	s, err := llama.NewCPUSession(m, llama.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sm := New(Options{Temperature: 1, TopP: 0.9, Seed: 133742}, m.Vocab)
	logits := make([]float32, m.Vocab)
	tok := ref.Prompt[0]
	var got []int32
	for len(got) < len(ref.Next) {
		if err := s.Forward([]int32{tok}, logits); err != nil {
			t.Fatal(err)
		}
		tok = sm.Sample(logits, nil)
		if tok == 1 {
			break
		}
		got = append(got, tok)
	}
	if !slices.Equal(got, ref.Next) {
		n := 0
		for n < len(got) && n < len(ref.Next) && got[n] == ref.Next[n] {
			n++
		}
		t.Fatalf("diverges at token %d:\n got %v\nwant %v", n, got, ref.Next)
	}
}

func TestSampleAllocs(t *testing.T) {
	s := New(Options{Temperature: 0.8, TopP: 0.9, TopK: 40, MinP: 0.05, RepeatPenalty: 1.1, Seed: 1}, 512)
	logits := make([]float32, 512)
	hist := []int32{1, 2, 3}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range logits {
			logits[i] = float32(i%17) * 0.3
		}
		s.Sample(logits, hist)
	})
	if allocs != 0 {
		t.Fatalf("Sample allocates %v times", allocs)
	}
}
