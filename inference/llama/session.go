package llama

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/quant"
)

// Session is one sequence being decoded on some backend: its KV cache and position.
// A Session is not safe for concurrent use.
type Session interface {
	// Forward runs tokens (at positions Pos(), Pos()+1, ...) through the model, appends
	// them to the KV cache and writes the logits of the last one into logits, which must
	// hold Vocab values. A long input is processed in batches (matrix-matrix products).
	Forward(tokens []int32, logits []float32) error
	// Pos returns the number of positions processed so far.
	Pos() int
	// Rewind forgets positions >= pos, so that a new prompt that shares a prefix with
	// the previous one can continue from it.
	Rewind(pos int) error
	// Close releases the session's resources (worker goroutines, device memory).
	Close() error
}

// Backend runs models. CPU is the portable implementation in this package; a GPU
// backend would upload the weights when creating a session and keep its KV cache in
// device memory, behind the same interface.
type Backend interface {
	Name() string
	NewSession(m *Model, opts SessionOptions) (Session, error)
}

// SessionOptions configures a session. The zero value uses every core, the model's
// trained context length and batches of 64 tokens.
type SessionOptions struct {
	// Threads is the number of worker threads (0: GOMAXPROCS).
	Threads int
	// Context is the KV cache capacity in positions (0: the model's context length).
	Context int
	// Batch is the largest number of tokens processed per matrix-matrix step (0: 64).
	Batch int
	// Observer, if set, is shown the attention weights of every query (see
	// AttentionObserver); compression policies such as H2O use it.
	Observer AttentionObserver
}

// AttentionObserver receives attention weights: for layer, head and the query at
// position pos, weights[i] is the softmax weight given to the layer's KV slot i. It is
// called from the worker goroutines concurrently (for different heads) and must not keep
// weights after returning.
type AttentionObserver interface {
	ObserveAttention(layer, head int, pos int32, weights []float32)
}

// CPU is the portable CPU backend: a persistent worker pool, batched prefill, and SIMD
// dot products where the CPU has them.
var CPU Backend = cpuBackend{}

type cpuBackend struct{}

func (cpuBackend) Name() string { return "cpu" }

func (cpuBackend) NewSession(m *Model, opts SessionOptions) (Session, error) {
	return NewCPUSession(m, opts)
}

// CPUSession is the CPU backend's Session. Its Forward allocates nothing. Like every
// Session it is not safe for concurrent use; its worker pool is its own.
type CPUSession struct {
	m     *Model
	opts  SessionOptions
	pool  *Pool
	cache *kv.Cache
	pos   int
	batch int
	lastN int // tokens in the last batch

	// Scratch, sized for one batch.
	x, xb, q, k, v, att []float32 // batch*Dim (k, v: batch*KVDim)
	hb, hb2             []float32 // batch*FFN
	xq                  []byte    // batch rows of Q8_0 activations
	xaux                []float32 // quant.Q8Aux of a single activation row (decode)
	cos, sin            []float32 // batch*RopeDim/2
	invFreq             []float64

	mm   matmulTask
	at   attentionTask
	silu siluTask
}

var _ Session = (*CPUSession)(nil)

