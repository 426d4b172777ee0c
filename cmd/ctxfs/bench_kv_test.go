package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestBenchKVCLI(t *testing.T) {
	td := sharedTestdata(t)
	model := filepath.Join(td, "models/stories260K/stories260K.gguf")
	r := runCLI(t, t.TempDir(), nil, "bench", "kv", "--model", model, "--policies", "full,streaming,snapkv",
		"--budgets", "32,64", "--texts", "1", "--length", "128", "--threads", "2", "--json")
	if r.code != 0 {
		t.Fatalf("bench kv: %d %s", r.code, r.stderr)
	}
	var out struct {
		Results []struct {
			Policy  string  `json:"policy"`
			Budget  int     `json:"budget"`
			Top1    float64 `json:"top1"`
			KL      float64 `json:"kl"`
			KVBytes int64   `json:"kv_bytes"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("bench kv --json: %v\n%s", err, r.stdout)
	}
	if len(out.Results) != 5 || out.Results[0].Policy != "full" || out.Results[0].Top1 != 1 || out.Results[0].Budget != 128 {
		t.Fatalf("results: %+v", out.Results)
	}
	for _, res := range out.Results[1:] {
		if res.Top1 <= 0 || res.Top1 > 1 || res.KL < 0 || res.KVBytes >= out.Results[0].KVBytes {
			t.Errorf("result %+v (full holds %d bytes)", res, out.Results[0].KVBytes)
		}
	}
	if r := runCLI(t, t.TempDir(), nil, "bench", "kv", "--model", model, "--policies", "lru"); r.code == 0 {
		t.Error("bench kv --policies lru succeeded")
	}
	if r := runCLI(t, t.TempDir(), nil, "bench", "kv", "--model", model, "--budgets", "0"); r.code == 0 {
		t.Error("bench kv --budgets 0 succeeded")
	}
}
