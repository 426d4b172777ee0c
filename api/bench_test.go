package api_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// benchStore opens a store that keeps its pages resident (MAP_POPULATE),
// because this machine evicts the page cache aggressively.
func benchStore(b *testing.B) *store.Store {
	s, err := store.Open(filepath.Join(b.TempDir(), "store.db"), store.Options{NoSync: true, Populate: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// doors returns the same store directly (the baseline), through the unix
// socket and through TCP.
func doors(b *testing.B) map[string]fs.FS {
	s := benchStore(b)
	_, unix := serveSocket(b, s, api.Options{})
	return map[string]fs.FS{"direct": s, "unix": unix, "tcp": serveHTTP(b, s, api.Options{})}
}

var doorOrder = []string{"direct", "unix", "tcp"}

func BenchmarkStat(b *testing.B) {
	ctx := context.Background()
	ds := doors(b)
	p := fs.MustParse("/bench/file.txt")
	ds["direct"].Write(ctx, p, bytes.NewReader(make([]byte, 4096)), fs.WriteOptions{})
	for _, name := range doorOrder {
		b.Run(name, func(b *testing.B) {
			f := ds[name]
			for b.Loop() {
				if _, err := f.Stat(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{4 << 10, 1 << 20} {
		ds := doors(b)
		p := fs.MustParse("/bench/file.bin")
		ds["direct"].Write(ctx, p, bytes.NewReader(bytes.Repeat([]byte("x"), size)), fs.WriteOptions{})
		for _, name := range doorOrder {
			b.Run(sizeName(size)+"/"+name, func(b *testing.B) {
				f := ds[name]
				b.SetBytes(int64(size))
				for b.Loop() {
					r, err := f.Open(ctx, p)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, r); err != nil {
						b.Fatal(err)
					}
					r.Close()
				}
			})
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{4 << 10, 1 << 20} {
		ds := doors(b)
		data := bytes.Repeat([]byte("y"), size)
		for _, name := range doorOrder {
			b.Run(sizeName(size)+"/"+name, func(b *testing.B) {
				f := ds[name]
				p := fs.MustParse("/bench/" + name)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.Write(ctx, p, bytes.NewReader(data), fs.WriteOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRoundTrip64MiB writes and reads back 64 MiB of a body of unknown
// length; B/op shows whether the client and handler stream or buffer.
func BenchmarkRoundTrip64MiB(b *testing.B) {
	ctx := context.Background()
	const size = 64 << 20
	ds := doors(b)
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	for _, name := range doorOrder {
		b.Run(name, func(b *testing.B) {
			f := ds[name]
			p := fs.MustParse("/bench/big-" + name)
			b.SetBytes(2 * size)
			b.ReportAllocs()
			for b.Loop() {
				// MultiReader hides the length: the body goes chunked.
				if _, err := f.Write(ctx, p, io.MultiReader(bytes.NewReader(data)), fs.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
				r, err := f.Open(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != size {
					b.Fatalf("read %d, %v", n, err)
				}
				r.Close()
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return itoa(n>>20) + "MiB"
	}
	return itoa(n>>10) + "KiB"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
