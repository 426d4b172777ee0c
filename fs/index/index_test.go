package index_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
)

// env is a real store and a real index in a test's temporary directory.
type env struct {
	dir   string
	store *store.Store
	idx   *index.Index
}

func newStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{dir: t.TempDir()}
	e.store = newStore(t, e.dir)
	e.open(t)
	return e
}

func (e *env) open(t testing.TB) {
	t.Helper()
	idx, err := index.Open(filepath.Join(e.dir, "index"), e.store, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	e.idx = idx
}

func (e *env) put(t testing.TB, path, content string, meta map[string]string) *fs.Info {
	t.Helper()
	info, err := e.store.Write(context.Background(), fs.MustParse(path), strings.NewReader(content), fs.WriteOptions{Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func (e *env) catchUp(t testing.TB) {
	t.Helper()
	if err := e.idx.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) search(t testing.TB, q fs.Query) []fs.Hit {
	t.Helper()
	hits, err := e.idx.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return hits
}

func paths(hits []fs.Hit) []string {
	var ps []string
	for _, h := range hits {
		ps = append(ps, string(h.Path))
	}
	slices.Sort(ps)
	return ps
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/notes/go.md", "Go is a language with goroutines and channels.", map[string]string{"lang": "english", "topic": "golang"})
	e.put(t, "/notes/rust.md", "Rust has ownership and borrowing; no goroutines here.", nil)
	e.put(t, "/notes/deep/plan.txt", "The plan: ship the index before the deadline.", nil)
	e.put(t, "/work/todo.md", "Buy milk. Write the plan for channels.", nil)
	e.put(t, "/bin/blob", "\x00\x01\x02goroutines\xff", nil)
	e.catchUp(t)

	tests := []struct {
		name string
		q    fs.Query
		want []string
	}{
		{"content word", fs.Query{Text: "goroutines"}, []string{"/notes/go.md", "/notes/rust.md"}},
		{"content field", fs.Query{Text: "content:ownership"}, []string{"/notes/rust.md"}},
		{"phrase", fs.Query{Text: `"write the plan"`}, []string{"/work/todo.md"}},
		{"must and must not", fs.Query{Text: "+goroutines -ownership"}, []string{"/notes/go.md"}},
		{"meta field", fs.Query{Text: "meta.topic:golang"}, []string{"/notes/go.md"}},
		{"meta in default field", fs.Query{Text: "english"}, []string{"/notes/go.md"}},
		{"path word", fs.Query{Text: "path:deep"}, []string{"/notes/deep", "/notes/deep/plan.txt"}},
		{"file name word", fs.Query{Text: "path:todo"}, []string{"/work/todo.md"}},
		{"extension", fs.Query{Text: "+path:md +kind:file"}, []string{"/notes/go.md", "/notes/rust.md", "/work/todo.md"}},
		{"kind dir", fs.Query{Text: "kind:dir"}, []string{"/bin", "/notes", "/notes/deep", "/work"}},
		{"exact path", fs.Query{Text: `under:"/notes/go.md"`}, []string{"/notes/go.md"}},
		{"under", fs.Query{Text: "plan", Under: fs.MustParse("/notes")}, []string{"/notes/deep/plan.txt"}},
		{"under deeper", fs.Query{Text: "plan", Under: fs.MustParse("/notes/deep")}, []string{"/notes/deep/plan.txt"}},
		{"under elsewhere", fs.Query{Text: "goroutines", Under: fs.MustParse("/work")}, nil},
		{"under root", fs.Query{Text: "plan", Under: fs.Root}, []string{"/notes/deep/plan.txt", "/work/todo.md"}},
		{"under is not a prefix of names", fs.Query{Text: "plan", Under: fs.MustParse("/no")}, nil},
		{"version", fs.Query{Text: "version:1 +path:rust"}, []string{"/notes/rust.md"}},
		{"binary content not indexed", fs.Query{Text: "path:blob"}, []string{"/bin/blob"}},
		{"no match", fs.Query{Text: "zebra"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := paths(e.search(t, tt.q))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// Binary content: the word inside the blob is not found.
	for _, h := range e.search(t, fs.Query{Text: "goroutines"}) {
		if h.Path == "/bin/blob" {
			t.Errorf("binary content was indexed")
		}
	}
}

func TestSearchHit(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/a.md", "first", nil)
	e.put(t, "/a.md", "second version mentions the zebra\nin   the middle of a line", nil)
	e.catchUp(t)
	hits := e.search(t, fs.Query{Text: "zebra"})
	if len(hits) != 1 {
		t.Fatalf("hits = %+v", hits)
	}
	h := hits[0]
	if h.Path != "/a.md" || h.Version != 2 || h.Score <= 0 {
		t.Errorf("hit = %+v", h)
	}
	if want := "second version mentions the «zebra» in the middle of a line"; h.Snippet != want {
		t.Errorf("snippet = %q, want %q", h.Snippet, want)
	}
}

func TestSnippetBounded(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("filler words here. ", 200) + "the needle is here " + strings.Repeat("more filler text. ", 200)
	e.put(t, "/long.txt", long, nil)
	e.put(t, "/utf8.txt", strings.Repeat("čšž ", 100)+"needle "+strings.Repeat("日本語 ", 100), nil)
	e.put(t, "/far.txt", strings.Repeat("padding text. ", 2000)+"a needle far in "+strings.Repeat("tail. ", 100), nil)
	e.catchUp(t)
	hits := e.search(t, fs.Query{Text: "needle"})
	if len(hits) != 3 {
		t.Fatalf("hits = %+v", hits)
	}
	for _, h := range hits {
		if !strings.Contains(h.Snippet, "«needle»") {
			t.Errorf("%s: snippet %q lacks the marked match", h.Path, h.Snippet)
		}
		if !strings.HasPrefix(h.Snippet, "…") || !strings.HasSuffix(h.Snippet, "…") {
			t.Errorf("%s: snippet %q should show both cuts", h.Path, h.Snippet)
		}
		if n := len(h.Snippet); n > index.DefaultSnippetBytes+20 {
			t.Errorf("%s: snippet of %d bytes", h.Path, n)
		}
		if !utf8Valid(h.Snippet) {
			t.Errorf("%s: snippet %q is not valid UTF-8", h.Path, h.Snippet)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestLimit(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.put(t, "/many/f"+string(rune('a'+i%26))+string(rune('a'+i/26))+".txt", "common word", nil)
	}
	e.catchUp(t)
	for _, tt := range []struct{ limit, want int }{{0, index.DefaultLimit}, {1, 1}, {25, 25}, {100, 30}} {
		if got := len(e.search(t, fs.Query{Text: "common", Limit: tt.limit})); got != tt.want {
			t.Errorf("limit %d: %d hits, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestInvalidQuery(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/a", "text", nil)
	e.catchUp(t)
	for _, q := range []string{"", "   ", `"unclosed`, "content:/[/"} {
		_, err := e.idx.Search(context.Background(), fs.Query{Text: q})
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("query %q: err = %v, want ErrInvalid", q, err)
		}
	}
}
