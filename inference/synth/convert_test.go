package synth

import (
	"bytes"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/llama"
)

// TestConvertKeepsAlignment converts a model that sets general.alignment and checks that
// the streamed tensor data lands where the reader expects it.
func TestConvertKeepsAlignment(t *testing.T) {
	var src bytes.Buffer
	if _, err := Write(&src, Options{Shape: tiny, Type: gguf.TypeF32, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.OpenBytes(src.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	gw := gguf.NewWriter()
	for _, kv := range f.KVs() {
		gw.Set(kv.Key, kv.Value)
	}
	if err := gw.Set("general.alignment", uint32(64)); err != nil {
		t.Fatal(err)
	}
	for _, ti := range f.Tensors() {
		gw.AddTensor(ti.Name, ti.Type, ti.Dims, ti.Data())
	}
	var aligned bytes.Buffer
	if _, err := gw.WriteTo(&aligned); err != nil {
		t.Fatal(err)
	}
	af, err := gguf.OpenBytes(aligned.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Convert(&out, af, gguf.TypeF32); err != nil {
		t.Fatal(err)
	}
	cf, err := gguf.OpenBytes(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if cf.Alignment() != 64 {
		t.Fatalf("alignment %d", cf.Alignment())
	}
	for _, ti := range f.Tensors() {
		ct, ok := cf.Tensor(ti.Name)
		if !ok || !bytes.Equal(ct.Data(), ti.Data()) {
			t.Fatalf("tensor %s differs after conversion", ti.Name)
		}
	}
	if _, err := llama.Load(cf); err != nil {
		t.Fatal(err)
	}
}
