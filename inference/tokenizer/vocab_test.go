package tokenizer_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
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
	toks := map[string]tokenizer.Tokenizer{
		"ggml-vocab-llama-spm.gguf": load(t, vocabPath(t, "ggml-vocab-llama-spm.gguf")),
		"tokenizer.bin":             llama2cTokenizer(t, filepath.Join(filepath.Dir(path), "tokenizer.bin")),
	}
	for name, tok := range toks {
		if tok.VocabSize() != 32000 || tok.BOS() != 1 || tok.EOS() != 2 {
			t.Fatalf("%s: vocab %d, bos %d, eos %d", name, tok.VocabSize(), tok.BOS(), tok.EOS())
		}
		pass := 0
		for i, c := range doc.Cases {
			got := tok.Encode(c.Text, tokenizer.EncodeOptions{AddBOS: true})
			if !slices.Equal(got, c.IDs) {
				t.Errorf("%s case %d %q:\n got %v\nwant %v", name, i, c.Text, got, c.IDs)
				continue
			}
			if dec := tok.Decode(got); dec != c.Text {
				t.Errorf("%s case %d: Decode = %q, want %q", name, i, dec, c.Text)
				continue
			}
			pass++
		}
		t.Logf("llama2 with %s: %d/%d cases pass", name, pass, len(doc.Cases))
	}
}

// llama2cTokenizer reads llama2.c's tokenizer.bin (Meta's Llama 2
// SentencePiece vocabulary and scores, exported with spaces for "▁") into
// an SPM tokenizer, so the SPM algorithm is also checked against the
// original vocabulary, independently of the GGUF conversion.
func llama2cTokenizer(t *testing.T, path string) tokenizer.Tokenizer {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	var texts []string
	var scores []float32
	var types []tokenizer.TokenType
	for off := 4; off < len(data); {
		if off+8 > len(data) {
			t.Fatalf("tokenizer.bin truncated at %d", off)
		}
		score := math.Float32frombits(le.Uint32(data[off:]))
		n := int(le.Uint32(data[off+4:]))
		off += 8
		if n < 0 || off+n > len(data) {
			t.Fatalf("tokenizer.bin: bad length %d at %d", n, off)
		}
		s := string(data[off : off+n])
		off += n
		id := len(texts)
		typ := tokenizer.TypeNormal
		switch {
		case id == 0:
			typ, s = tokenizer.TypeUnknown, "<unk>"
		case id == 1:
			typ, s = tokenizer.TypeControl, "<s>"
		case id == 2:
			typ, s = tokenizer.TypeControl, "</s>"
		case len(s) == 6 && strings.HasPrefix(s, "<0x") && strings.HasSuffix(s, ">"):
			typ = tokenizer.TypeByte
		default:
			s = strings.ReplaceAll(s, " ", "▁")
		}
		texts = append(texts, s)
		scores = append(scores, score)
		types = append(types, typ)
	}
	return tokenizer.NewSPM(texts, scores, types, tokenizer.SPMOptions{BOS: 1, EOS: 2, UNK: 0, AddBOS: true, AddSpacePrefix: true})
}
