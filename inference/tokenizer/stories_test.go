package tokenizer_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// readIDs parses a "prompt_tokens: ...\nnext_tokens: ..." reference file.
func readIDs(t *testing.T, path string) (prompt, next []int32) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var ids []int32
		for _, f := range strings.Fields(val) {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, int32(n))
		}
		switch key {
		case "prompt_tokens":
			prompt = ids
		case "next_tokens":
			next = ids
		}
	}
	return prompt, next
}

// The stories260K model's own 512-token vocabulary: the prompt ids and the
// decoded text of llama2.c's reference generations.
func TestStories260K(t *testing.T) {
	dir := sharedTestdata(t, "models/stories260K")
	tok := load(t, filepath.Join(dir, "stories260K.gguf"))
	if tok.VocabSize() != 512 || tok.BOS() != 1 {
		t.Fatalf("vocab %d bos %d", tok.VocabSize(), tok.BOS())
	}
	prompt, _ := readIDs(t, filepath.Join(dir, "expected", "greedy_t0_n64_prompt_Once_upon_a_time.ids"))
	if got := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true}); !slices.Equal(got, prompt) {
		t.Errorf("prompt ids %v, want %v", got, prompt)
	}
	for _, name := range []string{"greedy_t0_n256", "greedy_t0_n64_prompt_Once_upon_a_time", "sample_t1_p0.9_seed133742_n256"} {
		_, next := readIDs(t, filepath.Join(dir, "expected", name+".ids"))
		want, err := os.ReadFile(filepath.Join(dir, "expected", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		got := tok.Decode(next)
		if strings.TrimRight(got, "\n") != strings.TrimRight(string(want), "\n") {
			t.Errorf("%s: Decode =\n%q\nwant\n%q", name, got, want)
		}
		// Streaming gives the same text.
		d := tokenizer.NewStreamDecoder(tok)
		var b strings.Builder
		for _, id := range next {
			b.WriteString(d.Add(id))
		}
		b.WriteString(d.Flush())
		if b.String() != got {
			t.Errorf("%s: streamed text differs", name)
		}
	}
}
