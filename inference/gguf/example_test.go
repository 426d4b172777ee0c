package gguf_test

import (
	"bytes"
	"fmt"

	"github.com/ctxfs/ctxfs/inference/gguf"
)

// Write a small model file and read it back.
func Example() {
	w := gguf.NewWriter()
	w.Set("general.architecture", "llama")
	w.Set("llama.block_count", uint32(2))
	w.Set("tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>"})
	w.AddTensor("output_norm.weight", gguf.TypeF32, []uint64{4}, make([]byte, 16))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		panic(err)
	}

	f, err := gguf.OpenBytes(buf.Bytes())
	if err != nil {
		panic(err)
	}
	layers, _ := f.Uint("llama.block_count")
	tokens, _ := f.Strings("tokenizer.ggml.tokens")
	t, _ := f.Tensor("output_norm.weight")
	fmt.Println(f.Arch(), layers, len(tokens), t.Type, t.Dims, len(t.Data()))
	// Output: llama 2 3 F32 [4] 16
}