// NewCPUSession creates a session that runs m on the CPU.
func NewCPUSession(m *Model, opts SessionOptions) (*CPUSession, error) {
	c := m.Config
	ctx := opts.Context
	if ctx <= 0 {
		ctx = c.Context
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = 64
	}
	s := &CPUSession{m: m, opts: opts, batch: batch}
	s.pool = NewPool(opts.Threads)
	s.cache = kv.New(c.Layers, c.KVDim(), ctx)
	s.x = make([]float32, batch*c.Dim)
	s.xb = make([]float32, batch*c.Dim)
	s.q = make([]float32, batch*c.Dim)
	s.att = make([]float32, batch*c.Dim)
	s.k = make([]float32, batch*c.KVDim())
	s.v = make([]float32, batch*c.KVDim())
	s.hb = make([]float32, batch*c.FFN)
	s.hb2 = make([]float32, batch*c.FFN)
	s.xq = make([]byte, batch*quant.RowBytesQ8_0(roundUp(max(c.Dim, c.FFN), quant.BlockLen)))
	s.xaux = make([]float32, 2*roundUp(max(c.Dim, c.FFN), quant.BlockLen)/quant.BlockLen)
	s.cos = make([]float32, batch*c.RopeDim/2)
	s.sin = make([]float32, batch*c.RopeDim/2)
	s.invFreq = make([]float64, c.RopeDim/2)
	for i := range s.invFreq {
		s.invFreq[i] = math.Pow(float64(c.RopeBase), -float64(2*i)/float64(c.RopeDim))
	}
	s.at.scores = make([][]float32, s.pool.Threads())
	for i := range s.at.scores {
		s.at.scores[i] = make([]float32, ctx)
	}
	return s, nil
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// Cache returns the session's KV cache, for compression policies. Changing it between
// Forward calls is allowed; positions keep counting from Pos.
func (s *CPUSession) Cache() *kv.Cache { return s.cache }

// Pos implements Session.
func (s *CPUSession) Pos() int { return s.pos }

// Threads returns the number of worker threads.
func (s *CPUSession) Threads() int { return s.pool.Threads() }

// Rewind implements Session.
func (s *CPUSession) Rewind(pos int) error {
	if pos < 0 || pos > s.pos {
		return fmt.Errorf("llama: rewind to %d from %d", pos, s.pos)
	}
	for l := 0; l < s.cache.Layers(); l++ {
		s.cache.Layer(l).Truncate(int32(pos))
	}
	s.pos = pos
	return nil
}

// Close implements Session.
func (s *CPUSession) Close() error {
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	return nil
}

// Forward implements Session.
func (s *CPUSession) Forward(tokens []int32, logits []float32) error {
	if len(tokens) == 0 {
		return fmt.Errorf("llama: forward of no tokens")
	}
	if len(logits) < s.m.Vocab {
		return fmt.Errorf("llama: logits buffer of %d for a vocabulary of %d", len(logits), s.m.Vocab)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= s.m.Vocab {
			return fmt.Errorf("llama: token %d outside the vocabulary of %d", t, s.m.Vocab)
		}
	}
	if free := s.cache.Layer(0).Free(); len(tokens) > free {
		return fmt.Errorf("llama: %d tokens into %d free positions: %w", len(tokens), free, kv.ErrFull)
	}
	for len(tokens) > 0 {
		n := min(len(tokens), s.batch)
		if err := s.forwardBatch(tokens[:n]); err != nil {
			return err
		}
		tokens = tokens[n:]
	}
	// Only the last position's logits are needed for generation.
	c := &s.m.Config
	last := s.x[(s.lastN-1)*c.Dim : s.lastN*c.Dim]
	rmsNorm(s.xb[:c.Dim], last, s.m.OutputNorm, c.NormEps)
	s.matmul(1, s.xb[:c.Dim], s.m.Output, logits[:s.m.Vocab], nil, nil, nil, nil)
	return nil
}

func (s *CPUSession) forwardBatch(tokens []int32) error {
	m := s.m
	c := &m.Config
	n := len(tokens)
	s.lastN = n
	dim, kvDim, ffn := c.Dim, c.KVDim(), c.FFN
	x := s.x[:n*dim]
	for t, tok := range tokens {
		m.Embed.DequantizeRow(x[t*dim:(t+1)*dim], int(tok))
	}
	half := c.RopeDim / 2
	for t := 0; t < n; t++ {
		p := float64(s.pos + t)
		for i, f := range s.invFreq {
			sin, cos := math.Sincos(p * f)
			s.cos[t*half+i], s.sin[t*half+i] = float32(cos), float32(sin)
		}
	}
	xb, q, k, v := s.xb[:n*dim], s.q[:n*dim], s.k[:n*kvDim], s.v[:n*kvDim]
	att, hb, hb2 := s.att[:n*dim], s.hb[:n*ffn], s.hb2[:n*ffn]
	for l := range m.Blocks {
		b := &m.Blocks[l]
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*dim:(t+1)*dim], x[t*dim:(t+1)*dim], b.AttnNorm, c.NormEps)
		}
		s.matmul(n, xb, b.Q, q, b.K, k, b.V, v)
		for t := 0; t < n; t++ {
			cos, sin := s.cos[t*half:(t+1)*half], s.sin[t*half:(t+1)*half]
			rope(q[t*dim:(t+1)*dim], c.Heads, c.HeadDim, cos, sin, c.RopeNeoX)
			rope(k[t*kvDim:(t+1)*kvDim], c.KVHeads, c.HeadDim, cos, sin, c.RopeNeoX)
		}
		layer := s.cache.Layer(l)
		if _, err := layer.Append(int32(s.pos), k, v); err != nil {
			return err
		}
		s.at.set(s, l, layer, q, att, n)
		s.pool.Run(&s.at)
		s.matmul(n, att, b.O, xb, nil, nil, nil, nil)
		addTo(x, xb)
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*dim:(t+1)*dim], x[t*dim:(t+1)*dim], b.FFNNorm, c.NormEps)
		}
		s.matmul(n, xb, b.Gate, hb, b.Up, hb2, nil, nil)
		s.silu.a, s.silu.b = hb, hb2
		s.pool.Run(&s.silu)
		s.matmul(n, hb, b.Down, xb, nil, nil, nil, nil)
		addTo(x, xb)
	}
	s.pos += n
	return nil
}

