package gguf_test

import (
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
)

// FuzzOpen checks that arbitrary input never panics the parser and that
// whatever it accepts is internally consistent.
func FuzzOpen(f *testing.F) {
	good := validFile(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := gguf.OpenBytes(data)
		if err != nil {
			return
		}
		for _, ti := range g.Tensors() {
			if uint64(len(ti.Data())) != ti.Size {
				t.Fatalf("tensor %s: %d bytes of data, size %d", ti.Name, len(ti.Data()), ti.Size)
			}
			if got, ok := g.Tensor(ti.Name); !ok || got != ti {
				t.Fatalf("Tensor(%q) lookup mismatch", ti.Name)
			}
		}
		for _, kv := range g.KVs() {
			if v, ok := g.Value(kv.Key); !ok || v == nil {
				t.Fatalf("Value(%q) missing", kv.Key)
			}
			g.Uint(kv.Key)
			g.Int32s(kv.Key)
			g.Strings(kv.Key)
		}
	})
}
