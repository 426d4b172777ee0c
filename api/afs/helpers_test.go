package afs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/mounts/hostdir"
)

// env is a real ctxfs namespace (a store with host directories mounted)
// served over AFS RPC by a real HTTP server.
type env struct {
	st    *store.Store
	ns    *fs.Namespace
	srv   *httptest.Server
	hosts map[string]string // mount name -> host directory
	t     testing.TB
}

var admin = fs.Principal{Name: "root", Admin: true}

// tokens is the bearer-token table of every test server.
var tokens = map[string]fs.Principal{
	"t-admin": admin,
	"t-alice": {Name: "alice"},
	"t-bob":   {Name: "bob"},
}

func authenticate(r *http.Request) (fs.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if pr, found := tokens[tok]; ok && found {
		return pr, nil
	}
	return fs.Principal{}, fmt.Errorf("%w: missing or unknown token", fs.ErrUnauthenticated)
}

// fixtures are the files of the AFS conformance suite: the root provider's
// (the store) and those of the two L3 providers (host directories).
var rootFixtures = map[string]string{
	"/hello.txt":      "Hello, World!",
	"/data.json":      `{ "key": "value", "count": 42 }` + "\n",
	"/docs/readme.md": "# Test Document",
	"/lines.txt":      "line1\nline2\nline3\nline4\nline5",
	"/n.txt":          "hello world",
	"/a.txt":          "to be renamed",
	"/tmp-dir/x.txt":  "x",
	"/tmp-dir/y/z":    "z",
}

var hostFixtures = map[string]map[string]string{
	"alpha": {"hello.txt": "Hello from provider A\n", "shared-name.txt": "shared name in provider A\n"},
	"beta":  {"world.txt": "World from provider B\n", "shared-name.txt": "shared name in provider B\n", "nested/deep.txt": "Deep nested file in provider B\n"},
	"ro":    {"locked.txt": "read only\n"},
}

func newStore(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// newEnv builds the namespace: the store with rootFixtures at /, alpha and
// beta mounted writable at /alpha and /beta, ro read-only at /ro.
func newEnv(tb testing.TB, opts afs.Options) *env {
	tb.Helper()
	ctx := fs.WithPrincipal(context.Background(), admin)
	e := &env{st: newStore(tb), hosts: map[string]string{}, t: tb}
	e.ns = fs.NewNamespace(e.st, fs.NamespaceOptions{})
	for p, c := range rootFixtures {
		if _, err := e.ns.Write(ctx, fs.MustParse(p), strings.NewReader(c), fs.WriteOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	for name, files := range hostFixtures {
		dir := tb.TempDir()
		for p, c := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
		h, err := hostdir.New(dir, hostdir.Options{Writable: name != "ro"})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { h.Close() })
		if err := e.ns.Mount(fs.MustParse("/"+name), h); err != nil {
			tb.Fatal(err)
		}
		e.hosts[name] = dir
	}
	if opts.Authenticate == nil {
		opts.Authenticate = authenticate
	}
	if opts.Mounts == nil {
		opts.Mounts = e.ns.Mounts
	}
	if opts.ArchiveDir == "" {
		opts.ArchiveDir = tb.TempDir()
	}
	e.srv = httptest.NewServer(afs.NewHandler(e.ns, opts))
	tb.Cleanup(e.srv.Close)
	return e
}

// reply is a decoded answer.
type reply struct {
	status int
	raw    []byte
	body   map[string]any
}

func (r reply) success() bool {
	b, _ := r.body["success"].(bool)
	return b
}

// code is the error code of a failure, 0 on success.
func (r reply) code() int {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

func (r reply) message() string {
	e, _ := r.body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (r reply) data() map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

// entry is data.data as an object.
func (r reply) entry() map[string]any {
	d, _ := r.data()["data"].(map[string]any)
	return d
}

// entries is data.data as an array.
func (r reply) entries() []map[string]any {
	arr, _ := r.data()["data"].([]any)
	out := make([]map[string]any, len(arr))
	for i, a := range arr {
		out[i], _ = a.(map[string]any)
	}
	return out
}

func (r reply) paths() []string {
	var out []string
	for _, e := range r.entries() {
		s, _ := e["path"].(string)
		out = append(out, s)
	}
	return out
}

// post sends a raw body with a token ("" for none).
func (e *env) post(tok string, body []byte) reply {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(e.t, req)
}

func do(tb testing.TB, req *http.Request) reply {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		tb.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type %q", ct)
	}
	checkEnvelope(tb, r)
	return r
}

// checkEnvelope checks the envelope shape of §1.
func checkEnvelope(tb testing.TB, r reply) {
	tb.Helper()
	s, ok := r.body["success"].(bool)
	if !ok {
		tb.Fatalf("no boolean success in %s", r.raw)
	}
	if s {
		if _, ok := r.body["data"]; !ok || r.status != 200 {
			tb.Fatalf("success without data or with status %d: %s", r.status, r.raw)
		}
		return
	}
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		tb.Fatalf("failure without error object: %s", r.raw)
	}
	c, ok := e["code"].(float64)
	if !ok || c < 1 || c > 6 || c != float64(int(c)) {
		tb.Fatalf("error code %v is not 1-6: %s", e["code"], r.raw)
	}
	if m, _ := e["message"].(string); m == "" {
		tb.Fatalf("error without message: %s", r.raw)
	}
}

// call sends {"method","params"} as admin.
func (e *env) call(method string, params any) reply {
	e.t.Helper()
	return e.callAs("t-admin", method, params)
}

func (e *env) callAs(tok, method string, params any) reply {
	e.t.Helper()
	b, err := json.Marshal(map[string]any{"method": method, "params": params})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.post(tok, b)
}

// must is call that must succeed.
func (e *env) must(method string, params any) reply {
	e.t.Helper()
	r := e.call(method, params)
	if !r.success() {
		e.t.Fatalf("%s %v: %s", method, params, r.raw)
	}
	return r
}

// obj is shorthand for a params object.
type obj = map[string]any

func (e *env) lastSeq() uint64 {
	e.t.Helper()
	s, err := e.st.LastSeq(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// hostState is the content of every file below the host directories, to
// check that refused calls change nothing there either.
func (e *env) hostState() map[string]string {
	out := map[string]string{}
	for name, dir := range e.hosts {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil {
				rel, _ := filepath.Rel(dir, p)
				if d.IsDir() {
					out[name+"/"+rel] = "<dir>"
				} else {
					b, _ := os.ReadFile(p)
					out[name+"/"+rel] = string(b)
				}
			}
			return nil
		})
	}
	return out
}

// subset reports whether want (decoded JSON) is contained in got: every
// key of an object with an equal value, arrays element by element.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subset(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

func decode(tb testing.TB, s string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatalf("bad JSON in test %q: %v", s, err)
	}
	return v
}

func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}
