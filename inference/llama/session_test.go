package llama

import (
	"math"
	"testing"
)

// permuteHeads reorders the rows of each head of a Q or K matrix from the interleaved
// pair layout (2i, 2i+1) to the NeoX halves layout (i, i+hd/2).
func permuteHeads(tb testing.TB, w *Matrix, hd int) *Matrix {
	tb.Helper()
	data := make([]byte, len(w.Data))
	for r := 0; r < w.Rows; r++ {
		h, j := r/hd, r%hd
		var src int
		if j < hd/2 {
			src = h*hd + 2*j
		} else {
			src = h*hd + 2*(j-hd/2) + 1
		}
		copy(data[r*w.rowBytes:(r+1)*w.rowBytes], w.Row(src))
	}
	m, err := newMatrix(w.Name, w.Type, w.Rows, w.Cols, data)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestRopeLayouts checks the NeoX layout against the interleaved one: a model whose Q
// and K rows are permuted into the NeoX order and run with RopeNeoX must give the same
// logits as the original, since the rotation pairs then hold the same values.
func TestRopeLayouts(t *testing.T) {
	m := openStories(t)
	neox := *m
	neox.RopeNeoX = true
	neox.Blocks = append([]Block(nil), m.Blocks...)
	for i := range neox.Blocks {
		neox.Blocks[i].Q = permuteHeads(t, m.Blocks[i].Q, m.HeadDim)
		neox.Blocks[i].K = permuteHeads(t, m.Blocks[i].K, m.HeadDim)
	}
	tokens := []int32{1, 403, 407, 261, 378, 432, 383}
	want := logitsAlong(t, m, tokens)
	got := logitsAlong(t, &neox, tokens)
	for p := range want {
		for i := range want[p] {
			if d := math.Abs(float64(got[p][i] - want[p][i])); d > 1e-4 {
				t.Fatalf("pos %d logit %d: neox %v, normal %v", p, i, got[p][i], want[p][i])
			}
		}
	}
	// And the layouts really differ: the permuted model with normal RoPE does not match.
	wrong := neox
	wrong.RopeNeoX = false
	bad := logitsAlong(t, &wrong, tokens)
	if relRMS(bad[len(bad)-1], want[len(want)-1]) < 1e-3 {
		t.Fatal("permuted Q/K with the interleaved layout still matches; the test is not sensitive")
	}
}

// TestForwardAllocs checks that decoding a token allocates nothing.
func TestForwardAllocs(t *testing.T) {
	m := openStories(t)
	for _, threads := range []int{1, 2} {
		s, err := NewCPUSession(m, SessionOptions{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		logits := make([]float32, m.Vocab)
		tok := []int32{1}
		allocs := testing.AllocsPerRun(50, func() {
			if err := s.Forward(tok, logits); err != nil {
				t.Fatal(err)
			}
			tok[0] = argmax(logits)
		})
		s.Close()
		if allocs != 0 {
			t.Errorf("threads=%d: Forward allocates %v times per token", threads, allocs)
		}
	}
}

// TestRewindAndFull checks prefix reuse and the context limit.
func TestRewindAndFull(t *testing.T) {
	m := openStories(t)
	s, _ := NewCPUSession(m, SessionOptions{Context: 8, Threads: 2})
	defer s.Close()
	a := make([]float32, m.Vocab)
	b := make([]float32, m.Vocab)
	if err := s.Forward([]int32{1, 403, 407, 261}, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Rewind(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Forward([]int32{407, 261}, b); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			t.Fatalf("logit %d after rewind: %v vs %v", i, b[i], a[i])
		}
	}
	if err := s.Forward(make([]int32, 5), b); err == nil {
		t.Fatal("Forward past the context succeeded")
	}
	if s.Pos() != 4 {
		t.Fatalf("Pos = %d after a refused Forward", s.Pos())
	}
	if err := s.Forward([]int32{600}, b); err == nil {
		t.Fatal("Forward of an out-of-vocabulary token succeeded")
	}
}

// TestPoolCoversAllParts runs many tasks on pools of several sizes (run it with -race).
func TestPoolCoversAllParts(t *testing.T) {
	for _, n := range []int{1, 2, 3, 8} {
		p := NewPool(n)
		task := &countTask{hits: make([]int, 1000)}
		for i := 0; i < 200; i++ {
			p.Run(task)
		}
		p.Close()
		for i, h := range task.hits {
			if h != 200 {
				t.Fatalf("pool %d: item %d hit %d times", n, i, h)
			}
		}
	}
}

type countTask struct{ hits []int }

func (c *countTask) Run(part, parts int) {
	lo, hi := split(len(c.hits), part, parts)
	for i := lo; i < hi; i++ {
		c.hits[i]++
	}
}
