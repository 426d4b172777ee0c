package index

import (
	"errors"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
)

func FuzzDecodeSeq(f *testing.F) {
	f.Add([]byte{})
	f.Add(encodeSeq(1))
	f.Add(encodeSeq(1<<64 - 1))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, err := decodeSeq(b)
		if err != nil {
			if !errors.Is(err, fs.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(b) == 0 {
			if seq != 0 {
				t.Fatalf("empty record decoded as %d", seq)
			}
			return
		}
		if got := encodeSeq(seq); string(got) != string(b) {
			t.Fatalf("round trip: %x -> %d -> %x", b, seq, got)
		}
	})
}
