package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
)

// FuzzRequest sends arbitrary requests to the handler over a real store:
// none may crash it or be a server error, every error answer is the JSON
// error body, and a refused request changes nothing (the change log does
// not move).
func FuzzRequest(f *testing.F) {
	seeds := []struct {
		method       uint8
		target       string
		header, body string
	}{
		{0, "/v1/fs/a/b.txt", "", ""},
		{1, "/v1/fs/a/b.txt?meta=k=v&meta=x", "If-Match: \"1\"", "hello"},
		{1, "/v1/fs/a/b.txt", "If-None-Match: *", "again"},
		{1, "/v1/fs/a%00b", "", "nul"},
		{1, "/v1/fs/%ff%fe", "", "bad utf-8"},
		{1, "/v1/fs/", "", "root"},
		{2, "/v1/fs/a?recursive=true", "", ""},
		{2, "/v1/fs/", "", ""},
		{3, "/v1/fs/a/b.txt?move=/a", "", ""},
		{3, "/v1/fs/a?move=relative", "", ""},
		{3, "/v1/fs/x/y?mkdir=1", "", ""},
		{4, "/v1/meta/a/b.txt", "", `{"k":null,"j":"v"}`},
		{4, "/v1/meta/a/b.txt", "", `{"k":1}`},
		{4, "/v1/meta/a/b.txt", "", `[`},
		{0, "/v1/search?q=hello&limit=-1", "", ""},
		{0, "/v1/changes?since=abc", "", ""},
		{0, "/v1/changes?since=0&limit=99999999999999999999", "", ""},
		{0, "/v1/fs/a/b.txt?version=999", "Range: bytes=5-1", ""},
		{0, "/v1/log/a/b.txt", "", ""},
		{0, "/v1/list/a/b.txt", "", ""},
		{1, "/v1/fs/" + strings.Repeat("n", 300), "", "long name"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.header, []byte(s.body))
	}
	s := newStore(f)
	h := api.NewHandler(s, api.Options{MaxBody: 1 << 16})
	methods := []string{"GET", "PUT", "DELETE", "POST", "PATCH", "HEAD"}
	ctx := context.Background()
	// A file for the requests to work on.
	s.Write(ctx, fs.MustParse("/a/b.txt"), strings.NewReader("seed"), fs.WriteOptions{})
	f.Fuzz(func(t *testing.T, m uint8, target, header string, body []byte) {
		if !strings.HasPrefix(target, "/") {
			return
		}
		req, err := http.NewRequest(methods[int(m)%len(methods)], "http://ctxfs"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		if k, v, ok := strings.Cut(header, ": "); ok && k != "" && !strings.ContainsAny(k+v, "\r\n\x00") {
			req.Header.Set(k, v)
		}
		before, _ := s.LastSeq(ctx)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		after, _ := s.LastSeq(ctx)
		code := rec.Code
		if code >= 500 && code != http.StatusNotImplemented {
			t.Fatalf("%s %s: %d %s", req.Method, target, code, rec.Body)
		}
		if code >= 400 && req.Method != "HEAD" {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
				t.Fatalf("%s %s: %d with a body that is not a JSON error: %q", req.Method, target, code, rec.Body)
			}
			if after != before {
				t.Fatalf("%s %s: refused (%d) but the log moved from %d to %d", req.Method, target, code, before, after)
			}
		}
	})
}
