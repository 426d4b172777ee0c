package fuse

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSmoke(t *testing.T) {
	st, mnt := mountStore(t, Options{})
	if err := os.WriteFile(filepath.Join(mnt, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(mnt, "a.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("read %q, %v", got, err)
	}
	info, err := st.Stat(testCtx(), "/a.txt")
	if err != nil || info.Version != 1 || info.Size != 5 {
		t.Fatalf("store: %+v %v", info, err)
	}
	if err := os.MkdirAll(filepath.Join(mnt, "d/e"), 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(mnt)
	if err != nil || len(ents) != 2 {
		t.Fatalf("readdir %v %v", ents, err)
	}
}
