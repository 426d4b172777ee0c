package fuse

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// TestRandomLockstep runs the same random file operations on the mount and
// on a directory of the local disk and requires the same result of every
// call (errno included), the same data from every read and the same tree
// at the end.
func TestRandomLockstep(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			_, mnt := mountStore(t, Options{MemoryBuffer: 4096})
			ops := 2500
			if testing.Short() {
				ops = 500
			}
			l := &lockstep{
				t:    t,
				r:    rand.New(rand.NewPCG(seed, 42)),
				dirs: [2]string{t.TempDir(), mnt},
			}
			for i := 0; i < ops; i++ {
				l.step(i)
				if t.Failed() {
					t.Fatalf("stopped at operation %d; last: %s", i, l.last)
				}
				if i%500 == 499 {
					l.compareTrees()
				}
			}
			l.compareTrees()
			t.Logf("%d operations; errno counts: %v", ops, l.errnos)
		})
	}
}

type lockstep struct {
	t      *testing.T
	r      *rand.Rand
	dirs   [2]string // the reference directory, the mount
	last   string
	errnos map[syscall.Errno]int
}

// name returns a random relative path: few names and shallow depth, so
// that operations collide (existing targets, non-empty directories, files
// where directories are expected).
func (l *lockstep) name() string {
	depth := 1 + l.r.IntN(3)
	elems := make([]string, depth)
	for i := range elems {
		elems[i] = string(rune('a' + l.r.IntN(4)))
	}
	return strings.Join(elems, "/")
}

func (l *lockstep) data() []byte {
	n := l.r.IntN(3)
	size := []int{l.r.IntN(64), l.r.IntN(6000), l.r.IntN(20000)}[n]
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('a' + l.r.IntN(26))
	}
	return b
}

type result struct {
	errs []syscall.Errno
	data []byte
}

