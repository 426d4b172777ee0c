package store

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
)

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the fuzz seed corpus under testdata/fuzz")

func sampleNodes() []*node {
	return []*node{
		{Kind: fs.KindDir, ID: 2, Created: 1, Modified: 1},
		{Kind: fs.KindFile, ID: 1 << 40, Version: 7, Size: 1 << 33, Tokens: 12345, Created: -5, Modified: 1764460000000000000, Author: "alice", Meta: map[string]string{"a": "1", "tag": "x y", "": ""}},
		{Kind: fs.KindFile, ID: 3, Version: 1, Author: "日本"},
	}
}

func sampleVersions() []*version {
	h := func(b byte) chunkRef {
		var c chunkRef
		copy(c.Hash[:], bytes.Repeat([]byte{b}, hashLen))
		c.ID = uint64(b) << 20
		return c
	}
	return []*version{
		{Time: 1},
		{Time: 99, Size: 10, Tokens: 3, Author: "bob", Meta: map[string]string{"k": "v"}, ChunkSize: 4, Chunks: []chunkRef{h(1), h(2), h(3)}},
		{Time: -1, Size: 4, ChunkSize: 4, Chunks: []chunkRef{h(9)}},
		{Time: 3, Size: 5, Author: "c", Inline: []byte("hello")},
	}
}

func sampleEvents() []*event {
	return []*event{
		{Op: fs.OpWrite, Kind: fs.KindFile, Path: "/a/b", Version: 3, Time: 5, Author: "x"},
		{Op: fs.OpRename, Kind: fs.KindDir, Path: "/a", Dest: "/b/c", Time: 6},
		{Op: fs.OpRemove, Kind: fs.KindDir, Path: "/"},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, n := range sampleNodes() {
		got, err := decodeNode(encodeNode(n))
		if err != nil || !reflect.DeepEqual(got, n) {
			t.Errorf("node %+v -> %+v, %v", n, got, err)
		}
		k, id, err := decodeNodeHead(encodeNode(n))
		if err != nil || k != n.Kind || id != n.ID {
			t.Errorf("node head %v %d %v", k, id, err)
		}
	}
	for _, v := range sampleVersions() {
		got, err := decodeVersion(encodeVersion(v), true)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("version %+v -> %+v, %v", v, got, err)
		}
	}
	for _, e := range sampleEvents() {
		got, err := decodeEvent(encodeEvent(e))
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("event %+v -> %+v, %v", e, got, err)
		}
	}
}

// TestRecordTruncated feeds every prefix and a few corruptions of valid
// records to the decoders: each must fail cleanly, never panic or accept.
func TestRecordTruncated(t *testing.T) {
	var recs []struct {
		name   string
		b      []byte
		decode func([]byte) error
	}
	for _, n := range sampleNodes() {
		recs = append(recs, struct {
			name   string
			b      []byte
			decode func([]byte) error
		}{"node", encodeNode(n), func(b []byte) error { _, err := decodeNode(b); return err }})
	}
	for _, v := range sampleVersions() {
		recs = append(recs, struct {
			name   string
			b      []byte
			decode func([]byte) error
		}{"version", encodeVersion(v), func(b []byte) error { _, err := decodeVersion(b, true); return err }})
	}
	for _, e := range sampleEvents() {
		recs = append(recs, struct {
			name   string
			b      []byte
			decode func([]byte) error
		}{"event", encodeEvent(e), func(b []byte) error { _, err := decodeEvent(b); return err }})
	}
	for _, r := range recs {
		for i := 0; i < len(r.b); i++ {
			if err := r.decode(r.b[:i]); err == nil {
				t.Errorf("%s truncated to %d of %d bytes decoded", r.name, i, len(r.b))
			}
		}
		if err := r.decode(append(bytes.Clone(r.b), 0)); err == nil {
			t.Errorf("%s with a trailing byte decoded", r.name)
		}
		bad := bytes.Clone(r.b)
		bad[0] = 2
		if err := r.decode(bad); err == nil {
			t.Errorf("%s with format byte 2 decoded", r.name)
		}
	}
}

func FuzzDecodeNode(f *testing.F) {
	for _, n := range sampleNodes() {
		f.Add(encodeNode(n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeNodeHead(b)
		n, err := decodeNode(b)
		if err != nil {
			return
		}
		again, err := decodeNode(encodeNode(n))
		if err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("re-encoded node differs: %+v -> %+v, %v", n, again, err)
		}
	})
}

func FuzzDecodeVersion(f *testing.F) {
	for _, v := range sampleVersions() {
		f.Add(encodeVersion(v))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := decodeVersion(b, false); err != nil {
			if _, err := decodeVersion(b, true); err == nil {
				t.Fatal("full decode accepts what the header decode refuses")
			}
			return
		}
		v, err := decodeVersion(b, true)
		if err != nil {
			return
		}
		if int64(len(v.Chunks)) > 0 && (v.Size <= int64(len(v.Chunks)-1)*v.ChunkSize || v.Size > int64(len(v.Chunks))*v.ChunkSize) {
			t.Fatalf("accepted a chunk list that does not hold the size: %+v", v)
		}
		again, err := decodeVersion(encodeVersion(v), true)
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("re-encoded version differs: %+v -> %+v, %v", v, again, err)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	for _, e := range sampleEvents() {
		f.Add(encodeEvent(e))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err != nil {
			return
		}
		if _, err := fs.Parse(e.Path); err != nil {
			t.Fatalf("accepted an invalid path %q", e.Path)
		}
		again, err := decodeEvent(encodeEvent(e))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("re-encoded event differs: %+v -> %+v, %v", e, again, err)
		}
	})
}

// TestWriteCorpus writes the committed seed corpus (go test -run
// TestWriteCorpus -write-corpus): valid records plus truncated and
// corrupted ones, so plain `go test` replays them all.
func TestWriteCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("run with -write-corpus to rewrite testdata/fuzz")
	}
	write := func(fuzz string, recs [][]byte) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range recs {
			variants := [][]byte{b, b[:len(b)/2], append(bytes.Clone(b), 0xff)}
			flip := bytes.Clone(b)
			flip[len(flip)-1] ^= 0x80
			variants = append(variants, flip)
			for j, v := range variants {
				data := "go test fuzz v1\n[]byte(" + strconv.Quote(string(v)) + ")\n"
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d-%d", i, j)), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var nodes, versions, events [][]byte
	for _, n := range sampleNodes() {
		nodes = append(nodes, encodeNode(n))
	}
	for _, v := range sampleVersions() {
		versions = append(versions, encodeVersion(v))
	}
	for _, e := range sampleEvents() {
		events = append(events, encodeEvent(e))
	}
	write("FuzzDecodeNode", nodes)
	write("FuzzDecodeVersion", versions)
	write("FuzzDecodeEvent", events)
}
