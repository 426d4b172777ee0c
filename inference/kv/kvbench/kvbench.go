// Package kvbench measures KV-cache compression policies (package kv) on a real model:
// how closely a compressed cache reproduces the full cache's next-token predictions
// (Quality), and how much faster a long context decodes once compressed (Decode).
// It backs `ctxfs bench kv`.
package kvbench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"time"

	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/sample"
)

// Session is a CPU session whose KV cache a policy compresses after every Forward.
// Like the session it wraps it is not safe for concurrent use.
type Session struct {
	*llama.CPUSession
	Policy kv.Policy
	gate   *gate
	def    kv.Policy // the policy the session was created with
	geom   kv.Geometry
}

// gate forwards attention to the policy while on, so a benchmark can run the full
// cache and the compressed one from the same prefill.
type gate struct {
	on bool
	p  kv.Policy
}

func (g *gate) ObserveAttention(layer, head int, pos int32, w []float32) {
	if g.on {
		g.p.ObserveAttention(layer, head, pos, w)
	}
}

// NewSession returns a session of m with room for capacity positions, compressed by
// the policy cfg describes.
func NewSession(m *llama.Model, cfg kv.Config, capacity, threads int) (*Session, error) {
	return newSession(m, cfg, capacity, llama.SessionOptions{Threads: threads}, false)
}