func (l *lockstep) step(i int) {
	op := l.r.IntN(12)
	a, b := l.name(), l.name()
	data := l.data()
	off := int64(l.r.IntN(30000))
	size := int64(l.r.IntN(30000))
	var desc string
	var do func(root string) result
	switch op {
	case 0, 1:
		desc = fmt.Sprintf("write %s (%d bytes)", a, len(data))
		do = func(root string) result {
			return writeFile(filepath.Join(root, a), syscall.O_CREAT|syscall.O_TRUNC, -1, data)
		}
	case 2:
		desc = fmt.Sprintf("append %s (%d bytes)", a, len(data))
		do = func(root string) result { return writeFile(filepath.Join(root, a), syscall.O_APPEND, -1, data) }
	case 3:
		desc = fmt.Sprintf("pwrite %s at %d (%d bytes)", a, off, len(data))
		do = func(root string) result { return writeFile(filepath.Join(root, a), 0, off, data) }
	case 4:
		desc = fmt.Sprintf("truncate %s to %d", a, size)
		do = func(root string) result {
			return result{errs: []syscall.Errno{errnoOf(syscall.Truncate(filepath.Join(root, a), size))}}
		}
	case 5:
		desc = fmt.Sprintf("rw %s: pwrite at %d, ftruncate to %d, read back", a, off, size)
		do = func(root string) result { return readWrite(filepath.Join(root, a), off, size, data) }
	case 6:
		desc = "mkdir " + a
		do = func(root string) result {
			return result{errs: []syscall.Errno{errnoOf(syscall.Mkdir(filepath.Join(root, a), 0o755))}}
		}
	case 7:
		desc = "rmdir " + a
		do = func(root string) result {
			return result{errs: []syscall.Errno{errnoOf(syscall.Rmdir(filepath.Join(root, a)))}}
		}
	case 8:
		desc = "unlink " + a
		do = func(root string) result {
			return result{errs: []syscall.Errno{errnoOf(syscall.Unlink(filepath.Join(root, a)))}}
		}
	case 9:
		desc = "rename " + a + " " + b
		do = func(root string) result {
			return result{errs: []syscall.Errno{errnoOf(syscall.Rename(filepath.Join(root, a), filepath.Join(root, b)))}}
		}
	case 10:
		desc = "read " + a
		do = func(root string) result {
			d, err := os.ReadFile(filepath.Join(root, a))
			return result{errs: []syscall.Errno{errnoOf(err)}, data: d}
		}
	case 11:
		desc = "two handles on " + a
		do = func(root string) result { return twoHandles(filepath.Join(root, a), data) }
	}
	l.last = desc
	want, got := do(l.dirs[0]), do(l.dirs[1])
	if fmt.Sprint(want.errs) != fmt.Sprint(got.errs) {
		l.t.Errorf("op %d %s: errnos %v on the mount, %v on the disk", i, desc, got.errs, want.errs)
	}
	if !bytes.Equal(want.data, got.data) {
		l.t.Errorf("op %d %s: read %d bytes on the mount, %d on the disk (first difference at %d)", i, desc, len(got.data), len(want.data), firstDiff(want.data, got.data))
	}
	if l.errnos == nil {
		l.errnos = map[syscall.Errno]int{}
	}
	for _, e := range want.errs {
		l.errnos[e]++
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// writeFile opens name with flags|O_WRONLY, writes data (at off when off
// >= 0) and closes it, recording the errno of each step.
func writeFile(name string, flags int, off int64, data []byte) result {
	var r result
	fd, err := syscall.Open(name, flags|syscall.O_WRONLY, 0o644)
	r.errs = append(r.errs, errnoOf(err))
	if err != nil {
		return r
	}
	if off >= 0 {
		_, err = syscall.Pwrite(fd, data, off)
	} else {
		_, err = syscall.Write(fd, data)
	}
	r.errs = append(r.errs, errnoOf(err))
	r.errs = append(r.errs, errnoOf(syscall.Close(fd)))
	return r
}

// readWrite writes, truncates and reads back through one handle.
func readWrite(name string, off, size int64, data []byte) result {
	var r result
	fd, err := syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT, 0o644)
	r.errs = append(r.errs, errnoOf(err))
	if err != nil {
		return r
	}
	defer func() { r.errs = append(r.errs, errnoOf(syscall.Close(fd))) }()
	_, err = syscall.Pwrite(fd, data, off)
	r.errs = append(r.errs, errnoOf(err))
	r.errs = append(r.errs, errnoOf(syscall.Ftruncate(fd, size)))
	buf := make([]byte, 64<<10)
	n, err := syscall.Pread(fd, buf, 0)
	r.errs = append(r.errs, errnoOf(err))
	if n > 0 {
		r.data = buf[:n]
	}
	return r
}

// twoHandles writes through two handles of one file, reading each's writes
// through the other, and closes them in turn.
func twoHandles(name string, data []byte) result {
	var r result
	fd1, err := syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT, 0o644)
	r.errs = append(r.errs, errnoOf(err))
	if err != nil {
		return r
	}
	fd2, err := syscall.Open(name, syscall.O_RDWR, 0)
	r.errs = append(r.errs, errnoOf(err))
	if err != nil {
		syscall.Close(fd1)
		return r
	}
	_, err = syscall.Pwrite(fd1, data, 0)
	r.errs = append(r.errs, errnoOf(err))
	_, err = syscall.Pwrite(fd2, []byte("<second>"), int64(len(data)/2))
	r.errs = append(r.errs, errnoOf(err))
	r.errs = append(r.errs, errnoOf(syscall.Close(fd1)))
	buf := make([]byte, 64<<10)
	n, err := syscall.Pread(fd2, buf, 0)
	r.errs = append(r.errs, errnoOf(err))
	r.data = buf[:max(n, 0)]
	r.errs = append(r.errs, errnoOf(syscall.Close(fd2)))
	return r
}

// compareTrees requires the two trees to hold the same paths, kinds and
// contents.
func (l *lockstep) compareTrees() {
	l.t.Helper()
	trees := [2]map[string]string{}
	for i, root := range l.dirs {
		trees[i] = map[string]string{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				trees[i][rel] = "dir"
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.Size() != int64(len(b)) {
				return fmt.Errorf("%s: stat size %d, read %d bytes", rel, fi.Size(), len(b))
			}
			trees[i][rel] = string(b)
			return nil
		})
		if err != nil {
			l.t.Fatalf("walking %s: %v", root, err)
		}
	}
	var diffs []string
	for p, want := range trees[0] {
		if got, ok := trees[1][p]; !ok {
			diffs = append(diffs, "missing in the mount: "+p)
		} else if got != want {
			diffs = append(diffs, fmt.Sprintf("differs: %s (%d vs %d bytes)", p, len(got), len(want)))
		}
	}
	for p := range trees[1] {
		if _, ok := trees[0][p]; !ok {
			diffs = append(diffs, "only in the mount: "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		l.t.Errorf("trees differ after %q:\n%s", l.last, strings.Join(diffs, "\n"))
	}
}
