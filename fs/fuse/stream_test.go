package fuse

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestStreamedCommit checks the commit that is fed while a large file is
// written in order, and that any other change abandons it for an
// ordinary commit with the same result.
func TestStreamedCommit(t *testing.T) {
	st := newStore(t, storeOpts())
	srv, mnt := mountFS(t, st, Options{MemoryBuffer: 1 << 20})
	r := rand.New(rand.NewPCG(7, 7))
	data := make([]byte, 20<<20+12345)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	readStore := func(p string) []byte {
		t.Helper()
		f, err := st.Open(testCtx(), mustPath(p))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name     string
		write    func(f *os.File) []byte // returns the expected content
		streamed bool
	}{
		{"InOrder", func(f *os.File) []byte {
			for off := 0; off < len(data); off += 1 << 20 {
				f.Write(data[off:min(off+1<<20, len(data))])
			}
			return data
		}, true},
		{"OverwriteAfter", func(f *os.File) []byte {
			f.Write(data[:5<<20])
			f.WriteAt([]byte("XYZ"), 100)
			want := bytes.Clone(data[:5<<20])
			copy(want[100:], "XYZ")
			return want
		}, false},
		{"TruncateAfter", func(f *os.File) []byte {
			f.Write(data[:5<<20])
			f.Truncate(3 << 20)
			f.WriteAt(data[:1000], 3<<20)
			want := bytes.Clone(data[:3<<20])
			return append(want, data[:1000]...)
		}, false},
		{"ReadBackInOrder", func(f *os.File) []byte {
			f.Write(data[:4<<20])
			buf := make([]byte, 1000)
			f.ReadAt(buf, 3<<20)
			if !bytes.Equal(buf, data[3<<20:3<<20+1000]) {
				t.Error("read back through the handle differs")
			}
			f.Write(data[4<<20 : 6<<20])
			return data[:6<<20]
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := srv.m.streamCommits.Load()
			name := filepath.Join(mnt, c.name)
			f, err := os.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			want := c.write(f)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readStore("/" + c.name); !bytes.Equal(got, want) {
				t.Errorf("store holds %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
			}
			if got, _ := os.ReadFile(name); !bytes.Equal(got, want) {
				t.Errorf("mount reads %d bytes, want %d", len(got), len(want))
			}
			if streamed := srv.m.streamCommits.Load() > before; streamed != c.streamed {
				t.Errorf("committed through a stream: %v, want %v", streamed, c.streamed)
			}
			info, _ := st.Stat(testCtx(), mustPath("/"+c.name))
			if info.Version != 1 {
				t.Errorf("version %d, want 1", info.Version)
			}
		})
	}
	// A rename while the stream runs: the commit lands at the new name.
	f, err := os.Create(filepath.Join(mnt, "moving"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data[:3<<20])
	if err := os.Rename(filepath.Join(mnt, "moving"), filepath.Join(mnt, "moved")); err != nil {
		t.Fatal(err)
	}
	f.Write(data[3<<20 : 4<<20])
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readStore("/moved"); !bytes.Equal(got, data[:4<<20]) {
		t.Errorf("renamed streaming file: %d bytes", len(got))
	}
	if _, err := st.Stat(testCtx(), "/moving"); err == nil {
		t.Error("the old name of a renamed streaming file exists")
	}
}
