package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMemoryCLI(t *testing.T) {
	data := t.TempDir()
	turns := `{"role":"user","content":"I live in Paris and I love green tea.","time":"2024-01-02"}
{"role":"assistant","content":"Nice!"}
{"role":"user","content":"I moved to Lyon.","time":"2024-06-01"}
`
	out := mustRun(t, data, []byte(turns), "memory", "observe", "alice", "-")
	if !strings.Contains(out, "/memory/alice/persona.md@1") || !strings.Contains(out, "supersede 1") {
		t.Errorf("observe: %s", out)
	}
	show := mustRun(t, data, nil, "memory", "show", "alice")
	if !strings.Contains(show, "- lives in Lyon {home | t3 | 2024-06-01}") || !strings.Contains(show, "## Superseded\n- lives in Paris {home | t1 | 2024-01-02..2024-06-01}") {
		t.Errorf("show:\n%s", show)
	}
	// The file is an ordinary versioned file.
	if cat := mustRun(t, data, nil, "cat", "/memory/alice/persona.md"); cat != show {
		t.Errorf("cat differs from show:\n%s", cat)
	}
	var rec struct {
		Items          []struct{ Text string } `json:"items"`
		Tokens, Budget int
	}
	if err := json.Unmarshal([]byte(mustRun(t, data, nil, "memory", "recall", "alice", "where do I live?", "--budget", "50", "--json")), &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Items) == 0 || rec.Items[0].Text != "lives in Lyon" || rec.Tokens > 50 || rec.Budget != 50 {
		t.Errorf("recall: %+v", rec)
	}
	// Bad input: a usage error, nothing written.
	if r := runCLI(t, data, []byte("not json\n"), "memory", "observe", "alice"); r.code != 2 {
		t.Errorf("bad turns: exit %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, data, []byte(turns), "memory", "observe", "a/b"); r.code != 1 {
		t.Errorf("bad user: exit %d %s", r.code, r.stderr)
	}
	if out := mustRun(t, data, nil, "stat", "/memory/alice/persona.md", "--json"); !strings.Contains(out, `"version": 1`) {
		t.Errorf("persona changed by bad input: %s", out)
	}
}

func TestWorkspaceCLI(t *testing.T) {
	data := t.TempDir()
	mustRun(t, data, []byte("Zoe Brown sang at Hither Hills State Park. Alma Aultman cheered."), "workspace", "observe", "trip", "--time", "May 7, 2024")
	mustRun(t, data, []byte("Zoe Brown visited the High Line with Remy Waterman."), "workspace", "observe", "trip", "-", "--time", "2024-06-01", "--place", "High Line")
	var c struct {
		Text  string
		Lines []struct{ Obs, File string }
		Files []string
	}
	out := mustRun(t, data, nil, "workspace", "query", "trip", "Where was Zoe Brown?", "--budget", "100", "--json")
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Text, "Hither Hills State Park") || !strings.Contains(c.Text, "High Line") || len(c.Files) == 0 {
		t.Errorf("query: %s", out)
	}
	if ent := mustRun(t, data, nil, "cat", "/workspace/trip/entities/zoe-brown.md"); !strings.Contains(ent, "# Zoe Brown") {
		t.Errorf("entity file:\n%s", ent)
	}
	if r := runCLI(t, data, []byte(""), "workspace", "observe", "trip"); r.code != 1 || !strings.Contains(r.stderr, "empty observation") {
		t.Errorf("empty observation: exit %d %s", r.code, r.stderr)
	}
}

func TestIngestAndBenchEpbench(t *testing.T) {
	book := "../../../shared/testdata/bench/epbench/book_20.json"
	qs := "../../../shared/testdata/bench/epbench/questions-dev.json"
	if _, err := os.Stat(book); err != nil {
		t.Skipf("EpBench data absent (%v)", err)
	}
	data := t.TempDir()
	mustRun(t, data, nil, "ingest", "epbench", book, "--workspace", "book")
	out := mustRun(t, data, nil, "workspace", "query", "book", "What is the most recent date Hazel Lewis was observed?", "--budget", "128")
	if !strings.Contains(out, "September 03, 2026") {
		t.Errorf("query on the book:\n%s", out)
	}
	var r struct {
		Workspace []struct {
			Budget   int
			Coverage float64 `json:"chapter_coverage"`
		}
		Questions []struct {
			QIndex  int `json:"q_index"`
			Budget  int
			Tokens  int
			Context string
		} `json:"questions"`
	}
	out = mustRun(t, t.TempDir(), nil, "bench", "epbench", "--book", book, "--questions", qs, "--budgets", "256", "--json", "--detail")
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Workspace) != 1 || r.Workspace[0].Budget != 256 || len(r.Questions) != 228 {
		t.Fatalf("report: %d rows, %d details", len(r.Workspace), len(r.Questions))
	}
	for _, q := range r.Questions {
		if q.Tokens > 256 {
			t.Errorf("question %d: %d tokens over budget", q.QIndex, q.Tokens)
		}
	}
	if r := runCLI(t, data, nil, "bench", "epbench", "--book", book); r.code != 2 {
		t.Errorf("missing --questions: exit %d", r.code)
	}
}

func TestIngestLocomo(t *testing.T) {
	file := "../../../shared/testdata/bench/locomo/locomo-dev.json"
	if _, err := os.Stat(file); err != nil {
		t.Skipf("LoCoMo data absent (%v)", err)
	}
	// The first conversation's first three sessions keep the test short.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var samples []map[string]any
	if err := json.Unmarshal(raw, &samples); err != nil {
		t.Fatal(err)
	}
	conv := samples[0]["conversation"].(map[string]any)
	for k := range conv {
		if strings.HasPrefix(k, "session_") && !strings.HasPrefix(k, "session_1") && !strings.HasPrefix(k, "session_2") && !strings.HasPrefix(k, "session_3") || strings.HasPrefix(k, "session_1") && len(k) > len("session_1") && k[len("session_1")] != '_' {
			delete(conv, k)
		}
	}
	small, _ := json.Marshal(samples[:1])
	file = filepath.Join(t.TempDir(), "locomo-small.json")
	if err := os.WriteFile(file, small, 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	out := mustRun(t, data, nil, "ingest", "locomo", file, "--json")
	var st struct {
		Conversations, Sessions int
		Personas, Workspaces    []string
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Conversations != 1 || st.Sessions != 3 || len(st.Workspaces) != 1 || len(st.Personas) == 0 {
		t.Errorf("ingest: %s", out)
	}
	show := mustRun(t, data, nil, "memory", "show", "conv-26-caroline")
	if !strings.Contains(show, "# Persona: conv-26-caroline") {
		t.Errorf("persona:\n%s", show)
	}
}
