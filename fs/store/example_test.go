package store_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "ctxfs-example-")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	ctx := fs.WithPrincipal(context.Background(), fs.Principal{Name: "alice"})
	notes := fs.MustParse("/notes/today.md")
	s.Write(ctx, notes, strings.NewReader("first draft"), fs.WriteOptions{})
	info, _ := s.Write(ctx, notes, strings.NewReader("second draft"), fs.WriteOptions{Meta: map[string]string{"tag": "todo"}})
	fmt.Println(info.Path, info.Version, info.Size, info.Author, info.Meta["tag"])

	old, _ := s.OpenVersion(ctx, notes, 1)
	b, _ := io.ReadAll(old)
	old.Close()
	fmt.Printf("version 1: %s\n", b)

	s.Changes(ctx, 0, func(e fs.Event) error {
		fmt.Println(e.Seq, e.Op, e.Path, e.Version)
		return nil
	})
	// Output:
	// /notes/today.md 2 12 alice todo
	// version 1: first draft
	// 1 mkdir /notes 0
	// 2 write /notes/today.md 1
	// 3 write /notes/today.md 2
}

func ExampleStore_Batch() {
	dir, _ := os.MkdirTemp("", "ctxfs-example-")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// Many files, one transaction, one fsync.
	err = s.Batch(context.Background(), func(b *store.Batch) error {
		for i := 0; i < 3; i++ {
			p := fs.MustParse(fmt.Sprintf("/import/doc%d.txt", i))
			if _, err := b.Write(p, strings.NewReader("content"), fs.WriteOptions{}); err != nil {
				return err // nothing of the batch is committed
			}
		}
		return nil
	})
	list, _ := s.List(context.Background(), fs.MustParse("/import"))
	for _, i := range list {
		fmt.Println(i.Name(), i.Size)
	}
	fmt.Println(err)
	// Output:
	// doc0.txt 7
	// doc1.txt 7
	// doc2.txt 7
	// <nil>
}
