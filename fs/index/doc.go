// Package index is the search index of ctxfs: a bleve (scorch) index of the
// files of a Source, derived from it and rebuildable from it at any time.
// The system of record is the source (the store); the index only follows
// the source's change log and never writes to the source.
//
// # Documents
//
// Each file and directory is one document whose id is its path. Fields (the
// names a query string uses):
//
//	path      the path's words: split at every character that is not a
//	          letter or digit and lowercased, so path:notes and path:md
//	          match /notes/todo.md (term vectors, for phrases)
//	under     keywords: the path itself and every ancestor directory;
//	          under:"/notes" is everything in /notes, under:"/a/b.md" is
//	          exactly that file. Query.Under is one term query on it.
//	content   the text of a file, standard analyzer, term vectors (phrases
//	          and snippets). Only UTF-8 text without NUL bytes is indexed;
//	          binary files keep their other fields. At most
//	          Options.MaxContentBytes (default 8 MiB) of a file is indexed,
//	          cut at a rune boundary.
//	meta.KEY  each user metadata value, standard analyzer
//	kind      keyword: file or dir
//	author    keyword: the principal that wrote the version
//	version   number
//	modified  date and time of the version
//	_all      the default field of unqualified words: path, content and meta
//
// Scoring is BM25 (bleve's "bm25" scoring model). Content is not stored in
// the index, which keeps it small and ingest fast; snippets are cut from
// the source's content.
//
// # Search
//
// Search takes bleve's query string syntax (words, "phrases", +must,
// -mustnot, field:value, ranges, regexps); a malformed query is an error
// wrapping fs.ErrInvalid. Query.Under adds one zero-boost term query on the
// under field in a conjunction, so a restriction costs one posting list and
// leaves scores unchanged. The ranking search is exactly a plain bleve
// search: no stored fields, no term locations (asking bleve for locations
// decodes the term vectors of every matching document, about ten times the
// cost of the search for a frequent word).
//
// Each hit carries its path, BM25 score, and, from the source's current
// version of the file, its version and a snippet: at most
// Options.SnippetBytes bytes of content around the densest cluster of the
// query's positive content words (analyzed like the content, found again
// as whole words ignoring case; prefixes and trailing-* wildcards mark word
// starts), whitespace folded, cuts shown as "…", matches marked «like
// this». Directories have no snippet. Only the first 64 KiB of a file are
// searched for the words; a file whose first match lies further shows its
// opening.
//
// # Following the change log
//
// The index stores the sequence number of the last log event it applied as
// an internal record of the bleve index. CatchUp reads the events after it
// in rounds of up to 50,000 and coalesces them: a write, mkdir or metadata
// change marks its path (and its ancestors) dirty; a remove deletes every
// document under the removed path; a rename deletes the documents under
// both the old and the new path and marks the new subtree for a walk. Then
// the dirty paths and the walked subtrees are indexed once each from the
// source's current state (a path that no longer exists loses its
// document), in bleve batches of Options.BatchDocs documents or
// Options.BatchBytes bytes of content. The round's last batch carries the
// new applied sequence (Batch.SetInternal), so the documents and the
// sequence are committed together.
//
// Open catches up before it returns. Follow catches up whenever the
// source's Notify channel fires, for long-running processes. Rebuild walks
// the source into a fresh index beside the old one and swaps it in; Open
// rebuilds by itself when the index is new, was written by another version
// of this package, or is ahead of the source's log (the source was replaced).
//
// IndexBatch is the bulk path for importers that hold the content in
// memory: it indexes documents directly (a document whose version is no
// longer the source's current one is left to the log), and the next
// CatchUp skips the reading of any file whose version and modification
// time are unchanged since. The log stays the source of truth: the applied
// sequence moves only by CatchUp and Rebuild.
//
// Documents are built directly (bleve's Batch.IndexAdvanced) with the
// mapping's analyzers, skipping the mapping's reflection walk; Mapping
// returns the same mapping for baselines and for query analysis.
//
// # Consistency
//
// Every state of the index on disk is the state after some prefix of the
// log, possibly with some later changes applied too (replaying them is
// idempotent because documents are read from the current source). A crash
// between a store commit and the index update loses nothing: the event is
// in the log after the applied sequence, and the next Open applies it.
// Batches are not synced one by one (Options.SyncBatches) because of this:
// a crash can only roll the index back to an earlier consistent point.
// Searches see each batch once it is applied; between CatchUp calls the
// index lags the source by the events not yet applied. Close waits (up to a
// minute) for bleve to write the last batch, since scorch's own Close does
// not.
//
// # Benchmarks
//
// bench_test.go measures ingest (store writes plus IndexBatch, against
// plain bbolt puts plus a plain bleve batch index of the same corpus with
// the same mapping), rebuild from the store, and search latency (p50, p99)
// beside plain bleve in the same run, at 1,000 and 10,000 generated files
// (Zipf-distributed words from a fixed vocabulary, seeded); 100,000 files
// with -args -bench100k.
package index
