package afs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
)

// FuzzRPC sends arbitrary bodies to the handler over the real namespace
// (store and host directories): no answer is a server error, every answer
// is a valid envelope with a status the protocol allows, and a failed call
// changes nothing (the store's log does not move, the host directories
// stay as they were). The committed corpus is testdata/fuzz/FuzzRPC.
func FuzzRPC(f *testing.F) {
	for _, s := range []string{
		`{"method":"read","params":{"path":"/lines.txt","options":{"startLine":2,"endLine":3}}}`,
		`{"method":"write","params":{"path":"/n.txt","content":{"patches":[{"op":"str_replace","target":"world","content":"earth"}]},"options":{"mode":"patch"}}}`,
		`{"method":"write","params":{"path":"/alpha/x","content":{"content":"x","meta":{"k":1}},"options":{"mode":"append"}}}`,
		`{"method":"list","params":{"path":"/","options":{"maxDepth":9,"pattern":"**/*.txt","maxChildren":1}}}`,
		`{"method":"search","params":{"path":"/","query":"LINE","options":{"caseSensitive":true,"limit":1}}}`,
		`{"method":"rename","params":{"oldPath":"/docs","newPath":"/docs/in"}}`,
		`{"method":"delete","params":{"path":"/alpha","options":{"recursive":true}}}`,
		`{"method":"exec","params":{"path":"/beta/.actions/archive","args":{"format":"zip","outputPath":"/beta/a.zip"}}}`,
		`{"method":"explain","params":{"path":"/ro","options":{"format":"text"}}}`,
		`{"method":"changes","params":{"options":{"since":0,"limit":2}}}`,
		`{"method":"read","params":{"path":"/a\u0000"}}`,
		`{"method":"stat","params":{"path":"/"}} x`,
		`{"method":"stat"`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	e := newEnv(f, afs.Options{MaxBody: 1 << 12})
	h := afs.NewHandler(e.ns, afs.Options{MaxBody: 1 << 12, Authenticate: authenticate, Mounts: e.ns.Mounts, ArchiveDir: f.TempDir()})
	toks := []string{"t-admin", "t-alice", "", "bad"}
	f.Fuzz(func(t *testing.T, body []byte, tok uint8) {
		req := httptest.NewRequest("POST", "/afs/rpc", bytes.NewReader(body))
		if tk := toks[int(tok)%len(toks)]; tk != "" {
			req.Header.Set("Authorization", "Bearer "+tk)
		}
		e := *e // the fixture's helpers must report to t, not to f
		e.t = t
		before, host := e.lastSeq(), e.hostState()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 413:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var env struct {
			Success *bool `json:"success"`
			Data    json.RawMessage
			Error   *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Success == nil {
			t.Fatalf("not an envelope for %q: %s", body, rec.Body)
		}
		if *env.Success {
			if rec.Code != http.StatusOK || env.Data == nil {
				t.Fatalf("success with %d and data %s", rec.Code, env.Data)
			}
			return
		}
		if env.Error == nil || env.Error.Code < 1 || env.Error.Code > 6 || env.Error.Message == "" {
			t.Fatalf("bad error for %q: %s", body, rec.Body)
		}
		if after := e.lastSeq(); after != before {
			t.Fatalf("failed call %q moved the log from %d to %d: %s", body, before, after, rec.Body)
		}
		if !reflect.DeepEqual(host, e.hostState()) {
			t.Fatalf("failed call %q changed a host directory: %s", body, rec.Body)
		}
	})
}
