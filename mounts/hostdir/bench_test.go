package hostdir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
)

// BenchmarkList lists a directory of 10,000 files through the provider and,
// as the baseline in the same run, with os.ReadDir plus an lstat per entry
// (what the provider does on top of os.Root).
func BenchmarkList(b *testing.B) {
	dir := b.TempDir()
	for i := range 10000 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.txt", i)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	h, err := New(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	b.Run("os", func(b *testing.B) {
		for b.Loop() {
			ents, err := os.ReadDir(dir)
			if err != nil || len(ents) != 10000 {
				b.Fatal(err)
			}
			for _, e := range ents {
				if _, err := e.Info(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("hostdir", func(b *testing.B) {
		for b.Loop() {
			ents, err := h.List(context.Background(), fs.Root)
			if err != nil || len(ents) != 10000 {
				b.Fatal(len(ents), err)
			}
		}
	})
}
