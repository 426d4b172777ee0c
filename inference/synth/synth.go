package synth

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/quant"
)

// Shape is a model architecture's size.
type Shape struct {
	Name                             string
	Dim, Layers, Heads, KVHeads, FFN int
	Vocab, Context                   int
}

// Shapes are the realistic shapes `ctxfs model synth` offers.
var Shapes = map[string]Shape{
	// llama2.c's stories110M / a GPT-2-small-sized LLaMA.
	"110m": {Name: "110m", Dim: 768, Layers: 12, Heads: 12, KVHeads: 12, FFN: 2048, Vocab: 32000, Context: 1024},
	// TinyLlama-1.1B.
	"1.1b": {Name: "1.1b", Dim: 2048, Layers: 22, Heads: 32, KVHeads: 4, FFN: 5632, Vocab: 32000, Context: 2048},
}

// ParseType maps "f32", "f16", "q8_0" and "q4_0" to GGML types.
func ParseType(s string) (gguf.Type, error) {
	switch strings.ToLower(s) {
	case "f32":
		return gguf.TypeF32, nil
	case "f16":
		return gguf.TypeF16, nil
	case "q8_0":
		return gguf.TypeQ8_0, nil
	case "q4_0":
		return gguf.TypeQ4_0, nil
	case "q4_k":
		return gguf.TypeQ4_K, nil
	case "q6_k":
		return gguf.TypeQ6_K, nil
	}
	return 0, fmt.Errorf("synth: weight type %q: want f32, f16, q8_0, q4_0, q4_k or q6_k", s)
}

// fileType is general.file_type (llama_ftype) for a uniform weight type.
func fileType(t gguf.Type) uint32 {
	switch t {
	case gguf.TypeF16:
		return 1
	case gguf.TypeQ4_0:
		return 2
	case gguf.TypeQ8_0:
		return 7
	case gguf.TypeQ4_K:
		return 14 // MOSTLY_Q4_K_S: every matrix Q4_K
	case gguf.TypeQ6_K:
		return 18
	}
	return 0
}

// Options configures Write.
type Options struct {
	Shape Shape
	Type  gguf.Type
	// Vocab, if set, is a GGUF file whose tokenizer.* metadata is copied; its token
	// count replaces Shape.Vocab.
	Vocab *gguf.File
	// Seed selects the random weights.
	Seed uint64
	// Tied leaves out output.weight, so the model reuses the token embedding as its
	// output projection.
	Tied bool
}

// tensorSpec is one tensor to write, with a generator for its rows.
type tensorSpec struct {
	name       string
	typ        gguf.Type
	rows, cols int // a vector has rows == 1 and is written with one dimension
	vector     bool
	fill       func(row int, dst []float32) // produces row r
}

