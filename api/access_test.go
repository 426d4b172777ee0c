package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
)

// tokens authenticates bearer tokens against a fixed table, as the serve
// command's token store will.
func tokens(table map[string]fs.Principal) func(*http.Request) (fs.Principal, error) {
	return func(r *http.Request) (fs.Principal, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if pr, found := table[tok]; ok && found {
			return pr, nil
		}
		return fs.Principal{}, fmt.Errorf("%w: missing or unknown token", fs.ErrUnauthenticated)
	}
}

// TestAccess walks the same access cases through the token door (TCP) and
// the local socket (peer credentials plus X-Ctxfs-As), over a namespace
// that enforces the default policy.
func TestAccess(t *testing.T) {
	ctx := context.Background()
	ns := fs.NewNamespace(newStore(t), fs.NamespaceOptions{})
	srv := httptest.NewServer(api.NewHandler(ns, api.Options{Authenticate: tokens(map[string]fs.Principal{
		"t-alice": {Name: "alice"},
		"t-admin": {Name: "root", Admin: true},
	})}))
	defer srv.Close()
	client := func(tok string) *api.Client {
		c, err := api.NewClient(srv.URL, tok)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, sock := serveSocket(t, ns, api.Options{Authenticate: api.LocalOwner("root")})

	doors := []struct {
		name         string
		alice, admin *api.Client
	}{
		{"token", client("t-alice"), client("t-admin")},
		{"socket", sock.As("alice"), sock},
	}
	write := func(c *api.Client, path string) error {
		_, err := c.Write(ctx, fs.MustParse(path), strings.NewReader("x"), fs.WriteOptions{})
		return err
	}
	read := func(c *api.Client, path string) error {
		f, err := c.Open(ctx, fs.MustParse(path))
		if err == nil {
			f.Close()
		}
		return err
	}
	for _, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			cases := []struct {
				what string
				err  error
				want error
			}{
				{"admin writes bob's memory", write(d.admin, "/memory/bob/notes.md"), nil},
				{"alice writes her memory", write(d.alice, "/memory/alice/notes.md"), nil},
				{"alice reads her memory", read(d.alice, "/memory/alice/notes.md"), nil},
				{"alice writes bob's memory", write(d.alice, "/memory/bob/evil.md"), fs.ErrPermission},
				{"alice reads bob's memory", read(d.alice, "/memory/bob/notes.md"), fs.ErrPermission},
				{"alice writes outside memory", write(d.alice, "/notes/x.md"), fs.ErrPermission},
				{"admin reads alice's memory", read(d.admin, "/memory/alice/notes.md"), nil},
			}
			for _, c := range cases {
				if c.want == nil && c.err != nil || c.want != nil && !errors.Is(c.err, c.want) {
					t.Errorf("%s: err = %v, want %v", c.what, c.err, c.want)
				}
			}
			if _, err := d.alice.Stat(ctx, fs.MustParse("/memory/bob/evil.md")); !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("refused write left something: %v", err)
			}
		})
	}
	for _, tok := range []string{"", "wrong"} {
		if _, err := client(tok).Stat(ctx, fs.Root); !errors.Is(err, fs.ErrUnauthenticated) {
			t.Errorf("token %q: %v, want ErrUnauthenticated", tok, err)
		}
	}
	// The As header means nothing to the token door.
	if err := write(client("t-alice").As("root"), "/notes/y.md"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("As over the token door: %v, want ErrPermission", err)
	}
	// LocalOwner refuses connections without peer credentials (TCP).
	tcp := httptest.NewServer(api.NewHandler(ns, api.Options{Authenticate: api.LocalOwner("root")}))
	defer tcp.Close()
	c, _ := api.NewClient(tcp.URL, "")
	if _, err := c.Stat(ctx, fs.Root); !errors.Is(err, fs.ErrUnauthenticated) {
		t.Errorf("LocalOwner over TCP: %v, want ErrUnauthenticated", err)
	}
}

// TestEvents reads the server-sent event stream and checks that a
// principal sees only the events of paths it may read.
func TestEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ns := fs.NewNamespace(newStore(t), fs.NamespaceOptions{})
	srv := httptest.NewServer(api.NewHandler(ns, api.Options{Authenticate: tokens(map[string]fs.Principal{
		"t-alice": {Name: "alice"},
		"t-admin": {Name: "root", Admin: true},
	})}))
	defer srv.Close()
	admin, _ := api.NewClient(srv.URL, "t-admin")
	alice, _ := api.NewClient(srv.URL, "t-alice")

	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/events?since=0", nil)
	req.Header.Set("Authorization", "Bearer t-alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	write := func(c *api.Client, path string) {
		if _, err := c.Write(ctx, fs.MustParse(path), strings.NewReader("x"), fs.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	write(admin, "/memory/bob/secret.md")
	write(alice, "/memory/alice/a.md")
	// Later writes, while the stream waits. The event can arrive before
	// the writer has its answer, so the test waits for the writer.
	later := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond) // after the stream has caught up
		_, err := admin.Write(ctx, fs.MustParse("/memory/bob/later.md"), strings.NewReader("x"), fs.WriteOptions{})
		if err == nil {
			_, err = alice.Write(ctx, fs.MustParse("/memory/alice/b.md"), strings.NewReader("x"), fs.WriteOptions{})
		}
		later <- err
	}()
	sc := bufio.NewScanner(resp.Body)
	var paths []string
	var lastID string
	for sc.Scan() && len(paths) < 2 {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			lastID = id
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var e api.Event
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatalf("bad event %q: %v", data, err)
			}
			if fmt.Sprint(e.Seq) != lastID {
				t.Errorf("event %+v with id %s", e, lastID)
			}
			if !strings.HasPrefix(e.Path, "/memory/alice") {
				t.Errorf("alice saw %+v", e)
			}
			if e.Op == "write" { // implicit mkdirs of her parents may come too
				paths = append(paths, e.Path)
			}
		}
	}
	if err := <-later; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(paths, ","); got != "/memory/alice/a.md,/memory/alice/b.md" {
		t.Fatalf("alice saw %s, want only her two writes", got)
	}
}

// TestMetrics checks that requests are counted in the Prometheus output.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	m := api.NewMetrics()
	c := serveHTTP(t, newStore(t), api.Options{Metrics: m})
	c.Write(ctx, fs.MustParse("/a"), strings.NewReader("a"), fs.WriteOptions{})
	c.Stat(ctx, fs.MustParse("/a"))
	c.Stat(ctx, fs.MustParse("/missing"))
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`ctxfs_http_requests_total{route="/v1/fs/{path...}",method="PUT",code="200"} 1`,
		`ctxfs_http_requests_total{route="/v1/stat/{path...}",method="GET",code="200"} 1`,
		`ctxfs_http_requests_total{route="/v1/stat/{path...}",method="GET",code="404"} 1`,
		`ctxfs_http_request_duration_seconds_count{route="/v1/stat/{path...}"} 2`,
		`ctxfs_http_request_duration_seconds_bucket{route="/v1/stat/{path...}",le="+Inf"} 2`,
		"ctxfs_http_requests_in_flight 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s\n%s", want, out)
		}
	}
}
