package kv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Policy names accepted by [NewPolicy] (and by the kv.policy configuration key).
const (
	PolicyFull      = "full"
	PolicyStreaming = "streaming"
	PolicyH2O       = "h2o"
	PolicySnapKV    = "snapkv"
	PolicyPyramidKV = "pyramidkv"
)

// Policies lists the policy names, in the order benchmarks report them.
var Policies = []string{PolicyFull, PolicyStreaming, PolicyH2O, PolicySnapKV, PolicyPyramidKV}

// Config selects and tunes a compression policy. The zero value is the full cache.
type Config struct {
	// Policy is one of Policies ("" is "full").
	Policy string `json:"policy" mapstructure:"policy"`
	// Budget is the number of slots each layer keeps (PyramidKV: the average over the
	// layers). 0 keeps everything.
	Budget int `json:"budget" mapstructure:"budget"`
	// Sinks is StreamingLLM's number of leading attention-sink positions (0: 4).
	Sinks int `json:"sinks,omitempty" mapstructure:"sinks"`
	// Window is SnapKV's observation window, the number of most recent queries whose
	// attention scores earlier keys; those most recent positions are always kept
	// (0: 8; at most half the budget).
	Window int `json:"window,omitempty" mapstructure:"window"`
	// Kernel is the width of SnapKV's 1-D max pooling of the scores (0: 5; odd).
	Kernel int `json:"kernel,omitempty" mapstructure:"kernel"`
	// Recent is H2O's share of the budget kept for the most recent positions, the rest
	// going to heavy hitters (0: 0.5).
	Recent float64 `json:"recent,omitempty" mapstructure:"recent"`
	// Slack lets a layer grow to Budget+Slack slots before it is compressed back to
	// Budget, so that the selection runs once every Slack decoded tokens instead of
	// at every one (0: compress at every step).
	Slack int `json:"slack,omitempty" mapstructure:"slack"`
	// PyramidMin is PyramidKV's budget of the top layer as a fraction of Budget; the
	// bottom layer gets 2-PyramidMin times Budget and the layers between are linear,
	// so the total equals Budget per layer on average (0: 0.5).
	PyramidMin float64 `json:"pyramid_min,omitempty" mapstructure:"pyramid_min"`
}

// Geometry is the shape of the attention a policy serves.
type Geometry struct {
	Layers, Heads, KVHeads, HeadDim int
	// Capacity is the number of slots per layer of the cache.
	Capacity int
}

// Policy decides which key/value slots a cache keeps. A session shows it every
// attention row (ObserveAttention; it implements llama.AttentionObserver) when
// NeedsAttention is true, and calls Compress after each forward step; Compress
// compacts every layer that holds more than its budget down to the budget, freeing
// the slots (the rows are moved, not masked). Each KV head keeps its own slots: the
// scores of the query heads that share a KV head (grouped-query attention) are
// averaged, so every layer keeps one row of n_kv_heads*head_dim per kept slot.
//
// ObserveAttention is safe for concurrent use (the attention workers call it for
// different heads and queries at once); Compress must not run concurrently with it or
// with the session's Forward.
type Policy interface {
	Name() string
	Config() Config
	// LayerBudget returns the slots layer l keeps (0: all).
	LayerBudget(l int) int
	NeedsAttention() bool
	ObserveAttention(layer, head int, pos int32, weights []float32)
	// Compress evicts slots of the layers over budget (plus Config.Slack) down to
	// the budget.
	Compress(c *Cache) error
	// CompressTo is Compress with another slack (0: every layer over budget).
	CompressTo(c *Cache, slack int) error
	// Reset forgets the scores observed so far (for a new sequence).
	Reset()
}

