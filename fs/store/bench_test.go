//go:build linux

package store_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// Benchmarks compare the store with plain bbolt holding the same bytes
// (key = path, value = content) in the same run. Mode: NoSync for both,
// both files mapped with MAP_POPULATE and read once after building, so the
// figures are of warm, in-memory data (this VM evicts the page cache).
// Besides wall time each reports cpu-ns/op, the process's user+system CPU
// time per operation (GC included), which stays meaningful on a machine
// shared with other work, where wall time mostly measures the queue.
//
//	go test -run '^$' -bench 'Put|Get|Stat|List' -benchtime 500x ./fs/store
//	go test -run '^$' -bench Import -benchtime 20x ./fs/store
//
// (Each Import op adds 1000 files; a large -benchtime makes a large file.)

var benchSizes = []int{1000, 10000, 100000}

const benchFileSize = 512

type fixture struct {
	n     int
	s     *store.Store
	raw   *bolt.DB
	paths []fs.Path
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]*fixture{}
	fixtureDir string
)

func benchContent(i int) []byte {
	b := make([]byte, benchFileSize)
	r := rand.New(rand.NewPCG(uint64(i), 3))
	for k := range b {
		b[k] = 'a' + byte(r.IntN(26))
	}
	return b
}

var rawBucket = []byte("files")

