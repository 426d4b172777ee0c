package tokenizer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// readCases reads llama.cpp's test-tokenizer-0 vectors: texts separated by
// "\n__ggml_vocab_test__\n" and one line of expected ids per text.
func readCases(tb testing.TB, base string) (texts []string, want [][]int32) {
	tb.Helper()
	inp, err := os.ReadFile(base + ".inp")
	if err != nil {
		tb.Fatal(err)
	}
	out, err := os.ReadFile(base + ".out")
	if err != nil {
		tb.Fatal(err)
	}
	texts = strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if texts[len(texts)-1] == "" {
		texts = texts[:len(texts)-1]
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(texts) {
		tb.Fatalf("%s: %d texts, %d id lines", base, len(texts), len(lines))
	}
	for _, l := range lines {
		var ids []int32
		for _, f := range strings.Fields(l) {
			n, err := strconv.Atoi(f)
			if err != nil {
				tb.Fatal(err)
			}
			ids = append(ids, int32(n))
		}
		want = append(want, ids)
	}
	return texts, want
}

func TestLlamaCppVocabs(t *testing.T) {
	dir := sharedTestdata(t, "tokenizers/llama.cpp-vocab")
	inps, _ := filepath.Glob(filepath.Join(dir, "*.gguf.inp"))
	if len(inps) == 0 {
		t.Skip("no .inp files")
	}
	for _, inp := range inps {
		base := strings.TrimSuffix(inp, ".inp")
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(base), "ggml-vocab-"), ".gguf")
		t.Run(name, func(t *testing.T) {
			tok := load(t, base)
			texts, want := readCases(t, base)
			pass := 0
			for i, text := range texts {
				got := tok.Encode(text, tokenizer.EncodeOptions{})
				if slices.Equal(got, want[i]) {
					pass++
				} else {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, text, got, want[i])
				}
				if n := tok.Count(text); n != len(want[i]) {
					t.Errorf("case %d: Count = %d, want %d", i, n, len(want[i]))
				}
			}
			t.Logf("%s: %d/%d cases pass", name, pass, len(texts))
		})
	}
}

// The Llama 2 vectors were produced with Meta's SentencePiece model, whose
// vocabulary is the one in ggml-vocab-llama-spm.gguf.
func TestLlama2(t *testing.T) {
	path := filepath.Join(sharedTestdata(t, "tokenizers/llama2"), "llama2_tokenizer_tests.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids_with_bos"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no cases")
	}
	tok := load(t, vocabPath(t, "ggml-vocab-llama-spm.gguf"))
	if tok.VocabSize() != 32000 || tok.BOS() != 1 || tok.EOS() != 2 {
		t.Fatalf("vocab %d, bos %d, eos %d", tok.VocabSize(), tok.BOS(), tok.EOS())
	}
	for i, c := range doc.Cases {
		got := tok.Encode(c.Text, tokenizer.EncodeOptions{AddBOS: true})
		if !slices.Equal(got, c.IDs) {
			t.Errorf("case %d %q:\n got %v\nwant %v", i, c.Text, got, c.IDs)
		}
		if dec := tok.Decode(got); dec != c.Text {
			t.Errorf("case %d: Decode = %q, want %q", i, dec, c.Text)
		}
	}
	t.Logf("llama2: %d cases", len(doc.Cases))
}
