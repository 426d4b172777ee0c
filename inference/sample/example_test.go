package sample_test

import (
	"fmt"

	"github.com/ctxfs/ctxfs/inference/sample"
)

// A Stopper holds back text that might begin a stop string, so streamed output never
// shows any part of it.
func ExampleStopper() {
	s := sample.NewStopper([]string{"\nUser:"})
	for _, piece := range []string{"Hello", " there.", "\nUs", "er: next"} {
		emit, stopped := s.Push(piece)
		fmt.Printf("%q %v\n", emit, stopped)
		if stopped {
			break
		}
	}
	// Output:
	// "Hello" false
	// " there." false
	// "" false
	// "" true
}

// Greedy decoding is the zero Options; temperature and top-p draw from a seeded,
// reproducible generator.
func ExampleSampler() {
	logits := []float32{0.1, 2.5, 0.3, 2.4}
	fmt.Println(sample.New(sample.Options{}, len(logits)).Sample(append([]float32(nil), logits...), nil))
	s := sample.New(sample.Options{Temperature: 0.8, TopP: 0.9, Seed: 42}, len(logits))
	a := s.Sample(append([]float32(nil), logits...), nil)
	s = sample.New(sample.Options{Temperature: 0.8, TopP: 0.9, Seed: 42}, len(logits))
	b := s.Sample(append([]float32(nil), logits...), nil)
	fmt.Println(a == b, a == 1 || a == 3)
	// Output:
	// 1
	// true true
}
