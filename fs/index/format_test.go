package index

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// An index written with another document format is rebuilt on Open.
func TestOpenRebuildsOtherFormat(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(ctx, "/a.txt", strings.NewReader("okapi"), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	x, err := Open(filepath.Join(dir, "index"), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Pretend an older version wrote it, and lost its documents.
	b := x.idx.NewBatch()
	b.Delete("/a.txt")
	b.SetInternal(keyFormat, []byte("ctxfs-index-0"))
	if err := x.idx.Batch(b); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	x, err = Open(filepath.Join(dir, "index"), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	hits, err := x.Search(ctx, fs.Query{Text: "okapi"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("after reopening: %v, %v", hits, err)
	}
	if f, err := x.idx.GetInternal(keyFormat); err != nil || string(f) != formatVersion {
		t.Errorf("format %q, %v", f, err)
	}
}
