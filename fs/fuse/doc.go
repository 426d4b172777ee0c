// Package fuse serves any ctxfs file system (fs.FS: the store, the
// namespace with its mounts, a remote client) as a FUSE mount, on
// github.com/hanwen/go-fuse/v2, so that ls, cat, grep, editors and git
// work on a context store as on a local disk.
//
//	srv, err := fuse.Mount(ctx, "/mnt/ctx", fsys, fuse.Options{Principal: p})
//	...
//	srv.Unmount() // or cancel ctx
//	srv.Wait()
//
// Mount serves until Unmount is called or ctx is done; Unmount commits
// files still open and unmounts (lazily when something still holds the
// mount busy). Every request runs with Options.Principal in its context
// (fs.WithPrincipal), so the namespace checks access and records authors
// for it; a namespace refuses requests that carry no principal.
//
// Optional capabilities are found by type assertion: fs.Versioner gives
// the .history view, fs.Searcher the .search view, fs.MetaSetter settable
// user.ctxfs.meta.* extended attributes, fs.Watcher kernel cache
// invalidation from the change log.
//
// # Inode model
//
// Nodes live in go-fuse's tree: a dirNode per directory and a fileNode per
// file the kernel knows about. Nodes hold no path; a node's path is
// computed from its place in the tree, which go-fuse keeps in step with
// lookups, renames and removals, so a renamed directory needs no update of
// its descendants. A lookup asks the file system (Stat) every time and
// reuses the tree's node for the name when it is of the same kind, so a
// file keeps one inode, one write buffer and one page cache however often
// the kernel forgets and looks it up again. Inode numbers are go-fuse's
// automatic ones; they are stable while the kernel holds the inode.
//
// Open opens the file system's current version at once and the handle
// keeps reading it: a file up to 256 KiB is read whole at open (one trip
// to the file system), a larger one through the fs.File opened. If the
// version opened is not the one whose size the kernel holds (another door
// wrote meanwhile), the open invalidates the inode's attributes, so size
// and content always agree.
//
// Concurrent renames are the delicate case: the file system changes at
// once, go-fuse's tree only when the rename returns. A replaced inode is
// marked gone under its lock in the same step as the rename; lookups and
// readdirplus never lend a known inode the attributes of another file; a
// read-only open of an inode that was replaced after the kernel resolved
// its name opens the file now at its path (as if the open came just
// after the rename), and a writable one answers ESTALE, which makes
// open(2) resolve the name again.
//
// Attributes: files are 0644 and directories 0755 (0444/0555 when the
// mount or the provider is read-only), owned by the mounting user; nlink
// is 1 for files and 2 for directories (computing the number of
// subdirectories would cost a listing per stat); mtime, ctime and atime
// are the version's time. chmod, chown and utimes are accepted and
// ignored, so tar, cp -p and git do not fail over them; symlinks, hard
// links and device nodes are not supported.
//
// # Writes
//
// A file's writes go to a buffer shared by all its open handles (so every
// handle reads what any handle wrote). The buffer holds the whole content:
// on the first write to an existing file its committed content is loaded
// (only the kept part for a truncate). Up to Options.MemoryBuffer bytes
// (8 MiB by default) stay in memory; past that the buffer moves to an
// unlinked temporary file in Options.TempDir, so a 256 MiB write costs
// 256 MiB of disk, not memory, per file being written.
//
// The buffer is committed as one new version (fs.FS.Write) when a handle
// that may write is closed (FLUSH, which the kernel sends at every
// close(2), so close returns after the commit and reports its error), on
// fsync, and on the final release if writes came after the last flush
// (through a shared mapping). A file that was written and closed is
// therefore in the file system when close returns: one version per close
// of a written file, not one per write call. truncate(2) of a path
// commits at once; ftruncate and O_TRUNC change the buffer and commit at
// close. A file created through the mount exists only in the mount until
// its first commit (at the latest when the creating handle is closed),
// so creating and writing a file makes exactly one version; listings and
// lookups in the mount show it meanwhile. Unmount commits what is still
// open.
//
// A large file written in order from empty (created, or truncated by
// O_TRUNC) also streams: once it outgrows the memory part of its buffer,
// its content is fed as it arrives to a file system Write running in the
// background, so reading and hashing it overlaps the writing and close
// only ends that Write. The buffer still gets every byte; any other
// change (a write out of order, a truncate, a rename, a removal) abandons
// the stream, which then commits nothing, and close commits the buffer
// as usual (stream.go).
//
// Kernel passthrough (a backing file descriptor) is never offered: every
// byte read and written goes through the server, which is what makes
// buffering, versioning and invalidation possible.
//
// # Caches and invalidation
//
// The kernel caches attributes and entries for Options.AttrTimeout and
// EntryTimeout (1 s by default) and never caches failed lookups. File
// pages are kept across opens (FOPEN_KEEP_CACHE) only while the file's
// version and time are those the pages were read at; a write through the
// mount keeps them valid, since they hold what was written.
//
// With an fs.Watcher, a goroutine follows the change log (woken by Notify,
// and polling every second in case a notification is lost) and, for each
// change made through another door, invalidates the file's attributes and
// pages (NotifyContent) or drops removed and renamed entries from the
// kernel and the tree (NotifyDelete), so other doors' writes show in the
// mount within a second without remounting. Changes this mount made are
// recognised (the mount records what it is about to change) and skipped.
// If a notification is lost, the timeouts bound the staleness.
//
// A new file is refused at once (EROFS) in a directory the provider
// marks read-only (a read-only host directory); a refusal by the access
// policy shows when the file is first committed, at close.
//
// # Extended attributes
//
// A file's version, token count, author and time are the read-only
// attributes user.ctxfs.version, user.ctxfs.tokens, user.ctxfs.author
// and user.ctxfs.modified (RFC 3339); its user metadata KEY=VALUE is
// user.ctxfs.meta.KEY, which setxattr and removexattr change through
// fs.MetaSetter (one new version with the same content each, like the
// other doors' metadata changes; XATTR_CREATE and XATTR_REPLACE are
// honoured). listxattr lists them all. Setting a system field is EPERM,
// other names ENOTSUP. A file created here shows no attributes until its
// first version; setting metadata on it commits that version first.
//
// # Views
//
// MOUNT/.history/<path>/ lists the versions of file <path> as entries
// named by version number, each a read-only file with that version's
// content; MOUNT/.history/<dir>/ mirrors the directories. MOUNT/.search/
// <query>/ lists the hits of the query (the file system's query syntax,
// DefaultSearchLimit hits) as symlinks to the files, named by
// SearchEntryName (the path with "/" written "%2F"). Both are hidden from
// the listing of the root, so recursive tools never descend into them,
// and reached by name; the names are reserved in the root.
//
// # Errors
//
// Every error of the file system is mapped to an errno by one table
// (errno.go):
//
//	fs.ErrNotExist        ENOENT
//	fs.ErrExist           EEXIST
//	fs.ErrNotDir          ENOTDIR
//	fs.ErrIsDir           EISDIR
//	fs.ErrNotEmpty        ENOTEMPTY
//	fs.ErrPermission      EACCES
//	fs.ErrUnauthenticated EACCES
//	fs.ErrReadOnly        EROFS
//	fs.ErrInvalid         EINVAL
//	fs.ErrTooLarge        EFBIG
//	fs.ErrConflict        EBUSY
//	fs.ErrNotSupported    ENOTSUP
//	fs.ErrClosed          ESHUTDOWN
//	context.Canceled      EINTR
//	anything else         EIO
//
// Names longer than 255 bytes are ENAMETOOLONG. Where POSIX asks for an
// errno that the file system does not distinguish (unlink of a directory,
// rename of a file onto a directory, ...), the mount checks first and
// answers as POSIX does.
//
// # Benchmarks
//
// Bench measures a 256 MiB sequential write and read and the create, stat
// and read of 10,000 small files through the mount and, in the same run,
// through go-fuse's loopback file system over a directory on the same
// disk, with kernel passthrough turned off (its file handles are wrapped
// so they offer no backing descriptor) so its data goes through the
// server as ctxfs's must. Reads and stats follow a remount of both, so
// the kernel's caches of the mounts are cold. The goals are ratios to the
// loopback: reads 0.5, writes and small files 0.3. BenchmarkSeq,
// BenchmarkSmallFiles and BenchmarkReport are the Go benchmarks (run with
// -benchtime=1x), on a store without fsync and mapped with MAP_POPULATE.
//
// # Stale mounts
//
// A server that is killed leaves its mount point failing with ENOTCONN.
// Mount (and ClearStale) detach such a mount before mounting again;
// since written files were committed when they were closed, nothing that
// was closed is lost.
package fuse
