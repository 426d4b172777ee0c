package afs_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
	"github.com/ctxfs/ctxfs/fs"
)

func TestRead(t *testing.T) {
	e := newEnv(t, afs.Options{})
	e.must("write", obj{"path": "/nl.txt", "content": obj{"content": "a\n\nc\n"}})
	e.must("write", obj{"path": "/empty.txt", "content": obj{"content": ""}})
	cases := []struct {
		path       string
		start, end any // nil: absent
		content    string
		lineRange  []any // startLine, endLine, totalLines
	}{
		{"/lines.txt", nil, nil, "line1\nline2\nline3\nline4\nline5", nil},
		{"/lines.txt", 4, nil, "line4\nline5", []any{4.0, 5.0, 5.0}},
		{"/lines.txt", 4, -1, "line4\nline5", []any{4.0, 5.0, 5.0}},
		{"/lines.txt", nil, 2, "line1\nline2", []any{1.0, 2.0, 5.0}},
		{"/lines.txt", 3, 3, "line3", []any{3.0, 3.0, 5.0}},
		{"/lines.txt", 4, 99, "line4\nline5", []any{4.0, 5.0, 5.0}},
		{"/lines.txt", 9, nil, "", []any{9.0, 5.0, 5.0}},
		{"/nl.txt", 2, 3, "\nc", []any{2.0, 3.0, 3.0}},
		{"/nl.txt", 1, -1, "a\n\nc", []any{1.0, 3.0, 3.0}},
		{"/empty.txt", 1, nil, "", []any{1.0, 0.0, 0.0}},
	}
	for _, c := range cases {
		opts := obj{}
		if c.start != nil {
			opts["startLine"] = c.start
		}
		if c.end != nil {
			opts["endLine"] = c.end
		}
		r := e.must("read", obj{"path": c.path, "options": opts})
		en := r.entry()
		meta := en["meta"].(map[string]any)
		if en["content"] != c.content {
			t.Errorf("%s %v-%v: content %q, want %q", c.path, c.start, c.end, en["content"], c.content)
		}
		if c.lineRange != nil {
			lr, _ := meta["lineRange"].(map[string]any)
			if got := []any{lr["startLine"], lr["endLine"], lr["totalLines"]}; !subset(c.lineRange, got) {
				t.Errorf("%s %v-%v: lineRange %v, want %v", c.path, c.start, c.end, got, c.lineRange)
			}
		} else if _, ok := meta["lineRange"]; ok {
			t.Errorf("%s: lineRange on a whole read", c.path)
		}
	}
	// Binary content travels as base64.
	ctx := fs.WithPrincipal(context.Background(), admin)
	bin := []byte{0x89, 'P', 'N', 'G', 0xff, 0}
	if _, err := e.ns.Write(ctx, fs.MustParse("/logo.png"), bytes.NewReader(bin), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	en := e.must("read", obj{"path": "/logo.png"}).entry()
	meta := en["meta"].(map[string]any)
	if got, _ := base64.StdEncoding.DecodeString(en["content"].(string)); !bytes.Equal(got, bin) || meta["contentEncoding"] != "base64" || meta["mimeType"] != "image/png" {
		t.Errorf("binary read: %v", en)
	}
	// A directory: no content, its children counted, its actions listed.
	en = e.must("read", obj{"path": "/beta"}).entry()
	meta = en["meta"].(map[string]any)
	if _, ok := en["content"]; ok || meta["childrenCount"] != 3.0 || meta["kind"] != afs.KindDirectory || en["id"] != "beta" {
		t.Errorf("directory read: %v", en)
	}
	if acts, _ := en["actions"].([]any); len(acts) != 1 || acts[0].(map[string]any)["path"] != "/beta/.actions/archive" {
		t.Errorf("directory actions: %v", en["actions"])
	}
	// A file: kind, mime type, version, author, times.
	en = e.must("stat", obj{"path": "/docs/readme.md"}).entry()
	meta = en["meta"].(map[string]any)
	if meta["kind"] != afs.KindFile || meta["mimeType"] != "text/markdown" || meta["version"] != 1.0 || meta["author"] != "root" || en["createdAt"] == nil || en["updatedAt"] == nil {
		t.Errorf("stat: %v", en)
	}
	if _, ok := meta["childrenCount"]; ok {
		t.Errorf("childrenCount on a leaf: %v", meta)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t, afs.Options{})
	paths := func(params obj) string {
		return strings.Join(e.must("list", params).paths(), ",")
	}
	cases := []struct {
		path string
		opts obj
		want string
	}{
		{"/beta", nil, "/beta/nested,/beta/shared-name.txt,/beta/world.txt"},
		{"/beta", obj{"maxDepth": 2}, "/beta/nested,/beta/shared-name.txt,/beta/world.txt,/beta/nested/deep.txt"},
		{"/beta", obj{"maxDepth": 0}, ""},
		{"/beta", obj{"maxDepth": 5, "pattern": "*.txt"}, "/beta/shared-name.txt,/beta/world.txt,/beta/nested/deep.txt"},
		{"/beta", obj{"maxDepth": 5, "pattern": "nested/*"}, "/beta/nested/deep.txt"},
		{"/beta", obj{"maxDepth": 5, "pattern": "**/deep.txt"}, "/beta/nested/deep.txt"},
		{"/beta", obj{"maxDepth": 2, "offset": 1, "limit": 2}, "/beta/shared-name.txt,/beta/world.txt"},
		{"/beta", obj{"offset": 10}, ""},
		{"/beta", obj{"maxChildren": 1, "maxDepth": 2}, "/beta/nested,/beta/nested/deep.txt"},
		{"/beta/world.txt", nil, ""},
		{"/tmp-dir", obj{"maxDepth": 3}, "/tmp-dir/x.txt,/tmp-dir/y,/tmp-dir/y/z"},
	}
	for _, c := range cases {
		params := obj{"path": c.path}
		if c.opts != nil {
			params["options"] = c.opts
		}
		if got := paths(params); got != c.want {
			t.Errorf("list %s %v = %s, want %s", c.path, c.opts, got, c.want)
		}
	}
	r := e.must("list", obj{"path": "/beta", "options": obj{"maxDepth": 2, "limit": 1}})
	if r.data()["total"] != 4.0 {
		t.Errorf("total %v, want 4", r.data()["total"])
	}
	// Expanded directories know their children; others say -1.
	for _, en := range r.entries() {
		if _, ok := en["content"]; ok {
			t.Errorf("list carries content: %v", en)
		}
	}
	r = e.must("list", obj{"path": "/beta", "options": obj{"maxDepth": 2}})
	if m := r.entries()[0]["meta"].(map[string]any); m["childrenCount"] != 1.0 {
		t.Errorf("expanded directory: %v", m)
	}
	r = e.must("list", obj{"path": "/beta"})
	if m := r.entries()[0]["meta"].(map[string]any); m["childrenCount"] != -1.0 {
		t.Errorf("unexpanded directory: %v", m)
	}
	r = e.must("list", obj{"path": "/beta", "options": obj{"maxChildren": 1, "maxDepth": 2}})
	if r.data()["truncated"] != true {
		t.Errorf("maxChildren cut without truncated: %s", r.raw)
	}
}

func TestWrite(t *testing.T) {
	e := newEnv(t, afs.Options{})
	read := func(p string) map[string]any { return e.must("read", obj{"path": p}).entry() }
	// A bare string is accepted as the text.
	e.must("write", obj{"path": "/w/bare.txt", "content": "bare"})
	if read("/w/bare.txt")["content"] != "bare" {
		t.Error("bare string content")
	}
	// Metadata: set with content, merged later, null deletes, computed keys ignored.
	e.must("write", obj{"path": "/w/m.txt", "content": obj{"content": "v1", "meta": obj{"tag": "a", "n": 2, "ok": true, "size": 999}}})
	m := read("/w/m.txt")["meta"].(map[string]any)
	if m["tag"] != "a" || m["n"] != "2" || m["ok"] != "true" || m["size"] != 2.0 {
		t.Errorf("meta after write: %v", m)
	}
	e.must("write", obj{"path": "/w/m.txt", "content": obj{"meta": obj{"tag": nil, "more": "x"}}})
	en := read("/w/m.txt")
	m = en["meta"].(map[string]any)
	if en["content"] != "v1" || m["tag"] != nil || m["n"] != "2" || m["more"] != "x" {
		t.Errorf("meta-only update: %v", en)
	}
	// Meta on a host directory, which keeps none, is refused.
	if r := e.call("write", obj{"path": "/alpha/m.txt", "content": obj{"content": "x", "meta": obj{"k": "v"}}}); r.success() {
		t.Errorf("meta on a host mount: %s", r.raw)
	}
	// Patch operations in order.
	e.must("write", obj{"path": "/w/p.txt", "content": obj{"content": "one two three"}})
	r := e.must("write", obj{"path": "/w/p.txt", "content": obj{"patches": []obj{
		{"op": "insert_before", "target": "two", "content": "1.5 "},
		{"op": "insert_after", "target": "three", "content": " four"},
		{"op": "delete", "target": "one "},
		{"op": "str_replace", "target": "1.5", "content": "one-and-a-half"},
	}}, "options": obj{"mode": "patch"}})
	if got := r.entry()["content"]; got != "one-and-a-half two three four" {
		t.Errorf("patched: %q", got)
	}
	// Patches work on host files too (no versions: the handler's lock).
	e.must("write", obj{"path": "/alpha/hello.txt", "content": obj{"patches": []obj{{"op": "str_replace", "target": "provider A", "content": "alpha"}}}})
	if b, _ := os.ReadFile(filepath.Join(e.hosts["alpha"], "hello.txt")); string(b) != "Hello from alpha\n" {
		t.Errorf("host patch: %q", b)
	}
	// Parents are created.
	e.must("write", obj{"path": "/w/deep/er/x.txt", "content": obj{"content": "x"}, "options": obj{"mode": "create"}})
	if read("/w/deep/er")["meta"].(map[string]any)["kind"] != afs.KindDirectory {
		t.Error("parents not created")
	}
}

func TestRename(t *testing.T) {
	e := newEnv(t, afs.Options{})
	e.must("write", obj{"path": "/r/a.txt", "content": obj{"content": "a"}})
	e.must("write", obj{"path": "/r/b.txt", "content": obj{"content": "b"}})
	// oldPath as the reference handler sends it; destination parents created.
	e.must("rename", obj{"oldPath": "/r/a.txt", "newPath": "/r/sub/dir/a.txt"})
	if e.must("read", obj{"path": "/r/sub/dir/a.txt"}).entry()["content"] != "a" {
		t.Error("oldPath rename")
	}
	if r := e.call("rename", obj{"path": "/r/sub/dir/a.txt", "newPath": "/r/b.txt"}); r.code() != afs.CodeConflict {
		t.Errorf("existing destination: %s", r.raw)
	}
	e.must("rename", obj{"path": "/r/sub/dir/a.txt", "newPath": "/r/b.txt", "options": obj{"overwrite": true}})
	if e.must("read", obj{"path": "/r/b.txt"}).entry()["content"] != "a" {
		t.Error("overwrite")
	}
	// Within a host mount.
	e.must("rename", obj{"path": "/beta/nested", "newPath": "/beta/moved/nested"})
	if _, err := os.Stat(filepath.Join(e.hosts["beta"], "moved", "nested", "deep.txt")); err != nil {
		t.Errorf("host rename: %v", err)
	}
}

func TestExec(t *testing.T) {
	e := newEnv(t, afs.Options{})
	content := []byte("Hello from provider A\n")
	for alg, sum := range map[string][]byte{
		"md5": func() []byte { s := md5.Sum(content); return s[:] }(), "sha1": func() []byte { s := sha1.Sum(content); return s[:] }(),
		"sha512": func() []byte { s := sha512.Sum512(content); return s[:] }(),
	} {
		r := e.must("exec", obj{"path": "/alpha/hello.txt/.actions/checksum", "args": obj{"algorithm": alg, "unknown": 1}})
		if field(r, "data.hash") != hex.EncodeToString(sum) || field(r, "data.algorithm") != alg {
			t.Errorf("%s: %s", alg, r.raw)
		}
	}
	// Failures of the action itself keep envelope success.
	for name, params := range map[string]obj{
		"bad algorithm":     {"path": "/alpha/hello.txt/.actions/checksum", "args": obj{"algorithm": "crc32"}},
		"checksum of a dir": {"path": "/alpha/.actions/checksum", "args": obj{}},
		"missing target":    {"path": "/alpha/.actions/checksum", "args": obj{"path": "/nope.txt"}},
		"archive of a file": {"path": "/alpha/hello.txt/.actions/archive", "args": obj{}},
		"bad format":        {"path": "/beta/.actions/archive", "args": obj{"format": "rar"}},
		"algorithm number":  {"path": "/alpha/hello.txt/.actions/checksum", "args": obj{"algorithm": 5}},
	} {
		r := e.call("exec", params)
		if !r.success() || field(r, "success") != false || field(r, "error.code") == nil || field(r, "error.message") == nil {
			t.Errorf("%s: %s", name, r.raw)
		}
	}
	// The root node has the actions too.
	if r := e.must("exec", obj{"path": "/.actions/archive", "args": obj{"pattern": "docs/*"}}); field(r, "data.fileCount") != 1.0 {
		t.Errorf("root archive: %s", r.raw)
	}
	// tar.gz to the archive directory on the host.
	r := e.must("exec", obj{"path": "/beta/.actions/archive", "args": obj{"format": "tar.gz"}})
	out, _ := field(r, "data.outputPath").(string)
	if field(r, "data.fileCount") != 3.0 || field(r, "data.format") != "tar.gz" || !strings.HasSuffix(out, ".tar.gz") {
		t.Fatalf("archive: %s", r.raw)
	}
	files := untar(t, out)
	if got := strings.Join(sortedKeys(files), ","); got != "nested/deep.txt,shared-name.txt,world.txt" || files["world.txt"] != "World from provider B\n" {
		t.Errorf("tar holds %v", files)
	}
	if st, err := os.Stat(out); err != nil || float64(st.Size()) != field(r, "data.size") {
		t.Errorf("archive size: %v %v", err, field(r, "data.size"))
	}
	// zip with a pattern, into the namespace.
	r = e.must("exec", obj{"path": "/beta/.actions/archive", "args": obj{"format": "zip", "pattern": "*.txt", "outputPath": "/archives/beta.zip"}})
	if field(r, "data.outputPath") != "/archives/beta.zip" || field(r, "data.fileCount") != 3.0 {
		t.Fatalf("zip: %s", r.raw)
	}
	ctx := fs.WithPrincipal(context.Background(), admin)
	f, err := e.ns.Open(ctx, fs.MustParse("/archives/beta.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(f, f.Stat().Size)
	if err != nil || len(zr.File) != 3 {
		t.Fatalf("zip in the store: %v", err)
	}
	f.Close()
	r = e.must("exec", obj{"path": "/beta/.actions/archive", "args": obj{"pattern": "*.nothing"}})
	if field(r, "data.fileCount") != 0.0 {
		t.Errorf("empty archive: %s", r.raw)
	}
	// Exec needs the x permission: alice may read and write her memory
	// but runs nothing there unless granted.
	e.must("write", obj{"path": "/memory/alice/a.txt", "content": obj{"content": "a"}})
	if r := e.callAs("t-alice", "exec", obj{"path": "/memory/alice/a.txt/.actions/checksum", "args": obj{}}); r.code() != afs.CodePermissionDenied {
		t.Errorf("alice without x: %s", r.raw)
	}
	e.ns.SetPolicy(&fs.Policy{Rules: []fs.Rule{{Principal: "alice", Pattern: "/memory/alice/**", Perms: fs.PermExec}}})
	if r := e.callAs("t-alice", "exec", obj{"path": "/memory/alice/a.txt/.actions/checksum", "args": obj{}}); field(r, "data.path") != "/memory/alice/a.txt" {
		t.Errorf("alice with x: %s", r.raw)
	}
	// The archive of a directory holds only what the principal may read.
	e.must("write", obj{"path": "/memory/alice/b.txt", "content": obj{"content": "b"}})
	if r := e.callAs("t-alice", "exec", obj{"path": "/memory/alice/.actions/archive", "args": obj{"outputPath": "/memory/bob/x.tgz"}}); r.code() != afs.CodePermissionDenied {
		t.Errorf("alice archives into bob's memory: %s", r.raw)
	}
}

func untar(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestChanges follows the change log through the changes extension.
func TestChanges(t *testing.T) {
	e := newEnv(t, afs.Options{})
	r := e.must("changes", obj{})
	last := field(r, "last").(float64)
	e.must("write", obj{"path": "/c/x.txt", "content": obj{"content": "x"}})
	e.must("rename", obj{"path": "/c/x.txt", "newPath": "/c/y.txt"})
	e.must("delete", obj{"path": "/c", "options": obj{"recursive": true}})
	r = e.must("changes", obj{"options": obj{"since": last}})
	var got []string
	for _, ev := range r.entries() {
		d := ev["data"].(map[string]any)
		s := ev["type"].(string) + " " + ev["path"].(string)
		if np, ok := d["newPath"]; ok {
			s += " " + np.(string)
		}
		if ev["source"] != "/" || ev["timestamp"] == "" {
			t.Errorf("event %v", ev)
		}
		got = append(got, s)
	}
	if s := strings.Join(got, "; "); s != "mkdir /c; write /c/x.txt; rename /c/x.txt /c/y.txt; delete /c" {
		t.Errorf("events: %s", s)
	}
	if field(r, "last").(float64) <= last {
		t.Errorf("last did not move: %s", r.raw)
	}
	// limit pages through the log.
	r = e.must("changes", obj{"options": obj{"since": last, "limit": 1}})
	if len(r.entries()) != 1 || field(r, "last").(float64) != last+1 {
		t.Errorf("limit 1: %s", r.raw)
	}
	// Alice sees only her own paths; a rooted server only its subtree.
	e.must("write", obj{"path": "/memory/alice/n.txt", "content": obj{"content": "x"}})
	r = e.callAs("t-alice", "changes", obj{"options": obj{"since": 0}})
	for _, ev := range r.entries() {
		if !strings.HasPrefix(ev["path"].(string), "/memory/alice") {
			t.Errorf("alice saw %v", ev)
		}
	}
	rooted := &env{st: e.st, ns: e.ns, t: t}
	rooted.srv = newServer(t, afs.NewHandler(e.ns, afs.Options{Root: "/memory", Authenticate: authenticate}))
	r = rooted.must("changes", obj{"options": obj{"since": 0}})
	if ps := strings.Join(r.paths(), ","); !strings.Contains(ps, "/alice/n.txt") || strings.Contains(ps, "/c/") {
		t.Errorf("rooted events: %s", ps)
	}
}
