package synth

import (
	"bytes"
	"math"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/llama"
)

var tiny = Shape{Name: "tiny", Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 96, Vocab: 100, Context: 64}

// TestWriteStreamingMatchesInMemory checks the streamed file against one built by the
// gguf Writer with real data, byte for byte.
func TestWriteStreamingMatchesInMemory(t *testing.T) {
	for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			var streamed bytes.Buffer
			n, err := Write(&streamed, Options{Shape: tiny, Type: typ, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(streamed.Len()) {
				t.Fatalf("Write returned %d for %d bytes", n, streamed.Len())
			}
			f, err := gguf.OpenBytes(streamed.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			// Rebuild the same file with the data in memory.
			gw := gguf.NewWriter()
			for _, kv := range f.KVs() {
				if err := gw.Set(kv.Key, kv.Value); err != nil {
					t.Fatal(err)
				}
			}
			for _, ti := range f.Tensors() {
				if err := gw.AddTensor(ti.Name, ti.Type, ti.Dims, append([]byte(nil), ti.Data()...)); err != nil {
					t.Fatal(err)
				}
			}
			var direct bytes.Buffer
			if _, err := gw.WriteTo(&direct); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(direct.Bytes(), streamed.Bytes()) {
				t.Fatal("streamed file differs from the in-memory one")
			}
			m, err := llama.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if m.Dim != 64 || m.KVHeads != 2 || m.Vocab != 100 || m.Blocks[1].Down.Type != typ {
				t.Fatalf("loaded %+v", m.Config)
			}
			// The embedding is not all zeros (the data really was replaced).
			row := make([]float32, m.Dim)
			m.Embed.DequantizeRow(row, 99)
			var ss float64
			for _, v := range row {
				ss += float64(v * v)
			}
			if std := math.Sqrt(ss / float64(len(row))); std < 0.5 || std > 1.5 {
				t.Fatalf("embedding row std %v, want about 1", std)
			}
		})
	}
}

func TestVocabCopied(t *testing.T) {
	vf, err := gguf.Open(testmodel.Path(t, "tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	var buf bytes.Buffer
	s := tiny
	if _, err := Write(&buf, Options{Shape: s, Type: gguf.TypeQ4_0, Vocab: vf}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.OpenBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	want, _ := vf.Strings("tokenizer.ggml.tokens")
	if len(toks) != len(want) || toks[1000] != want[1000] {
		t.Fatalf("tokens not copied: %d vs %d", len(toks), len(want))
	}
	ti, _ := f.Tensor("output.weight")
	if ti.Dims[1] != uint64(len(want)) {
		t.Fatalf("output rows %d for %d tokens", ti.Dims[1], len(want))
	}
}
