package constructor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

func ExampleBuilder_Build() {
	dir, _ := os.MkdirTemp("", "ctxfs-example")
	defer os.RemoveAll(dir)
	st, _ := store.Open(filepath.Join(dir, "store.db"), store.Options{NoSync: true})
	defer st.Close()
	ctx := fs.WithPrincipal(context.Background(), fs.System)

	chat := "# Session 1 (1:56 pm on 8 May, 2023)\n" +
		constructor.FormatTurn("D1:1", "Ana", "Hi Ben! I went to a pottery class yesterday.", "") + "\n" +
		constructor.FormatTurn("D1:2", "Ben", "Cool, what did you make?", "") + "\n" +
		constructor.FormatTurn("D1:3", "Ana", "A blue bowl for my mother.", "a photo of a blue bowl") + "\n" +
		constructor.FormatTurn("D1:4", "Ben", "I ran a marathon in Berlin last Sunday.", "") + "\n"
	st.Write(ctx, fs.MustParse("/history/chat/s01.md"), strings.NewReader(chat), fs.WriteOptions{})

	b := constructor.New(st, constructor.Options{})
	out, err := b.Build(ctx, constructor.Request{
		Query:   "When did Ana go to the pottery class?",
		Budget:  60,
		Sources: []constructor.Source{{Session: "chat"}},
		Session: "chat",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(out.Prompt)
	fmt.Println(out.Tokens <= 60, out.Saved == constructor.ContextsDir("chat").Child(out.Manifest.ID+".json"))
	// Output:
	// # /history/chat/
	// ## s01.md (8 May 2023)
	// D1:1 Ana: Hi Ben! I went to a pottery class yesterday (7 May 2023).
	// D1:2 Ben: Cool, what did you make?
	// true true
}
