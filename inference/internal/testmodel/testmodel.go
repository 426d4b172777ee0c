// Package testmodel finds the shared test data (models, vocabularies and reference
// outputs) for the inference tests, and reads the reference files.
package testmodel

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// SharedDir returns the shared/testdata directory found by walking up from the working
// directory, or skips the test when there is none.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		for _, c := range []string{filepath.Join(dir, "shared", "testdata"), filepath.Join(dir, "..", "shared", "testdata")} {
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("shared/testdata not found above the working directory; the model tests need ../shared/testdata")
		}
		dir = parent
	}
}

// Path returns a file under shared/testdata, skipping the test when it is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(SharedDir(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not available: %v", rel, err)
	}
	return p
}

// Stories260K is the path of the stories260K GGUF model.
const Stories260K = "models/stories260K/stories260K.gguf"

// IDs is a reference generation: the prompt ids and the ids that followed.
type IDs struct {
	Prompt []int32
	Next   []int32
}

// ReadIDs reads an expected/*.ids file ("prompt_tokens: ..." and "next_tokens: ...").
func ReadIDs(tb testing.TB, path string) IDs {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var r IDs
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ids := parseInts(tb, val)
		switch strings.TrimSpace(key) {
		case "prompt_tokens":
			r.Prompt = ids
		case "next_tokens":
			r.Next = ids
		}
	}
	if len(r.Prompt) == 0 || len(r.Next) == 0 {
		tb.Fatalf("%s: no prompt_tokens or next_tokens", path)
	}
	return r
}

func parseInts(tb testing.TB, s string) []int32 {
	var out []int32
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			tb.Fatalf("bad id %q: %v", f, err)
		}
		out = append(out, int32(v))
	}
	return out
}

// Logits is the reference logits at one position.
type Logits struct {
	Pos, Token int
	Values     []float32
}

// ReadLogits reads expected/logits_*.txt: "pos=P token=T" headers each followed by one
// value per line.
func ReadLogits(tb testing.TB, path string) []Logits {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []Logits
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "pos=") {
			var l Logits
			for _, kv := range strings.Fields(line) {
				k, v, _ := strings.Cut(kv, "=")
				n, err := strconv.Atoi(v)
				if err != nil {
					tb.Fatalf("bad header %q", line)
				}
				switch k {
				case "pos":
					l.Pos = n
				case "token":
					l.Token = n
				}
			}
			out = append(out, l)
			continue
		}
		if len(out) == 0 {
			tb.Fatalf("%s: value before header", path)
		}
		v, err := strconv.ParseFloat(line, 32)
		if err != nil {
			tb.Fatalf("bad logit %q", line)
		}
		out[len(out)-1].Values = append(out[len(out)-1].Values, float32(v))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