// newSession: alwaysObserve installs the attention gate even when the policy does
// not need attention, so that SetKV can switch to one that does.
func newSession(m *llama.Model, cfg kv.Config, capacity int, opts llama.SessionOptions, alwaysObserve bool) (*Session, error) {
	p, err := kv.NewPolicy(cfg, Geometry(m, capacity))
	if err != nil {
		return nil, err
	}
	s := &Session{Policy: p, def: p, geom: Geometry(m, capacity)}
	opts.Context = capacity
	if p.NeedsAttention() || alwaysObserve {
		s.gate = &gate{on: p.NeedsAttention(), p: p}
		opts.Observer = s.gate
	}
	if s.CPUSession, err = llama.NewCPUSession(m, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// Geometry returns the attention shape of m for a cache of capacity slots.
func Geometry(m *llama.Model, capacity int) kv.Geometry {
	return kv.Geometry{Layers: m.Layers, Heads: m.Heads, KVHeads: m.KVHeads, HeadDim: m.HeadDim, Capacity: capacity}
}

// Forward runs tokens and compresses the cache to the policy's budget.
func (s *Session) Forward(tokens []int32, logits []float32) error {
	if err := s.CPUSession.Forward(tokens, logits); err != nil {
		return err
	}
	return s.Policy.Compress(s.Cache())
}

// Observe turns the policy's view of attention on or off.
func (s *Session) Observe(on bool) {
	if s.gate != nil {
		s.gate.on = on && s.Policy.NeedsAttention()
	}
}

// SetKV switches the session to the policy cfg describes (nil: the one it was
// created with), for the requests that follow; the local engine calls it with
// each request's inference.Request.KV. recompute reports that the policy changed
// while the cache held compressed positions: that prefix is not what the new
// policy would have kept, and the caller must not reuse it (the engine then
// recomputes its prompt from position 0).
func (s *Session) SetKV(cfg *kv.Config) (recompute bool, err error) {
	p := s.def
	if cfg != nil {
		if s.Policy.Config() == normalized(*cfg, s.geom) {
			return false, nil
		}
		if p, err = kv.NewPolicy(*cfg, s.geom); err != nil {
			return false, err
		}
	}
	if p == s.Policy {
		return false, nil
	}
	if p.NeedsAttention() && s.gate == nil {
		return false, fmt.Errorf("kvbench: policy %s needs attention weights; this session was created without an observer", p.Name())
	}
	s.Policy = p
	p.Reset()
	if s.gate != nil {
		s.gate.p = p
		s.gate.on = p.NeedsAttention()
	}
	return s.Cache().Layer(0).Len() < s.Pos() || s.compressedAny(), nil
}

// compressedAny reports whether some layer holds fewer slots than positions.
func (s *Session) compressedAny() bool {
	for l := 0; l < s.Cache().Layers(); l++ {
		if s.Cache().Layer(l).Len() < s.Pos() {
			return true
		}
	}
	return false
}

// normalized returns cfg with its defaults filled in, as Policy.Config reports it.
func normalized(cfg kv.Config, g kv.Geometry) kv.Config {
	p, err := kv.NewPolicy(cfg, g)
	if err != nil {
		return kv.Config{Policy: "invalid"}
	}
	return p.Config()
}

// Options configures Quality. The zero value needs a model only.
type Options struct {
	Policies []string // default kv.Policies
	Budgets  []int    // default 1/8, 1/4 and 1/2 of Length
	// Texts are the token sequences scored (each starting with BOS). Nil: Stories
	// stories the model writes itself.
	Texts [][]int32
	// Stories is the number of generated texts (0: 4), Length their length in tokens
	// (0: the model's context).
	Stories, Length int
	// Prefix is the number of tokens prefilled before scoring starts (0: 3/4 of each
	// text); every later position is scored teacher-forced.
	Prefix  int
	Threads int
	Seed    uint64 // of the generated stories (0: 1)
	BOS     int32  // token that starts a story (default 1)
	EOS     int32  // token that ends one (default 2)
}

// Result is one policy at one budget. JSON names match `ctxfs bench kv --json`.
type Result struct {
	Policy string `json:"policy"`
	Budget int    `json:"budget"`
	// Top1 is the fraction of scored positions whose most likely next token is the
	// full cache's; KL the mean KL divergence KL(full || compressed) in nats.
	Top1 float64 `json:"top1"`
	KL   float64 `json:"kl"`
	// KVBytes is the mean size of the keys and values held when the last token of a
	// text is predicted.
	KVBytes   int64 `json:"kv_bytes"`
	Positions int   `json:"positions"`
}

// Stories samples n texts of length tokens from m (temperature 1, top-p 0.9, seeds
// seed, seed+1, ...); a story that ends is followed by BOS and the next one, so every
// text is long.
func Stories(ctx context.Context, m *llama.Model, n, length int, seed uint64, bos, eos int32, threads int) ([][]int32, error) {
	s, err := llama.NewCPUSession(m, llama.SessionOptions{Threads: threads, Context: length})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	logits := make([]float32, m.Vocab)
	var texts [][]int32
	for i := 0; i < n; i++ {
		if err := s.Rewind(0); err != nil {
			return nil, err
		}
		sm := sample.New(sample.Options{Temperature: 1, TopP: 0.9, Seed: seed + uint64(i)}, m.Vocab)
		text := []int32{bos}
		for len(text) < length {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := s.Forward(text[len(text)-1:], logits); err != nil {
				return nil, err
			}
			tok := sm.Sample(logits, text)
			if tok == eos {
				tok = bos
			}
			text = append(text, tok)
		}
		texts = append(texts, text)
	}
	return texts, nil
}

// Quality scores every policy at every budget against the full cache,
// teacher-forced over the texts.
func Quality(ctx context.Context, m *llama.Model, o Options) ([]Result, error) {
	if o.Length <= 0 {
		o.Length = m.Context
	}
	if o.Stories <= 0 {
		o.Stories = 4
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.BOS == 0 && o.EOS == 0 {
		o.BOS, o.EOS = 1, 2
	}
	if len(o.Policies) == 0 {
		o.Policies = kv.Policies
	}
	if len(o.Budgets) == 0 {
		o.Budgets = []int{o.Length / 8, o.Length / 4, o.Length / 2}
	}
	texts := o.Texts
	if texts == nil {
		var err error
		if texts, err = Stories(ctx, m, o.Stories, o.Length, o.Seed, o.BOS, o.EOS, o.Threads); err != nil {
			return nil, err
		}
	}
	capacity := 0
	for _, t := range texts {
		capacity = max(capacity, len(t))
	}
	if capacity > m.Context {
		return nil, fmt.Errorf("kvbench: texts of %d tokens for a context of %d", capacity, m.Context)
	}
	// Reference logits of the full cache.
	full := make([][][]float32, len(texts))
	for i, t := range texts {
		lg, _, err := run(ctx, m, kv.Config{}, t, prefixOf(o, t), capacity, o.Threads)
		if err != nil {
			return nil, err
		}
		full[i] = lg
	}
	var results []Result
	for _, name := range o.Policies {
		budgets := o.Budgets
		if name == kv.PolicyFull {
			budgets = []int{0}
		}
		for _, b := range budgets {
			r := Result{Policy: name, Budget: b}
			var agree, kl float64
			var bytes int64
			for i, t := range texts {
				lg, used, err := run(ctx, m, kv.Config{Policy: name, Budget: b}, t, prefixOf(o, t), capacity, o.Threads)
				if err != nil {
					return nil, err
				}
				for j := range lg {
					if sample.Argmax(lg[j]) == sample.Argmax(full[i][j]) {
						agree++
					}
					kl += klDiv(full[i][j], lg[j])
				}
				r.Positions += len(lg)
				bytes += used
			}
			if name == kv.PolicyFull {
				r.Budget = capacity
			}
			r.Top1 = agree / float64(r.Positions)
			r.KL = kl / float64(r.Positions)
			r.KVBytes = bytes / int64(len(texts))
			results = append(results, r)
		}
	}
	return results, nil
}

func prefixOf(o Options, t []int32) int {
	if o.Prefix > 0 && o.Prefix < len(t) {
		return o.Prefix
	}
	return max(1, len(t)*3/4)
}

// run prefills t[:prefix], then feeds the rest one token at a time, and returns the
// logits predicting t[prefix:], and the bytes of keys and values held at the end.
func run(ctx context.Context, m *llama.Model, cfg kv.Config, t []int32, prefix, capacity, threads int) ([][]float32, int64, error) {
	s, err := NewSession(m, cfg, capacity, threads)
	if err != nil {
		return nil, 0, err
	}
	defer s.Close()
	logits := make([]float32, m.Vocab)
	if err := s.Forward(t[:prefix], logits); err != nil {
		return nil, 0, err
	}
	out := [][]float32{slices.Clone(logits)}
	for i := prefix; i < len(t)-1; i++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if err := s.Forward(t[i:i+1], logits); err != nil {
			return nil, 0, err
		}
		out = append(out, slices.Clone(logits))
	}
	return out, s.Cache().UsedBytes(), nil
}

// klDiv returns KL(softmax(p) || softmax(q)).
func klDiv(p, q []float32) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var d float64
	for i := range lp {
		d += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return max(d, 0)
}

func logSoftmax(x []float32) []float64 {
	m := float64(x[sample.Argmax(x)])
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - m)
	}
	ls := m + math.Log(sum)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - ls
	}
	return out
}

