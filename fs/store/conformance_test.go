package store_test

import (
	"path/filepath"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/fstest"
	"github.com/ctxfs/ctxfs/fs/store"
)

// newStore opens a store in a fresh temporary directory, closed at the end
// of the test.
func newStore(tb testing.TB, opts store.Options) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "ctxfs.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	fstest.Run(t, func(tb testing.TB) fs.FS {
		return newStore(tb, store.Options{NoSync: true})
	}, fstest.Options{})
}

// TestConformanceSmallChunks runs the suite with chunks so small that
// every multi-kilobyte file spans many of them.
func TestConformanceSmallChunks(t *testing.T) {
	fstest.Run(t, func(tb testing.TB) fs.FS {
		return newStore(tb, store.Options{NoSync: true, ChunkSize: 1000})
	}, fstest.Options{})
}
