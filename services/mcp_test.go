package services_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/services"
)

// TestMCPTools checks that every service tool is listed with a
// description, an input schema with its required arguments and honest
// annotations.
func TestMCPTools(t *testing.T) {
	e := newEnv(t)
	c := e.mcpConn(t, alice)
	res, err := c.ListTools(context.Background(), mcpgo.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]mcpgo.Tool{}
	for _, tl := range res.Tools {
		byName[tl.Name] = tl
	}
	required := map[string][]string{
		"memory_observe": {"user", "turns"}, "memory_recall": {"user"}, "memory_show": {"user"},
		"workspace_observe": {"name", "text"}, "workspace_query": {"name", "question"},
		"context_build": {"query", "budget", "sources"}, "context_evaluate": {"context_id"},
	}
	readOnly := map[string]bool{"memory_recall": true, "memory_show": true, "workspace_query": true}
	for _, name := range services.Tools {
		tl, found := byName[name]
		if !found {
			t.Errorf("tool %s not listed", name)
			continue
		}
		if len(tl.Description) < 40 {
			t.Errorf("%s: description %q too short", name, tl.Description)
		}
		if tl.InputSchema.Type != "object" {
			t.Errorf("%s: schema type %q", name, tl.InputSchema.Type)
		}
		for _, r := range required[name] {
			if !slices.Contains(tl.InputSchema.Required, r) {
				t.Errorf("%s: %q not required in %v", name, r, tl.InputSchema.Required)
			}
		}
		if ro := tl.Annotations.ReadOnlyHint; ro == nil || *ro != readOnly[name] {
			t.Errorf("%s: readOnlyHint %v, want %v", name, ro, readOnly[name])
		}
		if d := tl.Annotations.DestructiveHint; d == nil || *d {
			t.Errorf("%s: destructiveHint %v, want false", name, d)
		}
	}
}