// getFixture builds (once per size) a store and a plain bbolt file, each
// holding n files of benchFileSize bytes in one directory.
func getFixture(b *testing.B, n int) *fixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[n]; f != nil {
		return f
	}
	if fixtureDir == "" {
		d, err := os.MkdirTemp("", "ctxfs-store-bench-")
		if err != nil {
			b.Fatal(err)
		}
		fixtureDir = d
	}
	f := &fixture{n: n}
	var err error
	f.s, err = store.Open(filepath.Join(fixtureDir, fmt.Sprintf("store-%d.db", n)), store.Options{NoSync: true, Populate: true})
	if err != nil {
		b.Fatal(err)
	}
	f.raw, err = bolt.Open(filepath.Join(fixtureDir, fmt.Sprintf("raw-%d.db", n)), 0o600, &bolt.Options{NoSync: true, NoGrowSync: true, MmapFlags: syscall.MAP_POPULATE, InitialMmapSize: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		f.paths = append(f.paths, fs.MustParse(fmt.Sprintf("/flat/f%06d", i)))
	}
	const batch = 5000
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		err := f.s.Batch(ctx, func(bt *store.Batch) error {
			for i := lo; i < hi; i++ {
				if _, err := bt.Write(f.paths[i], bytes.NewReader(benchContent(i)), fs.WriteOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		err = f.raw.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(rawBucket)
			if err != nil {
				return err
			}
			for i := lo; i < hi; i++ {
				if err := bk.Put([]byte(f.paths[i]), benchContent(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// Warm both: one full listing and scan.
	if _, err := f.s.List(ctx, fs.MustParse("/flat")); err != nil {
		b.Fatal(err)
	}
	f.raw.View(func(tx *bolt.Tx) error { return tx.Bucket(rawBucket).ForEach(func(k, v []byte) error { return nil }) })
	fixtures[n] = f
	return f
}

// cpuClock returns the process's user+system CPU time.
func cpuClock() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs body under b.Loop and reports CPU time per operation.
func loop(b *testing.B, body func()) {
	start := cpuClock()
	for b.Loop() {
		body()
	}
	b.ReportMetric(float64(cpuClock()-start)/float64(b.N), "cpu-ns/op")
}

func closeFixtures() {
	for _, f := range fixtures {
		f.s.Close()
		f.raw.Close()
	}
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
}

func benchSizesRun(b *testing.B, fn func(b *testing.B, f *fixture)) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			if testing.Short() && n > 10000 {
				b.Skip("-short")
			}
			fn(b, getFixture(b, n))
		})
	}
}

func BenchmarkPut(b *testing.B) {
	benchSizesRun(b, func(b *testing.B, f *fixture) {
		data := benchContent(-1)
		b.Run("store", func(b *testing.B) {
			b.SetBytes(benchFileSize)
			i := 0
			loop(b, func() {
				data[0] = byte(i) // new content each time: no dedup shortcut
				if _, err := f.s.Write(ctx, f.paths[i%f.n], bytes.NewReader(data), fs.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
		b.Run("bbolt", func(b *testing.B) {
			b.SetBytes(benchFileSize)
			i := 0
			loop(b, func() {
				data[0] = byte(i)
				err := f.raw.Update(func(tx *bolt.Tx) error {
					return tx.Bucket(rawBucket).Put([]byte(f.paths[i%f.n]), data)
				})
				if err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
	})
}

// BenchmarkPutParallel measures concurrent single writers, where group
// commit shares transactions; the baseline is bbolt's own db.Batch.
func BenchmarkPutParallel(b *testing.B) {
	f := getFixture(b, benchSizes[0])
	b.Run("store", func(b *testing.B) {
		b.SetBytes(benchFileSize)
		var ctr int64
		var mu sync.Mutex
		b.RunParallel(func(pb *testing.PB) {
			data := benchContent(-2)
			for pb.Next() {
				mu.Lock()
				i := ctr
				ctr++
				mu.Unlock()
				data[0], data[1] = byte(i), byte(i>>8)
				if _, err := f.s.Write(ctx, f.paths[int(i)%f.n], bytes.NewReader(data), fs.WriteOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("bbolt-batch", func(b *testing.B) {
		b.SetBytes(benchFileSize)
		var ctr int64
		var mu sync.Mutex
		b.RunParallel(func(pb *testing.PB) {
			data := benchContent(-2)
			for pb.Next() {
				mu.Lock()
				i := ctr
				ctr++
				mu.Unlock()
				err := f.raw.Batch(func(tx *bolt.Tx) error {
					return tx.Bucket(rawBucket).Put([]byte(f.paths[int(i)%f.n]), data)
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkGet(b *testing.B) {
	benchSizesRun(b, func(b *testing.B, f *fixture) {
		buf := make([]byte, 0, benchFileSize*2)
		b.Run("store", func(b *testing.B) {
			b.SetBytes(benchFileSize)
			i := 0
			loop(b, func() {
				fl, err := f.s.Open(ctx, f.paths[(i*7919)%f.n])
				if err != nil {
					b.Fatal(err)
				}
				w := bytes.NewBuffer(buf[:0])
				if _, err := io.Copy(w, fl); err != nil {
					b.Fatal(err)
				}
				fl.Close()
				i++
			})
		})
		b.Run("bbolt", func(b *testing.B) {
			b.SetBytes(benchFileSize)
			i := 0
			loop(b, func() {
				f.raw.View(func(tx *bolt.Tx) error {
					buf = append(buf[:0], tx.Bucket(rawBucket).Get([]byte(f.paths[(i*7919)%f.n]))...)
					return nil
				})
				i++
			})
		})
	})
}

func BenchmarkStat(b *testing.B) {
	benchSizesRun(b, func(b *testing.B, f *fixture) {
		b.Run("store", func(b *testing.B) {
			i := 0
			loop(b, func() {
				if _, err := f.s.Stat(ctx, f.paths[(i*7919)%f.n]); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
		b.Run("bbolt", func(b *testing.B) {
			i, size := 0, 0
			loop(b, func() {
				f.raw.View(func(tx *bolt.Tx) error {
					size = len(tx.Bucket(rawBucket).Get([]byte(f.paths[(i*7919)%f.n])))
					return nil
				})
				i++
			})
			_ = size
		})
	})
}

// BenchmarkList lists the directory holding all n files; the baseline
// scans the same n keys and copies each key with its value's length.
func BenchmarkList(b *testing.B) {
	benchSizesRun(b, func(b *testing.B, f *fixture) {
		dir := fs.MustParse("/flat")
		b.Run("store", func(b *testing.B) {
			loop(b, func() {
				l, err := f.s.List(ctx, dir)
				if err != nil || len(l) < f.n {
					b.Fatal(len(l), err)
				}
			})
		})
		b.Run("bbolt", func(b *testing.B) {
			type ent struct {
				name string
				size int
			}
			loop(b, func() {
				out := make([]ent, 0, f.n)
				f.raw.View(func(tx *bolt.Tx) error {
					return tx.Bucket(rawBucket).ForEach(func(k, v []byte) error {
						out = append(out, ent{string(k), len(v)})
						return nil
					})
				})
			})
		})
	})
}

// BenchmarkImport measures bulk import: each op commits a batch of 1000
// new files in one transaction (Store.Batch) beside the same puts in one
// plain bbolt transaction. Both files start empty and grow over the run.
func BenchmarkImport(b *testing.B) {
	const batch = 1000
	for _, size := range []int{512, 4096} {
		content := make([][]byte, batch)
		for i := range content {
			content[i] = benchContent(i)
			for len(content[i]) < size {
				content[i] = append(content[i], content[i]...)
			}
			content[i] = content[i][:size]
		}
		b.Run(fmt.Sprintf("size=%d/store", size), func(b *testing.B) {
			s, err := store.Open(filepath.Join(b.TempDir(), "s.db"), store.Options{NoSync: true, Populate: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(batch * size))
			round := 0
			loop(b, func() {
				err := s.Batch(ctx, func(bt *store.Batch) error {
					for i := 0; i < batch; i++ {
						content[i][0] = byte(round) // no dedup across rounds
						p := fs.MustParse(fmt.Sprintf("/imp/r%d/d%d/f%d", round, i%10, i))
						if _, err := bt.Write(p, bytes.NewReader(content[i]), fs.WriteOptions{}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				round++
			})
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "files/s")
		})
		b.Run(fmt.Sprintf("size=%d/bbolt", size), func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), "r.db"), 0o600, &bolt.Options{NoSync: true, NoGrowSync: true, MmapFlags: syscall.MAP_POPULATE, InitialMmapSize: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			b.SetBytes(int64(batch * size))
			round := 0
			loop(b, func() {
				err := db.Update(func(tx *bolt.Tx) error {
					bk, err := tx.CreateBucketIfNotExists(rawBucket)
					if err != nil {
						return err
					}
					for i := 0; i < batch; i++ {
						content[i][0] = byte(round)
						k := fmt.Sprintf("/imp/r%d/d%d/f%d", round, i%10, i)
						if err := bk.Put([]byte(k), bytes.Clone(content[i])); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				round++
			})
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