// matmul computes out_j[t][r] = row r of w_j · x[t] for up to three matrices sharing
// the input x (n rows), in one parallel step.
func (s *CPUSession) matmul(n int, x []float32, w0 *Matrix, o0 []float32, w1 *Matrix, o1 []float32, w2 *Matrix, o2 []float32) {
	mm := &s.mm
	mm.n, mm.x, mm.cols = n, x, w0.Cols
	mm.w = [3]*Matrix{w0, w1, w2}
	mm.out = [3][]float32{o0, o1, o2}
	mm.rows = 0
	mm.xq = nil
	for j, w := range mm.w {
		if w == nil {
			mm.nw = j
			break
		}
		mm.nw = j + 1
		mm.rows += w.Rows
		if w.quantizedInput() && mm.xq == nil {
			rb := quant.RowBytesQ8_0(mm.cols)
			mm.xqRow = rb
			mm.xq = s.xq[:n*rb]
			for t := 0; t < n; t++ {
				quant.QuantizeQ8_0(mm.xq[t*rb:(t+1)*rb], x[t*mm.cols:(t+1)*mm.cols])
			}
			if n == 1 {
				mm.aux = s.xaux[:2*mm.cols/quant.BlockLen]
				quant.Q8Aux(mm.aux, mm.xq, mm.cols)
			}
		}
	}
	// About 8 chunks per thread balances load without making chunks so small that
	// the counter becomes contended; chunks are multiples of 8 rows.
	mm.chunk = max(8, (mm.rows/(8*s.pool.Threads())+7)&^7)
	mm.next.Store(0)
	s.pool.Run(mm)
}

type matmulTask struct {
	n, cols, rows int
	nw            int
	w             [3]*Matrix
	out           [3][]float32
	x             []float32
	xq            []byte
	xqRow         int
	aux           []float32    // quant.Q8Aux of xq when n == 1
	chunk         int          // rows per work item
	next          atomic.Int64 // next work item
}

// Run takes chunks of rows from a shared counter rather than a fixed share, so a
// thread that the OS deschedules (this runs on shared machines) delays only the chunk
// it holds, not a whole share.
func (mm *matmulTask) Run(part, parts int) {
	for {
		c := int(mm.next.Add(1)) - 1
		lo := c * mm.chunk
		if lo >= mm.rows {
			return
		}
		hi := min(lo+mm.chunk, mm.rows)
		base := 0
		for j := 0; j < mm.nw; j++ {
			w := mm.w[j]
			a, b := max(lo-base, 0), min(hi-base, w.Rows)
			if a < b {
				mm.rowsOf(w, mm.out[j], a, b)
			}
			base += w.Rows
		}
	}
}

func (mm *matmulTask) rowsOf(w *Matrix, out []float32, lo, hi int) {
	cols, R, n := mm.cols, w.Rows, mm.n
	n4 := n &^ 3 // tokens handled four at a time by the x4 kernels
	var o [4]float32
	switch w.Type {
	case gguf.TypeF32:
		for r := lo; r < hi; r++ {
			row := w.f32[r*cols : (r+1)*cols]
			for t := 0; t < n4; t += 4 {
				quant.DotF32x4(&o, row, mm.x[t*cols:], cols)
				out[t*R+r], out[(t+1)*R+r], out[(t+2)*R+r], out[(t+3)*R+r] = o[0], o[1], o[2], o[3]
			}
			for t := n4; t < n; t++ {
				out[t*R+r] = quant.DotF32(row, mm.x[t*cols:(t+1)*cols])
			}
		}
	case gguf.TypeF16:
		for r := lo; r < hi; r++ {
			row := w.Row(r)
			for t := 0; t < n4; t += 4 {
				quant.DotF16x4(&o, row, mm.x[t*cols:], cols)
				out[t*R+r], out[(t+1)*R+r], out[(t+2)*R+r], out[(t+3)*R+r] = o[0], o[1], o[2], o[3]
			}
			for t := n4; t < n; t++ {
				out[t*R+r] = quant.DotF16(row, mm.x[t*cols:(t+1)*cols])
			}
		}
	case gguf.TypeQ8_0, gguf.TypeQ4_0:
		q4 := w.Type == gguf.TypeQ4_0
		xr := mm.xqRow
		if n == 1 { // decode: one call for the whole chunk of rows
			if q4 {
				quant.DotQ4_0RowsAux(out[lo:hi], w.Data[lo*w.rowBytes:], w.rowBytes, mm.xq[:xr], mm.aux, cols)
			} else {
				quant.DotQ8_0Rows(out[lo:hi], w.Data[lo*w.rowBytes:], w.rowBytes, mm.xq[:xr], cols)
			}
			return
		}
		for r := lo; r < hi; r++ {
			row := w.Row(r)
			for t := 0; t < n4; t += 4 {
				if q4 {
					quant.DotQ4_0x4(&o, row, mm.xq[t*xr:], xr, cols)
				} else {
					quant.DotQ8_0x4(&o, row, mm.xq[t*xr:], xr, cols)
				}
				out[t*R+r], out[(t+1)*R+r], out[(t+2)*R+r], out[(t+3)*R+r] = o[0], o[1], o[2], o[3]
			}
			for t := n4; t < n; t++ {
				if q4 {
					out[t*R+r] = quant.DotQ4_0(row, mm.xq[t*xr:(t+1)*xr], cols)
				} else {
					out[t*R+r] = quant.DotQ8_0(row, mm.xq[t*xr:(t+1)*xr], cols)
				}
			}
		}
	case gguf.TypeQ4_K, gguf.TypeQ6_K:
		dot := quant.DotQ4_K
		if w.Type == gguf.TypeQ6_K {
			dot = quant.DotQ6_K
		}
		xr := mm.xqRow
		for r := lo; r < hi; r++ {
			row := w.Row(r)
			for t := 0; t < n; t++ {
				out[t*R+r] = dot(row, mm.xq[t*xr:(t+1)*xr], cols)
			}
		}
	}
}

