package afs_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
)

// TestSearchIndex covers a tree larger than SearchScanFiles: the scan stops
// and the file system's bleve index (a real one) answers, each hit checked
// against the current content, so a file deleted after indexing is not
// reported even before the index catches up.
func TestSearchIndex(t *testing.T) {
	ctx := fs.WithPrincipal(context.Background(), admin)
	st := newStore(t)
	idx, err := index.Open(filepath.Join(t.TempDir(), "index"), st, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	ns := fs.NewNamespace(st, fs.NamespaceOptions{Searcher: idx})
	for i := range 12 {
		body := "filler text"
		if i%2 == 1 {
			body = fmt.Sprintf("needle number %d", i)
		}
		if _, err := ns.Write(ctx, fs.MustParse(fmt.Sprintf("/s/f%02d.txt", i)), strings.NewReader(body), fs.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ns.Remove(ctx, fs.MustParse("/s/f11.txt"), false); err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, ns: ns, t: t}
	e.srv = httptest.NewServer(afs.NewHandler(ns, afs.Options{Authenticate: authenticate, SearchScanFiles: 3}))
	t.Cleanup(e.srv.Close)

	r := e.must("search", obj{"path": "/s", "query": "needle"})
	ps := r.paths()
	sort.Strings(ps)
	if got := strings.Join(ps, ","); got != "/s/f01.txt,/s/f03.txt,/s/f05.txt,/s/f07.txt,/s/f09.txt" {
		t.Errorf("index search found %s", got)
	}
	for _, en := range r.entries() {
		if s, _ := en["summary"].(string); !strings.HasPrefix(s, "needle number") {
			t.Errorf("summary %q", s)
		}
		if en["path"] == "/s/f11.txt" {
			t.Errorf("deleted file reported")
		}
	}
	if r.data()["truncated"] != nil {
		t.Errorf("an index answer is complete: %s", r.raw)
	}
	// Without an index the answer says it is partial.
	plain := &env{st: st, ns: ns, t: t}
	plain.srv = httptest.NewServer(afs.NewHandler(fs.NewNamespace(st, fs.NamespaceOptions{}), afs.Options{Authenticate: authenticate, SearchScanFiles: 3}))
	t.Cleanup(plain.srv.Close)
	r = plain.must("search", obj{"path": "/s", "query": "needle"})
	if r.data()["truncated"] != true || strings.Join(r.paths(), ",") != "/s/f01.txt" {
		t.Errorf("scan-only search: %s", r.raw)
	}
}
