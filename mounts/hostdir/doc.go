// Package hostdir mounts a directory of the host machine as an [fs.FS], so
// that plain files on disk can be listed, read, searched and (when allowed)
// written through the ctxfs namespace.
//
// # Safety
//
// Every access to the host goes through an [os.Root] opened on the mounted
// directory. Paths inside the provider are rooted at "/" of that directory
// (the namespace re-roots them at /mnt/<name> or a chosen top-level path).
// ctxfs paths never contain "..", and os.Root refuses any name or symbolic
// link that would lead outside the directory, including every absolute
// symbolic link (os.Root requires relative links). Such an escape is
// reported as [fs.ErrPermission]: the target may exist, the provider simply
// will not reach it.
//
// Symbolic links whose targets lie inside the directory are followed.
// Listings show only what can also be opened: entries whose link leads
// outside the directory or dangles are left out, as are special files
// (devices, FIFOs, sockets, which could block a reader), names that are not
// valid ctxfs path elements (for example non-UTF-8 names) and the temporary
// files of writes in progress (prefix ".ctxfs-tmp-"). Stat and Open of such
// entries fail (ErrPermission for escapes, ErrNotExist for the others).
//
// # Read-only by default
//
// The zero [Options] mount the directory read-only: every mutation returns
// [fs.ErrReadOnly] and Info.ReadOnly is set. Options.Writable allows writes.
//
// # Writes
//
// A write goes to a temporary file in the target's directory, is synced and
// then renamed over the target, so readers see the old or the new content,
// never a mix, and a crash leaves the old file in place; the replaced file's
// permission bits are kept. Create-only writes use a hard link, which fails
// atomically when the name exists. Writing a path that is a symbolic link
// replaces the file the link names (inside the directory), as editors do,
// and leaves the link; a dangling link is replaced by the new file. The host has
// no versions and no user metadata: Info.Version is 0, WriteOptions.IfVersion
// and a non-empty WriteOptions.Meta return [fs.ErrNotSupported].
//
// # Token counts
//
// Stat must stay cheap, since indexers and listings call it for every file.
// Tokens are counted only when Options.Counter is set, only by Stat and by the
// Stat of an open file, only for files of at most Options.MaxCountBytes, and
// the result is cached per path until the file's size or modification time
// changes. List reports cached counts and otherwise 0.
//
// # Change detection
//
// [FS.Scan] walks a subtree and reports each file's path, size and
// modification time without reading content, so an indexer can reindex only
// what changed since its last scan.
package hostdir
