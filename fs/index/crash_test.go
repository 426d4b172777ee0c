package index_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
)

const crashChildEnv = "CTXFS_INDEX_CRASH_CHILD"

// A process that writes and indexes in a loop is killed (SIGKILL) at an
// arbitrary point: every write the store acknowledged is found after the
// index reopens, whatever the index had applied or persisted.
func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked, _ = strconv.Atoi(n)
			if acked >= 40 {
				break
			}
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if acked < 40 {
		t.Fatalf("child stopped after %d acknowledged writes", acked)
	}

	s := newStore(t, dir)
	idx, err := index.Open(filepath.Join(dir, "index"), s, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	hits, err := idx.Search(context.Background(), fs.Query{Text: "crashword", Limit: index.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	found := map[fs.Path]bool{}
	for _, h := range hits {
		found[h.Path] = true
	}
	for i := 0; i <= acked; i++ {
		if p := fs.Path(fmt.Sprintf("/crash/%d.txt", i)); !found[p] {
			t.Errorf("acknowledged %s not found after the crash", p)
		}
	}
}

// crashChild writes, acknowledges on stdout, and catches up, until killed.
func crashChild(dir string) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	idx, err := index.Open(filepath.Join(dir, "index"), s, index.Options{})
	if err != nil {
		panic(err)
	}
	for i := 0; ; i++ {
		p := fs.MustParse(fmt.Sprintf("/crash/%d.txt", i))
		if _, err := s.Write(ctx, p, strings.NewReader(fmt.Sprintf("crashword number %d", i)), fs.WriteOptions{}); err != nil {
			panic(err)
		}
		fmt.Printf("acked %d\n", i)
		if i%3 == 0 { // leave some writes for the next Open to catch up
			if err := idx.CatchUp(ctx); err != nil {
				panic(err)
			}
		}
	}
}
