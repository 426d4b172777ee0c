package tokenizer_test

import (
	"testing"

	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// BenchmarkEncode measures Encode throughput per vocabulary on the same
// ~64 KiB of mixed prose, code and Unicode.
func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	toks := fuzzToks()
	for _, name := range []string{"llama-spm", "gpt-2", "deepseek-coder", "falcon", "cl100k", "o200k"} {
		tok := toks[name]
		if tok == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			loopCPU(b, len(text), func() { tok.Encode(text, tokenizer.EncodeOptions{}) })
		})
	}
}
