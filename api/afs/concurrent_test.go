package afs_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/ctxfs/ctxfs/api/afs"
	"github.com/ctxfs/ctxfs/fs"
)

// TestConcurrentAppends checks that read-modify-write modes lose no
// update: clients append through two independent handlers over the same
// namespace (two doors with separate lock tables, so only IfVersion keeps
// them apart on the store) and through one handler to a host directory
// (no versions: the handler's per-path lock).
func TestConcurrentAppends(t *testing.T) {
	e := newEnv(t, afs.Options{})
	other := &env{st: e.st, ns: e.ns, t: t}
	other.srv = newServer(t, afs.NewHandler(e.ns, afs.Options{Authenticate: authenticate}))
	const workers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan string, 3*workers*each)
	for w := range workers {
		for _, target := range []struct {
			env  *env
			path string
			mode string
		}{{e, "/log.txt", "append"}, {other, "/log.txt", "append"}, {e, "/alpha/log.txt", "prepend"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					r := target.env.call("write", obj{"path": target.path, "content": obj{"content": fmt.Sprintf("w%d-%d\n", w, i)}, "options": obj{"mode": target.mode}})
					if !r.success() {
						errs <- string(r.raw)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	ctx := fs.WithPrincipal(context.Background(), admin)
	for path, want := range map[string]int{"/log.txt": 2 * workers * each, "/alpha/log.txt": workers * each} {
		f, err := e.ns.Open(ctx, fs.MustParse(path))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		seen := map[string]int{}
		for _, l := range lines {
			seen[l]++
		}
		if len(lines) != want || len(seen) != want/map[string]int{"/log.txt": 2, "/alpha/log.txt": 1}[path] {
			t.Errorf("%s: %d lines (%d distinct), want %d", path, len(lines), len(seen), want)
		}
	}
}
