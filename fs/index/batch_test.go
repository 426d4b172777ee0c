package index_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
)

func TestIndexBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var docs []index.Doc
	err := e.store.Batch(ctx, func(b *store.Batch) error {
		for i := range 20 {
			content := fmt.Sprintf("imported document number %d", i)
			info, err := b.Write(fs.MustParse(fmt.Sprintf("/imp/%d.txt", i)), strings.NewReader(content), fs.WriteOptions{})
			if err != nil {
				return err
			}
			docs = append(docs, index.Doc{Info: info, Content: []byte(content)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The importer's content is trusted as given: this one says otherwise
	// than the store, which shows below that CatchUp did not re-read it.
	docs[0].Content = []byte("the importer's own words")
	// Replaced after the import wrote it: IndexBatch must not index the old one.
	e.put(t, "/imp/1.txt", "rewritten later", nil)

	if err := e.idx.IndexBatch(ctx, docs); err != nil {
		t.Fatal(err)
	}
	// Searchable before any catch-up.
	if n := len(e.find(t, "imported")); n != 18 {
		t.Errorf("%d hits before catch-up, want 18", n)
	}
	e.catchUp(t)
	if n := len(e.find(t, "imported")); n != 18 {
		t.Errorf("%d hits after catch-up, want 18", n)
	}
	expect(t, e.find(t, "rewritten"), "/imp/1.txt")
	expect(t, e.find(t, "importer's"), "/imp/0.txt")
	expect(t, e.find(t, "path:imp +kind:dir"), "/imp")

	// A later write of a batch-indexed file is indexed from the store.
	e.put(t, "/imp/0.txt", "store words anew", nil)
	e.catchUp(t)
	expect(t, e.find(t, "importer's"))
	expect(t, e.find(t, "anew"), "/imp/0.txt")
}