// Write writes a random-weight model to w and returns the bytes written.
func Write(w io.Writer, o Options) (int64, error) {
	s := o.Shape
	if o.Vocab != nil {
		if toks, ok := o.Vocab.Strings("tokenizer.ggml.tokens"); ok && len(toks) > 0 {
			s.Vocab = len(toks)
		}
	}
	if s.Dim%s.Heads != 0 || s.Heads%s.KVHeads != 0 || s.Dim%32 != 0 || s.FFN%32 != 0 {
		return 0, fmt.Errorf("synth: shape %+v is not valid", s)
	}
	switch o.Type {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0:
	case gguf.TypeQ4_K, gguf.TypeQ6_K:
		if s.Dim%quant.KBlockLen != 0 || s.FFN%quant.KBlockLen != 0 {
			return 0, fmt.Errorf("synth: %v needs dimensions that are multiples of %d", o.Type, quant.KBlockLen)
		}
	default:
		return 0, fmt.Errorf("synth: weight type %v not supported", o.Type)
	}
	gw := gguf.NewWriter()
	set := func(k string, v any) {
		if err := gw.Set(k, v); err != nil {
			panic(err) // only our own well-typed values reach here
		}
	}
	set("general.architecture", "llama")
	set("general.name", fmt.Sprintf("synthetic-%s-%s", s.Name, strings.ToLower(o.Type.String())))
	set("general.file_type", fileType(o.Type))
	set("llama.context_length", uint32(s.Context))
	set("llama.embedding_length", uint32(s.Dim))
	set("llama.block_count", uint32(s.Layers))
	set("llama.feed_forward_length", uint32(s.FFN))
	set("llama.attention.head_count", uint32(s.Heads))
	set("llama.attention.head_count_kv", uint32(s.KVHeads))
	set("llama.attention.layer_norm_rms_epsilon", float32(1e-5))
	set("llama.rope.freq_base", float32(10000))
	set("llama.rope.dimension_count", uint32(s.Dim/s.Heads))
	set("llama.vocab_size", uint32(s.Vocab))
	if o.Vocab != nil {
		for _, kv := range o.Vocab.KVs() {
			if strings.HasPrefix(kv.Key, "tokenizer.") {
				if err := gw.Set(kv.Key, kv.Value); err != nil {
					return 0, err
				}
			}
		}
	}
	kvDim := s.KVHeads * (s.Dim / s.Heads)
	var specs []tensorSpec
	mat := func(name string, rows, cols int, std float32) {
		seed := o.Seed ^ hashString(name)
		specs = append(specs, tensorSpec{name: name, typ: o.Type, rows: rows, cols: cols, fill: func(r int, dst []float32) {
			uniform(dst, seed+uint64(r)*0x9e3779b97f4a7c15, std)
		}})
	}
	vec := func(name string, n int) {
		seed := o.Seed ^ hashString(name)
		specs = append(specs, tensorSpec{name: name, typ: gguf.TypeF32, rows: 1, cols: n, vector: true, fill: func(_ int, dst []float32) {
			uniform(dst, seed, 0.05)
			for i := range dst {
				dst[i] += 1
			}
		}})
	}
	mat("token_embd.weight", s.Vocab, s.Dim, 1)
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		vec(p+"attn_norm.weight", s.Dim)
		mat(p+"attn_q.weight", s.Dim, s.Dim, 0.02)
		mat(p+"attn_k.weight", kvDim, s.Dim, 0.02)
		mat(p+"attn_v.weight", kvDim, s.Dim, 0.02)
		mat(p+"attn_output.weight", s.Dim, s.Dim, 0.02)
		vec(p+"ffn_norm.weight", s.Dim)
		mat(p+"ffn_gate.weight", s.FFN, s.Dim, 0.02)
		mat(p+"ffn_up.weight", s.FFN, s.Dim, 0.02)
		mat(p+"ffn_down.weight", s.Dim, s.FFN, 0.02)
	}
	vec("output_norm.weight", s.Dim)
	if !o.Tied {
		mat("output.weight", s.Vocab, s.Dim, 0.02)
	}
	return writeStreaming(w, gw, specs, gguf.DefaultAlignment)
}

// WriteFile writes a random-weight model to path.
func WriteFile(path string, o Options) (int64, error) {
	return writeFileWith(path, func(w io.Writer) (int64, error) { return Write(w, o) })
}

func writeFileWith(path string, write func(io.Writer) (int64, error)) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	n, err := write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return n, err
}

