package store

import "context"

// Stats counts what the store holds.
type Stats struct {
	Nodes    int    // files and directories, the root excepted
	Versions int    // stored versions of all files
	Chunks   int    // distinct content chunks
	Events   uint64 // the newest change log sequence
	FileSize int64  // bytes of the store file
}

// Stats walks the store's buckets; it costs time proportional to their
// size, so it is for tools and tests, not for hot paths. On error the
// zero Stats is returned.
func (s *Store) Stats(ctx context.Context) Stats {
	var st Stats
	s.view(func(t *txn) error {
		st.Nodes = t.bucket(&t.nodes, bktNodes).Stats().KeyN
		st.Versions = t.bucket(&t.versions, bktVersions).Stats().KeyN
		st.Chunks = t.bucket(&t.chunks, bktChunks).Stats().KeyN
		st.Events = t.bucket(&t.log, bktLog).Sequence()
		st.FileSize = t.tx.Size()
		return nil
	})
	return st
}
