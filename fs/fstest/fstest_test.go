package fstest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/fstest"
	"github.com/ctxfs/ctxfs/fs/store"
)

// The suite's own tests run it against the real store: the full suite in
// both chunking regimes is in fs/store; here the read-only mode, which
// needs a populated provider that refuses writes.
func TestReadOnlyMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range []string{"/a.txt", "/dir/b.txt", "/dir/sub/c.bin"} {
		if _, err := s.Write(ctx, fs.MustParse(f), strings.NewReader("content of "+f), fs.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fstest.Run(t, func(tb testing.TB) fs.FS {
		ro, err := store.Open(path, store.Options{ReadOnly: true})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { ro.Close() })
		return ro
	}, fstest.Options{ReadOnly: true})
}

// TestSkip checks that Options.Skip skips a subtest by its name below the
// suite: a skipped subtest never asks for a provider.
func TestSkip(t *testing.T) {
	created := map[string]bool{}
	t.Run("suite", func(t *testing.T) {
		fstest.Run(t, func(tb testing.TB) fs.FS {
			created[tb.Name()] = true
			s, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		}, fstest.Options{Skip: map[string]string{"Rename": "testing Skip", "Errors/OpenDir": "testing Skip"}})
	})
	if created["TestSkip/suite/Rename"] || !created["TestSkip/suite/Remove"] {
		t.Errorf("providers were created for %v; want Remove and not Rename", created)
	}
}
