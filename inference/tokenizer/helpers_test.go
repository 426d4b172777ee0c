package tokenizer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// sharedTestdata finds the project's shared/testdata/rel by walking up
// from the working directory, or skips the test.
func sharedTestdata(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "testdata", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skipf("shared/testdata/%s not found above the working directory; it holds the reference vocabularies and token ids", rel)
		}
		dir = parent
	}
}

func vocabPath(tb testing.TB, name string) string {
	return filepath.Join(sharedTestdata(tb, "tokenizers/llama.cpp-vocab"), name)
}

func load(tb testing.TB, path string) tokenizer.Tokenizer {
	tb.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
