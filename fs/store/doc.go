// Package store is the system of record of ctxfs: one bbolt file holding
// every file, directory, version and content byte, the change log that the
// index and watchers follow, and a small key/value area for other layers.
//
// A [Store] implements fs.FS, fs.Versioner, fs.MetaSetter and fs.Watcher.
//
// # Bucket layout
//
//	meta      "format" -> layout version (1 byte); "created" -> unix ns (8 bytes BE)
//	nodes     parent id (8 bytes BE) ++ name -> node record
//	versions  file id (8 bytes BE) ++ version (8 bytes BE) -> version record
//	chunks    SHA-256 of the chunk (32 bytes) -> the chunk's bytes
//	refs      SHA-256 of the chunk -> reference count (uvarint)
//	log       sequence (8 bytes BE) -> event record
//	sys       one nested bucket per name given to SysPut -> key -> value
//
// Every file and directory has a numeric id, taken from the nodes bucket's
// sequence; the root is id 1 and has no record. A directory's entries are
// the keys that start with its id, so they form one contiguous range in
// name order and a listing is one cursor scan. A node record carries all
// that fs.Info needs (kind, id, current version, size, tokens, times,
// author, metadata), so List and Stat never touch versions or content.
// Resolving a path reads one node per element.
//
// Because entries point at ids, not paths, renaming a directory moves one
// key however large the tree below it, and a file's history (keyed by its
// id) moves with it.
//
// A version record lists the SHA-256 of each chunk of that version's
// content; every chunk but the last has the record's chunk size, so an
// offset maps to a chunk by division. Content of at most 1 KiB is kept
// inside the version record instead (no chunk, no reference count): two
// fewer B-tree updates for each small write, where deduplication would
// save nothing worth having. Identical chunks are stored once and
// counted in refs: each reference from a version adds one. Deleting a
// version (Prune) or a file's whole history (Remove, or a Rename that
// replaces a file) releases its references and deletes chunks that reach
// zero, in the same transaction. Removed files' chunks are therefore freed
// at once; old versions of live files are freed only by Prune.
//
// # Record format
//
// Node, version and event records are compact binary: a format byte (1),
// then fields as unsigned or zigzag varints and length-prefixed strings;
// metadata is a count followed by key/value pairs in key order. Every
// decoder checks every length against the bytes left, refuses trailing
// bytes, unknown kinds and ops, unsorted metadata and chunk lists that do
// not add up to the size, and copies what it keeps: bytes owned by a bbolt
// transaction never escape it. The decoders are fuzzed (FuzzDecodeNode,
// FuzzDecodeVersion, FuzzDecodeEvent) with a seed corpus under
// testdata/fuzz.
//
// # Transactions
//
// Every change runs in one bbolt write transaction together with the
// event it appends to the log, so the log never misses or invents a
// change, and a crash leaves either all of a change or none of it. A write
// creates its missing parents, stores its chunks, its version and its node
// and logs one event per created directory and one for the write. A
// recursive remove is one transaction and one event; so is a rename.
//
// Content is read and cut into chunks before the write transaction begins
// (chunk by chunk into buffers that become the chunks: no contiguous copy
// of the whole content), so a slow reader never holds the writer lock.
// bbolt needs the bytes of every value until commit, so a write holds its
// content in memory once, plus bbolt's own page buffers while committing.
//
// Concurrent writers share commits (group commit): a writer that finds no
// commit in progress commits at once; writers that arrive meanwhile queue
// and are committed together by the first of them, with one fsync. Every
// operation checks all its preconditions before it changes anything, so an
// operation that fails leaves the shared transaction untouched and the
// others still commit. [Store.Batch] runs many writes of one caller in one
// transaction, for bulk import.
//
// # Rename semantics
//
// Rename follows POSIX rename(2): a file replaces a file at dst (whose
// history is deleted) and a directory replaces an empty directory; a file
// onto a directory is fs.ErrIsDir, a directory onto a file fs.ErrNotDir,
// onto a non-empty directory fs.ErrNotEmpty; a directory into itself or
// below itself is fs.ErrInvalid; a missing parent of dst is fs.ErrNotExist
// (rename creates no directories); renaming a path onto itself does
// nothing; the root cannot be renamed or removed (fs.ErrInvalid).
//
// # Concurrency
//
// A Store is safe for concurrent use. Reads run in their own read
// transactions and never wait for writers. An open File records its
// version's chunk list and reads each request in a short read transaction,
// copying only the bytes asked for, so it keeps reading the version it
// opened while the file is overwritten; if that version is pruned or the
// file removed meanwhile, reads of a chunked version fail with
// fs.ErrNotExist (small inline content is held by the File itself). Callbacks (the fn
// of Changes and Batch) run outside any transaction (Changes) or inside the
// one transaction of the batch (Batch), and must not call the store's
// methods in the latter case.
package store
