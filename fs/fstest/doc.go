// Package fstest is the conformance suite of the fs.FS contract. Every
// provider of the namespace runs it: the store, the namespace with its
// mounts, host directories, the API client and the FUSE mount.
//
//	func TestConformance(t *testing.T) {
//		fstest.Run(t, func(tb testing.TB) fs.FS { return newEmptyProvider(tb) }, fstest.Options{})
//	}
//
// # What it checks
//
// Round trips of text and binary content; parents created by a write; the
// fields of Info from Write, Stat and List; listings sorted by name;
// idempotent Mkdir; the error of every bad call, tested with errors.Is on
// the fs sentinels, and that a failed call changes nothing (the whole tree
// is snapshotted, content hashes included, before and after); rename of
// files and trees, replacing a file or an empty directory, and the refusals
// (into itself, onto a non-empty directory, file onto directory and back,
// missing destination parent); recursive and plain removal; the
// WriteOptions preconditions; File reads, seeks and concurrent ReadAt;
// concurrent writers and readers. When the provider implements
// fs.Versioner, fs.MetaSetter or fs.Watcher, those are exercised too.
//
// Where the fs contract allows either of two POSIX answers (a write over a
// directory may be ErrIsDir or ErrExist; a rename onto a non-empty
// directory ErrNotEmpty or ErrExist), the suite accepts both.
//
// # Providers that lack something
//
// Options turns off what a provider cannot do: no versions (host
// directories, FUSE), no metadata, no authors or times, no watching, or a
// read-only provider, for which the suite only checks that every change is
// refused without effect and that the existing tree reads consistently.
// Options.Skip skips single subtests by their name below the suite (for
// example "Rename/Errors/DirIntoItself") with a logged reason.
//
// The subtests, by the names Skip takes: RoundTrip (Text/..., Binary/N,
// Overwrite), Parents, Stat, List, Mkdir, Errors (one per bad call, and
// PathError), Rename (File, ReplaceFile, Tree, DirOntoEmptyDir, Self,
// Errors/...), Remove, WriteOptions (Create, MustExist, IfVersion), Meta,
// File, Concurrent, Walk, Versioner, MetaSetter, Watcher; with ReadOnly,
// ReadOnly and Walk.
//
// Each top-level subtest calls newFS once for a fresh, empty provider;
// nested subtests share it. Every call carries the context from
// Options.Context (by default an admin principal named "fstest", so a
// namespace with access control lets the suite through and authors can be
// checked). The suite knows nothing of any implementation.
package fstest
