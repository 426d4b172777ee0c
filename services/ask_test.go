package services_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/pdr"
	"github.com/ctxfs/ctxfs/services"
)

// stories260K finds the small test model in the shared test data.
func stories260K(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, "shared", "testdata", "models", "stories260K", "stories260K.gguf")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		p = filepath.Join(dir, "..", "shared", "testdata", "models", "stories260K", "stories260K.gguf")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/testdata/models/stories260K/stories260K.gguf not found")
		}
		dir = parent
	}
}

// TestAskWithoutModel: without a Generator the tool is absent and the
// endpoint says what is missing.
func TestAskWithoutModel(t *testing.T) {
	e := newEnv(t)
	st, v := e.do(t, root, "POST", "/v1/ask", `{"question":"Where did Lily go?"}`)
	if st != 501 || errCode(v) != "not_supported" {
		t.Errorf("ask without a model: %d %v", st, v)
	}
	res, err := e.mcpConn(t, root).ListTools(context.Background(), mcpgo.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range res.Tools {
		if tl.Name == "ask" {
			t.Error("the ask tool is listed without a model")
		}
	}
}

// TestAsk asks through both doors with the local engine on a real model.
func TestAsk(t *testing.T) {
	eng, err := inference.Open(stories260K(t), true, inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	e := newEnvWith(t, services.Options{Generator: eng, Counter: pdr.TokenizerCounter{Tokenizer: eng.Tokenizer()}})
	e.put(t, "/notes/park.md", "# Park\nLily went to the park with her dog Max.\n")

	st, v := e.do(t, root, "POST", "/v1/ask", `{"question":"Where did Lily go?","user":"lily","workspace":"park","budget":150,"max_tokens":12,"sources":[{"glob":"/notes/**"}]}`)
	if st != 200 || v["manifest_id"] == "" || v["evaluation"] == nil {
		t.Fatalf("POST /v1/ask: %d %v", st, v)
	}
	ents, err := e.sys.NS.List(admin(), mustPath(t, "/history/ask"))
	if err != nil || len(ents) == 0 {
		t.Errorf("history of the ask session: %v %v", ents, err)
	}

	c := e.mcpConn(t, root)
	r := ok(t, c, "ask", map[string]any{"question": "What is the dog called?", "budget": 150, "max_tokens": 12, "write_back": false,
		"pdr": map[string]any{"m": 2, "r": 2, "kappa": 20, "distill": "extractive"}, "temperature": 0.8, "seed": 5,
		"sources": []any{map[string]any{"glob": "/notes/**"}}})
	if r["manifest_id"] == "" || r["pdr"] == nil || r["write_back"] != nil {
		t.Errorf("ask tool: %v", r)
	}

	bad := []struct{ name, token, body, code string }{
		{"no question", root, `{"budget":10}`, "invalid"},
		{"bad pdr", root, `{"question":"x","pdr":{"m":0,"r":2,"kappa":5}}`, "invalid"},
		{"bad distill", root, `{"question":"x","pdr":{"m":1,"r":1,"kappa":5,"distill":"magic"}}`, "invalid"},
		{"bad user", root, `{"question":"x","user":"a/b"}`, "invalid"},
		{"wrong type", root, `{"question":"x","max_tokens":"many"}`, "invalid"},
		{"alice may not write history", alice, `{"question":"Where did Lily go?","max_tokens":4}`, "permission_denied"},
	}
	for _, b := range bad {
		before := e.lastSeq(t)
		if _, v := e.do(t, b.token, "POST", "/v1/ask", b.body); errCode(v) != b.code {
			t.Errorf("%s: %v, want %s", b.name, v, b.code)
		}
		if e.lastSeq(t) != before {
			t.Errorf("%s: a refused ask changed the store", b.name)
		}
	}
	if text, isErr := call(t, c, "ask", map[string]any{"question": "x", "budget": "big"}); !isErr || !strings.HasPrefix(text, "invalid:") {
		t.Errorf("ask tool with a bad budget: %q", text)
	}
}
