package kv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// refState is the slow reference: for each (layer, KV head) the original ids of the
// slots it holds, and every observed attention row keyed by original id.
type refState struct {
	g     Geometry
	held  [][]int // [layer*KVHeads+kvh] original ids, increasing
	rows  []refRow
	sinks int
}

type refRow struct {
	layer, head int
	pos         int32
	w           map[int]float64 // original id -> weight
}

// refRank reports whether candidate i is among the k best of score (ties toward the
// later candidate), by counting, without sorting.
func refRank(score []float64, i, k int) bool {
	better := 0
	for j := range score {
		if score[j] > score[i] || (score[j] == score[i] && j > i) {
			better++
		}
	}
	return better < k
}

func (r *refState) selectIDs(cfg Config, l, kvh, b int) []int {
	held := r.held[l*r.g.KVHeads+kvh]
	n := len(held)
	group := r.g.Heads / r.g.KVHeads
	var keep []int
	switch cfg.Policy {
	case PolicyStreaming:
		for i, id := range held {
			if i < 4 || i >= n-(b-4) {
				keep = append(keep, id)
			}
		}
	case PolicyH2O:
		recent := b / 2
		score := make([]float64, n-recent)
		for i := range score {
			for _, row := range r.rows {
				if row.layer == l && row.head/group == kvh {
					score[i] += row.w[held[i]]
				}
			}
		}
		for i := range score {
			if refRank(score, i, b-recent) {
				keep = append(keep, held[i])
			}
		}
		keep = append(keep, held[n-recent:]...)
	case PolicySnapKV, PolicyPyramidKV:
		w := min(8, b/2)
		m := n - w
		score := make([]float64, m)
		for h := kvh * group; h < (kvh+1)*group; h++ {
			// the last 8 queries this head observed
			var mine []refRow
			for _, row := range r.rows {
				if row.layer == l && row.head == h {
					mine = append(mine, row)
				}
			}
			sort.Slice(mine, func(a, b int) bool { return mine[a].pos > mine[b].pos })
			for _, row := range mine[:min(8, len(mine))] {
				for i := range score {
					score[i] += row.w[held[i]]
				}
			}
		}
		pooled := make([]float64, m)
		for i := range pooled {
			pooled[i] = score[i] / float64(group)
			for j := i - 2; j <= i+2; j++ {
				if j >= 0 && j < m {
					pooled[i] = max(pooled[i], score[j]/float64(group))
				}
			}
		}
		for i := range pooled {
			if refRank(pooled, i, b-w) {
				keep = append(keep, held[i])
			}
		}
		keep = append(keep, held[m:]...)
	}
	return keep
}

// encode makes the value of dimension d of KV head h of original id id.
func encode(id, h, d int) float32 { return float32(id*1000 + h*10 + d) }

