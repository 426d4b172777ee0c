package hostdir_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/mounts/hostdir"
)

// Mount a host directory read-only (the zero Options) and list it; writes
// are refused, and so is any path that leads outside the directory.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "hostdir-example-")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha"), 0o644)
	os.Symlink("../../etc/passwd", filepath.Join(dir, "escape"))

	h, _ := hostdir.New(dir, hostdir.Options{})
	defer h.Close()
	ctx := context.Background()

	ents, _ := h.List(ctx, fs.Root)
	for _, e := range ents {
		fmt.Println(e.Path, e.Kind, e.Size)
	}
	_, err := h.Write(ctx, fs.MustParse("/b.txt"), strings.NewReader("b"), fs.WriteOptions{})
	fmt.Println("write refused:", errors.Is(err, fs.ErrReadOnly))
	_, err = h.Open(ctx, fs.MustParse("/escape"))
	fmt.Println("escape refused:", errors.Is(err, fs.ErrPermission))
	// Output:
	// /a.txt file 5
	// write refused: true
	// escape refused: true
}
