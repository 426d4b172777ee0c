package llama

import (
	"math"
	"sync"
	"testing"
)

type weightLog struct {
	mu   sync.Mutex
	lens map[int32][]int // query position -> slot counts seen (all layers and heads)
	bad  string
}

func (w *weightLog) ObserveAttention(layer, head int, pos int32, weights []float32) {
	var sum float64
	for _, v := range weights {
		sum += float64(v)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if math.Abs(sum-1) > 1e-4 && w.bad == "" {
		w.bad = "weights do not sum to 1"
	}
	w.lens[pos] = append(w.lens[pos], len(weights))
}

// TestEvictionAndObserver evicts KV slots the way StreamingLLM does (keep the first
// positions and a recent window) and checks that decoding continues, that attention
// sees exactly the kept slots, and that the observer gets normalized weights.
func TestEvictionAndObserver(t *testing.T) {
	m := openStories(t)
	obs := &weightLog{lens: map[int32][]int{}}
	s, err := NewCPUSession(m, SessionOptions{Threads: 2, Context: 16, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	logits := make([]float32, m.Vocab)
	if err := s.Forward([]int32{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315}, logits); err != nil {
		t.Fatal(err)
	}
	// Batched prefill: query at position p sees p+1 slots.
	for p := int32(0); p < 12; p++ {
		for _, n := range obs.lens[p] {
			if n != int(p)+1 {
				t.Fatalf("prefill query %d saw %d slots", p, n)
			}
		}
		if len(obs.lens[p]) != m.Layers*m.Heads {
			t.Fatalf("query %d observed %d times", p, len(obs.lens[p]))
		}
	}
	keep := []int{0, 1, 8, 9, 10, 11} // sink tokens and the recent window
	for l := 0; l < m.Layers; l++ {
		if err := s.Cache().Layer(l).Keep(keep); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 8; i++ { // more than the 4 free slots before eviction
		if err := s.Forward([]int32{argmax(logits)}, logits); err != nil {
			t.Fatalf("token %d after eviction: %v", i, err)
		}
	}
	if s.Pos() != 20 {
		t.Fatalf("Pos = %d, want 20 (positions keep counting after eviction)", s.Pos())
	}
	if got := obs.lens[12][0]; got != len(keep)+1 {
		t.Fatalf("first query after eviction saw %d slots, want %d", got, len(keep)+1)
	}
	if pos := s.Cache().Layer(0).Positions(); pos[len(pos)-1] != 19 || pos[2] != 8 {
		t.Fatalf("positions after eviction %v", pos)
	}
	if obs.bad != "" {
		t.Fatal(obs.bad)
	}
}