// NewPolicy returns the policy cfg names, for attention of shape g.
func NewPolicy(cfg Config, g Geometry) (Policy, error) {
	if g.Layers <= 0 || g.Heads <= 0 || g.KVHeads <= 0 || g.Heads%g.KVHeads != 0 || g.HeadDim <= 0 || g.Capacity <= 0 {
		return nil, fmt.Errorf("kv: policy geometry %+v is not valid", g)
	}
	if cfg.Budget < 0 || cfg.Slack < 0 {
		return nil, fmt.Errorf("kv: negative budget %d or slack %d", cfg.Budget, cfg.Slack)
	}
	if cfg.Sinks <= 0 {
		cfg.Sinks = 4
	}
	if cfg.Window <= 0 {
		cfg.Window = 8
	}
	if cfg.Kernel <= 0 {
		cfg.Kernel = 5
	}
	if cfg.Kernel%2 == 0 {
		return nil, fmt.Errorf("kv: pooling kernel %d must be odd", cfg.Kernel)
	}
	if cfg.Recent <= 0 {
		cfg.Recent = 0.5
	}
	if cfg.Recent > 1 {
		return nil, fmt.Errorf("kv: recent share %v above 1", cfg.Recent)
	}
	if cfg.PyramidMin <= 0 {
		cfg.PyramidMin = 0.5
	}
	if cfg.PyramidMin > 1 {
		return nil, fmt.Errorf("kv: pyramid minimum %v above 1", cfg.PyramidMin)
	}
	p := &policy{cfg: cfg, g: g, group: g.Heads / g.KVHeads}
	switch strings.ToLower(cfg.Policy) {
	case "", PolicyFull:
		p.cfg.Policy, p.kind = PolicyFull, kindFull
		p.cfg.Budget = 0
	case PolicyStreaming, "streamingllm":
		p.cfg.Policy, p.kind = PolicyStreaming, kindStreaming
	case PolicyH2O:
		p.cfg.Policy, p.kind = PolicyH2O, kindH2O
	case PolicySnapKV:
		p.cfg.Policy, p.kind = PolicySnapKV, kindSnap
	case PolicyPyramidKV:
		p.cfg.Policy, p.kind = PolicyPyramidKV, kindSnap
		p.pyramid = true
	default:
		return nil, fmt.Errorf("kv: unknown policy %q (want one of %s)", cfg.Policy, strings.Join(Policies, ", "))
	}
	p.budgets = make([]int, g.Layers)
	for l := range p.budgets {
		p.budgets[l] = p.layerBudget(l)
	}
	p.locks = make([]sync.Mutex, g.Layers*g.Heads)
	switch p.kind {
	case kindH2O:
		p.acc = make([][]float64, g.Layers*g.KVHeads)
		for i := range p.acc {
			p.acc[i] = make([]float64, g.Capacity)
		}
	case kindSnap:
		w := p.cfg.Window
		p.ring = make([]ringRow, g.Layers*g.Heads*w)
		for i := range p.ring {
			p.ring[i] = ringRow{pos: -1, w: make([]float32, g.Capacity)}
		}
	}
	p.scratch = make([]float64, g.Capacity)
	p.pooled = make([]float64, g.Capacity)
	p.order = make([]int, g.Capacity)
	p.lists = make([][]int, g.KVHeads)
	for i := range p.lists {
		p.lists[i] = make([]int, 0, g.Capacity)
	}
	return p, nil
}

type kind int

const (
	kindFull kind = iota
	kindStreaming
	kindH2O
	kindSnap
)

// ringRow is one observed attention row: the weights of the query at pos over the
// layer's slots [0, len(w[:n])).
type ringRow struct {
	pos int32
	n   int
	w   []float32
}

type policy struct {
	cfg     Config
	g       Geometry
	kind    kind
	pyramid bool
	group   int
	budgets []int

	// locks[layer*Heads+head] guards the observation state of that query head: its
	// ring rows (SnapKV) and its KV head's accumulator (H2O; taken for every query head
	// of the group, so by layer*Heads+kvHead*group).
	locks []sync.Mutex
	acc   [][]float64 // H2O: [layer*KVHeads+kvHead][slot] accumulated attention
	ring  []ringRow   // SnapKV: [(layer*Heads+head)*Window+pos%Window]

	// Compress scratch.
	scratch, pooled []float64
	order           []int
	lists           [][]int
}

func (p *policy) Name() string   { return p.cfg.Policy }
func (p *policy) Config() Config { return p.cfg }

func (p *policy) NeedsAttention() bool { return p.kind == kindH2O || p.kind == kindSnap }

func (p *policy) LayerBudget(l int) int { return p.budgets[l] }

func (p *policy) layerBudget(l int) int {
	b := p.cfg.Budget
	if b <= 0 {
		return 0
	}
	if p.pyramid && p.g.Layers > 1 {
		lo := p.cfg.PyramidMin * float64(b)
		hi := 2*float64(b) - lo
		b = int(hi - (hi-lo)*float64(l)/float64(p.g.Layers-1) + 0.5)
	}
	return max(b, 1)
}

func (p *policy) Reset() {
	for i := range p.acc {
		clear(p.acc[i])
	}
	for i := range p.ring {
		p.ring[i].pos, p.ring[i].n = -1, 0
	}
}

// ObserveAttention records one query's attention (llama.AttentionObserver).
func (p *policy) ObserveAttention(layer, head int, pos int32, weights []float32) {
	switch p.kind {
	case kindH2O:
		kvh := head / p.group
		mu := &p.locks[layer*p.g.Heads+kvh*p.group]
		mu.Lock()
		acc := p.acc[layer*p.g.KVHeads+kvh]
		for i, w := range weights[:min(len(weights), len(acc))] {
			acc[i] += float64(w)
		}
		mu.Unlock()
	case kindSnap:
		w := p.cfg.Window
		mu := &p.locks[layer*p.g.Heads+head]
		mu.Lock()
		r := &p.ring[(layer*p.g.Heads+head)*w+int(pos)%w]
		if pos > r.pos { // queries of one batch may arrive out of order
			r.pos = pos
			r.n = copy(r.w, weights)
		}
		mu.Unlock()
	}
}