func TestPolicySelectionMatchesReference(t *testing.T) {
	g := Geometry{Layers: 3, Heads: 4, KVHeads: 2, HeadDim: 3, Capacity: 64}
	for _, name := range []string{PolicyStreaming, PolicyH2O, PolicySnapKV, PolicyPyramidKV} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s/%d", name, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				budget := 12 + rng.IntN(10)
				cfg := Config{Policy: name, Budget: budget}
				p, err := NewPolicy(cfg, g)
				if err != nil {
					t.Fatal(err)
				}
				c := New(g.Layers, g.KVHeads*g.HeadDim, g.Capacity)
				ref := &refState{g: g, held: make([][]int, g.Layers*g.KVHeads)}
				nextID := 0
				appendIDs := func(n int) {
					for l := 0; l < g.Layers; l++ {
						layer := c.Layer(l)
						k := make([]float32, 0, n*c.Dim())
						for i := 0; i < n; i++ {
							for h := 0; h < g.KVHeads; h++ {
								for d := 0; d < g.HeadDim; d++ {
									k = append(k, encode(nextID+i, h, d))
								}
							}
						}
						if _, err := layer.Append(int32(nextID), k, k); err != nil {
							t.Fatal(err)
						}
						for h := 0; h < g.KVHeads; h++ {
							for i := 0; i < n; i++ {
								ref.held[l*g.KVHeads+h] = append(ref.held[l*g.KVHeads+h], nextID+i)
							}
						}
					}
					nextID += n
				}
				// observe queries at positions [from, nextID), each seeing every slot held
				// at that point (the cache holds no later position than the query).
				observe := func(from int) {
					for pos := from; pos < nextID; pos++ {
						for l := 0; l < g.Layers; l++ {
							for h := 0; h < g.Heads; h++ {
								held := ref.held[l*g.KVHeads+h/(g.Heads/g.KVHeads)]
								nv := c.Layer(l).Visible(int32(pos))
								w := make([]float32, nv)
								row := refRow{layer: l, head: h, pos: int32(pos), w: map[int]float64{}}
								for i := range w {
									w[i] = rng.Float32()
									row.w[held[i]] = float64(w[i])
								}
								p.ObserveAttention(l, h, int32(pos), w)
								ref.rows = append(ref.rows, row)
							}
						}
					}
				}
				check := func(step string) {
					t.Helper()
					for l := 0; l < g.Layers; l++ {
						b := p.LayerBudget(l)
						wants := make([][]int, g.KVHeads)
						for h := range wants {
							wants[h] = ref.held[l*g.KVHeads+h]
							if len(wants[h]) > b {
								wants[h] = ref.selectIDs(p.Config(), l, h, b)
							}
						}
						for h := range wants {
							ref.held[l*g.KVHeads+h] = wants[h]
						}
					}
					if err := p.Compress(c); err != nil {
						t.Fatal(err)
					}
					for l := 0; l < g.Layers; l++ {
						layer := c.Layer(l)
						for h := 0; h < g.KVHeads; h++ {
							want := ref.held[l*g.KVHeads+h]
							if layer.Len() != len(want) {
								t.Fatalf("%s: layer %d holds %d slots, reference %d", step, l, layer.Len(), len(want))
							}
							for j, id := range want {
								for d := 0; d < g.HeadDim; d++ {
									if k, v := layer.Key(j)[h*g.HeadDim+d], layer.Value(j)[h*g.HeadDim+d]; k != encode(id, h, d) || v != k {
										t.Fatalf("%s: layer %d head %d slot %d holds %v/%v, reference id %d", step, l, h, j, k, v, id)
									}
								}
							}
						}
						pos := layer.Positions()
						for j := 1; j < len(pos); j++ {
							if pos[j] <= pos[j-1] {
								t.Fatalf("%s: positions not increasing: %v", step, pos)
							}
						}
					}
				}
				n := 30 + rng.IntN(20)
				appendIDs(n)
				observe(n - 10) // a prefill's last queries
				check("prefill")
				for step := 0; step < 5; step++ { // decode steps evict one slot each
					appendIDs(1)
					observe(nextID - 1)
					check(fmt.Sprintf("decode %d", step))
				}
			})
		}
	}
}

func TestPolicyBudgetAtLeastLengthKeepsAll(t *testing.T) {
	g := Geometry{Layers: 2, Heads: 2, KVHeads: 1, HeadDim: 2, Capacity: 16}
	for _, name := range Policies {
		p, err := NewPolicy(Config{Policy: name, Budget: 10}, g)
		if err != nil {
			t.Fatal(err)
		}
		c := New(g.Layers, 2, 16)
		for l := 0; l < 2; l++ {
			k := make([]float32, 20)
			for i := range k {
				k[i] = float32(i)
			}
			if _, err := c.Layer(l).Append(0, k, k); err != nil {
				t.Fatal(err)
			}
			p.ObserveAttention(l, 0, 9, make([]float32, 10))
		}
		if err := p.Compress(c); err != nil {
			t.Fatal(err)
		}
		for l := 0; l < 2; l++ {
			if got := c.Layer(l).Positions(); !slices.Equal(got, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
				t.Errorf("%s: layer %d positions %v", name, l, got)
			}
		}
	}
}

func TestPyramidBudgets(t *testing.T) {
	g := Geometry{Layers: 5, Heads: 2, KVHeads: 1, HeadDim: 2, Capacity: 512}
	p, err := NewPolicy(Config{Policy: PolicyPyramidKV, Budget: 100}, g)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for l := 0; l < g.Layers; l++ {
		b := p.LayerBudget(l)
		sum += b
		if l > 0 && b >= p.LayerBudget(l-1) {
			t.Errorf("budget of layer %d (%d) does not shrink from %d", l, b, p.LayerBudget(l-1))
		}
	}
	if sum != 500 {
		t.Errorf("budgets sum to %d, want 500", sum)
	}
}

