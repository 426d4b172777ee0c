package services_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/services"
)

// TestConcurrentObserve: concurrent observes through the HTTP door for one
// user lose no update.
func TestConcurrentObserve(t *testing.T) {
	e := newEnv(t)
	likes := []string{"jazz", "tennis", "ramen", "chess", "hiking", "opera", "sushi", "poetry"}
	var wg sync.WaitGroup
	for _, l := range likes {
		wg.Go(func() {
			body := jsonBody(t, map[string]any{"turns": []any{map[string]any{"role": "user", "content": "I love " + l + "."}}})
			if st, v := e.do(t, alice, "POST", "/v1/memory/alice/observe", body); st != 200 {
				t.Errorf("observe %s: %d %v", l, st, v)
			}
		})
	}
	wg.Wait()
	text, _ := e.get(t, "/memory/alice/persona.md")
	for _, l := range likes {
		if !strings.Contains(text, "loves "+l) {
			t.Errorf("lost %q:\n%s", l, text)
		}
	}
}

// FuzzHandler sends arbitrary bodies to every POST endpoint: the answer is
// always a JSON object, never a server error, and input refused as
// invalid changes nothing.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{
		`{"turns":[{"role":"user","content":"I live in Lyon."}]}`,
		`{"text":"On May 7, 2024 Alice met Bob at Central Park."}`,
		`{"question":"Where?","budget":10}`,
		`{"query":"x","budget":5,"sources":[{"glob":"/**"}]}`,
		`{"context_id":"x"}`, `{"question":"x"}`, `{`, `[]`, `null`, `{"turns":null}`, "\x00",
	} {
		f.Add(s)
	}
	e := newEnv(f)
	h := services.Handler(e.sys.NS, func(*http.Request) (fs.Principal, error) { return tokens[root], nil }, services.Options{MaxBody: 64 << 10})
	paths := []string{"/v1/memory/alice/observe", "/v1/workspace/w/observe", "/v1/workspace/w/query", "/v1/context", "/v1/evaluate", "/v1/ask"}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			before := e.lastSeq(t)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", p, strings.NewReader(body)))
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s %q: %d %q is not a JSON object", p, body, rec.Code, rec.Body.String())
			}
			if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
				t.Fatalf("%s %q: %d %v", p, body, rec.Code, v)
			}
			if rec.Code == http.StatusBadRequest && e.lastSeq(t) != before {
				t.Fatalf("%s %q: refused as invalid but changed the store", p, body)
			}
		}
	})
}
