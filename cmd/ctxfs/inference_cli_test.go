package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedTestdata finds shared/testdata above the working directory or skips.
func sharedTestdata(tb testing.TB) string {
	tb.Helper()
	dir, _ := os.Getwd()
	for {
		for _, c := range []string{filepath.Join(dir, "shared", "testdata"), filepath.Join(dir, "..", "shared", "testdata")} {
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c
			}
		}
		if parent := filepath.Dir(dir); parent != dir {
			dir = parent
			continue
		}
		tb.Skip("shared/testdata not found; the inference CLI tests need ../shared/testdata")
	}
}

func TestInferenceCLI(t *testing.T) {
	td := sharedTestdata(t)
	model := filepath.Join(td, "models/stories260K/stories260K.gguf")
	data := t.TempDir()

	r := runCLI(t, data, nil, "generate", "--model", model, "--prompt", "Once upon a time", "-n", "60", "--json")
	if r.code != 0 {
		t.Fatalf("generate: %d %s", r.code, r.stderr)
	}
	var gen struct {
		Text         string  `json:"text"`
		Tokens       []int32 `json:"tokens"`
		PromptTokens []int32 `json:"prompt_tokens"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &gen); err != nil {
		t.Fatalf("generate --json: %v\n%s", err, r.stdout)
	}
	// greedy_t0_n64_prompt_Once_upon_a_time.ids: prompt 1 403 407 261 378, then
	// 432 383 286 261 376 298 ...
	if !slices.Equal(gen.PromptTokens, []int32{1, 403, 407, 261, 378}) || len(gen.Tokens) != 60 ||
		!slices.Equal(gen.Tokens[:6], []int32{432, 383, 286, 261, 376, 298}) || !strings.HasPrefix(gen.Text, ", there was a little girl named Lily") {
		t.Fatalf("generate: %+v", gen)
	}
	r = runCLI(t, data, nil, "generate", "--model", model, "--prompt", "", "-n", "4", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"prompt_tokens": [`) || !strings.Contains(r.stdout, "403") {
		t.Fatalf("generate from BOS: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, data, nil, "generate", "--model", model, "--prompt", "Once upon a time", "-n", "10")
	if r.code != 0 || !strings.HasPrefix(r.stdout, ", there was a little girl") {
		t.Fatalf("generate (streamed): %d %q %s", r.code, r.stdout, r.stderr)
	}

	r = runCLI(t, data, []byte("Once upon a time"), "tokenize", "--model", model, "--bos")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "1 403 407 261 378" {
		t.Fatalf("tokenize: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, data, []byte(`["Once upon a time", ""]`), "tokenize", "--model", model, "--batch")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[[403,407,261,378],[]]" {
		t.Fatalf("tokenize --batch: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, data, []byte("Once upon a time"), "tokenize", "--model", model, "--count")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "4" {
		t.Fatalf("tokenize --count: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, data, nil, "generate", "--prompt", "x")
	if r.code != 2 {
		t.Fatalf("generate without --model: exit %d, want 2", r.code)
	}

	// A synthetic model of the 110M shape with the llama vocabulary.
	synthPath := filepath.Join(t.TempDir(), "110m-q4_0.gguf")
	vocab := filepath.Join(td, "tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")
	r = runCLI(t, data, nil, "model", "synth", "--shape", "110m", "--type", "q4_0", "--vocab", vocab, synthPath)
	if r.code != 0 {
		t.Fatalf("model synth: %d %s", r.code, r.stderr)
	}
	r = runCLI(t, data, nil, "model", "info", synthPath, "--json")
	var info struct {
		Arch        string         `json:"arch"`
		Parameters  uint64         `json:"parameters"`
		TensorTypes map[string]int `json:"tensor_types"`
		VocabSize   int            `json:"vocab_size"`
		Supported   bool           `json:"supported"`
		Config      struct {
			Dim, Layers int
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || r.code != 0 {
		t.Fatalf("model info: %v %d %s %s", err, r.code, r.stdout, r.stderr)
	}
	if info.Arch != "llama" || !info.Supported || info.VocabSize != 32000 || info.Config.Dim != 768 || info.Config.Layers != 12 ||
		info.TensorTypes["Q4_0"] != 12*7+2 || info.Parameters < 100e6 || info.Parameters > 140e6 {
		t.Fatalf("model info: %+v", info)
	}
	r = runCLI(t, data, nil, "bench", "inference", "--model", synthPath, "--threads", "2", "--prompt-tokens", "8", "--gen-tokens", "4", "--json")
	var b map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || r.code != 0 {
		t.Fatalf("bench: %v %d %s %s", err, r.code, r.stdout, r.stderr)
	}
	for _, k := range []string{"prefill_tps", "decode_tps", "peak_rss_bytes", "bandwidth_fraction"} {
		if v, ok := b[k].(float64); !ok || v <= 0 {
			t.Fatalf("bench %s = %v in %s", k, b[k], r.stdout)
		}
	}
	if b["threads"].(float64) != 2 || b["mode"] != "memory" {
		t.Fatalf("bench: %s", r.stdout)
	}
	r = runCLI(t, data, nil, "model", "synth", "--shape", "7b", "--type", "q4_0", synthPath)
	if r.code != 2 {
		t.Fatalf("synth with a bad shape: exit %d, want 2", r.code)
	}
}