// DecodeOptions configures Decode. The zero value needs a model only.
type DecodeOptions struct {
	Context int    // positions prefilled (0: 4096)
	Budget  int    // slots kept after compression (0: 512)
	Tokens  int    // tokens decoded each way (0: 16)
	Policy  string // (default snapkv)
	// Slack lets the compressed cache grow this many slots past Budget before it is
	// compressed again (kv.Config.Slack; -1: 0, compress at every step; 0: 32).
	Slack   int
	Threads int
	Seed    uint64
	// Repeat alternates full and compressed decoding this many times from the same
	// prefill (0: 3) and keeps the fastest run of each, the one least disturbed
	// on a shared machine.
	Repeat int
}

// DecodeResult compares decoding after a long prefill with the full cache and with
// the compressed one, from the same prefill. JSON names are `ctxfs bench kv --decode`'s.
type DecodeResult struct {
	Policy         string  `json:"policy"`
	Context        int     `json:"context"`
	Budget         int     `json:"budget"`
	Slack          int     `json:"slack"`
	Tokens         int     `json:"tokens"`
	Repeat         int     `json:"repeat"`
	Threads        int     `json:"threads"`
	PrefillSeconds float64 `json:"prefill_seconds"`
	FullTPS        float64 `json:"full_decode_tps"`
	CompressedTPS  float64 `json:"compressed_decode_tps"`
	Speedup        float64 `json:"speedup"`
	// CPU-time rates (tokens per CPU-second of the process times the threads) and
	// their ratio: on a machine shared with other work the wall-clock rates measure
	// the scheduler too.
	FullCPUTPS       float64 `json:"full_decode_cpu_tps"`
	CompressedCPUTPS float64 `json:"compressed_decode_cpu_tps"`
	CPUSpeedup       float64 `json:"cpu_speedup"`
	FullBytes        int64   `json:"full_kv_bytes"`
	CompressedBytes  int64   `json:"compressed_kv_bytes"`
}

