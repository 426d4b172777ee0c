package locomo

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

const dev = "../../../shared/testdata/bench/locomo/locomo-dev.json"

func TestIngest(t *testing.T) {
	if _, err := os.Stat(dev); err != nil {
		t.Skipf("LoCoMo data absent (%v)", err)
	}
	convs, err := Read(dev)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) == 0 || len(convs[0].Speakers) != 2 || len(convs[0].Sessions) == 0 {
		t.Fatalf("read %+v", convs)
	}
	convs = convs[:1]
	convs[0].Sessions = convs[0].Sessions[:3]
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	stats, err := Ingest(ctx, st, convs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Sessions != 3 || len(stats.History) != 3 || len(stats.Workspaces) != 1 {
		t.Errorf("stats %+v", stats)
	}
	read := func(p string) string {
		f, err := st.Open(ctx, fs.MustParse(p))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		return string(b)
	}
	h := read("/history/conv-26/session_1.jsonl")
	if !strings.Contains(h, `"role":"Caroline"`) || !strings.Contains(h, `"id":"D1:1"`) || !strings.Contains(h, "shares an image") {
		t.Errorf("history:\n%.400s", h)
	}
	// The image search query is an annotation: never read.
	if strings.Contains(h, "transgender pride flag mural") {
		t.Error("the image query leaked into history")
	}
	tl := read("/workspace/conv-26/timeline.md")
	if !strings.Contains(tl, "Caroline") || !strings.Contains(tl, "8 May, 2023") {
		t.Errorf("timeline:\n%.600s", tl)
	}
	if len(stats.Personas) == 0 {
		t.Error("no persona written")
	}
	for _, p := range stats.Personas {
		if !strings.HasPrefix(p.String(), "/memory/conv-26-") {
			t.Errorf("persona path %s", p)
		}
	}
}
