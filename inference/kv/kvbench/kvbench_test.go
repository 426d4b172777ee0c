package kvbench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/synth"
)

func openStories(tb testing.TB) *llama.Model {
	tb.Helper()
	f, err := gguf.OpenFile(testmodel.Path(tb, testmodel.Stories260K), gguf.Options{InMemory: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	m, err := llama.Load(f)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// With a budget of at least the sequence length, every policy gives the full cache's
// logits bit for bit, at every step of a prefill followed by decoding.
func TestBudgetAtLeastLengthIsExact(t *testing.T) {
	m := openStories(t)
	texts, err := Stories(context.Background(), m, 1, 200, 5, 1, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	text := texts[0]
	want, _, err := run(context.Background(), m, kv.Config{}, text, 100, 256, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range kv.Policies {
		for _, b := range []int{200, 256} {
			got, _, err := run(context.Background(), m, kv.Config{Policy: name, Budget: b}, text, 100, 256, 2)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				for j := range want[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("%s budget %d: logit %d of step %d is %v, full cache %v", name, b, j, i, got[i][j], want[i][j])
					}
				}
			}
		}
	}
}

// The acceptance figures of issue 8 on stories260K: SnapKV at half the cache agrees
// with the full cache on at least 95% of next tokens and beats StreamingLLM at every
// budget.
func TestStoriesQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("scores 4 long stories under 5 policies (-short)")
	}
	m := openStories(t)
	res, err := Quality(context.Background(), m, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]map[int]Result{}
	for _, r := range res {
		t.Logf("%-10s budget %4d  top1 %.4f  kl %.5f  kv_bytes %d  (%d positions)", r.Policy, r.Budget, r.Top1, r.KL, r.KVBytes, r.Positions)
		if by[r.Policy] == nil {
			by[r.Policy] = map[int]Result{}
		}
		by[r.Policy][r.Budget] = r
	}
	if f := by[kv.PolicyFull][m.Context]; f.Top1 != 1 || f.KL != 0 {
		t.Errorf("full cache against itself: %+v", f)
	}
	half := m.Context / 2
	if s := by[kv.PolicySnapKV][half]; s.Top1 < 0.95 {
		t.Errorf("SnapKV at half the cache: top-1 agreement %.4f < 0.95", s.Top1)
	}
	for b, s := range by[kv.PolicySnapKV] {
		if st := by[kv.PolicyStreaming][b]; s.Top1 <= st.Top1 {
			t.Errorf("budget %d: SnapKV (top1 %.4f, kl %.5f) does not beat StreamingLLM (top1 %.4f, kl %.5f)", b, s.Top1, s.KL, st.Top1, st.KL)
		}
		if s.KVBytes >= by[kv.PolicyFull][m.Context].KVBytes {
			t.Errorf("budget %d: SnapKV holds %d bytes, full %d", b, s.KVBytes, by[kv.PolicyFull][m.Context].KVBytes)
		}
	}
}

// Decode runs end to end on a small random-weight model: the compressed cache holds
// the budget and the measurement is complete. (Its speed is measured by
// `ctxfs bench kv --decode`, not asserted here.)
func TestDecodeSmallSynth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	shape := synth.Shape{Name: "tiny", Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 256, Context: 1024}
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Type: gguf.TypeF32, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.OpenFile(path, gguf.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := llama.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{kv.PolicySnapKV, kv.PolicyStreaming, kv.PolicyH2O, kv.PolicyPyramidKV} {
		r, err := Decode(context.Background(), m, DecodeOptions{Context: 300, Budget: 40, Tokens: 5, Policy: p, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		perSlot := int64(m.Layers * m.KVHeads * m.HeadDim * 8)
		if r.FullBytes != 300*perSlot || r.CompressedBytes != 40*perSlot || r.FullTPS <= 0 || r.CompressedTPS <= 0 {
			t.Errorf("%s: %+v", p, r)
		}
	}
}
