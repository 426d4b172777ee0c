package tokenizer_test

import (
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

var fuzzSeeds = []string{
	"", " ", "Hello world", "  Hello\n\n\tworld  ", "ied 4 ½ months", "Führer",
	"🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅", "нещо на Български", "កាន់តែពិសេសអាចខលចេញ",
	"3333333 3.3 3..3", "I've been 'told he's there, 'RE you sure?", "<s></s><|endoftext|>", "\x00\x01\u00a0\u3000x",
}

// loadOptional loads a vocabulary from shared/testdata, or returns nil
// when the directory is absent.
func loadOptional(name string) tokenizer.Tokenizer {
	dir := findShared("tokenizers/llama.cpp-vocab")
	if dir == "" {
		return nil
	}
	f, err := gguf.Open(dir + "/" + name)
	if err != nil {
		return nil
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil
	}
	return tok
}

var fuzzToks = sync.OnceValue(func() map[string]tokenizer.Tokenizer {
	m := map[string]tokenizer.Tokenizer{}
	for _, name := range []string{"llama-spm", "gpt-2", "deepseek-coder", "mpt", "phi-3", "falcon"} {
		if t := loadOptional("ggml-vocab-" + name + ".gguf"); t != nil {
			m[name] = t
		}
	}
	if t, err := tokenizer.CL100K(); err == nil {
		m["cl100k"] = t
	}
	if t, err := tokenizer.O200K(); err == nil {
		m["o200k"] = t
	}
	return m
})

// representable reports whether every byte of text has a token in tok:
// some byte-level vocabularies (falcon) lack a few control bytes, which
// are then dropped, as llama.cpp drops them.
func representable(tok tokenizer.Tokenizer, text string) bool {
	for i := 0; i < len(text); i++ {
		if len(tok.Encode(text[i:i+1], tokenizer.EncodeOptions{})) == 0 {
			return false
		}
	}
	return true
}

func roundTrip(t *testing.T, name string, tok tokenizer.Tokenizer, text string) {
	if !representable(tok, text) {
		return
	}
	ids := tok.Encode(text, tokenizer.EncodeOptions{})
	if got := tok.Decode(ids); got != text {
		t.Fatalf("%s: Decode(Encode(%q)) = %q (ids %v)", name, text, got, ids)
	}
	if n := tok.Count(text); n != len(ids) {
		t.Fatalf("%s: Count(%q) = %d, Encode gave %d ids", name, text, n, len(ids))
	}
	d := tokenizer.NewStreamDecoder(tok)
	var streamed []byte
	for _, id := range ids {
		s := d.Add(id)
		if !utf8.ValidString(s) {
			t.Fatalf("%s: StreamDecoder returned invalid UTF-8 %q", name, s)
		}
		streamed = append(streamed, s...)
	}
	streamed = append(streamed, d.Flush()...)
	if string(streamed) != text {
		t.Fatalf("%s: streamed %q, want %q", name, streamed, text)
	}
}

// FuzzRoundTripSPM checks that valid UTF-8 survives Encode then Decode
// with the SentencePiece vocabularies (byte fallback makes them lossless).
func FuzzRoundTripSPM(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			t.Skip()
		}
		toks := fuzzToks()
		for _, name := range []string{"llama-spm", "phi-3"} {
			if tok := toks[name]; tok != nil {
				roundTrip(t, name, tok, text)
			}
		}
	})
}

// FuzzRoundTripBPE does the same for byte-level BPE vocabularies,
// including ones with user-defined tokens, and cl100k_base.
func FuzzRoundTripBPE(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			t.Skip()
		}
		for name, tok := range fuzzToks() {
			if name == "llama-spm" || name == "phi-3" {
				continue
			}
			roundTrip(t, name, tok, text)
		}
	})
}
