package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
)

// TestSPMWordSplit checks that cutting SPM text into words before merging
// (an optimization valid when no token has "▁" after another character)
// gives the same ids as merging the whole text, on the Llama vocabulary.
func TestSPMWordSplit(t *testing.T) {
	dir, _ := os.Getwd()
	var path string
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "testdata", "tokenizers", "llama.cpp-vocab")
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
		if filepath.Dir(d) == d {
			t.Skip("shared/testdata not found; it holds the Llama vocabulary this test needs")
		}
	}
	f, err := gguf.Open(filepath.Join(path, "ggml-vocab-llama-spm.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	split := tok.(*SPM)
	if !split.wordSplit {
		t.Fatal("the Llama vocabulary should allow word splitting")
	}
	whole := NewSPM(split.texts, split.scores, split.types, split.opts)
	whole.wordSplit = false
	inp, err := os.ReadFile(filepath.Join(path, "ggml-vocab-llama-spm.gguf.inp"))
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	texts = append(texts, strings.Repeat("the  quick\tbrown ▁fox ", 50), "a▁b ▁▁c", "   ", "x ")
	for _, text := range texts {
		a := split.Encode(text, EncodeOptions{})
		b := whole.Encode(text, EncodeOptions{})
		if !slices.Equal(a, b) {
			t.Errorf("%q: word split %v, whole %v", text, a, b)
		}
	}

	// A vocabulary with "▁" inside a token must not be split.
	v := NewSPM([]string{"<unk>", "a▁b", "a"}, []float32{0, 0, 0}, []TokenType{TypeUnknown, TypeNormal, TypeNormal}, SPMOptions{})
	if v.wordSplit {
		t.Error("a token with an inner ▁ must disable word splitting")
	}
}
