package fuse

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// requireFUSE skips tb where the kernel side of FUSE is missing.
func requireFUSE(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		tb.Skip("FUSE tests need /dev/fuse (install fuse3; in a container, pass --device /dev/fuse)")
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		tb.Skip("FUSE tests need fusermount3 (install fuse3)")
	}
}

// newStore opens a store in a fresh temporary directory, closed at the end
// of the test (after the mounts on it are unmounted).
func newStore(tb testing.TB, opts store.Options) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "ctxfs.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("closing the store: %v", err)
		}
	})
	return s
}

// mountFS mounts fsys on a fresh directory and unmounts it at the end of
// the test.
func mountFS(tb testing.TB, fsys fs.FS, opts Options) (*Server, string) {
	tb.Helper()
	requireFUSE(tb)
	dir := filepath.Join(tb.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	srv, err := Mount(context.Background(), dir, fsys, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			tb.Errorf("Unmount: %v", err)
		}
		srv.Wait()
	})
	return srv, dir
}

// mountStore mounts a new store and returns both.
func mountStore(tb testing.TB, opts Options) (*store.Store, string) {
	tb.Helper()
	requireFUSE(tb)
	st := newStore(tb, storeOpts())
	_, dir := mountFS(tb, st, opts)
	return st, dir
}

// ctx is the context of direct store calls in tests: an admin principal.
func testCtx() context.Context {
	return fs.WithPrincipal(context.Background(), fs.Principal{Name: "tester", Admin: true})
}

// storeOpts are the store options of the tests: no fsync, which the
// mount's behaviour does not depend on.
func storeOpts() store.Options { return store.Options{NoSync: true} }

func mustPath(s string) fs.Path { return fs.MustParse(s) }
