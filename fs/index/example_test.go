package index_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "ctxfs-index-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// The store is written first; the index follows its change log.
	for p, text := range map[string]string{
		"/notes/kv.md":    "SnapKV compresses the KV cache by keeping the keys that attention picks.",
		"/notes/pdr.md":   "PDR drafts in parallel, distills, then refines.",
		"/history/t1.txt": "We discussed the KV cache budget.",
	} {
		if _, err := s.Write(ctx, fs.MustParse(p), strings.NewReader(text), fs.WriteOptions{}); err != nil {
			log.Fatal(err)
		}
	}

	idx, err := index.Open(filepath.Join(dir, "index"), s, index.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer idx.Close()

	hits, err := idx.Search(ctx, fs.Query{Text: `"kv cache"`, Under: fs.MustParse("/notes")})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Println(h.Path, h.Version, h.Snippet)
	}
	// Output:
	// /notes/kv.md 1 SnapKV compresses the «KV» «cache» by keeping the keys that attention picks.
}
