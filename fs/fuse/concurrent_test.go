package fuse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrent runs writers, readers, renamers and listers at once
// (run it with -race): every file ends with what its last close wrote,
// and no reader sees anything but a whole write.
func TestConcurrent(t *testing.T) {
	st, mnt := mountStore(t, Options{MemoryBuffer: 1 << 12})
	const workers, rounds = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4)
	content := func(w, r int) []byte {
		return bytes.Repeat([]byte(fmt.Sprintf("worker %d round %d\n", w, r)), 50+r*13)
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := filepath.Join(mnt, fmt.Sprintf("w%d", w))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				errs <- err
				return
			}
			for r := 0; r < rounds; r++ {
				name := filepath.Join(dir, "file")
				if err := os.WriteFile(name, content(w, r), 0o644); err != nil {
					errs <- err
					continue
				}
				got, err := os.ReadFile(name)
				if err != nil || !bytes.Equal(got, content(w, r)) {
					errs <- fmt.Errorf("worker %d round %d: read %d bytes, %v", w, r, len(got), err)
				}
				// Editor-style replace of a shared file, read by all.
				tmp := filepath.Join(mnt, fmt.Sprintf(".shared.%d", w))
				if err := os.WriteFile(tmp, content(w, r), 0o644); err != nil {
					errs <- err
					continue
				}
				if err := os.Rename(tmp, filepath.Join(mnt, "shared")); err != nil {
					errs <- err
				}
				if b, err := os.ReadFile(filepath.Join(mnt, "shared")); err != nil {
					errs <- fmt.Errorf("reading shared: %v", err)
				} else if !bytes.HasPrefix(b, []byte("worker ")) || len(b)%len(bytes.SplitAfter(b, []byte("\n"))[0]) != 0 {
					errs <- fmt.Errorf("shared holds a partial write (%d bytes)", len(b))
				}
				if _, err := os.ReadDir(mnt); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := 0; w < workers; w++ {
		p := fmt.Sprintf("/w%d/file", w)
		info, err := st.Stat(testCtx(), mustPath(p))
		if err != nil || info.Size != int64(len(content(w, rounds-1))) || info.Version != rounds {
			t.Errorf("%s: %+v %v (want %d versions)", p, info, err, rounds)
		}
	}
}
