package afs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/mounts/hostdir"
)

// The AFS conformance suite (AIGNE-io/afs conformance/specs, levels L1 to
// L6) as Go tests: the same requests and the same expectations, against the
// ctxfs namespace with the L1 fixtures in the store at "/" and the L3
// providers mounted at /alpha and /beta.

// step is one request of a case and what its answer must satisfy.
type step struct {
	method, params string // params as JSON
	ok             bool
	code           int // required error code when !ok; 0: any failure
	checks         []check
}

type check func(t *testing.T, r reply)

// field walks data by a dotted path ("data.content").
func field(r reply, path string) any {
	var v any = r.body["data"]
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func equals(path string, want any) check {
	return func(t *testing.T, r reply) {
		if got := field(r, path); !subset(want, got) {
			t.Errorf("data.%s = %#v, want %#v", path, got, want)
		}
	}
}

func contains(path, want string) check {
	return func(t *testing.T, r reply) {
		if got, _ := field(r, path).(string); !strings.Contains(got, want) {
			t.Errorf("data.%s = %q, want it to contain %q", path, got, want)
		}
	}
}

func exists(path string) check {
	return func(t *testing.T, r reply) {
		if field(r, path) == nil {
			t.Errorf("data.%s missing in %s", path, r.raw)
		}
	}
}

func isArray(path string) check {
	return func(t *testing.T, r reply) {
		if _, ok := field(r, path).([]any); !ok {
			t.Errorf("data.%s is not an array: %s", path, r.raw)
		}
	}
}

func length(path string, n int) check {
	return func(t *testing.T, r reply) {
		if a, ok := field(r, path).([]any); !ok || len(a) != n {
			t.Errorf("data.%s has not %d elements: %s", path, n, r.raw)
		}
	}
}

func sizeAtLeast1(t *testing.T, r reply) {
	if s, _ := field(r, "data.meta.size").(float64); s < 1 {
		t.Errorf("meta.size %v < 1: %s", field(r, "data.meta.size"), r.raw)
	}
}

func msgContains(s string) check {
	return func(t *testing.T, r reply) {
		if !strings.Contains(r.message(), s) {
			t.Errorf("error message %q lacks %q", r.message(), s)
		}
	}
}

func ok(method, params string, checks ...check) step {
	return step{method: method, params: params, ok: true, checks: checks}
}

func fails(method, params string, code int, checks ...check) step {
	return step{method: method, params: params, code: code, checks: checks}
}

// do runs steps in order; a cleanup step is any step with no expectation
// of its own, which the suite marks by ok=true and no checks anyway.
func runSteps(t *testing.T, e *env, steps []step) {
	t.Helper()
	for i, s := range steps {
		var params any
		if err := json.Unmarshal([]byte(s.params), &params); err != nil {
			t.Fatalf("step %d: bad params %s", i, s.params)
		}
		r := e.call(s.method, params)
		if r.success() != s.ok {
			t.Fatalf("step %d %s %s: success=%v, want %v: %s", i, s.method, s.params, r.success(), s.ok, r.raw)
		}
		if !s.ok && s.code != 0 && r.code() != s.code {
			t.Fatalf("step %d %s %s: code %d, want %d: %s", i, s.method, s.params, r.code(), s.code, r.raw)
		}
		for _, c := range s.checks {
			c(t, r)
		}
	}
}

type conformanceCase struct {
	name  string
	steps []step
}

func TestConformanceL1(t *testing.T) {
	e := newEnv(t, afs.Options{})
	for _, c := range []conformanceCase{
		{"list root", []step{ok("list", `{"path":"/"}`, isArray("data"))}},
		{"list directory with children", []step{ok("list", `{"path":"/docs"}`, isArray("data"), length("data", 1))}},
		{"list with limit", []step{ok("list", `{"path":"/","options":{"limit":2}}`, length("data", 2))}},
		{"list with offset", []step{ok("list", `{"path":"/","options":{"offset":1,"limit":2}}`, length("data", 2))}},
		{"list not found", []step{fails("list", `{"path":"/nonexistent-dir"}`, afs.CodeNotFound)}},
		{"read existing text file", []step{ok("read", `{"path":"/hello.txt"}`, equals("data.content", "Hello, World!"), exists("data.path"), sizeAtLeast1)}},
		{"read not found", []step{fails("read", `{"path":"/nonexistent.txt"}`, afs.CodeNotFound)}},
		{"read json file", []step{ok("read", `{"path":"/data.json"}`, contains("data.content", "value"), exists("data.path"))}},
		{"read nested file", []step{ok("read", `{"path":"/docs/readme.md"}`, contains("data.content", "# Test"), exists("data.path"))}},
		{"read with line range", []step{ok("read", `{"path":"/lines.txt","options":{"startLine":2,"endLine":4}}`, equals("data.content", "line2\nline3\nline4"))}},
		{"read directory path", []step{ok("read", `{"path":"/docs"}`, exists("data.path"), equals("data.meta.childrenCount", 1.0))}},
		{"write new file", []step{ok("write", `{"path":"/test-write-new.txt","content":{"content":"new file content"}}`, exists("data.path"))}},
		{"write replace existing", []step{ok("write", `{"path":"/test-write-replace.txt","content":{"content":"replaced content"},"options":{"mode":"replace"}}`, exists("data.path"))}},
		{"write append mode", []step{ok("write", `{"path":"/test-write-append.txt","content":{"content":"appended text"},"options":{"mode":"append"}}`, exists("data.path"))}},
		{"write create rejects existing", []step{fails("write", `{"path":"/hello.txt","content":{"content":"should fail"},"options":{"mode":"create"}}`, afs.CodeConflict)}},
		{"unsupported method", []step{fails("nonexistent_method", `{"path":"/"}`, 0)}},
		{"search by content", []step{ok("search", `{"path":"/","query":"Hello"}`, isArray("data"))}},
		{"search with limit", []step{ok("search", `{"path":"/","query":"line","options":{"limit":2}}`, length("data", 1))}},
		{"stat existing file", []step{ok("stat", `{"path":"/hello.txt"}`, exists("data.path"), sizeAtLeast1)}},
		{"stat existing directory", []step{ok("stat", `{"path":"/docs"}`, exists("data.path"))}},
		{"stat not found", []step{fails("stat", `{"path":"/nonexistent.txt"}`, afs.CodeNotFound)}},
		{"delete existing file", []step{
			ok("write", `{"path":"/test-delete-target.txt","content":{"content":"x"}}`),
			ok("delete", `{"path":"/test-delete-target.txt"}`),
		}},
		{"delete not found", []step{fails("delete", `{"path":"/nonexistent-delete-target.txt"}`, afs.CodeNotFound)}},
		{"delete directory recursive", []step{
			ok("write", `{"path":"/test-delete-dir/a/b.txt","content":{"content":"x"}}`),
			fails("delete", `{"path":"/test-delete-dir"}`, afs.CodeRuntime),
			ok("delete", `{"path":"/test-delete-dir","options":{"recursive":true}}`),
			fails("stat", `{"path":"/test-delete-dir"}`, afs.CodeNotFound),
		}},
	} {
		t.Run(c.name, func(t *testing.T) { runSteps(t, e, c.steps) })
	}
}

func TestConformanceL2(t *testing.T) {
	e := newEnv(t, afs.Options{})
	for _, c := range []conformanceCase{
		{"append adds to existing", []step{
			ok("write", `{"path":"/l2-append.txt","content":{"content":"first"}}`),
			ok("write", `{"path":"/l2-append.txt","content":{"content":" second"},"options":{"mode":"append"}}`),
			ok("read", `{"path":"/l2-append.txt"}`, equals("data.content", "first second")),
			ok("delete", `{"path":"/l2-append.txt"}`),
		}},
		{"append creates", []step{
			ok("write", `{"path":"/l2-append-new.txt","content":{"content":"brand new"},"options":{"mode":"append"}}`),
			ok("read", `{"path":"/l2-append-new.txt"}`, equals("data.content", "brand new")),
		}},
		{"prepend adds before existing", []step{
			ok("write", `{"path":"/l2-prepend.txt","content":{"content":"world"}}`),
			ok("write", `{"path":"/l2-prepend.txt","content":{"content":"hello "},"options":{"mode":"prepend"}}`),
			ok("read", `{"path":"/l2-prepend.txt"}`, equals("data.content", "hello world")),
		}},
		{"prepend creates", []step{
			ok("write", `{"path":"/l2-prepend-new.txt","content":{"content":"brand new"},"options":{"mode":"prepend"}}`),
			ok("read", `{"path":"/l2-prepend-new.txt"}`, equals("data.content", "brand new")),
		}},
		{"create succeeds on a new path, rejects a second write", []step{
			ok("write", `{"path":"/l2-create-once.txt","content":{"content":"original"},"options":{"mode":"create"}}`),
			fails("write", `{"path":"/l2-create-once.txt","content":{"content":"duplicate"},"options":{"mode":"create"}}`, afs.CodeConflict),
			ok("read", `{"path":"/l2-create-once.txt"}`, equals("data.content", "original")),
		}},
		{"update existing, rejects missing", []step{
			ok("write", `{"path":"/l2-update.txt","content":{"content":"original"}}`),
			ok("write", `{"path":"/l2-update.txt","content":{"content":"updated"},"options":{"mode":"update"}}`),
			ok("read", `{"path":"/l2-update.txt"}`, equals("data.content", "updated")),
			fails("write", `{"path":"/l2-update-missing.txt","content":{"content":"data"},"options":{"mode":"update"}}`, afs.CodeNotFound),
			fails("stat", `{"path":"/l2-update-missing.txt"}`, afs.CodeNotFound),
		}},
		{"patch str_replace", []step{
			ok("write", `{"path":"/l2-patch.txt","content":{"content":"hello world"}}`),
			ok("write", `{"path":"/l2-patch.txt","content":{"patches":[{"op":"str_replace","target":"world","content":"earth"}]},"options":{"mode":"patch"}}`),
			ok("read", `{"path":"/l2-patch.txt"}`, equals("data.content", "hello earth")),
		}},
		{"replace overwrites", []step{
			ok("write", `{"path":"/l2-replace.txt","content":{"content":"first"}}`),
			ok("write", `{"path":"/l2-replace.txt","content":{"content":"second"}}`),
			ok("read", `{"path":"/l2-replace.txt"}`, equals("data.content", "second")),
		}},
		{"write, rename, read new and old", []step{
			ok("write", `{"path":"/integ-rename-src.txt","content":{"content":"rename me please"}}`),
			ok("rename", `{"path":"/integ-rename-src.txt","newPath":"/integ-rename-dst.txt"}`),
			ok("read", `{"path":"/integ-rename-dst.txt"}`, contains("data.content", "rename me please")),
			fails("read", `{"path":"/integ-rename-src.txt"}`, afs.CodeNotFound),
			ok("delete", `{"path":"/integ-rename-dst.txt"}`),
		}},
		{"write, stat, delete, stat", []step{
			ok("write", `{"path":"/integ-stat-cycle.txt","content":{"content":"stat me then delete"}}`),
			ok("stat", `{"path":"/integ-stat-cycle.txt"}`, sizeAtLeast1),
			ok("delete", `{"path":"/integ-stat-cycle.txt"}`),
			fails("stat", `{"path":"/integ-stat-cycle.txt"}`, afs.CodeNotFound),
		}},
		{"nested write, list parent", []step{
			ok("write", `{"path":"/integ-mount/deep/nested/file.txt","content":{"content":"nested content here"}}`),
			ok("list", `{"path":"/integ-mount/deep/nested/"}`, length("data", 1)),
			ok("delete", `{"path":"/integ-mount/deep/nested/file.txt"}`),
			ok("delete", `{"path":"/integ-mount/","options":{"recursive":true}}`),
		}},
		{"search across directories", []step{
			ok("write", `{"path":"/integ-cross-a/note.txt","content":{"content":"xmount-unique-token-7f3a"}}`),
			ok("write", `{"path":"/integ-cross-b/note.txt","content":{"content":"unrelated content only"}}`),
			ok("search", `{"path":"/","query":"xmount-unique-token-7f3a"}`, length("data", 1), equals("data", []any{map[string]any{"path": "/integ-cross-a/note.txt"}})),
		}},
		{"search shared keyword, case, limit", []step{
			ok("write", `{"path":"/integ-search-multi/one.txt","content":{"content":"xsearch-shared-kw-9e2b in file one"}}`),
			ok("write", `{"path":"/integ-search-multi/two.txt","content":{"content":"xsearch-shared-kw-9e2b in file two"}}`),
			ok("write", `{"path":"/integ-search-multi/three.txt","content":{"content":"The keyword is HelloWorldCase here"}}`),
			ok("search", `{"path":"/integ-search-multi/","query":"xsearch-shared-kw-9e2b"}`, length("data", 2)),
			ok("search", `{"path":"/integ-search-multi/","query":"xsearch-shared-kw-9e2b","options":{"limit":1}}`, length("data", 1)),
			ok("search", `{"path":"/integ-search-multi/","query":"helloworldcase","options":{"caseSensitive":true}}`, length("data", 0)),
			ok("search", `{"path":"/integ-search-multi/","query":"helloworldcase","options":{"caseSensitive":false}}`, length("data", 1), equals("data", []any{map[string]any{"summary": "The keyword is HelloWorldCase here"}})),
			ok("delete", `{"path":"/integ-search-multi/","options":{"recursive":true}}`),
			ok("search", `{"path":"/","query":"xsearch-shared-kw-9e2b"}`, length("data", 0)),
		}},
	} {
		t.Run(c.name, func(t *testing.T) { runSteps(t, e, c.steps) })
	}
}

func TestConformanceL3(t *testing.T) {
	e := newEnv(t, afs.Options{})
	for _, c := range []conformanceCase{
		{"routing", []step{
			ok("read", `{"path":"/alpha/hello.txt"}`, contains("data.content", "provider A")),
			ok("read", `{"path":"/beta/world.txt"}`, contains("data.content", "provider B")),
			ok("read", `{"path":"/alpha/shared-name.txt"}`, contains("data.content", "provider A")),
			ok("read", `{"path":"/beta/shared-name.txt"}`, contains("data.content", "provider B")),
			ok("list", `{"path":"/alpha"}`, length("data", 2), equals("data", []any{map[string]any{"path": "/alpha/hello.txt"}, map[string]any{"path": "/alpha/shared-name.txt"}})),
			ok("list", `{"path":"/beta"}`, length("data", 3)),
			ok("list", `{"path":"/beta/nested"}`, equals("data", []any{map[string]any{"path": "/beta/nested/deep.txt"}})),
			ok("read", `{"path":"/beta/nested/deep.txt"}`, contains("data.content", "Deep nested")),
			ok("stat", `{"path":"/alpha/hello.txt"}`, sizeAtLeast1),
			fails("read", `{"path":"/alpha/does-not-exist.txt"}`, afs.CodeNotFound),
			fails("read", `{"path":"/gamma/anything.txt"}`, afs.CodeNotFound),
			fails("stat", `{"path":"/gamma"}`, afs.CodeNotFound),
			ok("search", `{"path":"/gamma","query":"x"}`, length("data", 0)),
		}},
		{"root list and stat", []step{
			ok("list", `{"path":"/"}`, isArray("data"), func(t *testing.T, r reply) {
				found := 0
				for _, en := range r.entries() {
					if en["path"] == "/alpha" || en["path"] == "/beta" {
						found++
						meta, _ := en["meta"].(map[string]any)
						if en["id"] != strings.TrimPrefix(en["path"].(string), "/") || meta["childrenCount"] != -1.0 || meta["description"] == nil || en["summary"] == nil {
							t.Errorf("mount entry %v", en)
						}
					}
				}
				if found != 2 {
					t.Errorf("root list lacks the mounts: %s", r.raw)
				}
			}),
			ok("stat", `{"path":"/"}`, equals("data.path", "/"), func(t *testing.T, r reply) {
				list := e.call("list", obj{"path": "/"})
				if n, _ := field(r, "data.meta.childrenCount").(float64); int(n) != len(list.entries()) {
					t.Errorf("stat / childrenCount %v, list has %d", n, len(list.entries()))
				}
			}),
			ok("explain", `{"path":"/"}`, equals("format", "markdown"), contains("content", "Mounted Providers"), contains("content", "alpha"), contains("content", "beta")),
		}},
		{"isolation", []step{
			ok("write", `{"path":"/alpha/isolation-test.txt","content":{"content":"written to alpha"}}`),
			ok("read", `{"path":"/alpha/isolation-test.txt"}`, equals("data.content", "written to alpha")),
			fails("read", `{"path":"/beta/isolation-test.txt"}`, afs.CodeNotFound),
			ok("delete", `{"path":"/alpha/isolation-test.txt"}`),
			ok("write", `{"path":"/alpha/delete-iso-test.txt","content":{"content":"alpha file"}}`),
			ok("write", `{"path":"/beta/delete-iso-test.txt","content":{"content":"beta file"}}`),
			ok("delete", `{"path":"/alpha/delete-iso-test.txt"}`),
			ok("read", `{"path":"/beta/delete-iso-test.txt"}`, equals("data.content", "beta file")),
			ok("delete", `{"path":"/beta/delete-iso-test.txt"}`),
		}},
		{"cross-mount search", []step{
			ok("write", `{"path":"/alpha/search-test-xm.txt","content":{"content":"l3-xmount-unique-token-abc123"}}`),
			ok("write", `{"path":"/beta/search-test-xm.txt","content":{"content":"l3-xmount-unique-token-abc123"}}`),
			ok("search", `{"path":"/","query":"l3-xmount-unique-token-abc123"}`, equals("data", []any{map[string]any{"path": "/alpha/search-test-xm.txt"}, map[string]any{"path": "/beta/search-test-xm.txt"}})),
			ok("search", `{"path":"/beta","query":"l3-xmount-unique-token-abc123"}`, equals("data", []any{map[string]any{"path": "/beta/search-test-xm.txt"}})),
			ok("delete", `{"path":"/alpha/search-test-xm.txt"}`),
			ok("delete", `{"path":"/beta/search-test-xm.txt"}`),
			ok("write", `{"path":"/alpha/scoped-search.txt","content":{"content":"l3-scoped-token-xyz789"}}`),
			ok("search", `{"path":"/beta","query":"l3-scoped-token-xyz789"}`, length("data", 0)),
			ok("search", `{"path":"/alpha","query":"l3-scoped-token-xyz789"}`, length("data", 1)),
			ok("delete", `{"path":"/alpha/scoped-search.txt"}`),
		}},
		{"rename across mounts refused", []step{
			fails("rename", `{"path":"/alpha/hello.txt","newPath":"/beta/hello.txt"}`, afs.CodeRuntime),
			fails("rename", `{"path":"/alpha/hello.txt","newPath":"/moved.txt"}`, afs.CodeRuntime),
			ok("read", `{"path":"/alpha/hello.txt"}`),
			fails("read", `{"path":"/beta/hello.txt"}`, afs.CodeNotFound),
		}},
		{"read-only mount", []step{
			ok("read", `{"path":"/ro/locked.txt"}`, equals("data.content", "read only\n")),
			fails("write", `{"path":"/ro/locked.txt","content":{"content":"x"}}`, afs.CodePermissionDenied),
			fails("write", `{"path":"/ro/new.txt","content":{"content":"x"},"options":{"mode":"append"}}`, afs.CodePermissionDenied),
			fails("delete", `{"path":"/ro/locked.txt"}`, afs.CodePermissionDenied),
			fails("rename", `{"path":"/ro/locked.txt","newPath":"/ro/other.txt"}`, afs.CodePermissionDenied),
			fails("exec", `{"path":"/ro/locked.txt/.actions/checksum","args":{}}`, afs.CodePermissionDenied),
			ok("read", `{"path":"/ro/locked.txt"}`, equals("data.content", "read only\n")),
		}},
	} {
		t.Run(c.name, func(t *testing.T) { runSteps(t, e, c.steps) })
	}
}

func TestConformanceL4(t *testing.T) {
	e := newEnv(t, afs.Options{})
	runSteps(t, e, []step{
		ok("explain", `{"path":"/"}`, equals("format", "markdown"), contains("content", "Mounted Providers"), contains("content", "- alpha (`/alpha`)"),
			contains("content", "- read:"), contains("content", "- list:"), contains("content", "- stat:"), contains("content", "- exec:")),
		ok("explain", `{"path":"/alpha"}`, equals("format", "markdown"), contains("content", "# Mount alpha"), contains("content", "Operations:"), contains("content", "archive")),
		ok("explain", `{"path":"/alpha/hello.txt"}`, equals("format", "markdown"), contains("content", "Size: 22 bytes"), contains("content", "checksum")),
		ok("explain", `{"path":"/docs","options":{"format":"text"}}`, equals("format", "text"), contains("content", "Type: directory"), contains("content", "Children: 1")),
		fails("explain", `{"path":"/alpha/does-not-exist.txt"}`, afs.CodeNotFound),
		fails("explain", `{"path":"/gamma"}`, afs.CodeNotFound),
	})
}

func TestConformanceL5(t *testing.T) {
	t.Run("safe policy", func(t *testing.T) {
		e := newEnv(t, afs.Options{Exec: afs.ExecPolicy{Policy: afs.PolicySafe}})
		runSteps(t, e, []step{
			fails("exec", `{"path":"/alpha/.actions/checksum","args":{"path":"/hello.txt"}}`, afs.CodeRuntime, msgContains("severity"), msgContains("Action 'checksum' severity 'boundary' exceeds policy 'safe'")),
			fails("exec", `{"path":"/alpha/.actions/archive","args":{"path":"/","format":"tar.gz"}}`, afs.CodeRuntime, msgContains("severity")),
			ok("read", `{"path":"/alpha/hello.txt"}`, contains("data.content", "provider A")),
			ok("write", `{"path":"/alpha/policy-test.txt","content":{"content":"policy test"}}`),
			ok("delete", `{"path":"/alpha/policy-test.txt"}`),
		})
	})
	t.Run("blocked", func(t *testing.T) {
		e := newEnv(t, afs.Options{Exec: afs.ExecPolicy{Blocked: []string{"archive"}, Allowed: []string{"archive"}}})
		runSteps(t, e, []step{
			fails("exec", `{"path":"/alpha/.actions/archive","args":{"path":"/","format":"tar.gz"}}`, afs.CodeRuntime, msgContains("blocked")),
			ok("exec", `{"path":"/alpha/.actions/checksum","args":{"path":"/hello.txt"}}`, equals("success", true), equals("data.path", "/hello.txt"), equals("data.algorithm", "sha256")),
		})
	})
	t.Run("allowed beats severity", func(t *testing.T) {
		e := newEnv(t, afs.Options{Exec: afs.ExecPolicy{Policy: afs.PolicySafe, Allowed: []string{"checksum"}}})
		runSteps(t, e, []step{
			ok("exec", `{"path":"/alpha/.actions/checksum","args":{"path":"/hello.txt"}}`, equals("success", true)),
			fails("exec", `{"path":"/alpha/.actions/archive","args":{}}`, afs.CodeRuntime, msgContains("severity")),
		})
	})
	t.Run("per-mount policy", func(t *testing.T) {
		e := newEnv(t, afs.Options{Exec: afs.ExecPolicy{Policy: afs.PolicyFull, Mounts: map[string]afs.ExecPolicy{"/beta": {Policy: afs.PolicySafe}}}})
		runSteps(t, e, []step{
			ok("exec", `{"path":"/alpha/hello.txt/.actions/checksum","args":{}}`, equals("success", true)),
			fails("exec", `{"path":"/beta/world.txt/.actions/checksum","args":{}}`, afs.CodeRuntime, msgContains("exceeds policy 'safe'")),
		})
	})
}

func TestConformanceL6(t *testing.T) {
	e := newEnv(t, afs.Options{})
	runSteps(t, e, []step{
		ok("write", `{"path":"/alpha/event-test.txt","content":{"content":"event propagation test"}}`),
		ok("stat", `{"path":"/alpha/event-test.txt"}`, sizeAtLeast1),
		ok("delete", `{"path":"/alpha/event-test.txt"}`),
		ok("write", `{"path":"/beta/event-del-test.txt","content":{"content":"will be deleted"}}`),
		ok("stat", `{"path":"/beta/event-del-test.txt"}`),
		ok("delete", `{"path":"/beta/event-del-test.txt"}`),
		fails("stat", `{"path":"/beta/event-del-test.txt"}`, afs.CodeNotFound),
		ok("write", `{"path":"/alpha/event-search-test.txt","content":{"content":"l6-unique-propagation-token-xyz"}}`),
		ok("search", `{"path":"/","query":"l6-unique-propagation-token-xyz"}`, length("data", 1)),
		ok("delete", `{"path":"/alpha/event-search-test.txt"}`),
		ok("search", `{"path":"/","query":"l6-unique-propagation-token-xyz"}`, length("data", 0)),
		// The same in the store, which has a change log.
		ok("write", `{"path":"/l6/store.txt","content":{"content":"l6-store-token"}}`),
		ok("search", `{"path":"/","query":"l6-store-token"}`, length("data", 1)),
		ok("delete", `{"path":"/l6","options":{"recursive":true}}`),
		ok("search", `{"path":"/","query":"l6-store-token"}`, length("data", 0)),
	})
}

// TestMountTable checks that the AFS mounts follow the namespace's mount
// table while the server runs, as `ctxfs mounts add NAME DIR --rw --at
// /NAME` changes it.
func TestMountTable(t *testing.T) {
	e := newEnv(t, afs.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "g.txt"), []byte("gamma file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := hostdir.New(dir, hostdir.Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	runSteps(t, e, []step{fails("read", `{"path":"/gamma/g.txt"}`, afs.CodeNotFound)})
	if err := e.ns.Mount(fs.MustParse("/gamma"), h); err != nil {
		t.Fatal(err)
	}
	runSteps(t, e, []step{
		ok("read", `{"path":"/gamma/g.txt"}`, equals("data.content", "gamma file\n")),
		ok("explain", `{"path":"/"}`, contains("content", "- gamma (`/gamma`)")),
		ok("stat", `{"path":"/gamma"}`, equals("data.id", "gamma"), equals("data.meta.description", "provider gamma mounted at /gamma (read-write)")),
		ok("search", `{"path":"/","query":"gamma file"}`, equals("data", []any{map[string]any{"path": "/gamma/g.txt", "summary": "gamma file"}})),
		fails("rename", `{"path":"/gamma/g.txt","newPath":"/alpha/g.txt"}`, afs.CodeRuntime),
	})
	if err := e.ns.Unmount(fs.MustParse("/gamma")); err != nil {
		t.Fatal(err)
	}
	runSteps(t, e, []step{
		fails("read", `{"path":"/gamma/g.txt"}`, afs.CodeNotFound),
		ok("search", `{"path":"/gamma","query":"gamma"}`, length("data", 0)),
	})
}