// Compress implements Policy.
func (p *policy) Compress(c *Cache) error { return p.CompressTo(c, p.cfg.Slack) }

// CompressTo implements Policy.
func (p *policy) CompressTo(c *Cache, slack int) error {
	if c.Layers() != p.g.Layers || c.Dim() != p.g.KVHeads*p.g.HeadDim {
		return fmt.Errorf("kv: cache of %d layers of rows of %d for a policy of %+v", c.Layers(), c.Dim(), p.g)
	}
	if p.kind == kindFull {
		return nil
	}
	// PyramidKV's budget is a total: nothing is evicted while the sequence fits in
	// the average budget (so a budget at least the sequence length is exact).
	if p.pyramid && c.Layer(0).Len() <= p.cfg.Budget+slack {
		return nil
	}
	for l := 0; l < p.g.Layers; l++ {
		layer := c.Layer(l)
		n, b := layer.Len(), p.budgets[l]
		if b <= 0 || n <= b+slack {
			continue
		}
		for h := range p.lists {
			p.lists[h] = p.selectSlots(l, h, n, b, p.lists[h][:0])
		}
		if err := layer.keepHeads(p.lists, p.g.HeadDim); err != nil {
			return err
		}
		p.remap(l, n)
	}
	return nil
}

// selectSlots returns the increasing slots of [0, n) that KV head kvh of layer l keeps.
func (p *policy) selectSlots(l, kvh, n, b int, dst []int) []int {
	switch p.kind {
	case kindStreaming:
		sinks := min(p.cfg.Sinks, b)
		for s := 0; s < sinks; s++ {
			dst = append(dst, s)
		}
		for s := n - (b - sinks); s < n; s++ {
			dst = append(dst, s)
		}
		return dst
	case kindH2O:
		recent := min(max(int(float64(b)*p.cfg.Recent), 1), b)
		acc := p.acc[l*p.g.KVHeads+kvh]
		score := p.scratch[:n-recent]
		copy(score, acc[:n-recent])
		dst = topK(dst, score, b-recent, p.order)
		for s := n - recent; s < n; s++ {
			dst = append(dst, s)
		}
		return dst
	default: // SnapKV, PyramidKV
		w := min(p.cfg.Window, b/2)
		m := n - w
		score := p.scratch[:m]
		clear(score)
		for h := kvh * p.group; h < (kvh+1)*p.group; h++ {
			rows := p.ring[(l*p.g.Heads+h)*p.cfg.Window : (l*p.g.Heads+h+1)*p.cfg.Window]
			for _, r := range rows {
				if r.pos < 0 {
					continue
				}
				for i, v := range r.w[:min(r.n, m)] {
					score[i] += float64(v)
				}
			}
		}
		inv := 1 / float64(p.group)
		for i := range score {
			score[i] *= inv
		}
		pooled := p.pooled[:m]
		maxPool(pooled, score, p.cfg.Kernel)
		dst = topK(dst, pooled, b-w, p.order)
		for s := m; s < n; s++ {
			dst = append(dst, s)
		}
		return dst
	}
}

// remap moves the observation state of layer l (which held n slots) to the slots
// that were kept.
func (p *policy) remap(l, n int) {
	switch p.kind {
	case kindH2O:
		for kvh, list := range p.lists {
			acc := p.acc[l*p.g.KVHeads+kvh]
			for j, s := range list {
				acc[j] = acc[s]
			}
			clear(acc[len(list):n])
		}
	case kindSnap:
		w := p.cfg.Window
		for h := 0; h < p.g.Heads; h++ {
			list := p.lists[h/p.group]
			for i := range w {
				r := &p.ring[(l*p.g.Heads+h)*w+i]
				if r.pos < 0 {
					continue
				}
				j := 0
				for ; j < len(list) && list[j] < r.n; j++ {
					r.w[j] = r.w[list[j]]
				}
				r.n = j
			}
		}
	}
}

// topK appends to dst, in increasing order, the k indices of the largest scores,
// breaking ties toward the later (more recent) index.
func topK(dst []int, score []float64, k int, order []int) []int {
	if k <= 0 {
		return dst
	}
	if k >= len(score) {
		for i := range score {
			dst = append(dst, i)
		}
		return dst
	}
	idx := order[:len(score)]
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(score[b], score[a]); c != 0 {
			return c
		}
		return cmp.Compare(b, a)
	})
	start := len(dst)
	dst = append(dst, idx[:k]...)
	slices.Sort(dst[start:])
	return dst
}

// maxPool writes the maximum of in over a centered window of width kernel (clipped at
// the ends) to out.
func maxPool(out, in []float64, kernel int) {
	r := kernel / 2
	for i := range in {
		m := in[i]
		for j := max(0, i-r); j <= min(len(in)-1, i+r); j++ {
			m = max(m, in[j])
		}
		out[i] = m
	}
}
