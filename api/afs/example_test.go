package afs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctxfs/ctxfs/api/afs"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// Example serves a store's namespace over AFS RPC with one bearer token
// and the safe exec policy, writes a file with a patch and reads a line.
func Example() {
	dir, _ := os.MkdirTemp("", "afs-example")
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{NoSync: true})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ns := fs.NewNamespace(st, fs.NamespaceOptions{})
	h := afs.NewHandler(ns, afs.Options{
		Authenticate: func(r *http.Request) (fs.Principal, error) {
			if r.Header.Get("Authorization") == "Bearer secret" {
				return fs.Principal{Name: "agent", Admin: true}, nil
			}
			return fs.Principal{}, fs.ErrUnauthenticated
		},
		Mounts: ns.Mounts,
		Exec:   afs.ExecPolicy{Policy: afs.PolicySafe},
	})
	mux := http.NewServeMux()
	mux.Handle("/afs/rpc", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// call prints the status and the answer's success and the value at
	// the dotted path show (answers carry times, so not all of them).
	call := func(body, show string) {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/afs/rpc", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var env map[string]any
		json.NewDecoder(resp.Body).Decode(&env)
		var v any = env
		for _, k := range strings.Split(show, ".") {
			v = v.(map[string]any)[k]
		}
		fmt.Printf("%d %v %q\n", resp.StatusCode, env["success"], fmt.Sprint(v))
	}
	call(`{"method":"write","params":{"path":"/notes/a.txt","content":{"content":"one\ntwo\n"}}}`, "data.data.path")
	call(`{"method":"write","params":{"path":"/notes/a.txt","content":{"patches":[{"op":"str_replace","target":"two","content":"2"}]},"options":{"mode":"patch"}}}`, "data.data.content")
	call(`{"method":"read","params":{"path":"/notes/a.txt","options":{"startLine":2}}}`, "data.data.content")
	call(`{"method":"exec","params":{"path":"/notes/a.txt/.actions/checksum","args":{}}}`, "error.message")
	call(`{"method":"stat","params":{"path":"/nowhere"}}`, "error.code")
	// Output:
	// 200 true "/notes/a.txt"
	// 200 true "one\n2\n"
	// 200 true "2"
	// 200 false "Action 'checksum' severity 'boundary' exceeds policy 'safe'"
	// 200 false "1"
}