func TestShrinkFreesMemory(t *testing.T) {
	c := New(2, 4, 100)
	for l := 0; l < 2; l++ {
		k := make([]float32, 40)
		for i := range k {
			k[i] = float32(i)
		}
		if _, err := c.Layer(l).Append(0, k, k); err != nil {
			t.Fatal(err)
		}
	}
	before := c.Bytes()
	if err := c.Shrink(5); err == nil {
		t.Fatal("Shrink below the slots in use succeeded")
	}
	if err := c.Shrink(12); err != nil {
		t.Fatal(err)
	}
	if c.Bytes() != before*12/100 || c.UsedBytes() != 2*10*4*8 {
		t.Fatalf("Bytes %d (was %d), UsedBytes %d", c.Bytes(), before, c.UsedBytes())
	}
	if c.Layer(1).Key(9)[3] != 39 || c.Layer(1).Free() != 2 {
		t.Fatalf("rows lost: %v, free %d", c.Layer(1).Key(9), c.Layer(1).Free())
	}
}

func TestNewPolicyErrors(t *testing.T) {
	g := Geometry{Layers: 1, Heads: 2, KVHeads: 1, HeadDim: 2, Capacity: 8}
	for _, cfg := range []Config{{Policy: "lru"}, {Policy: PolicySnapKV, Kernel: 4}, {Budget: -1}} {
		if _, err := NewPolicy(cfg, g); err == nil {
			t.Errorf("NewPolicy(%+v) succeeded", cfg)
		}
	}
	if _, err := NewPolicy(Config{}, Geometry{Layers: 1, Heads: 3, KVHeads: 2, HeadDim: 1, Capacity: 1}); err == nil {
		t.Error("NewPolicy with 3 heads over 2 KV heads succeeded")
	}
}

func TestSlackAmortizesEviction(t *testing.T) {
	g := Geometry{Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 1, Capacity: 32}
	p, err := NewPolicy(Config{Policy: PolicyStreaming, Budget: 8, Slack: 3}, g)
	if err != nil {
		t.Fatal(err)
	}
	c := New(1, 1, 32)
	var lens []int
	for pos := 0; pos < 16; pos++ {
		if _, err := c.Layer(0).Append(int32(pos), []float32{float32(pos)}, []float32{float32(pos)}); err != nil {
			t.Fatal(err)
		}
		if err := p.Compress(c); err != nil {
			t.Fatal(err)
		}
		lens = append(lens, c.Layer(0).Len())
	}
	want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11, 8}
	if !slices.Equal(lens, want) {
		t.Fatalf("lengths %v, want %v", lens, want)
	}
	if err := p.CompressTo(c, 0); err != nil || c.Layer(0).Len() != 8 {
		t.Fatalf("CompressTo(0): %v, %d slots", err, c.Layer(0).Len())
	}
	if got := c.Layer(0).Positions(); !slices.Equal(got, []int32{0, 1, 2, 3, 12, 13, 14, 15}) {
		t.Fatalf("positions %v", got)
	}
}

func TestCloneCopyFrom(t *testing.T) {
	c := New(2, 2, 10)
	for l := 0; l < 2; l++ {
		if _, err := c.Layer(l).Append(0, []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}); err != nil {
			t.Fatal(err)
		}
	}
	saved := c.Clone()
	if err := c.Layer(1).Keep([]int{1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Shrink(3); err != nil {
		t.Fatal(err)
	}
	c.CopyFrom(saved)
	if c.Capacity() != 10 || c.Layer(1).Len() != 2 || c.Layer(1).Free() != 8 || c.Layer(1).Key(0)[1] != 2 || c.Layer(1).Value(1)[1] != 8 {
		t.Fatalf("restored cache: capacity %d, layer 1 %v %v", c.Capacity(), c.Layer(1).Keys(), c.Layer(1).Values())
	}
	if err := saved.Layer(0).Keep([]int{0}); err != nil || c.Layer(0).Len() != 2 {
		t.Fatal("the clone shares memory with the cache")
	}
}
