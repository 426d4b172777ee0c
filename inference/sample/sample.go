package sample

import (
	"math"
	"slices"
)

// Options configures a Sampler. The zero value is greedy decoding.
type Options struct {
	// Temperature divides the logits; 0 (or less) means greedy argmax.
	Temperature float32
	// TopK keeps the K most likely tokens (0: off).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability exceeds P
	// (0 or >= 1: off).
	TopP float32
	// MinP keeps tokens at least MinP times as likely as the most likely one (0: off).
	MinP float32
	// RepeatPenalty divides positive (multiplies negative) logits of tokens seen in the
	// last RepeatLastN tokens of the history (0 or 1: off), as llama.cpp does.
	RepeatPenalty float32
	// RepeatLastN is the penalty window (0: 64).
	RepeatLastN int
	// Seed seeds the xorshift generator; 0 is replaced by a fixed non-zero constant
	// because xorshift's state must not be zero.
	Seed uint64
}

// Sampler draws tokens. It is not safe for concurrent use; Sample allocates nothing.
type Sampler struct {
	opts  Options
	rng   uint64
	cands []cand
	seen  map[int32]struct{}
}

type cand struct {
	id int32
	p  float32
}

// New returns a sampler for a vocabulary of the given size.
func New(opts Options, vocab int) *Sampler {
	seed := opts.Seed
	if seed == 0 {
		seed = 0x9e3779b97f4a7c15
	}
	if opts.RepeatLastN <= 0 {
		opts.RepeatLastN = 64
	}
	return &Sampler{opts: opts, rng: seed, cands: make([]cand, 0, vocab), seen: map[int32]struct{}{}}
}

// Uint32 returns the next number of llama2.c's xorshift generator (random_u32).
func (s *Sampler) Uint32() uint32 {
	s.rng ^= s.rng >> 12
	s.rng ^= s.rng << 25
	s.rng ^= s.rng >> 27
	return uint32((s.rng * 0x2545F4914F6CDD1D) >> 32)
}

// Float32 returns a number in [0, 1) as llama2.c's random_f32 does.
func (s *Sampler) Float32() float32 { return float32(s.Uint32()>>8) / 16777216.0 }

// Sample returns the next token. It modifies logits in place. history is the sequence so
// far (prompt and generated tokens), used by the repetition penalty.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	o := &s.opts
	if o.RepeatPenalty > 0 && o.RepeatPenalty != 1 {
		clear(s.seen)
		start := max(0, len(history)-o.RepeatLastN)
		for _, t := range history[start:] {
			if _, dup := s.seen[t]; dup || t < 0 || int(t) >= len(logits) {
				continue
			}
			s.seen[t] = struct{}{}
			if logits[t] > 0 {
				logits[t] /= o.RepeatPenalty
			} else {
				logits[t] *= o.RepeatPenalty
			}
		}
	}
	if o.Temperature <= 0 {
		return Argmax(logits)
	}
	for i := range logits {
		logits[i] /= o.Temperature
	}
	Softmax(logits)
	coin := s.Float32()
	topP := o.TopP > 0 && o.TopP < 1
	if !topP && o.TopK <= 0 && o.MinP <= 0 {
		var cdf float32
		for i, p := range logits {
			cdf += p
			if coin < cdf {
				return int32(i)
			}
		}
		return int32(len(logits) - 1)
	}
	// Tokens below cutoff cannot be in the nucleus (llama2.c's pruning), nor below
	// MinP times the top probability.
	var cutoff float32
	if topP {
		cutoff = (1 - o.TopP) / float32(len(logits)-1)
	}
	if o.MinP > 0 {
		cutoff = max(cutoff, o.MinP*logits[Argmax(logits)])
	}
	c := s.cands[:0]
	for i, p := range logits {
		if p >= cutoff {
			c = append(c, cand{int32(i), p})
		}
	}
	slices.SortStableFunc(c, func(a, b cand) int {
		switch {
		case a.p > b.p:
			return -1
		case a.p < b.p:
			return 1
		}
		return 0
	})
	if o.TopK > 0 && len(c) > o.TopK {
		c = c[:o.TopK]
	}
	mass := float32(1)
	if o.TopK > 0 || o.MinP > 0 {
		mass = 0
		for _, x := range c {
			mass += x.p
		}
	}
	last := len(c) - 1
	var cum float32
	if topP {
		for i, x := range c {
			cum += x.p
			if cum > o.TopP*mass {
				last = i
				break
			}
		}
	} else {
		cum = mass
	}
	r := coin * cum
	var cdf float32
	for _, x := range c[:last+1] {
		cdf += x.p
		if r < cdf {
			return x.id
		}
	}
	return c[last].id
}

// Argmax returns the index of the largest value (the first one on ties).
func Argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// Softmax turns x into probabilities in place.
func Softmax(x []float32) {
	maxv := x[Argmax(x)]
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - maxv)))
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}
