package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type builtJSON struct {
	Prompt   string `json:"prompt"`
	Tokens   int    `json:"tokens"`
	Saved    string `json:"saved"`
	Manifest struct {
		ID    string `json:"id"`
		Items []struct {
			Path    string `json:"path"`
			Version int64  `json:"version"`
			Unit    string `json:"unit"`
			Size    string `json:"size"`
			Tokens  int    `json:"tokens"`
			Why     string `json:"why"`
		} `json:"items"`
	} `json:"manifest"`
}

func seedHistory(tb testing.TB, data string) {
	tb.Helper()
	chat := "# Session 1 (1:56 pm on 8 May, 2023)\n\n" +
		"[D1:1] Ana: Hi Ben! I went to a pottery class yesterday.\n" +
		"[D1:2] Ben: Cool, what did you make?\n" +
		"[D1:3] Ana: A blue bowl for my mother. [image: a photo of a blue bowl]\n" +
		"[D1:4] Ben: I ran a marathon in Berlin last Sunday.\n"
	mustRun(tb, data, []byte(chat), "put", "/history/chat/s01.md")
	mustRun(tb, data, []byte("# Garden\n\nPlant the tomatoes in May.\n"), "put", "/notes/garden.md")
}

func TestContextBuildReplay(t *testing.T) {
	data := t.TempDir()
	seedHistory(t, data)

	text := mustRun(t, data, nil, "context", "build", "What did Ana make at the pottery class?", "--budget", "120", "--session", "chat")
	if !strings.Contains(text, "blue bowl") || !strings.Contains(text, "## s01.md (8 May 2023)") || !strings.Contains(text, "yesterday (7 May 2023)") {
		t.Fatalf("prompt:\n%s", text)
	}

	out := mustRun(t, data, nil, "context", "build", "pottery bowl garden", "--budget", "200", "--source", "/notes/**", "--source", "session:chat", "--session", "chat", "--json")
	var b builtJSON
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if b.Manifest.ID == "" || len(b.Manifest.Items) == 0 || b.Tokens > 200 || b.Tokens == 0 || b.Prompt == "" {
		t.Fatalf("build --json: %+v", b)
	}
	if b.Saved != "/history/chat/contexts/"+b.Manifest.ID+".json" {
		t.Fatalf("saved at %q", b.Saved)
	}
	// Change the files; the replay still gives the identical prompt.
	mustRun(t, data, []byte("# Session 1\n\n[D1:1] Ana: nothing left\n"), "put", "/history/chat/s01.md")
	mustRun(t, data, []byte("gone\n"), "put", "/notes/garden.md")
	if got := mustRun(t, data, nil, "context", "replay", b.Manifest.ID); got != b.Prompt {
		t.Fatalf("replay differs:\n%s\n---\n%s", got, b.Prompt)
	}
	show := mustRun(t, data, nil, "context", "show", b.Manifest.ID)
	if !strings.Contains(show, `"sha256"`) {
		t.Fatalf("show: %s", show)
	}

	for _, args := range [][]string{
		{"context", "build", "q"},                                    // no budget
		{"context", "build", "q", "--budget", "10", "--source", "x"}, // bad source
		{"context", "build"},
	} {
		if r := runCLI(t, data, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
	if r := runCLI(t, data, nil, "context", "replay", "20990101T000000-00000000"); r.code != 1 {
		t.Errorf("replay of unknown id: exit %d", r.code)
	}
}

func TestEvaluateAndReview(t *testing.T) {
	data := t.TempDir()
	seedHistory(t, data)
	var b builtJSON
	out := mustRun(t, data, nil, "context", "build", "What did Ana make?", "--budget", "150", "--session", "chat", "--json")
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	good := mustRun(t, data, nil, "evaluate", b.Manifest.ID, "--answer", "Ana made a blue bowl for her mother [D1:3].", "--json")
	var ev struct {
		Weak    bool   `json:"weak"`
		Saved   string `json:"saved"`
		Review  string `json:"review"`
		ID      string `json:"id"`
		Context struct {
			BudgetKept bool `json:"budget_kept"`
			Identical  bool `json:"identical"`
			Stale      int  `json:"stale"`
		} `json:"context"`
		Answer struct {
			Support float64 `json:"support"`
		} `json:"answer"`
	}
	if err := json.Unmarshal([]byte(good), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Weak || !ev.Context.BudgetKept || !ev.Context.Identical || ev.Answer.Support != 1 || !strings.HasPrefix(ev.Saved, "/history/chat/evaluations/") {
		t.Fatalf("good evaluation: %s", good)
	}

	// A changed file makes the context stale, and an invented answer weak.
	mustRun(t, data, []byte("# Session 1\n\n[D1:1] Ana: nothing left\n"), "put", "/history/chat/s01.md")
	weak := mustRun(t, data, nil, "evaluate", b.Manifest.ID, "--answer", "She flew to the moon [D5:5].")
	for _, want := range []string{"stale", "weak: queued for review", "name no item"} {
		if !strings.Contains(weak, want) {
			t.Errorf("evaluate output lacks %q:\n%s", want, weak)
		}
	}
	ls := mustRun(t, data, nil, "review", "ls", "--json")
	var items []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(ls), &items); err != nil || len(items) != 1 || items[0].Status != "pending" {
		t.Fatalf("review ls: %v %s", err, ls)
	}
	if got := mustRun(t, data, nil, "review", "reject", items[0].ID, "--note", "made up"); !strings.Contains(got, "rejected") {
		t.Fatalf("reject: %s", got)
	}
	if r := runCLI(t, data, nil, "review", "approve", items[0].ID); r.code != 1 {
		t.Fatalf("approving a decided item: exit %d", r.code)
	}
	if got := mustRun(t, data, nil, "review", "ls", "--status", "rejected"); !strings.Contains(got, items[0].ID) {
		t.Fatalf("rejected list: %s", got)
	}
	if got := mustRun(t, data, nil, "review", "ls"); strings.TrimSpace(got) != "" {
		t.Fatalf("pending not empty: %s", got)
	}
	if r := runCLI(t, data, nil, "review", "ls", "--status", "bogus"); r.code != 2 {
		t.Fatalf("bogus status: exit %d", r.code)
	}

	// Write-back: the exchange lands in the history and the user's memory.
	out = mustRun(t, data, nil, "context", "build", "I love running marathons. Where did Ben run one?", "--budget", "150", "--session", "chat", "--json")
	json.Unmarshal([]byte(out), &b)
	mustRun(t, data, nil, "evaluate", b.Manifest.ID, "--answer", "Ben ran a marathon in Berlin.", "--write-back", "--user", "ben")
	if got := mustRun(t, data, nil, "cat", "/history/chat/turns.jsonl"); !strings.Contains(got, "Berlin") {
		t.Fatalf("turns.jsonl: %s", got)
	}
	mustRun(t, data, nil, "stat", "/memory/ben/persona.md")
}

func TestBenchLocomoSmall(t *testing.T) {
	data := t.TempDir()
	conv := map[string]any{
		"sample_id": "t1",
		"conversation": map[string]any{
			"speaker_a": "Ana", "speaker_b": "Ben",
			"session_1_date_time": "1:56 pm on 8 May, 2023",
			"session_1": []map[string]any{
				{"speaker": "Ana", "dia_id": "D1:1", "text": "I went to a pottery class yesterday."},
				{"speaker": "Ben", "dia_id": "D1:2", "text": "What did you make?"},
				{"speaker": "Ana", "dia_id": "D1:3", "text": "A blue bowl.", "blip_caption": "a photo of a bowl"},
			},
			"session_2_date_time": "2:00 pm on 20 May, 2023",
			"session_2": []map[string]any{
				{"speaker": "Ben", "dia_id": "D2:1", "text": "I ran a marathon in Berlin last Sunday."},
				{"speaker": "Ana", "dia_id": "D2:2", "text": "Wow, congratulations!"},
			},
		},
		"observation":     "SECRET-OBSERVATION",
		"session_summary": "SECRET-SUMMARY",
		"qa": []map[string]any{
			{"question": "When did Ana go to the pottery class?", "answer": "7 May 2023", "evidence": []string{"D1:1"}, "category": 2},
			{"question": "Where did Ben run a marathon?", "answer": "Berlin", "evidence": []string{"D2:01"}, "category": 4},
			{"question": "What did Ana make?", "answer": "SECRET-ANSWER", "evidence": []string{"D1:3; D1:2"}, "category": 1},
			{"question": "Unanswerable?", "evidence": []string{"D9:9"}, "category": 5},
		},
	}
	raw, _ := json.Marshal([]any{conv})
	file := filepath.Join(t.TempDir(), "locomo.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, data, nil, "bench", "locomo", file, "--budgets", "64,256", "--json", "--detail")
	var r struct {
		Results []struct {
			Method     string             `json:"method"`
			Budget     int                `json:"budget"`
			Recall     float64            `json:"recall"`
			TokensMean float64            `json:"tokens_mean"`
			P50        float64            `json:"p50_ms"`
			P99        float64            `json:"p99_ms"`
			ByCategory map[string]float64 `json:"by_category"`
		} `json:"results"`
		Questions []struct {
			SampleID string   `json:"sample_id"`
			QAIndex  int      `json:"qa_index"`
			Category int      `json:"category"`
			Budget   int      `json:"budget"`
			Evidence []string `json:"evidence"`
			Found    []string `json:"found"`
			Tokens   int      `json:"tokens"`
			Context  string   `json:"context"`
		} `json:"questions"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(r.Results) != 4 {
		t.Fatalf("want 4 rows (2 methods x 2 budgets), got %d", len(r.Results))
	}
	for _, row := range r.Results {
		if row.Budget == 256 && row.Recall != 1 {
			t.Errorf("%s@256 recall %v, want 1 on a five-turn conversation", row.Method, row.Recall)
		}
		if row.TokensMean > float64(row.Budget) || len(row.ByCategory) != 3 {
			t.Errorf("row %+v", row)
		}
	}
	if len(r.Questions) != 3*4 {
		t.Fatalf("detail has %d questions, want 12", len(r.Questions))
	}
	for _, q := range r.Questions {
		if q.Tokens > q.Budget || q.Category == 5 {
			t.Errorf("question %+v", q)
		}
		for _, secret := range []string{"SECRET-OBSERVATION", "SECRET-SUMMARY", "SECRET-ANSWER"} {
			if strings.Contains(q.Context, secret) {
				t.Errorf("context read an annotation: %s", secret)
			}
		}
		for _, f := range q.Found {
			if !strings.Contains(q.Context, f+" ") {
				t.Errorf("found %s not in the context:\n%s", f, q.Context)
			}
		}
	}
	text := mustRun(t, data, nil, "bench", "locomo", file, "--budgets", "256")
	if !strings.Contains(text, "bm25-baseline") || !strings.Contains(text, "ctxfs") {
		t.Fatalf("text report:\n%s", text)
	}
	if r := runCLI(t, data, nil, "bench", "locomo", file, "--budgets", "x"); r.code != 2 {
		t.Fatalf("bad budgets: exit %d", r.code)
	}
}
