// Package store is the system of record of ctxfs: one bbolt file holding
// every file, directory, version and content byte, the change log that the
// index and watchers follow, and a small key/value area for other layers.
//
// A [Store] implements fs.FS, fs.Versioner, fs.MetaSetter and fs.Watcher.
//
// # Bucket layout
//
//	meta      "format" -> layout version (1 byte, now 2); "created" -> unix ns (8 bytes BE)
//	nodes     parent id (8 bytes BE) ++ name -> node record
//	versions  file id (8 bytes BE) ++ version (8 bytes BE) -> version record
//	chunks    chunk id (8 bytes BE) -> the chunk's bytes
//	chunkidx  SHA-256 of a chunk (32 bytes) -> chunk id (8 bytes BE) ++ reference count (uvarint)
//	log       sequence (8 bytes BE) -> event record
//	sys       one nested bucket per name given to SysPut: key -> value
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
// A version record lists, for each chunk of that version's content, its
// SHA-256 and its chunk id; every chunk but the last has the record's
// chunk size, so an offset maps to a chunk by division. Identical chunks
// are stored once: chunkidx maps a hash to the chunk's id and counts the
// references from versions. Chunk bytes live under sequential ids rather
// than under their hashes because bbolt is a copy-on-write B+tree that
// rewrites every leaf a commit touches: new chunks are appended at the end,
// and only the small index entry goes in at a random place. Deleting a
// version (Prune) or a file's whole history (Remove, or a Rename that
// replaces a file) releases its references and deletes the chunks that
// reach zero, in the same transaction. Removed files' chunks are thus
// freed at once; old versions of live files only by Prune.
//
// Content of at most 1 KiB is kept inside its version record instead of in
// chunks: two fewer B-tree updates for each small write, where
// deduplication would save nothing worth having.
//
// The chunk size (Options.ChunkSize, default 256 KiB) is recorded in each
// version, so it can change between writes. 256 KiB rather than 1 MiB:
// bbolt keeps a large value in contiguous overflow pages, and shorter runs
// are easier to find in a freelist fragmented by prunes; a 64 MiB file is
// still only 256 chunks (10 KiB of references), and a reader copies only
// the bytes it asks for, never a whole chunk.
//
// # Record format
//
// Node, version and event records are compact binary: a record version
// byte (1), then fields as unsigned or zigzag varints and length-prefixed
// strings; metadata is a count followed by key/value pairs in key order; a
// version's chunk list is a count followed by 40-byte hash and id pairs,
// or, when the count is zero, the inline content. Every
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
// The store maps 1 GiB of address space when it opens (the file grows only
// as needed) because bbolt copies every value of the open write
// transaction to the heap each time it grows its mapping: a 64 MiB write
// allocated 705 MiB before, 129 MiB after. Files are limited to
// Options.MaxFileSize (default 1 GiB); a larger write fails with
// fs.ErrTooLarge and changes nothing.
//
// Commits fsync (fdatasync) unless Options.NoSync. The freelist is not
// written to disk (bbolt NoFreelistSync): a commit writes a page less, and
// opening after a crash rebuilds the freelist by scanning the file.
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
// fs.ErrNotExist. Small files are held by the File itself: inline content,
// and a one-chunk file of at most 64 KiB, which Open reads in its own
// transaction so that later reads need none.
//
// No bbolt-owned bytes escape a transaction: decoders copy, and user
// callbacks never run inside a read transaction (a read transaction held
// while a writer waits to remap would deadlock a nested read). Changes
// reads the log in pages and calls its fn between transactions, so fn may
// use the store. Batch's fn runs inside the batch's write transaction and
// must use only the Batch it is given.
//
// # Change log and watching
//
// Every change appends events in its own transaction: OpMkdir for each
// directory created (explicitly or as a missing parent), OpWrite for a new
// version (SetMeta too, since it makes one), OpRemove once for a removed
// file or tree, OpRename once for a moved file or tree (a file it replaced
// at the destination is gone with it, without an event of its own; an
// index drops what it had at Dest). Sequence numbers
// start at 1 and increase by one per event; a failed operation logs
// nothing. Notify's channels get a non-blocking signal after each commit
// that logged something. The log is never trimmed.
//
// # System area
//
// SysGet, SysPut, SysDelete and SysList keep small records of other layers
// (mount table, principals, rules, the index's applied sequence) in named
// buckets under sys, in the same file; values are copied in and out. They
// are not files and are not logged.
package store
