package afs_test

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
)

// TestAccess walks the access cases of issue 4 through the AFS door: alice
// reads and writes /memory/alice, cannot read or write /memory/bob, a bad
// or missing token is refused with 401 and code 6, an admin does both.
func TestAccess(t *testing.T) {
	e := newEnv(t, afs.Options{})
	e.must("write", obj{"path": "/memory/bob/notes.md", "content": obj{"content": "bob's"}})
	cases := []struct {
		name, tok, method string
		params            obj
		wantCode          int // 0: success
	}{
		{"alice writes her memory", "t-alice", "write", obj{"path": "/memory/alice/notes.md", "content": obj{"content": "mine"}}, 0},
		{"alice appends to her memory", "t-alice", "write", obj{"path": "/memory/alice/notes.md", "content": obj{"content": "+"}, "options": obj{"mode": "append"}}, 0},
		{"alice reads her memory", "t-alice", "read", obj{"path": "/memory/alice/notes.md"}, 0},
		{"alice lists her memory", "t-alice", "list", obj{"path": "/memory/alice"}, 0},
		{"alice searches her memory", "t-alice", "search", obj{"path": "/memory/alice", "query": "mine"}, 0},
		{"alice reads bob's memory", "t-alice", "read", obj{"path": "/memory/bob/notes.md"}, afs.CodePermissionDenied},
		{"alice stats bob's memory", "t-alice", "stat", obj{"path": "/memory/bob/notes.md"}, afs.CodePermissionDenied},
		{"alice lists bob's memory", "t-alice", "list", obj{"path": "/memory/bob"}, afs.CodePermissionDenied},
		{"alice searches bob's memory", "t-alice", "search", obj{"path": "/memory/bob", "query": "bob"}, afs.CodePermissionDenied},
		{"alice writes bob's memory", "t-alice", "write", obj{"path": "/memory/bob/evil.md", "content": obj{"content": "x"}}, afs.CodePermissionDenied},
		{"alice appends to bob's memory", "t-alice", "write", obj{"path": "/memory/bob/notes.md", "content": obj{"content": "x"}, "options": obj{"mode": "append"}}, afs.CodePermissionDenied},
		{"alice patches bob's memory", "t-alice", "write", obj{"path": "/memory/bob/notes.md", "content": obj{"patches": []obj{{"op": "delete", "target": "bob"}}}}, afs.CodePermissionDenied},
		{"alice deletes bob's memory", "t-alice", "delete", obj{"path": "/memory/bob/notes.md"}, afs.CodePermissionDenied},
		{"alice moves bob's memory", "t-alice", "rename", obj{"path": "/memory/bob/notes.md", "newPath": "/memory/alice/stolen.md"}, afs.CodePermissionDenied},
		{"alice moves into bob's memory", "t-alice", "rename", obj{"path": "/memory/alice/notes.md", "newPath": "/memory/bob/gift.md"}, afs.CodePermissionDenied},
		{"alice hashes bob's memory", "t-alice", "exec", obj{"path": "/memory/bob/notes.md/.actions/checksum", "args": obj{}}, afs.CodePermissionDenied},
		{"alice writes outside memory", "t-alice", "write", obj{"path": "/notes/x.md", "content": obj{"content": "x"}}, afs.CodePermissionDenied},
		{"alice reads a mount", "t-alice", "read", obj{"path": "/alpha/hello.txt"}, afs.CodePermissionDenied},
		{"admin reads alice's memory", "t-admin", "read", obj{"path": "/memory/alice/notes.md"}, 0},
		{"admin writes bob's memory", "t-admin", "write", obj{"path": "/memory/bob/more.md", "content": obj{"content": "x"}}, 0},
		{"admin hashes bob's memory", "t-admin", "exec", obj{"path": "/memory/bob/notes.md/.actions/checksum", "args": obj{}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, host := e.lastSeq(), e.hostState()
			r := e.callAs(c.tok, c.method, c.params)
			if c.wantCode == 0 {
				if !r.success() {
					t.Fatalf("refused: %s", r.raw)
				}
				return
			}
			if r.success() || r.code() != c.wantCode || r.status != 200 {
				t.Fatalf("got %d %s, want code %d", r.status, r.raw, c.wantCode)
			}
			if after := e.lastSeq(); after != before || !reflect.DeepEqual(host, e.hostState()) {
				t.Errorf("a refused call changed the store (log %d -> %d) or a host directory", before, after)
			}
		})
	}
	// Alice's list of the root shows only the way to her memory.
	r := e.callAs("t-alice", "list", obj{"path": "/"})
	if got := strings.Join(r.paths(), ","); got != "/memory" {
		t.Errorf("alice lists / as %q", got)
	}
	r = e.callAs("t-alice", "search", obj{"path": "/", "query": "bob"})
	if len(r.entries()) != 0 {
		t.Errorf("alice's search of / found %v", r.paths())
	}
	if r := e.callAs("t-alice", "read", obj{"path": "/memory/alice/notes.md"}); r.entry()["content"] != "mine+" {
		t.Errorf("alice's notes: %s", r.raw)
	}

	for _, tok := range []string{"", "wrong", "t-alicex"} {
		before := e.lastSeq()
		r := e.post(tok, []byte(`{"method":"write","params":{"path":"/memory/alice/x","content":{"content":"x"}}}`))
		if r.status != http.StatusUnauthorized || r.code() != afs.CodeUnauthorized {
			t.Errorf("token %q: %d %s, want 401 with code 6", tok, r.status, r.raw)
		}
		if e.lastSeq() != before {
			t.Errorf("token %q: an unauthorized write changed the store", tok)
		}
	}
	// A non-bearer scheme is no token either.
	req, _ := http.NewRequest("POST", e.srv.URL, bytes.NewReader([]byte(`{"method":"stat","params":{"path":"/"}}`)))
	req.Header.Set("Authorization", "Basic dC1hZG1pbjp4")
	if r := do(t, req); r.status != http.StatusUnauthorized || r.code() != afs.CodeUnauthorized {
		t.Errorf("basic auth: %d %s", r.status, r.raw)
	}
}

