package memory_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/memory"
)

func Example() {
	dir, _ := os.MkdirTemp("", "memory-example")
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ctx := context.Background()

	m := memory.New(st, memory.Options{})
	m.Observe(ctx, "alice", []memory.Turn{
		{Role: "user", Content: "Hi! I live in Paris and I love green tea.", Time: "2024-01-02", ID: "s1#1"},
		{Role: "assistant", Content: "Lovely."},
	})
	m.Observe(ctx, "alice", []memory.Turn{{Role: "user", Content: "Big news: I moved to Lyon.", Time: "2024-06-01", ID: "s2#4"}})

	per, _, _ := m.Read(ctx, "alice")
	fmt.Print(per.Render())
	r, _ := m.Recall(ctx, "alice", "Where does she live?", 50)
	fmt.Print(r.Text)
	// Output:
	// # Persona: alice
	//
	// ## Preferences
	// - loves green tea {pref:green tea | s1#1 | 2024-01-02}
	//
	// ## Facts
	// - lives in Lyon {home | s2#4 | 2024-06-01}
	//
	// ## Superseded
	// - lives in Paris {home | s1#1 | 2024-01-02..2024-06-01}
	// - [Facts] lives in Lyon (s2#4, 2024-06-01)
}
