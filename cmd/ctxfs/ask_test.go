package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

type askOut struct {
	Answer     string `json:"answer"`
	ManifestID string `json:"manifest_id"`
	Evaluation struct {
		ID      string `json:"id"`
		Saved   string `json:"saved"`
		Context struct {
			Tokens     int  `json:"tokens"`
			BudgetKept bool `json:"budget_kept"`
			Identical  bool `json:"identical"`
		} `json:"context"`
		Answer *struct {
			Support float64 `json:"support"`
		} `json:"answer"`
	} `json:"evaluation"`
	PDR *struct {
		SequentialTokens int `json:"sequential_tokens"`
		TotalTokens      int `json:"total_tokens"`
		Calls            int `json:"calls"`
	} `json:"pdr"`
}

func parseAsk(tb testing.TB, r result) askOut {
	tb.Helper()
	if r.code != 0 {
		tb.Fatalf("ask: exit %d: %s", r.code, r.stderr)
	}
	var out askOut
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		tb.Fatalf("ask --json: %v\n%s", err, r.stdout)
	}
	if out.Answer == "" || out.ManifestID == "" || out.Evaluation.ID == "" || !out.Evaluation.Context.BudgetKept || out.Evaluation.Answer == nil {
		tb.Fatalf("ask result %+v", out)
	}
	return out
}

// checkHistory checks that an ask left its manifest, evaluation and turn in history,
// and its exchange in persona memory and the workspace.
func checkHistory(tb testing.TB, data string, out askOut, question string) {
	tb.Helper()
	manifest := mustRun(tb, data, nil, "cat", "/history/ask/contexts/"+out.ManifestID+".json")
	if !strings.Contains(manifest, question) {
		tb.Fatalf("manifest %s lacks the question: %s", out.ManifestID, manifest)
	}
	ev := mustRun(tb, data, nil, "cat", out.Evaluation.Saved)
	if !strings.Contains(ev, out.ManifestID) || !strings.Contains(ev, `"answer_text"`) {
		tb.Fatalf("evaluation %s: %s", out.Evaluation.Saved, ev)
	}
	turns := mustRun(tb, data, nil, "cat", "/history/ask/turns.jsonl")
	if !strings.Contains(turns, question) {
		tb.Fatalf("turns.jsonl lacks the question: %s", turns)
	}
	if ls := mustRun(tb, data, nil, "ls", "/memory/lily"); !strings.Contains(ls, "persona.md") {
		tb.Fatalf("persona memory of lily: %s", ls)
	}
	if ls := mustRun(tb, data, nil, "ls", "/workspace/park"); ls == "" {
		tb.Fatal("workspace park is empty")
	}
}

func seedNotes(tb testing.TB, data string) {
	tb.Helper()
	mustRun(tb, data, []byte("# Park\nLily went to the park with her dog Max. They played with a big red ball under the tree.\n"), "put", "/notes/park.md")
	mustRun(tb, data, []byte("# Cake\nTom baked a cake for his mom. It was a chocolate cake with cream.\n"), "put", "/notes/cake.md")
}

func TestAskLocal(t *testing.T) {
	model := filepath.Join(sharedTestdata(t), "models", "stories260K", "stories260K.gguf")
	data := t.TempDir()
	seedNotes(t, data)
	q := "I have a dog named Max. Where did Lily go with her dog?"
	out := parseAsk(t, runCLI(t, data, nil, "ask", q, "--model", model, "--user", "lily", "--workspace", "park",
		"--source", "/notes/**", "--budget", "200", "-n", "24", "--json"))
	if out.Evaluation.Context.Tokens > 200 || !out.Evaluation.Context.Identical {
		t.Fatalf("context check %+v", out.Evaluation.Context)
	}
	checkHistory(t, data, out, q)

	// PDR, with the KV cache compressed by SnapKV.
	q2 := "What did Tom bake?"
	out = parseAsk(t, runCLI(t, data, nil, "ask", q2, "--model", model, "--user", "lily", "--workspace", "park",
		"--source", "/notes/**", "--budget", "200", "-n", "16", "--temp", "0.8", "--seed", "3",
		"--pdr", "2,2,24", "--distill", "extractive", "--kv-policy", "snapkv", "--kv-budget", "128", "--json"))
	if out.PDR == nil || out.PDR.Calls != 3 || out.PDR.TotalTokens <= out.PDR.SequentialTokens {
		t.Fatalf("pdr %+v", out.PDR)
	}
	if turns := mustRun(t, data, nil, "cat", "/history/ask/turns.jsonl"); !strings.Contains(turns, q) || !strings.Contains(turns, q2) {
		t.Fatalf("turns.jsonl: %s", turns)
	}
	if r := runCLI(t, data, nil, "ask", q, "--model", model, "--pdr", "2,2"); r.code == 0 {
		t.Fatal("ask --pdr 2,2 succeeded")
	}
	if r := runCLI(t, data, nil, "ask", q); r.code == 0 {
		t.Fatal("ask without a model succeeded")
	}
}

// ask against a remote OpenAI-compatible server: ctxfs's own serve --model.
func TestAskRemote(t *testing.T) {
	model := filepath.Join(sharedTestdata(t), "models", "stories260K", "stories260K.gguf")
	server := t.TempDir()
	var tok struct{ Token string }
	json.Unmarshal([]byte(mustRun(t, server, nil, "principal", "add", "bot", "--json")), &tok)
	addr := freeAddr(t)
	startDaemon(t, server, "serving", "serve", "--addr", addr, "--model", model)

	data := t.TempDir()
	seedNotes(t, data)
	q := "I have a dog named Max. Where did Lily go with her dog?"
	out := parseAsk(t, runCLI(t, data, nil, "ask", q, "--endpoint", "http://"+addr+"/v1", "--api-key", tok.Token,
		"--user", "lily", "--workspace", "park", "--source", "/notes/**", "--budget", "200", "-n", "24", "--json"))
	checkHistory(t, data, out, q)
	if r := runCLI(t, data, nil, "ask", q, "--endpoint", "http://"+addr+"/v1", "--api-key", "wrong"); r.code == 0 {
		t.Fatal("ask with a wrong API key succeeded")
	}
}
