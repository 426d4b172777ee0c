package llama

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/ctxfs/ctxfs/inference/gguf"
)

var (
	// ErrUnsupported means the model uses an architecture or weight type this engine
	// does not implement.
	ErrUnsupported = errors.New("llama: unsupported")
	// ErrBadModel means the model's metadata or tensors are inconsistent.
	ErrBadModel = errors.New("llama: bad model")
)

// Config holds a model's hyper-parameters.
type Config struct {
	Arch      string
	Dim       int // embedding length
	Layers    int
	Heads     int
	KVHeads   int
	HeadDim   int
	FFN       int // feed-forward hidden size
	Vocab     int
	Context   int // trained context length
	NormEps   float32
	RopeBase  float32
	RopeDim   int  // leading dimensions of each head that RoPE rotates
	RopeNeoX  bool // rotate (i, i+RopeDim/2) pairs instead of (2i, 2i+1)
	TiedEmbed bool // the output projection is the token embedding
}

// KVDim returns the width of one layer's key (or value) row.
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim }

// neoxArchs use the NeoX RoPE layout (rotating the two halves of a head); llama's GGUF
// converter permutes Q and K so that the interleaved layout applies.
var neoxArchs = map[string]bool{"qwen2": true, "qwen3": true, "phi3": true, "gemma": true, "gptneox": true, "stablelm": true}

// ConfigFromGGUF reads the hyper-parameters from a GGUF file's metadata
// (`<arch>.embedding_length` and so on).
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	arch := f.Arch()
	if arch == "" {
		return Config{}, fmt.Errorf("llama: no general.architecture: %w", ErrBadModel)
	}
	if arch != "llama" {
		return Config{}, fmt.Errorf("llama: architecture %q: %w", arch, ErrUnsupported)
	}
	c := Config{Arch: arch, RopeNeoX: neoxArchs[arch]}
	var err error
	u := func(key string, dst *int, required bool) {
		v, ok := f.Uint(arch + "." + key)
		if !ok {
			if required && err == nil {
				err = fmt.Errorf("llama: metadata %s.%s missing: %w", arch, key, ErrBadModel)
			}
			return
		}
		if v == 0 || v > 1<<24 {
			if err == nil {
				err = fmt.Errorf("llama: metadata %s.%s = %d out of range: %w", arch, key, v, ErrBadModel)
			}
			return
		}
		*dst = int(v)
	}
	u("embedding_length", &c.Dim, true)
	u("block_count", &c.Layers, true)
	u("feed_forward_length", &c.FFN, true)
	u("attention.head_count", &c.Heads, true)
	c.KVHeads = c.Heads
	u("attention.head_count_kv", &c.KVHeads, false)
	u("context_length", &c.Context, true)
	if err != nil {
		return c, err
	}
	if c.Dim%c.Heads != 0 || c.Heads%c.KVHeads != 0 {
		return c, fmt.Errorf("llama: %d dims, %d heads, %d kv heads: %w", c.Dim, c.Heads, c.KVHeads, ErrBadModel)
	}
	c.HeadDim = c.Dim / c.Heads
	c.RopeDim = c.HeadDim
	u("rope.dimension_count", &c.RopeDim, false)
	if c.RopeDim > c.HeadDim || c.RopeDim%2 != 0 {
		return c, fmt.Errorf("llama: rope dimension %d for heads of %d: %w", c.RopeDim, c.HeadDim, ErrBadModel)
	}
	c.NormEps = 1e-5
	if v, ok := f.Float(arch + ".attention.layer_norm_rms_epsilon"); ok {
		c.NormEps = float32(v)
	}
	c.RopeBase = 10000
	if v, ok := f.Float(arch + ".rope.freq_base"); ok {
		c.RopeBase = float32(v)
	}
	if err != nil {
		return c, err
	}
	return c, nil
}

// Model is a loaded LLaMA-family model: its configuration and weights. The weights alias
// the GGUF file, which must stay open while the model is used. A Model is read-only and
// safe for concurrent use by many sessions.
type Model struct {
	Config
	Embed      *Matrix // token_embd: Vocab rows of Dim
	Blocks     []Block
	OutputNorm []float32
	Output     *Matrix // output, or Embed when tied
}

// Block is one transformer layer's weights.
type Block struct {
	AttnNorm       []float32
	Q, K, V, O     *Matrix
	FFNNorm        []float32
	Gate, Up, Down *Matrix
}

