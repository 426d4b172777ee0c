package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// inspector returns the MCP Inspector's command, skipping the test when it
// is not installed (npm ci --prefix mcp/testdata/inspector).
func inspector(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs("testdata/inspector/node_modules/.bin/mcp-inspector")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("MCP Inspector not installed: run npm ci --prefix mcp/testdata/inspector")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	return bin
}

// inspectorTarget is how the Inspector reaches the server: options, and
// the command (stdio) that follows "--".
type inspectorTarget struct {
	name    string
	opts    []string
	command []string
}

// runInspector runs the Inspector in CLI mode and decodes its JSON answer;
// isError results make it exit 1, which wantErr expects.
func runInspector(t *testing.T, bin string, tg inspectorTarget, wantErr bool, opts ...string) map[string]any {
	t.Helper()
	args := append(append(slices.Clone(tg.opts), opts...), tg.command...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--cli"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "MCP_CATALOG_PATH="+filepath.Join(home, "catalog.json"), "NO_COLOR=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && !wantErr {
		t.Fatalf("inspector %v: %v\n%s\n%s", args, err, out, stderr.String())
	}
	var v map[string]any
	if err := json.NewDecoder(strings.NewReader(string(out))).Decode(&v); err != nil {
		t.Fatalf("inspector %v: output is not JSON: %v\n%s", args, err, out)
	}
	return v
}

func resultText(t *testing.T, v map[string]any) string {
	t.Helper()
	content, _ := v["content"].([]any)
	if len(content) != 1 {
		t.Fatalf("result %v", v)
	}
	item, _ := content[0].(map[string]any)
	text, _ := item["text"].(string)
	return text
}

// TestInspector drives the server with the official MCP Inspector in CLI
// mode, over streamable HTTP (bearer token) and over stdio: list the tools,
// write a file with ctx_write, read it back with ctx_read.
func TestInspector(t *testing.T) {
	bin := inspector(t)
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/mcp", e.srv)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	targets := []inspectorTarget{
		{"http", []string{"--transport", "http", "--server-url", hs.URL + "/mcp", "--header", "Authorization: Bearer alice-token"}, nil},
		{"stdio", []string{"-e", envChild + "=" + e.dir, "-e", envAs + "=alice"}, []string{"--", os.Args[0], "-test.run=^$"}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			list := runInspector(t, bin, tg, false, "--method", "tools/list")
			tools, _ := list["tools"].([]any)
			if len(tools) != 8 {
				t.Fatalf("tools/list: %d tools: %v", len(tools), list)
			}
			p := "/memory/alice/inspector-" + tg.name + ".md"
			w := runInspector(t, bin, tg, false, "--method", "tools/call", "--tool-name", "ctx_write",
				"--tool-arg", "path="+p, "--tool-arg", "content=line one\nline two\n")
			if w["isError"] == true {
				t.Fatalf("ctx_write: %v", w)
			}
			if got, _ := e.get(t, p); got != "line one\nline two\n" {
				t.Fatalf("stored %q", got)
			}
			r := runInspector(t, bin, tg, false, "--method", "tools/call", "--tool-name", "ctx_read",
				"--tool-arg", "path="+p, "--tool-arg", "startLine=2")
			if got := resultText(t, r); got != "line two" {
				t.Fatalf("ctx_read: %q (%v)", got, r)
			}
			// A refusal is an error result, not a failure of the session.
			d := runInspector(t, bin, tg, true, "--method", "tools/call", "--tool-name", "ctx_read",
				"--tool-arg", "path=/memory/bob/x")
			if d["isError"] != true || !strings.HasPrefix(resultText(t, d), "permission_denied:") {
				t.Fatalf("alice reading bob's file: %v", d)
			}
		})
	}
}
