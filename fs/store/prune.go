package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ctxfs/ctxfs/fs"
)

// PruneStats reports what Prune freed.
type PruneStats struct {
	Files    int   // files that lost versions
	Versions int   // versions deleted
	Chunks   int   // chunks no version references any more, deleted
	Bytes    int64 // content bytes of those chunks
}

// pruneFilesPerTx bounds one prune transaction, so a prune of a large
// store does not hold the writer lock (or memory) for the whole run.
const pruneFilesPerTx = 1000

// Prune keeps the newest keep versions of every file (keep >= 1: the
// current version always stays) and deletes the older ones, freeing chunks
// that no remaining version references. It runs in several transactions of
// at most pruneFilesPerTx files each; every one is consistent on its own.
func (s *Store) Prune(ctx context.Context, keep int) (PruneStats, error) {
	var st PruneStats
	if keep < 1 {
		return st, fmt.Errorf("prune: %w: keep must be at least 1", fs.ErrInvalid)
	}
	if err := s.writable(); err != nil {
		return st, fmt.Errorf("prune: %w", err)
	}
	var after []byte // resume point: the first version key not yet visited
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		done := false
		err := s.db.Update(func(tx *bolt.Tx) error {
			t := s.newTxn(tx, "")
			var err error
			after, done, err = t.pruneSome(after, keep, &st)
			if err == nil {
				err = t.err
			}
			return err
		})
		if err != nil {
			return st, fmt.Errorf("prune: %w", dbErr(err))
		}
		if done {
			return st, nil
		}
	}
}

// pruneSome prunes up to pruneFilesPerTx files' histories starting at key
// from. Counts are added to st only by the caller's committed transaction;
// a failed transaction returns an error, and Prune stops.
func (t *txn) pruneSome(from []byte, keep int, st *PruneStats) ([]byte, bool, error) {
	c := t.bucket(&t.versions, bktVersions).Cursor()
	var k []byte
	if from == nil {
		k, _ = c.First()
	} else {
		k, _ = c.Seek(from)
	}
	type file struct {
		id   uint64
		keys [][]byte
	}
	var files []file
	for k != nil && len(files) < pruneFilesPerTx {
		if len(k) != 16 {
			return nil, false, errCorrupt
		}
		id := binary.BigEndian.Uint64(k)
		f := file{id: id}
		prefix := k[:8:8]
		prefix = bytes.Clone(prefix)
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			f.keys = append(f.keys, bytes.Clone(k))
		}
		files = append(files, f)
	}
	var next []byte
	if k != nil {
		next = bytes.Clone(k)
	}
	local := PruneStats{}
	for _, f := range files {
		if len(f.keys) <= keep {
			continue
		}
		old := f.keys[:len(f.keys)-keep]
		var refs []chunkRef
		for _, key := range old {
			v, err := decodeVersion(t.bucket(&t.versions, bktVersions).Get(key), true)
			if err != nil {
				return nil, false, err
			}
			refs = append(refs, v.Chunks...)
		}
		for _, key := range old {
			t.del(t.bucket(&t.versions, bktVersions), key)
		}
		n, b := t.dropChunks(refs)
		local.Files++
		local.Versions += len(old)
		local.Chunks += n
		local.Bytes += b
	}
	if t.err != nil {
		return nil, false, t.err
	}
	st.Files += local.Files
	st.Versions += local.Versions
	st.Chunks += local.Chunks
	st.Bytes += local.Bytes
	return next, next == nil, nil
}