// TestRoot serves the AFS namespace rooted at a sub-path (--afs-root):
// paths map below it, answers and messages show AFS paths, and nothing
// outside it can be reached.
func TestRoot(t *testing.T) {
	e := newEnv(t, afs.Options{})
	e.must("write", obj{"path": "/memory/alice/a.txt", "content": obj{"content": "rooted"}})
	h := afs.NewHandler(e.ns, afs.Options{Root: "/memory/alice", Authenticate: authenticate, Mounts: e.ns.Mounts})
	rooted := &env{st: e.st, ns: e.ns, t: t}
	rooted.srv = newServer(t, h)

	if r := rooted.must("read", obj{"path": "/a.txt"}); r.entry()["content"] != "rooted" || r.entry()["path"] != "/a.txt" || r.entry()["id"] != "/a.txt" {
		t.Errorf("read: %s", r.raw)
	}
	rooted.must("write", obj{"path": "/sub/b.txt", "content": obj{"content": "b"}})
	if r := e.must("read", obj{"path": "/memory/alice/sub/b.txt"}); r.entry()["content"] != "b" {
		t.Errorf("rooted write landed elsewhere: %s", r.raw)
	}
	if got := strings.Join(rooted.must("list", obj{"path": "/"}).paths(), ","); got != "/a.txt,/sub" {
		t.Errorf("list /: %s", got)
	}
	if got := strings.Join(rooted.must("search", obj{"path": "/", "query": "rooted"}).paths(), ","); got != "/a.txt" {
		t.Errorf("search: %s", got)
	}
	r := rooted.call("read", obj{"path": "/missing.txt"})
	if r.code() != afs.CodeNotFound || strings.Contains(r.message(), "/memory/alice") {
		t.Errorf("missing file: %s (the message should name the AFS path)", r.raw)
	}
	r = rooted.must("explain", obj{"path": "/"})
	if c, _ := r.data()["content"].(string); strings.Contains(c, "(`/alpha`)") {
		t.Errorf("explain lists mounts outside the root: %s", c)
	}
	// "/.." and friends are not paths at all.
	for _, p := range []string{"/../bob/x", "/a/../../x", "relative"} {
		if r := rooted.call("read", obj{"path": p}); r.success() || r.status != http.StatusBadRequest {
			t.Errorf("read %q: %d %s", p, r.status, r.raw)
		}
	}
}
