package afs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// BenchmarkRPC measures AFS calls through the handler (in process, no
// network) against the same operation called on the namespace directly,
// the baseline, in the same run. The store is mapped with MAP_POPULATE
// (store.Options.Populate) so reads do not wait on the page cache.
func BenchmarkRPC(b *testing.B) {
	ctx := fs.WithPrincipal(context.Background(), admin)
	st, err := store.Open(filepath.Join(b.TempDir(), "store.db"), store.Options{NoSync: true, Populate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ns := fs.NewNamespace(st, fs.NamespaceOptions{})
	line := strings.Repeat("x", 63) + "\n"
	for i := range 1000 {
		body := strings.Repeat(line, 16) // 1 KiB
		if i == 999 {
			body += "needle\n"
		}
		if _, err := ns.Write(ctx, fs.MustParse(fmt.Sprintf("/d%02d/f%03d.txt", i%10, i)), strings.NewReader(body), fs.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	h := afs.NewHandler(ns, afs.Options{Authenticate: authenticate})
	rpc := func(b *testing.B, body string) {
		for b.Loop() {
			req := httptest.NewRequest("POST", "/afs/rpc", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer t-admin")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`"success":true`)) {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	}
	p := fs.MustParse("/d05/f005.txt")
	b.Run("read/direct", func(b *testing.B) {
		for b.Loop() {
			f, err := ns.Open(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(f)
			f.Close()
		}
	})
	b.Run("read/rpc", func(b *testing.B) { rpc(b, `{"method":"read","params":{"path":"/d05/f005.txt"}}`) })
	b.Run("stat/direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := ns.Stat(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stat/rpc", func(b *testing.B) { rpc(b, `{"method":"stat","params":{"path":"/d05/f005.txt"}}`) })
	b.Run("write/direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := ns.Write(ctx, fs.MustParse("/w.txt"), strings.NewReader("entry\n"), fs.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write/rpc", func(b *testing.B) {
		rpc(b, `{"method":"write","params":{"path":"/w.txt","content":{"content":"entry\n"}}}`)
	})
	b.Run("append/rpc", func(b *testing.B) {
		// Read-modify-write with IfVersion; the file is replaced first so
		// that each append reads a file of the same small size.
		for b.Loop() {
			for _, body := range []string{
				`{"method":"write","params":{"path":"/a.txt","content":{"content":"entry\n"}}}`,
				`{"method":"write","params":{"path":"/a.txt","content":{"content":"more\n"},"options":{"mode":"append"}}}`,
			} {
				req := httptest.NewRequest("POST", "/afs/rpc", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer t-admin")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Body)
				}
			}
		}
	})
	b.Run("search-1000-files/rpc", func(b *testing.B) {
		rpc(b, `{"method":"search","params":{"path":"/","query":"needle"}}`)
	})
}
