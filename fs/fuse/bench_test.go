package fuse

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs/store"
)

// benchStoreOpts is the store mode of the benchmarks: no fsync (the
// loopback does not sync either) and the file mapped with MAP_POPULATE,
// because this VM evicts the page cache aggressively.
func benchStoreOpts() store.Options { return store.Options{NoSync: true, Populate: true} }

// TestBench runs Bench at a small size, checking that every phase is
// measured on both file systems and the files are there.
func TestBench(t *testing.T) {
	requireFUSE(t)
	st := newStore(t, storeOpts())
	rep, err := Bench(context.Background(), BenchOptions{
		FS: st, Dir: t.TempDir(), FileSize: 3<<20 + 5, BlockSize: 1 << 20, SmallFiles: 50, SmallSize: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{PhaseSeqWrite, PhaseSeqRead, PhaseSmallCreate, PhaseSmallStat, PhaseSmallRead, PhaseSmallTotal}
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(want))
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), PhaseSmallTotal) {
		t.Errorf("WriteText: %v\n%s", err, text.String())
	}
	for i, r := range rep.Results {
		if r.Phase != want[i] || r.Ctxfs <= 0 || r.Loopback <= 0 || r.Ratio <= 0 {
			t.Errorf("result %d: %+v", i, r)
		}
		t.Logf("%-12s ctxfs %v loopback %v ratio %.2f", r.Phase, r.Ctxfs, r.Loopback, r.Ratio)
	}
	info, err := st.Stat(testCtx(), "/big")
	if err != nil || info.Size != 3<<20+5 || info.Version != 1 {
		t.Errorf("big file in the store: %+v %v", info, err)
	}
	list, err := st.List(testCtx(), "/small")
	if err != nil || len(list) != 50 {
		t.Errorf("small files in the store: %d, %v", len(list), err)
	}
}

// benchSetup mounts a fresh store and the loopback of a fresh directory.
func benchSetup(b *testing.B) []*benchTarget {
	requireFUSE(b)
	st := newStore(b, benchStoreOpts())
	work := b.TempDir()
	backing := filepath.Join(work, "backing")
	os.Mkdir(backing, 0o755)
	targets := []*benchTarget{
		{name: "ctxfs", mount: func(dir string) (benchMount, error) {
			return Mount(context.Background(), dir, st, Options{})
		}},
		{name: "loopback", mount: func(dir string) (benchMount, error) { return mountLoopback(backing, dir) }},
	}
	for _, t := range targets {
		t.dir = filepath.Join(work, "mnt-"+t.name)
		os.Mkdir(t.dir, 0o755)
		if err := t.remount(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { t.unmount() })
	}
	return targets
}

// BenchmarkSeq writes a 256 MiB file (create, 1 MiB writes, close, which
// commits one version on ctxfs) and reads it back after a remount, on the
// ctxfs mount and on the loopback. Run with -benchtime=1x or a few x.
func BenchmarkSeq(b *testing.B) {
	const size = 256 << 20
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i * 7)
	}
	for _, t := range benchSetup(b) {
		b.Run(t.name+"/write", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if err := seqWrite(filepath.Join(t.dir, "big"), block, size, false); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(t.name+"/read", func(b *testing.B) {
			b.SetBytes(size)
			buf := make([]byte, 1<<20)
			for b.Loop() {
				b.StopTimer()
				if err := t.remount(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := seqRead(filepath.Join(t.dir, "big"), buf, size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSmallFiles creates 10,000 files of 1 KiB, then (after a
// remount) stats and reads each; one iteration is all three over all
// files, in a fresh directory each time.
func BenchmarkSmallFiles(b *testing.B) {
	const n = 10000
	data := make([]byte, 1024)
	for _, t := range benchSetup(b) {
		b.Run(t.name, func(b *testing.B) {
			b.SetBytes(2 * n * int64(len(data)))
			iter := 0
			for b.Loop() {
				dir := filepath.Join(t.dir, "small"+strconv.Itoa(iter))
				iter++
				if err := smallCreate(dir, n, data, false); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := t.remount(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := smallStat(dir, n, int64(len(data))); err != nil {
					b.Fatal(err)
				}
				if err := smallRead(dir, n, len(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReport runs Bench at full size (a 256 MiB file, 10,000 files
// of 1 KiB) and reports each phase's ratio to the loopback as a metric,
// as `ctxfs bench fuse` prints it. Run with -benchtime=1x.
func BenchmarkReport(b *testing.B) {
	requireFUSE(b)
	for b.Loop() {
		st := newStore(b, benchStoreOpts())
		rep, err := Bench(context.Background(), BenchOptions{FS: st, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rep.Results {
			b.ReportMetric(r.Ratio, r.Phase+"-ratio")
		}
		var text strings.Builder
		rep.WriteText(&text)
		b.Log("\n" + text.String())
	}
}
