package index

import (
	"encoding/binary"
	"fmt"

	"github.com/ctxfs/ctxfs/fs"
)

// Keys of the records kept in the bleve index's internal store.
var (
	keyApplied = []byte("ctxfs.applied") // applied log sequence, 8 bytes big-endian
	keyFormat  = []byte("ctxfs.format")  // formatVersion
)

func encodeSeq(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// decodeSeq decodes an applied-sequence record. A missing record (nil) is
// zero: nothing applied yet.
func decodeSeq(b []byte) (uint64, error) {
	switch len(b) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("%w: %d-byte sequence record", fs.ErrInvalid, len(b))
}
