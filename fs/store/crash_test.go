package store_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// The crash test re-runs this test binary as a child that writes in a
// loop; these variables tell the child what to do. Reading the
// environment is confined to this test harness.
const (
	crashEnvDir   = "CTXFS_STORE_CRASH_DIR"
	crashEnvRound = "CTXFS_STORE_CRASH_ROUND"
	crashChunk    = 16 << 10
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnvDir); dir != "" {
		round, _ := strconv.Atoi(os.Getenv(crashEnvRound))
		if err := crashChild(dir, round); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	code := m.Run()
	closeFixtures()
	os.Exit(code)
}

// crashContent is the content of file number i: anything found in the
// store under that number must be exactly this.
func crashContent(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 77))
	n := r.IntN(5 * crashChunk) // up to 5 chunks, often several
	if i%3 == 0 {
		n = r.IntN(200) // and many small files
	}
	b := make([]byte, n)
	for k := range b {
		b[k] = byte(r.Uint32())
	}
	return b
}

func crashPath(i int) string { return fmt.Sprintf("/crash/d%d/f%d", i%7, i) }

// crashChild writes files forever, printing each one after its commit has
// returned: single writes, and every fifth step a batch of five.
func crashChild(dir string, round int) error {
	s, err := store.Open(filepath.Join(dir, "store.db"), store.Options{ChunkSize: crashChunk, LockTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	ack := func(i int) {
		sum := sha256.Sum256(crashContent(i))
		fmt.Fprintf(out, "ack %s %s\n", crashPath(i), hex.EncodeToString(sum[:]))
		out.Flush()
	}
	for i := round * 1_000_000; ; i++ {
		if i%5 == 0 {
			err := s.Batch(ctx, func(b *store.Batch) error {
				for k := i; k < i+5; k++ {
					if _, err := b.Write(p(crashPath(k)), bytes.NewReader(crashContent(k)), fs.WriteOptions{}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			for k := i; k < i+5; k++ {
				ack(k)
			}
			i += 4
			continue
		}
		if _, err := s.Write(ctx, p(crashPath(i)), bytes.NewReader(crashContent(i)), fs.WriteOptions{}); err != nil {
			return err
		}
		ack(i)
	}
}

// TestCrash kills a writing child process with SIGKILL at random moments,
// three times over the same store, and checks after each kill that every
// acknowledged write is there byte for byte and that no file holds
// anything but one whole write.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs subprocesses")
	}
	dir := t.TempDir()
	acked := map[string]string{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := 1; round <= 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvRound+"="+strconv.Itoa(round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			r := bufio.NewReader(stdout)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return // a partial last line was never acknowledged
				}
				lines <- strings.TrimSuffix(line, "\n")
			}
		}()
		// Wait for the child to be writing, then kill it at a random moment.
		select {
		case l := <-lines:
			lines <- l
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("child wrote nothing in 60s: %s", stderr.String())
		}
		time.Sleep(time.Duration(50+rng.IntN(700)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-readDone
		cmd.Wait()
		if strings.Contains(stderr.String(), "crash child:") {
			t.Fatalf("child failed: %s", stderr.String())
		}
		close(lines)
		n := 0
		for l := range lines {
			f := strings.Fields(l)
			if len(f) != 3 || f[0] != "ack" {
				t.Fatalf("child printed %q", l)
			}
			acked[f[1]] = f[2]
			n++
		}
		t.Logf("round %d: killed after %d acknowledged writes", round, n)
		checkCrashStore(t, filepath.Join(dir, "store.db"), acked)
	}
}

func checkCrashStore(t *testing.T, path string, acked map[string]string) {
	t.Helper()
	s, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	defer s.Close()
	for path, sum := range acked {
		f, err := s.Open(ctx, p(path))
		if err != nil {
			t.Fatalf("acknowledged %s: %v", path, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil || hex.EncodeToString(h.Sum(nil)) != sum {
			t.Fatalf("acknowledged %s: content differs (%v)", path, err)
		}
	}
	// Every file present, acknowledged or not (the kill may land after a
	// commit and before its acknowledgement), is one whole write.
	files := 0
	dirs, err := s.List(ctx, p("/crash"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		list, err := s.List(ctx, d.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, fi := range list {
			i, err := strconv.Atoi(strings.TrimPrefix(fi.Name(), "f"))
			if err != nil {
				t.Fatalf("unexpected file %s", fi.Path)
			}
			if got := get(t, s, string(fi.Path)); !bytes.Equal(got, crashContent(i)) {
				t.Fatalf("%s holds %d bytes that are not its write (%d bytes)", fi.Path, len(got), len(crashContent(i)))
			}
			files++
		}
	}
	// The log holds one write event per file, in the same transactions.
	writes := 0
	if err := s.Changes(ctx, 0, func(e fs.Event) error {
		if e.Op == fs.OpWrite {
			writes++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if writes != files || files < len(acked) {
		t.Fatalf("%d files, %d write events, %d acknowledged", files, writes, len(acked))
	}
}
