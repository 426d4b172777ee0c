package afs_test

import (
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
)

// TestSpecExamples sends the JSON requests of AFS-PROTOCOL.md §3 as they
// are written there and checks that each answer contains the answer the
// spec shows (extra fields are allowed by §1). The explain example is
// abbreviated in the spec ("…"), so its content is checked as a prefix.
func TestSpecExamples(t *testing.T) {
	e := newEnv(t, afs.Options{})
	// The spec's examples come from a server without a /tmp-dir listing
	// of docs beyond readme.md; the fixtures match its sizes.
	cases := []struct {
		name, req, want string
	}{
		{"read range",
			`{"method":"read","params":{"path":"/lines.txt","options":{"startLine":2,"endLine":3}}}`,
			`{"success":true,"data":{"data":{"id":"/lines.txt","path":"/lines.txt","content":"line2\nline3","meta":{"size":29,"lineRange":{"startLine":2,"endLine":3,"totalLines":5}}}}}`},
		{"list",
			`{"method":"list","params":{"path":"/docs","options":{"limit":10}}}`,
			`{"success":true,"data":{"data":[{"path":"/docs/readme.md","meta":{"kind":"fs:file","size":15}}]}}`},
		{"stat",
			`{"method":"stat","params":{"path":"/hello.txt"}}`,
			`{"success":true,"data":{"data":{"path":"/hello.txt","meta":{"size":13}}}}`},
		{"write patch",
			`{"method":"write","params":{"path":"/n.txt","content":{"patches":[{"op":"str_replace","target":"world","content":"earth"}]},"options":{"mode":"patch"}}}`,
			`{"success":true,"data":{"data":{"path":"/n.txt","content":"hello earth","meta":{"size":11}}}}`},
		{"delete",
			`{"method":"delete","params":{"path":"/tmp-dir","options":{"recursive":true}}}`,
			`{"success":true,"data":{"message":"Deleted: tmp-dir"}}`},
		{"rename",
			`{"method":"rename","params":{"path":"/a.txt","newPath":"/b.txt"}}`,
			`{"success":true,"data":{"message":"Renamed /a.txt to /b.txt"}}`},
		{"search",
			`{"method":"search","params":{"path":"/","query":"line","options":{"limit":1}}}`,
			`{"success":true,"data":{"data":[{"path":"/lines.txt","summary":"line1","meta":{"size":29}}]}}`},
		{"exec checksum",
			`{"method":"exec","params":{"path":"/alpha/hello.txt/.actions/checksum","args":{"algorithm":"sha256"}}}`,
			`{"success":true,"data":{"success":true,"data":{"hash":"2bcc7f56bbb15ac4dc4ce9bade001ffb625119a6b489c6e66749bd0baa47909f","algorithm":"sha256","size":22,"path":"/hello.txt"}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post("t-admin", []byte(c.req))
			if r.status != 200 || !subset(decode(t, c.want), r.body) {
				t.Errorf("%s\n got %d %s\nwant %s", c.req, r.status, r.raw, c.want)
			}
		})
	}
	r := e.post("t-admin", []byte(`{"method":"explain","params":{"path":"/"}}`))
	content, _ := r.data()["content"].(string)
	if r.data()["format"] != "markdown" || !strings.HasPrefix(content, "# AFS\n\n## Mounted Providers\n\n- alpha (`/alpha`)\n") {
		t.Errorf("explain /: %s", r.raw)
	}
	// After the rename the old path is gone (§3 rename).
	if r := e.call("stat", obj{"path": "/a.txt"}); r.code() != afs.CodeNotFound {
		t.Errorf("stat of the renamed path: %s", r.raw)
	}
}