// TestMCP calls every tool: results, access (alice vs bob) and bad
// arguments, which must change nothing.
func TestMCP(t *testing.T) {
	e := newEnv(t)
	a, b, adm := e.mcpConn(t, alice), e.mcpConn(t, bob), e.mcpConn(t, root)
	turns := []any{
		map[string]any{"role": "user", "content": "I live in Lyon and I love jazz.", "time": "2024-01-02"},
		map[string]any{"role": "user", "content": "Actually I moved: I live in Berlin now.", "time": "2024-03-01"},
	}
	v := ok(t, a, "memory_observe", map[string]any{"user": "alice", "turns": turns})
	if v["path"] != "/memory/alice/persona.md" || len(v["actions"].([]any)) == 0 {
		t.Fatalf("memory_observe: %v", v)
	}
	v = ok(t, a, "memory_recall", map[string]any{"user": "alice", "query": "where does she live", "budget": 200})
	if txt := v["text"].(string); !strings.Contains(txt, "Berlin") || strings.Contains(txt, "Lyon") {
		t.Errorf("memory_recall: %q, want the current home only", txt)
	}
	v = ok(t, a, "memory_show", map[string]any{"user": "alice"})
	if txt := v["text"].(string); !strings.Contains(txt, "Berlin") || !strings.Contains(txt, "## Superseded") || !strings.Contains(txt, "Lyon") {
		t.Errorf("memory_show: %q", txt)
	}
	v = ok(t, adm, "workspace_observe", map[string]any{"name": "w1", "text": story, "time": "May 7, 2024", "place": "Central Park"})
	if v["id"] != "000001" {
		t.Errorf("workspace_observe: %v", v)
	}
	v = ok(t, adm, "workspace_query", map[string]any{"name": "w1", "question": "What did Bob Lee play?", "budget": 300})
	if !strings.Contains(v["text"].(string), "saxophone") {
		t.Errorf("workspace_query: %v", v)
	}
	v = ok(t, adm, "context_build", map[string]any{"query": "Where does alice live?", "budget": 300, "session": "s1",
		"sources": []any{map[string]any{"user": "alice"}, map[string]any{"workspace": "w1"}}})
	if !strings.Contains(v["prompt"].(string), "Berlin") {
		t.Errorf("context_build: %v", v)
	}
	id := v["manifest"].(map[string]any)["id"].(string)
	v = ok(t, adm, "context_evaluate", map[string]any{"context_id": id, "answer": "Alice lives in Berlin.",
		"schema": map[string]any{"type": "string"}})
	if v["context_id"] != id || v["answer"] == nil {
		t.Errorf("context_evaluate: %v", v)
	}
	v = ok(t, adm, "context_build", map[string]any{"query": "jazz", "budget": 100, "dry_run": true, "sources": []any{map[string]any{"user": "alice"}}})
	if v["saved"] != nil {
		t.Errorf("dry run saved %v", v["saved"])
	}

	cases := []struct {
		name string
		who  string
		tool string
		args map[string]any
		code string
	}{
		{"bob observes into alice", bob, "memory_observe", map[string]any{"user": "alice", "turns": turns}, "permission_denied"},
		{"bob recalls alice", bob, "memory_recall", map[string]any{"user": "alice", "query": "home"}, "permission_denied"},
		{"bob shows alice", bob, "memory_show", map[string]any{"user": "alice"}, "permission_denied"},
		{"alice observes into a workspace", alice, "workspace_observe", map[string]any{"name": "w1", "text": story}, "permission_denied"},
		{"alice queries a workspace", alice, "workspace_query", map[string]any{"name": "w1", "question": "Bob?"}, "permission_denied"},
		{"no user", alice, "memory_observe", map[string]any{"turns": turns}, "invalid"},
		{"no turns", alice, "memory_observe", map[string]any{"user": "alice"}, "invalid"},
		{"turns of the wrong type", alice, "memory_observe", map[string]any{"user": "alice", "turns": "I live in Rome"}, "invalid"},
		{"turn of the wrong shape", alice, "memory_observe", map[string]any{"user": "alice", "turns": []any{map[string]any{"role": "user", "content": 7}}}, "invalid"},
		{"empty turns", alice, "memory_observe", map[string]any{"user": "alice", "turns": []any{}}, "invalid"},
		{"bad user", alice, "memory_observe", map[string]any{"user": "../bob", "turns": turns}, "invalid"},
		{"user of the wrong type", alice, "memory_recall", map[string]any{"user": 3}, "invalid"},
		{"fractional budget", alice, "memory_recall", map[string]any{"user": "alice", "budget": 1.5}, "invalid"},
		{"negative budget", alice, "memory_recall", map[string]any{"user": "alice", "budget": -4}, "invalid"},
		{"empty observation", root, "workspace_observe", map[string]any{"name": "w1", "text": ""}, "invalid"},
		{"bad workspace", root, "workspace_observe", map[string]any{"name": "a/b", "text": story}, "invalid"},
		{"time of the wrong type", root, "workspace_observe", map[string]any{"name": "w1", "text": story, "time": 2024}, "invalid"},
		{"empty question", root, "workspace_query", map[string]any{"name": "w1", "question": " "}, "invalid"},
		{"build without sources", root, "context_build", map[string]any{"query": "x", "budget": 10}, "invalid"},
		{"build with a bad source", root, "context_build", map[string]any{"query": "x", "budget": 10, "sources": []any{map[string]any{}}}, "invalid"},
		{"evaluate an unknown context", root, "context_evaluate", map[string]any{"context_id": "nope"}, "not_found"},
		{"schema of the wrong type", root, "context_evaluate", map[string]any{"context_id": id, "schema": "string"}, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := map[string]*client.Client{alice: a, bob: b, root: adm}[tc.who]
			before := e.lastSeq(t)
			text, isErr := call(t, c, tc.tool, tc.args)
			if !isErr || !strings.HasPrefix(text, tc.code+":") {
				t.Errorf("got %q (error %v), want code %s", text, isErr, tc.code)
			}
			if after := e.lastSeq(t); after != before {
				t.Errorf("a refused call changed the store (seq %d -> %d)", before, after)
			}
		})
	}
}
