package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/sample"
	"github.com/ctxfs/ctxfs/inference/synth"
)

func TestRunStories(t *testing.T) {
	r, err := Run(context.Background(), Options{Model: testmodel.Path(t, testmodel.Stories260K), PromptTokens: 16, GenTokens: 8, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.PrefillTPS <= 0 || r.DecodeTPS <= 0 || r.PeakRSSBytes <= 0 || r.ReadBandwidth <= 0 || r.CopyBandwidth <= 0 {
		t.Fatalf("result %+v", r)
	}
	if r.BandwidthFraction <= 0 || r.Mode != "memory" || r.Threads != 2 {
		t.Fatalf("result %+v", r)
	}
}

// synthModel returns the path of a cached synthetic model, writing it on first use into
// a directory kept across runs (the 110M F32 model is about 540 MB).
func synthModel(tb testing.TB, shape, typ string) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "ctxfs-bench-models")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, shape+"-"+typ+".gguf")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tp, err := synth.ParseType(typ)
	if err != nil {
		tb.Fatal(err)
	}
	vocabPath := testmodel.Path(tb, "tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")
	vf, err := gguf.Open(vocabPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer vf.Close()
	tmp := path + ".tmp"
	if _, err := synth.WriteFile(tmp, synth.Options{Shape: synth.Shapes[shape], Type: tp, Vocab: vf, Seed: 1}); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkDecode measures decode speed (one token per op, weights read into memory)
// of the synthetic 110M model in every weight type with 1 and 2 threads. tokens/s is
// 1e9 / ns/op; the reported metrics include it and the fraction of the read-bandwidth
// bound.
func BenchmarkDecode(b *testing.B) {
	for _, typ := range []string{"f32", "f16", "q8_0", "q4_0"} {
		path := synthModel(b, "110m", typ)
		f, err := gguf.OpenFile(path, gguf.Options{InMemory: true})
		if err != nil {
			b.Fatal(err)
		}
		m, err := llama.Load(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("110m/%s/threads=%d", typ, threads), func(b *testing.B) {
				bw := ReadBandwidth(threads)
				s, err := llama.NewCPUSession(m, llama.SessionOptions{Threads: threads, Context: 1024})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				logits := make([]float32, m.Vocab)
				tok := []int32{1}
				b.ReportAllocs()
				for b.Loop() {
					if s.Pos() == 1024 {
						b.StopTimer()
						s.Rewind(0)
						b.StartTimer()
					}
					if err := s.Forward(tok, logits); err != nil {
						b.Fatal(err)
					}
					tok[0] = sample.Argmax(logits)
				}
				tps := float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(tps, "tokens/s")
				b.ReportMetric(tps*float64(m.WeightBytes())/bw, "bw-fraction")
			})
		}
		f.Close()
	}
}

// BenchmarkPrefill measures batched prompt processing (64 tokens per op) of the
// synthetic 110M model with 2 threads, weights in memory.
func BenchmarkPrefill(b *testing.B) {
	for _, typ := range []string{"f32", "q8_0", "q4_0"} {
		path := synthModel(b, "110m", typ)
		f, err := gguf.OpenFile(path, gguf.Options{InMemory: true})
		if err != nil {
			b.Fatal(err)
		}
		m, err := llama.Load(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("110m/"+typ+"/threads=2", func(b *testing.B) {
			s, err := llama.NewCPUSession(m, llama.SessionOptions{Threads: 2, Context: 64})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			prompt := make([]int32, 64)
			for i := range prompt {
				prompt[i] = int32(i * 97 % m.Vocab)
			}
			logits := make([]float32, m.Vocab)
			b.ReportAllocs()
			for b.Loop() {
				s.Rewind(0)
				if err := s.Forward(prompt, logits); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(prompt))/b.Elapsed().Seconds(), "tokens/s")
		})
		f.Close()
	}
}
