package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// Serve a store over HTTP and use it through the client, which is itself
// an fs.FS: errors keep their sentinels across the wire.
func ExampleNewHandler() {
	dir, _ := os.MkdirTemp("", "ctxfs-example-")
	defer os.RemoveAll(dir)
	s, _ := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	defer s.Close()

	srv := httptest.NewServer(api.NewHandler(s, api.Options{}))
	defer srv.Close()
	c, _ := api.NewClient(srv.URL, "")
	defer c.Close()

	ctx := context.Background()
	p := fs.MustParse("/notes/hello.md")
	info, _ := c.Write(ctx, p, strings.NewReader("hello, agents"), fs.WriteOptions{})
	fmt.Println(info.Path, "version", info.Version)

	_, err := c.Write(ctx, p, strings.NewReader("stale"), fs.WriteOptions{IfVersion: 7})
	fmt.Println("stale write is a conflict:", errors.Is(err, fs.ErrConflict))

	f, _ := c.Open(ctx, p)
	b, _ := io.ReadAll(f)
	f.Close()
	fmt.Println(string(b))
	// Output:
	// /notes/hello.md version 1
	// stale write is a conflict: true
	// hello, agents
}

// The command line finds a running server through the data directory's
// socket, and opens the store itself when none answers.
func ExampleDialSocket() {
	dataDir, _ := os.MkdirTemp("", "ctxfs-example-")
	defer os.RemoveAll(dataDir)
	c, err := api.DialSocket(context.Background(), dataDir)
	if errors.Is(err, api.ErrNoServer) {
		fmt.Println("no server: open the store directly")
		return
	}
	defer c.Close()
	// Output: no server: open the store directly
}