// attentionTask computes grouped-query attention for n queries (each head of each
// query is one work item) against the layer's cache.
type attentionTask struct {
	s      *CPUSession
	l      int
	layer  *kv.Layer
	q, out []float32
	n      int
	scores [][]float32  // per part
	next   atomic.Int64 // next (query, head) item
}

func (a *attentionTask) set(s *CPUSession, l int, layer *kv.Layer, q, out []float32, n int) {
	a.s, a.l, a.layer, a.q, a.out, a.n = s, l, layer, q, out, n
	a.next.Store(0)
}

func (a *attentionTask) Run(part, parts int) {
	c := &a.s.m.Config
	hd, dim, kvDim := c.HeadDim, c.Dim, c.KVDim()
	group := c.Heads / c.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	keys, vals := a.layer.Keys(), a.layer.Values()
	for {
		item := int(a.next.Add(1)) - 1
		if item >= a.n*c.Heads {
			return
		}
		t, h := item/c.Heads, item%c.Heads
		pos := int32(a.s.pos + t)
		nv := a.layer.Visible(pos)
		q := a.q[t*dim+h*hd : t*dim+(h+1)*hd]
		off := (h / group) * hd
		sc := a.scores[part][:nv]
		quant.Dots(sc, q, keys[off:], kvDim)
		maxv := float32(math.Inf(-1))
		for i, v := range sc {
			v *= scale
			sc[i] = v
			maxv = max(maxv, v)
		}
		var sum float32
		for i, v := range sc {
			e := float32(math.Exp(float64(v - maxv)))
			sc[i] = e
			sum += e
		}
		inv := 1 / sum
		for i := range sc {
			sc[i] *= inv
		}
		out := a.out[t*dim+h*hd : t*dim+(h+1)*hd]
		clear(out)
		quant.Axpys(out, sc, vals[off:], kvDim)
		if obs := a.s.opts.Observer; obs != nil {
			obs.ObserveAttention(a.l, h, pos, sc)
		}
	}
}

// siluTask computes a = silu(a) * b elementwise (SwiGLU).
type siluTask struct{ a, b []float32 }

func (st *siluTask) Run(part, parts int) {
	lo, hi := split(len(st.a), part, parts)
	a, b := st.a[lo:hi], st.b[lo:hi]
	for i, v := range a {
		a[i] = v / (1 + float32(math.Exp(float64(-v)))) * b[i]
	}
}

func rmsNorm(out, x, w []float32, eps float32) {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	ss = 1 / float32(math.Sqrt(float64(ss/float32(len(x))+eps)))
	for i, v := range x {
		out[i] = w[i] * (ss * v)
	}
}

// rope rotates the first 2*len(cos) dimensions of each head of x.
func rope(x []float32, heads, hd int, cos, sin []float32, neox bool) {
	half := len(cos)
	for h := 0; h < heads; h++ {
		v := x[h*hd : (h+1)*hd]
		if neox {
			for i := 0; i < half; i++ {
				a, b := v[i], v[i+half]
				v[i] = a*cos[i] - b*sin[i]
				v[i+half] = a*sin[i] + b*cos[i]
			}
		} else {
			for i := 0; i < half; i++ {
				a, b := v[2*i], v[2*i+1]
				v[2*i] = a*cos[i] - b*sin[i]
				v[2*i+1] = a*sin[i] + b*cos[i]
			}
		}
	}
}

func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// Capacity returns the KV cache capacity in positions.
func (s *CPUSession) Capacity() int { return s.cache.Capacity() }
