package services_test

import (
	"net/http"
	"strings"
	"testing"
)

const (
	alice = "alice-token"
	bob   = "bob-token"
	root  = "admin-token"
)

var aliceTurns = `{"turns":[
 {"role":"user","content":"I live in Lyon and I love jazz.","time":"2024-01-02"},
 {"role":"assistant","content":"Nice!"},
 {"role":"user","content":"My favorite food is ramen.","time":"2024-01-02"}]}`

const story = "On May 7, 2024 Alice Moreau met Bob Lee at Central Park for the jazz festival. Bob Lee played the saxophone."

// TestHTTP walks every endpoint: what works, what access refuses and what
// bad input refuses, checking that a refused call changes nothing.
func TestHTTP(t *testing.T) {
	e := newEnv(t)
	// alice's memory, the admin's workspace.
	if st, v := e.do(t, alice, "POST", "/v1/memory/alice/observe", aliceTurns); st != 200 || v["version"] != float64(1) {
		t.Fatalf("observe: %d %v", st, v)
	}
	if st, v := e.do(t, root, "POST", "/v1/workspace/w1/observe", `{"text":"`+story+`","place":"Central Park","source":"ch1"}`); st != 200 || v["observation"] == nil {
		t.Fatalf("workspace observe: %d %v", st, v)
	}
	text, found := e.get(t, "/memory/alice/persona.md")
	if !found || !strings.Contains(text, "lives in Lyon") || !strings.Contains(text, "ramen") {
		t.Fatalf("persona file %q", text)
	}

	t.Run("works", func(t *testing.T) {
		st, v := e.do(t, alice, "GET", "/v1/memory/alice?q=where+does+she+live&budget=100", "")
		if st != 200 || !strings.Contains(v["text"].(string), "Lyon") || v["budget"] != float64(100) {
			t.Errorf("recall: %d %v", st, v)
		}
		st, v = e.do(t, alice, "GET", "/v1/memory/alice", "")
		if st != 200 || v["text"] != text || v["version"] != float64(1) {
			t.Errorf("show: %d %v, want the file", st, v)
		}
		st, v = e.do(t, root, "GET", "/v1/memory/carol", "")
		if st != 200 || v["version"] != float64(0) || v["text"] != "" {
			t.Errorf("show of a user without memory: %d %v", st, v)
		}
		st, v = e.do(t, root, "GET", "/v1/workspace/w1/query?q=Where+did+Alice+Moreau+meet+Bob+Lee%3F&budget=200", "")
		if st != 200 || !strings.Contains(v["text"].(string), "Central Park") {
			t.Errorf("workspace query GET: %d %v", st, v)
		}
		st, v = e.do(t, root, "POST", "/v1/workspace/w1/query", `{"question":"What did Bob Lee play?","budget":300}`)
		if st != 200 || !strings.Contains(v["text"].(string), "saxophone") || v["budget"] != float64(300) {
			t.Errorf("workspace query POST: %d %v", st, v)
		}
		st, v = e.do(t, root, "POST", "/v1/context", `{"query":"Where does alice live?","budget":300,"session":"s1","sources":[{"user":"alice"},{"workspace":"w1"}]}`)
		if st != 200 || !strings.Contains(v["prompt"].(string), "Lyon") {
			t.Fatalf("context: %d %v", st, v)
		}
		id := v["manifest"].(map[string]any)["id"].(string)
		if _, found := e.get(t, v["saved"].(string)); !found {
			t.Errorf("manifest %v not saved", v["saved"])
		}
		st, v = e.do(t, root, "POST", "/v1/evaluate", jsonBody(t, map[string]any{"context_id": id, "answer": "Alice lives in Lyon."}))
		if st != 200 || v["context_id"] != id || v["answer"] == nil || v["saved"] == "" {
			t.Errorf("evaluate: %d %v", st, v)
		}
	})

	cases := []struct {
		name, token, method, path, body string
		status                          int
		code                            string
	}{
		// access
		{"no token", "", "GET", "/v1/memory/alice", "", 401, "unauthenticated"},
		{"bad token", "nope", "POST", "/v1/memory/alice/observe", aliceTurns, 401, "unauthenticated"},
		{"bob reads alice", bob, "GET", "/v1/memory/alice", "", 403, "permission_denied"},
		{"bob recalls alice", bob, "GET", "/v1/memory/alice?q=jazz", "", 403, "permission_denied"},
		{"bob observes into alice", bob, "POST", "/v1/memory/alice/observe", strings.ReplaceAll(aliceTurns, "Lyon", "Rome"), 403, "permission_denied"},
		{"alice observes into a workspace", alice, "POST", "/v1/workspace/w1/observe", `{"text":"` + story + `"}`, 403, "permission_denied"},
		{"alice queries a workspace", alice, "GET", "/v1/workspace/w1/query?q=Bob", "", 403, "permission_denied"},
		{"alice builds from bob's memory into /history", alice, "POST", "/v1/context", `{"query":"x y","budget":100,"sources":[{"user":"bob"}]}`, 403, "permission_denied"},
		// bad input
		{"malformed JSON", alice, "POST", "/v1/memory/alice/observe", `{"turns":[`, 400, "invalid"},
		{"empty body", alice, "POST", "/v1/memory/alice/observe", "", 400, "invalid"},
		{"turns of the wrong type", alice, "POST", "/v1/memory/alice/observe", `{"turns":"I live in Rome"}`, 400, "invalid"},
		{"content of the wrong type", alice, "POST", "/v1/memory/alice/observe", `{"turns":[{"role":"user","content":7}]}`, 400, "invalid"},
		{"no turns", alice, "POST", "/v1/memory/alice/observe", `{"turns":[]}`, 400, "invalid"},
		{"turn without content", alice, "POST", "/v1/memory/alice/observe", `{"turns":[{"role":"user"}]}`, 400, "invalid"},
		{"unknown field", alice, "POST", "/v1/memory/alice/observe", `{"turns":[{"role":"user","content":"I live in Rome"}],"usr":"x"}`, 400, "invalid"},
		{"trailing data", alice, "POST", "/v1/memory/alice/observe", `{"turns":[{"role":"user","content":"I live in Rome"}]} {}`, 400, "invalid"},
		{"bad user name", root, "POST", "/v1/memory/..%2Fbob/observe", aliceTurns, 400, "invalid"},
		{"bad budget", alice, "GET", "/v1/memory/alice?q=x&budget=lots", "", 400, "invalid"},
		{"negative budget", alice, "GET", "/v1/memory/alice?q=x&budget=-1", "", 400, "invalid"},
		{"huge budget", alice, "GET", "/v1/memory/alice?q=x&budget=99999999999", "", 400, "invalid"},
		{"empty observation", root, "POST", "/v1/workspace/w1/observe", `{"text":"  "}`, 400, "invalid"},
		{"bad workspace name", root, "POST", "/v1/workspace/a%2Fb/observe", `{"text":"` + story + `"}`, 400, "invalid"},
		{"no question", root, "GET", "/v1/workspace/w1/query", "", 400, "invalid"},
		{"question of the wrong type", root, "POST", "/v1/workspace/w1/query", `{"question":["a"]}`, 400, "invalid"},
		{"context without sources", root, "POST", "/v1/context", `{"query":"x","budget":100,"sources":[]}`, 400, "invalid"},
		{"context source with two fields", root, "POST", "/v1/context", `{"query":"x","budget":100,"sources":[{"user":"alice","workspace":"w1"}]}`, 400, "invalid"},
		{"context without budget", root, "POST", "/v1/context", `{"query":"x","sources":[{"user":"alice"}]}`, 400, "invalid"},
		{"evaluate an unknown context", root, "POST", "/v1/evaluate", `{"context_id":"nope"}`, 404, "not_found"},
		{"evaluate without context", root, "POST", "/v1/evaluate", `{"answer":"x"}`, 400, "invalid"},
		{"body too large", root, "POST", "/v1/workspace/w1/observe", `{"text":"` + strings.Repeat("a ", 1<<20) + `"}`, 413, "too_large"},
		{"unknown route", root, "GET", "/v1/memory/alice/nothing", "", 404, "not_found"},
		{"wrong method", root, "DELETE", "/v1/context", "", 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.lastSeq(t)
			st, v := e.do(t, tc.token, tc.method, tc.path, tc.body)
			if st != tc.status || errCode(v) != tc.code {
				t.Errorf("got %d %v, want %d %s", st, v, tc.status, tc.code)
			}
			if em, _ := v["error"].(map[string]any); em == nil || em["message"] == "" {
				t.Errorf("error without a message: %v", v)
			}
			if st == http.StatusUnauthorized && v["error"] == nil {
				t.Errorf("401 without a JSON error")
			}
			if after := e.lastSeq(t); after != before {
				t.Errorf("a refused call changed the store (seq %d -> %d)", before, after)
			}
		})
	}
	if got, _ := e.get(t, "/memory/alice/persona.md"); got != text {
		t.Errorf("alice's persona changed by refused calls:\n%s", got)
	}
}