// WeightBytes returns the bytes of weights one decoded token reads: every layer's
// matrices, the output projection, and one embedding row.
func (m *Model) WeightBytes() int64 {
	var n int64
	for _, b := range m.Blocks {
		for _, w := range []*Matrix{b.Q, b.K, b.V, b.O, b.Gate, b.Up, b.Down} {
			n += w.Bytes()
		}
		n += int64(4 * (len(b.AttnNorm) + len(b.FFNNorm)))
	}
	return n + m.Output.Bytes() + int64(m.Embed.rowBytes)
}

// Load builds a Model over a GGUF file's tensors. The file must stay open (and
// unmodified) for as long as the Model is used.
func Load(f *gguf.File) (*Model, error) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return nil, fmt.Errorf("llama: big-endian host: %w", ErrUnsupported)
	}
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg}
	mat := func(name string, rows, cols int) (*Matrix, error) {
		t, ok := f.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("llama: tensor %s missing: %w", name, ErrBadModel)
		}
		if len(t.Dims) != 2 || t.Dims[0] != uint64(cols) || (rows > 0 && t.Dims[1] != uint64(rows)) {
			return nil, fmt.Errorf("llama: tensor %s has dims %v, want [%d %d]: %w", name, t.Dims, cols, rows, ErrBadModel)
		}
		data := t.Data()
		if t.Type == gguf.TypeF32 && !aligned4(data) {
			return nil, fmt.Errorf("llama: tensor %s is not 4-byte aligned: %w", name, ErrBadModel)
		}
		return newMatrix(name, t.Type, int(t.Dims[1]), cols, data)
	}
	vec := func(name string, n int) ([]float32, error) {
		t, ok := f.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("llama: tensor %s missing: %w", name, ErrBadModel)
		}
		if len(t.Dims) != 1 || t.Dims[0] != uint64(n) {
			return nil, fmt.Errorf("llama: tensor %s has dims %v, want [%d]: %w", name, t.Dims, n, ErrBadModel)
		}
		// Norm weights are small; copy them to float32 whatever their type.
		mm, err := newMatrix(name, t.Type, 1, n, t.Data())
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		mm.DequantizeRow(out, 0)
		return out, nil
	}
	if m.Embed, err = mat("token_embd.weight", 0, cfg.Dim); err != nil {
		return nil, err
	}
	m.Vocab = m.Embed.Rows
	kvDim := cfg.KVDim()
	m.Blocks = make([]Block, cfg.Layers)
	for i := range m.Blocks {
		b := &m.Blocks[i]
		p := fmt.Sprintf("blk.%d.", i)
		for _, s := range []struct {
			dst        **Matrix
			name       string
			rows, cols int
		}{
			{&b.Q, "attn_q", cfg.Dim, cfg.Dim},
			{&b.K, "attn_k", kvDim, cfg.Dim},
			{&b.V, "attn_v", kvDim, cfg.Dim},
			{&b.O, "attn_output", cfg.Dim, cfg.Dim},
			{&b.Gate, "ffn_gate", cfg.FFN, cfg.Dim},
			{&b.Up, "ffn_up", cfg.FFN, cfg.Dim},
			{&b.Down, "ffn_down", cfg.Dim, cfg.FFN},
		} {
			if *s.dst, err = mat(p+s.name+".weight", s.rows, s.cols); err != nil {
				return nil, err
			}
		}
		if b.AttnNorm, err = vec(p+"attn_norm.weight", cfg.Dim); err != nil {
			return nil, err
		}
		if b.FFNNorm, err = vec(p+"ffn_norm.weight", cfg.Dim); err != nil {
			return nil, err
		}
	}
	if m.OutputNorm, err = vec("output_norm.weight", cfg.Dim); err != nil {
		return nil, err
	}
	if _, ok := f.Tensor("output.weight"); ok {
		if m.Output, err = mat("output.weight", m.Vocab, cfg.Dim); err != nil {
			return nil, err
		}
	} else {
		m.Output, m.TiedEmbed = m.Embed, true
	}
	if math.IsNaN(float64(m.NormEps)) || m.NormEps <= 0 {
		return nil, fmt.Errorf("llama: rms epsilon %v: %w", m.NormEps, ErrBadModel)
	}
	return m, nil
}