// Decode prefills Context random tokens once, then Repeat times: decodes Tokens
// tokens greedily with the full cache, rewinds to the end of the prefill,
// compresses the cache to Budget (releasing the memory), decodes Tokens tokens
// again, and restores the full cache saved after the prefill.
func Decode(ctx context.Context, m *llama.Model, o DecodeOptions) (*DecodeResult, error) {
	if o.Context <= 0 {
		o.Context = 4096
	}
	if o.Budget <= 0 {
		o.Budget = 512
	}
	if o.Tokens <= 0 {
		o.Tokens = 16
	}
	if o.Policy == "" {
		o.Policy = kv.PolicySnapKV
	}
	if o.Repeat <= 0 {
		o.Repeat = 3
	}
	switch {
	case o.Slack < 0:
		o.Slack = 0
	case o.Slack == 0:
		o.Slack = 32
	}
	capacity := o.Context + o.Tokens
	s, err := NewSession(m, kv.Config{Policy: o.Policy, Budget: o.Budget, Slack: o.Slack}, capacity, o.Threads)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r := &DecodeResult{Policy: o.Policy, Context: o.Context, Budget: o.Budget, Slack: o.Slack, Tokens: o.Tokens, Repeat: o.Repeat, Threads: s.Threads()}
	rng := rand.New(rand.NewPCG(o.Seed, 3))
	prompt := make([]int32, o.Context)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(m.Vocab))
	}
	logits := make([]float32, m.Vocab)
	t0 := time.Now()
	// The uncompressed session's Forward: the prefill is observed, nothing evicted yet.
	if err := s.CPUSession.Forward(prompt, logits); err != nil {
		return nil, err
	}
	r.PrefillSeconds = time.Since(t0).Seconds()
	first := sample.Argmax(logits)
	decode := func(compress bool) (float64, float64, error) {
		tok := first
		t0, c0 := time.Now(), cpuSeconds()
		for i := 0; i < o.Tokens; i++ {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
			var err error
			if compress {
				err = s.Forward([]int32{tok}, logits)
			} else {
				err = s.CPUSession.Forward([]int32{tok}, logits)
			}
			if err != nil {
				return 0, 0, err
			}
			tok = sample.Argmax(logits)
		}
		return float64(o.Tokens) / time.Since(t0).Seconds(), float64(o.Tokens*r.Threads) / (cpuSeconds() - c0), nil
	}
	saved := s.Cache().Clone()
	w := min(s.Policy.Config().Window, o.Context)
	for rep := 0; rep < o.Repeat; rep++ {
		if rep > 0 {
			// Back to the state right after the prefill: the full cache, and the
			// policy's view of the last prefill queries (recomputed: the last w
			// prompt tokens run again, observed).
			if err := s.Rewind(o.Context); err != nil {
				return nil, err
			}
			s.Cache().CopyFrom(saved)
			if err := s.Rewind(o.Context - w); err != nil {
				return nil, err
			}
			s.Observe(true)
			if err := s.CPUSession.Forward(prompt[o.Context-w:], logits); err != nil {
				return nil, err
			}
		}
		s.Observe(false)
		r.FullBytes = s.Cache().UsedBytes()
		tps, cpu, err := decode(false)
		if err != nil {
			return nil, err
		}
		r.FullTPS, r.FullCPUTPS = max(r.FullTPS, tps), max(r.FullCPUTPS, cpu)
		if err := s.Rewind(o.Context); err != nil {
			return nil, err
		}
		// Compress to the budget itself (the slack applies to later growth).
		if err := s.Policy.CompressTo(s.Cache(), 0); err != nil {
			return nil, err
		}
		maxBudget := 0
		for l := 0; l < m.Layers; l++ {
			maxBudget = max(maxBudget, s.Policy.LayerBudget(l), s.Cache().Layer(l).Len())
		}
		// Free the evicted slots: room for the budget plus the tokens added before
		// the cache is compressed again.
		if err := s.Cache().Shrink(maxBudget + o.Slack + 1); err != nil {
			return nil, err
		}
		r.CompressedBytes = s.Cache().UsedBytes()
		s.Observe(true)
		if tps, cpu, err = decode(true); err != nil {
			return nil, err
		}
		r.CompressedTPS, r.CompressedCPUTPS = max(r.CompressedTPS, tps), max(r.CompressedCPUTPS, cpu)
	}
	r.Speedup = r.CompressedTPS / r.FullTPS
	r.CPUSpeedup = r.CompressedCPUTPS / r.FullCPUTPS
	return r, nil
}

// cpuSeconds returns the CPU time (user and system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
