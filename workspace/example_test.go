package workspace_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/workspace"
)

func Example() {
	dir, _ := os.MkdirTemp("", "workspace-example")
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ctx := context.Background()

	w, _ := workspace.New(st, "trip", workspace.Options{})
	w.Observe(ctx, workspace.Observation{Text: "Zoe Brown sang at the karaoke night at Hither Hills State Park. Alma Aultman cheered.", Time: "May 7, 2024"})
	w.Observe(ctx, workspace.Observation{Text: "Zoe Brown met Remy Waterman at the tech hackathon in Port Jefferson.", Time: "March 23, 2024"})

	c, _ := w.Query(ctx, "Where was Zoe Brown before the karaoke night?", 120)
	fmt.Print(c.Text)
	// Output:
	// [obs 000002] · March 23, 2024 · Port Jefferson · tech hackathon · Zoe Brown, Remy Waterman
	//   - Zoe Brown met Remy Waterman at the tech hackathon in Port Jefferson. [obs 000002]
	// [obs 000001] · May 7, 2024 · Hither Hills State Park · karaoke night · Zoe Brown, Alma Aultman
	//   - Zoe Brown sang at the karaoke night at Hither Hills State Park. [obs 000001]
}
