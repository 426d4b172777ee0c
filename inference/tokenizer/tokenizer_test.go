package tokenizer_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

func TestSpecialTokensAndBOS(t *testing.T) {
	tok := load(t, vocabPath(t, "ggml-vocab-llama-spm.gguf"))
	if !tokenizer.DefaultAddBOS(tok) {
		t.Error("llama-spm should want BOS")
	}
	plain := tok.Encode("<s>Hi", tokenizer.EncodeOptions{})
	if slices.Contains(plain, 1) {
		t.Errorf("<s> parsed without ParseSpecial: %v", plain)
	}
	special := tok.Encode("<s>Hi</s>", tokenizer.EncodeOptions{ParseSpecial: true, AddBOS: true})
	if len(special) < 4 || special[0] != 1 || special[1] != 1 || special[len(special)-1] != 2 {
		t.Errorf("ParseSpecial+AddBOS: %v", special)
	}
	if got := tok.Decode(special); got != "Hi" {
		t.Errorf("Decode drops control tokens: got %q", got)
	}
	if tok.Piece(1) != "<s>" || tok.Piece(29871) != " " || tok.Piece(3+0x41) != "A" || tok.Piece(-1) != "" || tok.Piece(1<<30) != "" {
		t.Errorf("Piece: %q %q %q", tok.Piece(1), tok.Piece(29871), tok.Piece(3+0x41))
	}
	if got := tok.Encode("", tokenizer.EncodeOptions{AddBOS: true}); !slices.Equal(got, []int32{1}) {
		t.Errorf("empty with BOS: %v", got)
	}
	if got := tok.Encode("", tokenizer.EncodeOptions{}); len(got) != 0 || tok.Count("") != 0 {
		t.Errorf("empty: %v", got)
	}

	// gpt-2 has no add_bos_token; deepseek-coder's user-defined tokens are
	// always recognized.
	if tokenizer.DefaultAddBOS(load(t, vocabPath(t, "ggml-vocab-gpt-2.gguf"))) {
		t.Error("gpt-2 should not want BOS")
	}
	ds := load(t, vocabPath(t, "ggml-vocab-deepseek-coder.gguf"))
	if got := ds.Encode("õ", tokenizer.EncodeOptions{}); !slices.Equal(got, []int32{32000}) {
		t.Errorf("user-defined token: %v", got)
	}
}

func TestStreamDecoder(t *testing.T) {
	tok := load(t, vocabPath(t, "ggml-vocab-llama-spm.gguf"))
	text := "Llamas 🦙 and rockets 🚀!"
	ids := tok.Encode(text, tokenizer.EncodeOptions{AddBOS: true})
	d := tokenizer.NewStreamDecoder(tok)
	var parts []string
	for _, id := range ids {
		parts = append(parts, d.Add(id))
	}
	parts = append(parts, d.Flush())
	var joined bytes.Buffer
	held := false
	for _, p := range parts {
		joined.WriteString(p)
		if p == "" {
			held = true
		}
	}
	if joined.String() != text {
		t.Errorf("streamed %q", joined.String())
	}
	if !held {
		t.Error("expected the decoder to hold back partial UTF-8 from byte tokens")
	}
	// A dangling partial character comes out on Flush.
	d = tokenizer.NewStreamDecoder(tok)
	if s := d.Add(3 + 0xF0); s != "" {
		t.Errorf("partial byte emitted early: %q", s)
	}
	if s := d.Flush(); s != "\xf0" {
		t.Errorf("Flush = %q", s)
	}
}

func writeVocab(t *testing.T, kv map[string]any) *gguf.File {
	t.Helper()
	w := gguf.NewWriter()
	for k, v := range kv {
		if err := w.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.OpenBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFromGGUFErrors(t *testing.T) {
	tokens := []string{"a", "b", "ab"}
	cases := []struct {
		name string
		kv   map[string]any
		want error
	}{
		{"no model", map[string]any{"tokenizer.ggml.tokens": tokens}, tokenizer.ErrNoVocab},
		{"no tokens", map[string]any{"tokenizer.ggml.model": "llama"}, tokenizer.ErrNoVocab},
		{"unknown model", map[string]any{"tokenizer.ggml.model": "t5", "tokenizer.ggml.tokens": tokens}, tokenizer.ErrUnsupported},
		{"no merges", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": tokens}, tokenizer.ErrNoVocab},
		{"unknown pre", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": tokens,
			"tokenizer.ggml.merges": []string{"a b"}, "tokenizer.ggml.pre": "no-such-pre"}, tokenizer.ErrUnsupported},
		{"short scores", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": tokens,
			"tokenizer.ggml.scores": []float32{1}}, tokenizer.ErrNoVocab},
		{"short types", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": tokens,
			"tokenizer.ggml.token_type": []int32{1}}, tokenizer.ErrNoVocab},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := tokenizer.FromGGUF(writeVocab(t, c.kv)); !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
}

// A tiny synthetic BPE vocabulary written with the gguf Writer: merges
// are applied by rank.
func TestSyntheticBPE(t *testing.T) {
	f := writeVocab(t, map[string]any{
		"tokenizer.ggml.model":  "gpt2",
		"tokenizer.ggml.pre":    "gpt-2",
		"tokenizer.ggml.tokens": []string{"a", "b", "c", "ab", "bc", "abc", "Ġ", "Ġa"},
		"tokenizer.ggml.merges": []string{"b c", "a b", "a bc", "Ġ a"},
	})
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	// "b c" outranks "a b", so abc = a + bc -> abc.
	for text, want := range map[string][]int32{"abc": {5}, "ab": {3}, "cab": {2, 3}, " a": {7}, "ba": {1, 0}} {
		if got := tok.Encode(text, tokenizer.EncodeOptions{}); !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", text, got, want)
		}
	}
	if got := tok.Decode([]int32{7, 5}); got != " aabc" {
		t.Errorf("Decode = %q", got)
	}
	// llama.cpp's default BOS/EOS for BPE (11) does not exist in an
	// 8-token vocabulary, so there is none.
	if tok.BOS() != -1 || tok.EOS() != -1 {
		t.Errorf("bos %d eos %d", tok.BOS(), tok.EOS())
	}
	if got := tok.Encode("a", tokenizer.EncodeOptions{AddBOS: true}); !slices.Equal(got, []int32{0}) {
		t.Errorf("AddBOS without a BOS token: %v", got)
	}
}
