package afs_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
)

// TestBadInput sends malformed, mistyped and refused requests: each gets a
// clear JSON failure with the right status and changes nothing, neither in
// the store (its change log does not move) nor in the host directories.
func TestBadInput(t *testing.T) {
	e := newEnv(t, afs.Options{MaxBody: 4096})
	long := strings.Repeat("n", 300)
	cases := []struct {
		name, body string
		status     int
		code       int
	}{
		{"empty body", ``, 400, 5},
		{"truncated JSON", `{"method":"read"`, 400, 5},
		{"not an object", `[]`, 400, 5},
		{"trailing data", `{"method":"stat","params":{"path":"/"}} {}`, 400, 5},
		{"no method", `{"params":{"path":"/x"}}`, 400, 5},
		{"method not a string", `{"method":5,"params":{}}`, 400, 5},
		{"unknown method", `{"method":"format_disk","params":{"path":"/"}}`, 400, 5},
		{"no params", `{"method":"read"}`, 400, 5},
		{"null params", `{"method":"read","params":null}`, 400, 5},
		{"array params", `{"method":"read","params":["/hello.txt"]}`, 400, 5},
		{"path not a string", `{"method":"write","params":{"path":5,"content":{"content":"x"}}}`, 400, 5},
		{"missing path", `{"method":"write","params":{"content":{"content":"x"}}}`, 400, 5},
		{"relative path", `{"method":"write","params":{"path":"x","content":{"content":"x"}}}`, 400, 5},
		{"dot-dot path", `{"method":"write","params":{"path":"/a/../b","content":{"content":"x"}}}`, 400, 5},
		{"NUL in path", `{"method":"write","params":{"path":"/a\u0000b","content":{"content":"x"}}}`, 400, 5},
		{"empty element", `{"method":"write","params":{"path":"/a//b","content":{"content":"x"}}}`, 400, 5},
		{"long element", `{"method":"write","params":{"path":"/` + long + `","content":{"content":"x"}}}`, 400, 5},
		{"content a number", `{"method":"write","params":{"path":"/x","content":{"content":5}}}`, 400, 5},
		{"content an array", `{"method":"write","params":{"path":"/x","content":[1]}}`, 400, 5},
		{"unknown mode", `{"method":"write","params":{"path":"/x","content":{"content":"x"},"options":{"mode":"sideways"}}}`, 400, 5},
		{"mode not a string", `{"method":"write","params":{"path":"/x","content":{"content":"x"},"options":{"mode":1}}}`, 400, 5},
		{"meta object value", `{"method":"write","params":{"path":"/x","content":{"content":"x","meta":{"k":{"a":1}}}}}`, 400, 5},
		{"patch unknown op", `{"method":"write","params":{"path":"/n.txt","content":{"patches":[{"op":"explode","target":"a"}]},"options":{"mode":"patch"}}}`, 400, 5},
		{"patch without patches", `{"method":"write","params":{"path":"/n.txt","content":{"content":"x"},"options":{"mode":"patch"}}}`, 400, 5},
		{"patches in replace mode", `{"method":"write","params":{"path":"/n.txt","content":{"patches":[{"op":"delete","target":"hello"}]},"options":{"mode":"replace"}}}`, 400, 5},
		{"patch empty target", `{"method":"write","params":{"path":"/n.txt","content":{"patches":[{"op":"delete","target":""}]}}}`, 400, 5},
		{"startLine 0", `{"method":"read","params":{"path":"/lines.txt","options":{"startLine":0}}}`, 400, 5},
		{"start after end", `{"method":"read","params":{"path":"/lines.txt","options":{"startLine":3,"endLine":2}}}`, 400, 5},
		{"startLine a string", `{"method":"read","params":{"path":"/lines.txt","options":{"startLine":"2"}}}`, 400, 5},
		{"fractional line", `{"method":"read","params":{"path":"/lines.txt","options":{"startLine":1.5}}}`, 400, 5},
		{"negative limit", `{"method":"list","params":{"path":"/","options":{"limit":-1}}}`, 400, 5},
		{"bad pattern", `{"method":"list","params":{"path":"/","options":{"pattern":"["}}}`, 400, 5},
		{"search without query", `{"method":"search","params":{"path":"/"}}`, 400, 5},
		{"rename without newPath", `{"method":"rename","params":{"path":"/n.txt"}}`, 400, 5},
		{"rename two sources", `{"method":"rename","params":{"path":"/n.txt","oldPath":"/hello.txt","newPath":"/z"}}`, 400, 5},
		{"explain unknown format", `{"method":"explain","params":{"path":"/","options":{"format":"pdf"}}}`, 400, 5},
		{"exec without actions", `{"method":"exec","params":{"path":"/n.txt","args":{}}}`, 400, 5},
		{"recursive a string", `{"method":"delete","params":{"path":"/tmp-dir","options":{"recursive":"yes"}}}`, 400, 5},
		{"oversized body", `{"method":"write","params":{"path":"/big","content":{"content":"` + strings.Repeat("x", 5000) + `"}}}`, 413, 5},
		// Dispatched calls that fail: HTTP 200 with the error code.
		{"patch target missing", `{"method":"write","params":{"path":"/n.txt","content":{"patches":[{"op":"str_replace","target":"hello","content":"bye"},{"op":"str_replace","target":"mars","content":"x"}]},"options":{"mode":"patch"}}}`, 200, 5},
		{"patch target twice", `{"method":"write","params":{"path":"/lines.txt","content":{"patches":[{"op":"delete","target":"line"}]}}}`, 200, 5},
		{"patch missing file", `{"method":"write","params":{"path":"/nofile","content":{"patches":[{"op":"delete","target":"a"}]}}}`, 200, 1},
		{"update missing file", `{"method":"write","params":{"path":"/nofile","content":{"content":"x"},"options":{"mode":"update"}}}`, 200, 1},
		{"create existing", `{"method":"write","params":{"path":"/alpha/hello.txt","content":{"content":"x"},"options":{"mode":"create"}}}`, 200, 3},
		{"write below a file", `{"method":"write","params":{"path":"/hello.txt/x","content":{"content":"x"}}}`, 200, 5},
		{"write over a directory", `{"method":"write","params":{"path":"/docs","content":{"content":"x"}}}`, 200, 0},
		{"append to a directory", `{"method":"write","params":{"path":"/docs","content":{"content":"x"},"options":{"mode":"append"}}}`, 200, 5},
		{"write the root", `{"method":"write","params":{"path":"/","content":{"content":"x"}}}`, 200, 5},
		{"write a mount point", `{"method":"write","params":{"path":"/alpha","content":{"content":"x"}}}`, 200, 0},
		{"delete a directory without recursive", `{"method":"delete","params":{"path":"/tmp-dir"}}`, 200, 5},
		{"delete the root", `{"method":"delete","params":{"path":"/","options":{"recursive":true}}}`, 200, 5},
		{"delete a mount point", `{"method":"delete","params":{"path":"/alpha","options":{"recursive":true}}}`, 200, 5},
		{"rename onto an existing file", `{"method":"rename","params":{"path":"/n.txt","newPath":"/hello.txt"}}`, 200, 3},
		{"rename a missing file", `{"method":"rename","params":{"oldPath":"/nofile","newPath":"/x/y"}}`, 200, 1},
		{"rename into itself", `{"method":"rename","params":{"path":"/docs","newPath":"/docs/sub/docs"}}`, 200, 5},
		{"unknown action", `{"method":"exec","params":{"path":"/n.txt/.actions/rm","args":{}}}`, 200, 1},
		{"exec on a missing node", `{"method":"exec","params":{"path":"/nofile/.actions/checksum","args":{}}}`, 200, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, host := e.lastSeq(), e.hostState()
			r := e.post("t-admin", []byte(c.body))
			if r.success() || r.status != c.status || (c.code != 0 && r.code() != c.code) {
				t.Fatalf("got %d %s, want %d with code %d", r.status, r.raw, c.status, c.code)
			}
			if after := e.lastSeq(); after != before {
				t.Errorf("the store's log moved from %d to %d", before, after)
			}
			if !reflect.DeepEqual(host, e.hostState()) {
				t.Errorf("a host directory changed")
			}
		})
	}
	for p, want := range map[string]string{"/n.txt": "hello world", "/lines.txt": rootFixtures["/lines.txt"], "/alpha/hello.txt": "Hello from provider A\n"} {
		if got := e.must("read", obj{"path": p}).entry()["content"]; got != want {
			t.Errorf("%s = %q after the bad requests", p, got)
		}
	}
	// Not POST: 405 with Allow, still a JSON envelope.
	req, _ := http.NewRequest("GET", e.srv.URL, nil)
	req.Header.Set("Authorization", "Bearer t-admin")
	if r := do(t, req); r.status != http.StatusMethodNotAllowed || r.code() != afs.CodeRuntime {
		t.Errorf("GET: %d %s", r.status, r.raw)
	}
}