// writeStreaming writes gw plus the tensors of specs without holding their data: the
// gguf Writer is given zero-filled placeholders of the right sizes (slices of one
// buffer whose pages are never touched), and the bytes it writes in the data section
// are replaced by the generated ones on their way out.
//
// align must be the alignment gw writes with (general.alignment, if set on gw).
func writeStreaming(w io.Writer, gw *gguf.Writer, specs []tensorSpec, align uint64) (int64, error) {
	var biggest uint64
	sizes := make([]uint64, len(specs))
	for i, sp := range specs {
		n, err := sp.typ.RowSize(uint64(sp.rows * sp.cols))
		if err != nil {
			return 0, err
		}
		sizes[i] = n
		biggest = max(biggest, n)
	}
	zero := make([]byte, biggest)
	for i, sp := range specs {
		dims := []uint64{uint64(sp.cols), uint64(sp.rows)}
		if sp.vector {
			dims = dims[:1]
		}
		if err := gw.AddTensor(sp.name, sp.typ, dims, zero[:sizes[i]]); err != nil {
			return 0, err
		}
	}
	// Pass one measures the header, which ends where the data section begins.
	total, err := gw.WriteTo(countingDiscard{})
	if err != nil {
		return 0, err
	}
	var dataLen uint64
	for _, n := range sizes {
		dataLen += (n + align - 1) / align * align
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	sw := &swapWriter{out: bw, dataStart: total - int64(dataLen), specs: specs, sizes: sizes, align: align}
	n, err := gw.WriteTo(sw)
	if err != nil {
		return n, err
	}
	if sw.err != nil {
		return n, sw.err
	}
	return n, bw.Flush()
}

type countingDiscard struct{}

func (countingDiscard) Write(p []byte) (int, error) { return len(p), nil }

// swapWriter passes the header through and replaces each tensor's placeholder bytes by
// generated rows.
type swapWriter struct {
	out       io.Writer
	dataStart int64
	pos       int64
	specs     []tensorSpec
	sizes     []uint64
	align     uint64
	err       error

	cur     int    // tensor being written
	curOff  uint64 // offset of tensor cur in the data section
	done    uint64 // bytes of tensor cur written
	row     int    // next row to generate
	rowBuf  []byte // encoded row not yet written
	floats  []float32
	encoded []byte
}

func (s *swapWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && s.err == nil {
		if s.pos < s.dataStart {
			k := int(min(int64(len(p)), s.dataStart-s.pos))
			s.put(p[:k])
			p = p[k:]
			continue
		}
		off := uint64(s.pos - s.dataStart)
		if s.cur >= len(s.specs) || off < s.curOff || off >= s.curOff+s.sizes[s.cur] {
			// Padding after a tensor: placeholder zeros pass through.
			end := uint64(math.MaxInt64)
			if s.cur < len(s.specs) && off < s.curOff {
				end = s.curOff
			} else if s.cur < len(s.specs) {
				// Finished this tensor; move to the next one.
				s.next()
				continue
			}
			k := int(min(uint64(len(p)), end-off))
			s.put(p[:k])
			p = p[k:]
			continue
		}
		if len(s.rowBuf) == 0 {
			s.genRow()
		}
		k := min(len(p), len(s.rowBuf), int(s.sizes[s.cur]-s.done))
		s.put(s.rowBuf[:k])
		s.rowBuf = s.rowBuf[k:]
		s.done += uint64(k)
		p = p[k:]
	}
	return n, s.err
}

func (s *swapWriter) next() {
	s.curOff += (s.sizes[s.cur] + s.align - 1) / s.align * s.align
	s.cur++
	s.done, s.row, s.rowBuf = 0, 0, nil
}

func (s *swapWriter) put(b []byte) {
	if s.err != nil {
		return
	}
	_, s.err = s.out.Write(b)
	s.pos += int64(len(b))
}

func (s *swapWriter) genRow() {
	sp := &s.specs[s.cur]
	if cap(s.floats) < sp.cols {
		s.floats = make([]float32, sp.cols)
	}
	f := s.floats[:sp.cols]
	sp.fill(s.row, f)
	s.row++
	s.encoded = encodeRow(s.encoded[:0], sp.typ, f)
	s.rowBuf = s.encoded
}

// encodeRow appends row in type t to dst.
func encodeRow(dst []byte, t gguf.Type, row []float32) []byte {
	switch t {
	case gguf.TypeF32:
		for _, v := range row {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	case gguf.TypeF16:
		for _, v := range row {
			dst = binary.LittleEndian.AppendUint16(dst, quant.F32ToF16(v))
		}
	case gguf.TypeQ8_0:
		n := len(dst)
		dst = append(dst, make([]byte, quant.RowBytesQ8_0(len(row)))...)
		quant.QuantizeQ8_0(dst[n:], row)
	case gguf.TypeQ4_0:
		n := len(dst)
		dst = append(dst, make([]byte, quant.RowBytesQ4_0(len(row)))...)
		quant.QuantizeQ4_0(dst[n:], row)
	case gguf.TypeQ4_K:
		n := len(dst)
		dst = append(dst, make([]byte, quant.RowBytesQ4_K(len(row)))...)
		quant.QuantizeQ4_K(dst[n:], row)
	case gguf.TypeQ6_K:
		n := len(dst)
		dst = append(dst, make([]byte, quant.RowBytesQ6_K(len(row)))...)
		quant.QuantizeQ6_K(dst[n:], row)
	}
	return dst
}

// uniform fills dst with values uniform in [-a, a] where a gives standard deviation std,
// from a splitmix64 stream (fast, and the same for every run with the same seed).
func uniform(dst []float32, seed uint64, std float32) {
	a := std * float32(math.Sqrt(3))
	x := seed
	for i := range dst {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		dst[i] = (float32(z>>40)/float32(1<<24)*2 - 1) * a
	}
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
