package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/fstest"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/mounts/hostdir"
)

// newStore opens a fresh store, closed at the end of the test.
func newStore(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// asAdmin authenticates every request as the admin principal the
// conformance suite expects as author.
func asAdmin(*http.Request) (fs.Principal, error) {
	return fs.Principal{Name: fstest.Author, Admin: true}, nil
}

// serveHTTP serves fsys over httptest and returns a client for it.
func serveHTTP(tb testing.TB, fsys fs.FS, opts api.Options) *api.Client {
	tb.Helper()
	srv := httptest.NewServer(api.NewHandler(fsys, opts))
	tb.Cleanup(srv.Close)
	c, err := api.NewClient(srv.URL, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// serveSocket serves fsys on a unix socket in a temporary data directory
// and returns the directory and a client from DialSocket.
func serveSocket(tb testing.TB, fsys fs.FS, opts api.Options) (string, *api.Client) {
	tb.Helper()
	// Socket paths are limited to about 100 bytes; t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "ctxfs-api-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.ServeUnix(ctx, api.SocketPath(dir), api.NewHandler(fsys, opts)) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("ServeUnix: %v", err)
		}
	})
	var c *api.Client
	for i := 0; ; i++ {
		c, err = api.DialSocket(context.Background(), dir)
		if err == nil {
			break
		}
		if i == 200 {
			tb.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Cleanup(func() { c.Close() })
	return dir, c
}

// The suite never cancels the context it passes to Notify, so the client's
// long poll lives on after a subtest; a short MaxWait lets the test server
// close quickly.
var conformanceOpts = api.Options{Authenticate: asAdmin, MaxWait: time.Second}

func TestConformanceHTTP(t *testing.T) {
	fstest.Run(t, func(tb testing.TB) fs.FS {
		return serveHTTP(tb, newStore(tb), conformanceOpts)
	}, fstest.Options{})
}

func TestConformanceUnix(t *testing.T) {
	fstest.Run(t, func(tb testing.TB) fs.FS {
		_, c := serveSocket(tb, newStore(tb), conformanceOpts)
		return c
	}, fstest.Options{})
}

// TestConformanceHostDir runs the suite through the API on a host
// directory, which keeps no versions, metadata or change log.
func TestConformanceHostDir(t *testing.T) {
	fstest.Run(t, func(tb testing.TB) fs.FS {
		h, err := hostdir.New(tb.TempDir(), hostdir.Options{Writable: true})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { h.Close() })
		return serveHTTP(tb, h, api.Options{})
	}, fstest.Options{NoVersions: true, NoMeta: true, NoAuthor: true, NoWatch: true})
}

// TestErrorTable checks that every sentinel travels: the server answers
// each with its status, and the client's error matches the same sentinel.
func TestErrorTable(t *testing.T) {
	sentinels := []struct {
		err    error
		status int
	}{
		{fs.ErrInvalid, 400},
		{fs.ErrUnauthenticated, 401},
		{fs.ErrPermission, 403},
		{fs.ErrReadOnly, 403},
		{fs.ErrNotExist, 404},
		{fs.ErrExist, 409},
		{fs.ErrNotEmpty, 409},
		{fs.ErrNotDir, 409},
		{fs.ErrIsDir, 409},
		{fs.ErrConflict, 412},
		{fs.ErrTooLarge, 413},
		{fs.ErrNotSupported, 501},
		{fs.ErrClosed, 503},
	}
	for _, s := range sentinels {
		wrapped := &fs.PathError{Op: "op", Path: "/p", Err: fmt.Errorf("context: %w", s.err)}
		if got := api.StatusCode(wrapped); got != s.status {
			t.Errorf("%v: status %d, want %d", s.err, got, s.status)
		}
		back := api.DecodeErrorForTest("op", "/p", wrapped)
		if !errors.Is(back, s.err) {
			t.Errorf("%v: the client's error %v does not match", s.err, back)
		}
		for _, other := range sentinels {
			if other.err != s.err && errors.Is(back, other.err) {
				t.Errorf("%v: the client's error also matches %v", s.err, other.err)
			}
		}
		var pe *fs.PathError
		if !errors.As(back, &pe) || pe.Op != "op" || pe.Path != "/p" {
			t.Errorf("%v: client error %#v is not a PathError for op /p", s.err, back)
		}
	}
	if got := api.StatusCode(errors.New("boom")); got != 500 {
		t.Errorf("unknown error: status %d, want 500", got)
	}
}

// TestErrorsOverTheWire provokes real errors from a store and a read-only
// host directory through the client.
func TestErrorsOverTheWire(t *testing.T) {
	ctx := context.Background()
	c := serveHTTP(t, newStore(t), api.Options{})
	put := func(path, content string, o fs.WriteOptions) error {
		_, err := c.Write(ctx, fs.MustParse(path), strings.NewReader(content), o)
		return err
	}
	if err := put("/d/f.txt", "one", fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	os.WriteFile(filepath.Join(ro, "x.txt"), []byte("x"), 0o644)
	h, err := hostdir.New(ro, hostdir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	hc := serveHTTP(t, h, api.Options{})
	denied := serveHTTP(t, newStore(t), api.Options{Authenticate: func(r *http.Request) (fs.Principal, error) {
		if r.Header.Get("Authorization") != "Bearer good" {
			return fs.Principal{}, fmt.Errorf("%w: bad token", fs.ErrUnauthenticated)
		}
		return fs.Principal{Name: "alice"}, nil
	}})

	tests := []struct {
		name string
		err  error
		want error
	}{
		{"stat missing", func() error { _, err := c.Stat(ctx, fs.MustParse("/nope")); return err }(), fs.ErrNotExist},
		{"open dir", func() error { _, err := c.Open(ctx, fs.MustParse("/d")); return err }(), fs.ErrIsDir},
		{"list file", func() error { _, err := c.List(ctx, fs.MustParse("/d/f.txt")); return err }(), fs.ErrNotDir},
		{"create existing", put("/d/f.txt", "x", fs.WriteOptions{Create: true}), fs.ErrExist},
		{"stale version", put("/d/f.txt", "x", fs.WriteOptions{IfVersion: 7}), fs.ErrConflict},
		{"must exist", put("/d/new.txt", "x", fs.WriteOptions{MustExist: true}), fs.ErrNotExist},
		{"remove non-empty", c.Remove(ctx, fs.MustParse("/d"), false), fs.ErrNotEmpty},
		{"below a file", put("/d/f.txt/x", "x", fs.WriteOptions{}), fs.ErrNotDir},
		{"into itself", c.Rename(ctx, fs.MustParse("/d"), fs.MustParse("/d/e")), fs.ErrInvalid},
		{"missing version", func() error { _, err := c.OpenVersion(ctx, fs.MustParse("/d/f.txt"), 9); return err }(), fs.ErrNotExist},
		{"read-only host", func() error {
			_, err := hc.Write(ctx, fs.MustParse("/x.txt"), strings.NewReader("y"), fs.WriteOptions{})
			return err
		}(), fs.ErrReadOnly},
		{"no versions on host", func() error { _, err := hc.Log(ctx, fs.MustParse("/x.txt")); return err }(), fs.ErrNotSupported},
		{"no search on store", func() error { _, err := c.Search(ctx, fs.Query{Text: "x"}); return err }(), fs.ErrNotSupported},
		{"bad token", func() error { _, err := denied.Stat(ctx, fs.Root); return err }(), fs.ErrUnauthenticated},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if b := readAll(t, c, "/d/f.txt"); b != "one" {
		t.Fatalf("content changed by failed calls: %q", b)
	}
}

func readAll(tb testing.TB, f fs.FS, path string) string {
	tb.Helper()
	r, err := f.Open(context.Background(), fs.MustParse(path))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestRawHTTP checks statuses and headers as a non-Go client sees them.
func TestRawHTTP(t *testing.T) {
	s := newStore(t)
	srv := httptest.NewServer(api.NewHandler(s, api.Options{MaxBody: 1024}))
	defer srv.Close()
	do := func(method, path string, body io.Reader, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, body)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := do("PUT", "/v1/fs/a/b.txt?meta=Topic=Go", strings.NewReader("hello"), map[string]string{"X-Ctxfs-Meta-Lang": "en"})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("PUT: %s, ETag %q", resp.Status, resp.Header.Get("ETag"))
	}
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`"path":"/a/b.txt"`, `"kind":"file"`, `"version":1`, `"size":5`, `"Topic":"Go"`, `"lang":"en"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("PUT answer %s lacks %s", body, want)
		}
	}
	cases := []struct {
		method, path string
		body         string
		hdr          map[string]string
		status       int
		code         string
	}{
		{"PUT", "/v1/fs/a/b.txt", "new", map[string]string{"If-Match": `"7"`}, 412, "conflict"},
		{"PUT", "/v1/fs/a/b.txt", "new", map[string]string{"If-None-Match": "*"}, 409, "exists"},
		{"PUT", "/v1/fs/a/big", strings.Repeat("x", 2000), nil, 413, "too_large"},
		{"GET", "/v1/fs/nope", "", nil, 404, "not_found"},
		{"GET", "/v1/stat/a%00b", "", nil, 400, "invalid"},
		{"GET", "/v1/fs/a/b.txt?version=x", "", nil, 400, "invalid"},
		{"DELETE", "/v1/fs/a", "", nil, 409, "not_empty"},
		{"POST", "/v1/fs/a/b.txt", "", nil, 400, "invalid"},
		{"POST", "/v1/fs/a?move=/a/c", "", nil, 400, "invalid"},
		{"PATCH", "/v1/meta/a/b.txt", "[1,2]", nil, 400, "invalid"},
		{"GET", "/v1/nothing", "", nil, 404, "not_found"},
		{"GET", "/v1/search?q=x", "", nil, 501, "not_supported"},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		resp := do(c.method, c.path, body, c.hdr)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.status || !bytes.Contains(b, []byte(`"code":"`+c.code+`"`)) {
			t.Errorf("%s %s: %s %s, want %d %s", c.method, c.path, resp.Status, b, c.status, c.code)
		}
	}
	// An oversized body of unknown length (chunked) is refused as well.
	pr, pw := io.Pipe()
	go func() { pw.Write(bytes.Repeat([]byte("y"), 4096)); pw.Close() }()
	if resp := do("PUT", "/v1/fs/a/chunked", pr, nil); resp.StatusCode != 413 {
		t.Errorf("chunked oversized PUT: %s, want 413", resp.Status)
	}
	if _, err := s.Stat(context.Background(), fs.MustParse("/a/chunked")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused body left a file: %v", err)
	}
	// Directory listings through GET /v1/fs, ranges and conditional GETs.
	if resp := do("GET", "/v1/fs/a", nil, nil); resp.Header.Get(api.HeaderKind) != "dir" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET dir: kind %q, type %q", resp.Header.Get(api.HeaderKind), resp.Header.Get("Content-Type"))
	}
	resp = do("GET", "/v1/fs/a/b.txt", nil, map[string]string{"Range": "bytes=1-3"})
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 206 || string(b) != "ell" {
		t.Errorf("range GET: %s %q", resp.Status, b)
	}
	if resp := do("GET", "/v1/fs/a/b.txt", nil, map[string]string{"If-None-Match": `"1"`}); resp.StatusCode != 304 {
		t.Errorf("conditional GET: %s, want 304", resp.Status)
	}
	if resp := do("GET", "/healthz", nil, nil); resp.StatusCode != 200 {
		t.Errorf("healthz: %s", resp.Status)
	}
}

// TestStaleIfMatch is the optimistic-concurrency flow of two clients.
func TestStaleIfMatch(t *testing.T) {
	ctx := context.Background()
	c := serveHTTP(t, newStore(t), api.Options{})
	p := fs.MustParse("/memo.md")
	i1, err := c.Write(ctx, p, strings.NewReader("v1"), fs.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(ctx, p, strings.NewReader("v2 by A"), fs.WriteOptions{IfVersion: i1.Version}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Write(ctx, p, strings.NewReader("v2 by B"), fs.WriteOptions{IfVersion: i1.Version})
	if !errors.Is(err, fs.ErrConflict) {
		t.Fatalf("stale write: %v, want ErrConflict", err)
	}
	var re *api.RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusPreconditionFailed {
		t.Fatalf("stale write: %#v, want a RemoteError with status 412", err)
	}
	if got := readAll(t, c, "/memo.md"); got != "v2 by A" {
		t.Fatalf("content = %q", got)
	}
}

// TestTooLarge checks the body limit through the client, for bodies of
// known and unknown length.
func TestTooLarge(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := serveHTTP(t, s, api.Options{MaxBody: 64 << 10})
	big := bytes.Repeat([]byte("z"), 64<<10+1)
	if _, err := c.Write(ctx, fs.MustParse("/known"), bytes.NewReader(big), fs.WriteOptions{}); !errors.Is(err, fs.ErrTooLarge) {
		t.Errorf("known length: %v, want ErrTooLarge", err)
	}
	if _, err := c.Write(ctx, fs.MustParse("/unknown"), io.MultiReader(bytes.NewReader(big)), fs.WriteOptions{}); !errors.Is(err, fs.ErrTooLarge) {
		t.Errorf("unknown length: %v, want ErrTooLarge", err)
	}
	if _, err := c.Write(ctx, fs.MustParse("/exact"), io.MultiReader(bytes.NewReader(big[1:])), fs.WriteOptions{}); err != nil {
		t.Errorf("exactly the limit: %v", err)
	}
	ents, _ := s.List(ctx, fs.Root)
	if len(ents) != 1 || ents[0].Path != "/exact" {
		t.Fatalf("root holds %v, want only /exact", ents)
	}
}

// TestPinnedReads checks that an open remote file keeps reading the version
// it opened, through Seek and ReadAt, while the file is rewritten.
func TestPinnedReads(t *testing.T) {
	ctx := context.Background()
	c := serveHTTP(t, newStore(t), api.Options{})
	p := fs.MustParse("/f")
	c.Write(ctx, p, strings.NewReader("0123456789"), fs.WriteOptions{})
	f, err := c.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c.Write(ctx, p, strings.NewReader("abcdefghijklmnop"), fs.WriteOptions{})
	buf := make([]byte, 4)
	if n, err := f.ReadAt(buf, 3); n != 4 || err != nil || string(buf) != "3456" {
		t.Fatalf("ReadAt = %d %v %q", n, err, buf)
	}
	if n, err := f.ReadAt(buf, 8); n != 2 || err != io.EOF || string(buf[:2]) != "89" {
		t.Fatalf("ReadAt at the end = %d %v %q", n, err, buf[:n])
	}
	if _, err := f.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(f)
	if err != nil || string(rest) != "56789" {
		t.Fatalf("read after seek = %q, %v", rest, err)
	}
	if f.Stat().Version != 1 || f.Stat().Size != 10 {
		t.Fatalf("Stat = %+v", f.Stat())
	}
}

// indexed is a store with its bleve index, as the server would wire it.
type indexed struct {
	*store.Store
	x *index.Index
}

func (s indexed) Search(ctx context.Context, q fs.Query) ([]fs.Hit, error) {
	if err := s.x.CatchUp(ctx); err != nil {
		return nil, err
	}
	return s.x.Search(ctx, q)
}

func TestSearchLogChangesOverTheWire(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	x, err := index.Open(t.TempDir(), s, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	_, c := serveSocket(t, indexed{s, x}, api.Options{Authenticate: func(*http.Request) (fs.Principal, error) {
		return fs.Principal{Name: "alice"}, nil
	}})
	notify := c.Notify(ctx)
	start, err := c.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := fs.MustParse("/notes/kv.md")
	for i, text := range []string{"snapkv compresses the kv cache", "snapkv keeps the attention heavy hitters"} {
		if _, err := c.Write(ctx, p, strings.NewReader(text), fs.WriteOptions{}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	c.Write(ctx, fs.MustParse("/other/x.md"), strings.NewReader("snapkv elsewhere"), fs.WriteOptions{})
	hits, err := c.Search(ctx, fs.Query{Text: "heavy hitters", Under: fs.MustParse("/notes"), Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Path != p || hits[0].Version != 2 || hits[0].Score <= 0 {
		t.Fatalf("hits = %+v", hits)
	}
	log, err := c.Log(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Version != 2 || log[1].Version != 1 || log[0].Author != "alice" || log[0].Time.IsZero() {
		t.Fatalf("log = %+v", log)
	}
	select {
	case <-notify:
	case <-time.After(10 * time.Second):
		t.Fatal("Notify did not fire after writes")
	}
	var ops []string
	err = c.Changes(ctx, start, func(e fs.Event) error {
		ops = append(ops, fmt.Sprintf("%s %s v%d by %s", e.Op, e.Path, e.Version, e.Author))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ops, "; ")
	for _, want := range []string{"write /notes/kv.md v1 by alice", "write /notes/kv.md v2 by alice", "write /other/x.md v1 by alice"} {
		if !strings.Contains(got, want) {
			t.Errorf("changes %q lack %q", got, want)
		}
	}
	// Metadata: set, then delete one key.
	v := "kv"
	info, err := c.SetMeta(ctx, p, map[string]*string{"topic": &v, "lang": &v})
	if err != nil || info.Meta["topic"] != "kv" {
		t.Fatalf("SetMeta = %+v, %v", info, err)
	}
	info, err = c.SetMeta(ctx, p, map[string]*string{"lang": nil})
	if err != nil || len(info.Meta) != 1 || info.Meta["topic"] != "kv" {
		t.Fatalf("SetMeta delete = %+v, %v", info, err)
	}
}

// TestLargeRoundTrip sends 64 MiB of random bytes through the socket and
// back, byte-exact.
func TestLargeRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB round trip skipped in -short mode")
	}
	ctx := context.Background()
	_, c := serveSocket(t, newStore(t), api.Options{})
	const size = 64 << 20
	src := rand.NewChaCha8([32]byte{7})
	want := sha256.New()
	info, err := c.Write(ctx, fs.MustParse("/big.bin"), io.TeeReader(io.LimitReader(src, size), want), fs.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size {
		t.Fatalf("size = %d", info.Size)
	}
	f, err := c.Open(ctx, fs.MustParse("/big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := sha256.New()
	n, err := io.Copy(got, f)
	if err != nil || n != size {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("content differs after the round trip")
	}
}

func TestServeUnix(t *testing.T) {
	dir, c := serveSocket(t, newStore(t), api.Options{})
	sock := api.SocketPath(dir)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode = %v, want a socket with 0600", fi.Mode())
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second server on the same socket refuses to start.
	err = api.ServeUnix(context.Background(), sock, http.NotFoundHandler())
	if !errors.Is(err, api.ErrServerRunning) {
		t.Fatalf("second ServeUnix = %v, want ErrServerRunning", err)
	}
	// No leftovers from the private temporary directory.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("data directory holds %d entries, want only the socket", len(ents))
	}
}

func TestDialSocketNoServer(t *testing.T) {
	dir, err := os.MkdirTemp("", "ctxfs-api-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	if _, err := api.DialSocket(ctx, dir); !errors.Is(err, api.ErrNoServer) {
		t.Fatalf("missing socket: %v, want ErrNoServer", err)
	}
	// A stale socket, as a crash leaves it: bound, no longer listening.
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- api.ServeUnix(sctx, api.SocketPath(dir), http.NotFoundHandler()) }()
	waitFor(t, func() bool { _, err := os.Stat(api.SocketPath(dir)); return err == nil })
	cancel()
	<-done
	if _, err := os.Stat(api.SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket not removed after shutdown: %v", err)
	}
	makeStaleSocket(t, api.SocketPath(dir))
	if _, err := api.DialSocket(ctx, dir); !errors.Is(err, api.ErrNoServer) {
		t.Fatalf("stale socket: %v, want ErrNoServer", err)
	}
	// ServeUnix replaces the stale socket.
	_, c := serveSocketAt(t, dir)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatal("condition not reached")
}

// serveSocketAt serves a fresh store in dir.
func serveSocketAt(tb testing.TB, dir string) (string, *api.Client) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.ServeUnix(ctx, api.SocketPath(dir), api.NewHandler(newStore(tb), api.Options{})) }()
	tb.Cleanup(func() { cancel(); <-done })
	var c *api.Client
	waitFor(tb, func() bool {
		var err error
		c, err = api.DialSocket(context.Background(), dir)
		return err == nil
	})
	tb.Cleanup(func() { c.Close() })
	return dir, c
}

// makeStaleSocket leaves a socket file that nothing listens on.
func makeStaleSocket(tb testing.TB, path string) {
	tb.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		tb.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
}

// TestOddNames sends names that need escaping in URLs.
func TestOddNames(t *testing.T) {
	ctx := context.Background()
	c := serveHTTP(t, newStore(t), api.Options{})
	names := []string{"a b.md", "50%.txt", "q?x=1", "hash#tag", "naïve – 日本語.md", "at@3", "plus+semi;colon", "back\\slash", ".hidden", "..."}
	for _, n := range names {
		p := fs.MustParse("/odd").Child(n)
		info, err := c.Write(ctx, p, strings.NewReader(n), fs.WriteOptions{Meta: map[string]string{"name": n}})
		if err != nil {
			t.Errorf("%q: %v", n, err)
			continue
		}
		if info.Path != p || info.Meta["name"] != n {
			t.Errorf("%q: written as %+v", n, info)
		}
		if got := readAll(t, c, string(p)); got != n {
			t.Errorf("%q: read %q", n, got)
		}
		f, err := c.Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if f.Stat().Path != p || f.Stat().Meta["name"] != n {
			t.Errorf("%q: open's stat %+v", n, f.Stat())
		}
		f.Close()
	}
	ents, err := c.List(ctx, fs.MustParse("/odd"))
	if err != nil || len(ents) != len(names) {
		t.Fatalf("List = %d entries, %v", len(ents), err)
	}
	if err := c.Rename(ctx, fs.MustParse("/odd/q?x=1"), fs.MustParse("/odd/renamed #1")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, "/odd/renamed #1"); got != "q?x=1" {
		t.Fatalf("renamed content %q", got)
	}
}

// TestOpenAPI checks that /v1/openapi.json is served and documents every
// endpoint the handler routes.
func TestOpenAPI(t *testing.T) {
	srv := httptest.NewServer(api.NewHandler(newStore(t), api.Options{Authenticate: tokens(nil)}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json without a token: %s (the document is public)", resp.Status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	for _, pat := range api.RoutesForTest() {
		method, path, _ := strings.Cut(pat, " ")
		path = strings.ReplaceAll(path, "{path...}", "{path}")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("openapi.json lacks %s %s", method, path)
		}
	}
}

func TestSocketPathTooLong(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 110))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Skipf("cannot make a long directory: %v", err)
	}
	if _, err := api.DialSocket(context.Background(), dir); !errors.Is(err, api.ErrNoServer) {
		t.Errorf("DialSocket: %v, want ErrNoServer", err)
	}
	err := api.ServeUnix(context.Background(), api.SocketPath(dir), http.NotFoundHandler())
	if !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ServeUnix: %v, want ErrInvalid", err)
	}
}
