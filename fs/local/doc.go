// Package local opens a ctxfs data directory: the bbolt store that holds
// every byte, the bleve index derived from its change log, and the host
// directories mounted into the namespace, wired together as one
// fs.Namespace.
//
// # Layout of a data directory
//
//	DIR/store.db          the bbolt system of record (locked by one process)
//	DIR/index/            the bleve index of the store, rebuildable
//	DIR/index-mounts/NAME the bleve index of host mount NAME, rebuildable
//	DIR/ctxfs.yaml        optional configuration (read by cmd/ctxfs)
//	DIR/ctxfs.sock        the unix socket of the process serving DIR
//
// The mount table lives in the store (system bucket "mounts"), so it is
// versioned with the data and every process sees the same table.
//
// # Index freshness
//
// Writes never wait for the index: it follows the store's change log and
// catches up when it is opened (lazily, by the first search) and, in a
// long-running process, whenever the log grows. Host directories have no
// change log; their index is rebuilt when the mount is added and by
// Reindex.
package local
