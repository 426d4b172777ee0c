package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ctxfs/ctxfs/fs"
)

// txn wraps one bbolt transaction with the store's operations on it.
//
// Every operation checks all its preconditions before its first change, so
// a failed operation leaves the transaction as it was and the transaction
// can go on (group commit and Batch depend on this). Changes go through
// put and del, which record a bbolt failure in err; after one, the whole
// transaction must be rolled back.
type txn struct {
	s  *Store
	tx *bolt.Tx
	// The buckets, looked up on first use: most transactions touch two or
	// three of them, and each lookup is a search of the root bucket.
	nodes    *bolt.Bucket
	versions *bolt.Bucket
	chunks   *bolt.Bucket
	chunkIdx *bolt.Bucket
	log      *bolt.Bucket
	sys      *bolt.Bucket
	author   string
	now      int64
	err      error // first mutation failure: the transaction is broken
	events   int   // events appended, to signal watchers after commit
}

func (s *Store) newTxn(tx *bolt.Tx, author string) *txn {
	return &txn{
		s:      s,
		tx:     tx,
		author: author,
		now:    s.now(),
	}
}

// bucket returns the bucket *p caches, looking it up by name on first use.
func (t *txn) bucket(p **bolt.Bucket, name []byte) *bolt.Bucket {
	if *p == nil {
		*p = t.tx.Bucket(name)
	}
	return *p
}

func (t *txn) put(b *bolt.Bucket, k, v []byte) error {
	if t.err != nil {
		return t.err
	}
	if err := b.Put(k, v); err != nil {
		t.err = fmt.Errorf("store: put: %w", err)
	}
	return t.err
}

func (t *txn) del(b *bolt.Bucket, k []byte) error {
	if t.err != nil {
		return t.err
	}
	if err := b.Delete(k); err != nil {
		t.err = fmt.Errorf("store: delete: %w", err)
	}
	return t.err
}

func (t *txn) nextID() uint64 {
	if t.err != nil {
		return 0
	}
	id, err := t.bucket(&t.nodes, bktNodes).NextSequence()
	if err != nil {
		t.err = fmt.Errorf("store: next id: %w", err)
	}
	return id
}

// appendEvent adds ev to the change log.
func (t *txn) appendEvent(ev *event) {
	if t.err != nil {
		return
	}
	seq, err := t.bucket(&t.log, bktLog).NextSequence()
	if err != nil {
		t.err = fmt.Errorf("store: log sequence: %w", err)
		return
	}
	ev.Time = t.now
	ev.Author = t.author
	if t.put(t.bucket(&t.log, bktLog), u64(seq), encodeEvent(ev)) == nil {
		t.events++
	}
}

// lookupDir resolves directory dir as far as it exists. It returns the id
// of the deepest existing directory on the way and the elements below it
// that are missing (none when dir exists). An ancestor that is a file is
// ErrNotDir.
func (t *txn) lookupDir(dir fs.Path) (uint64, []string, error) {
	id := rootID
	elems := dir.Elems()
	for i, e := range elems {
		v := t.bucket(&t.nodes, bktNodes).Get(nodeKey(id, e))
		if v == nil {
			return id, elems[i:], nil
		}
		k, cid, err := decodeNodeHead(v)
		if err != nil {
			return 0, nil, err
		}
		if k != fs.KindDir {
			return 0, nil, fs.ErrNotDir
		}
		id = cid
	}
	return id, nil, nil
}

// get returns the node at p (not the root) and its parent's id.
func (t *txn) get(p fs.Path) (uint64, *node, error) {
	parent, missing, err := t.lookupDir(p.Dir())
	if err != nil {
		return 0, nil, err
	}
	if len(missing) > 0 {
		return 0, nil, fs.ErrNotExist
	}
	v := t.bucket(&t.nodes, bktNodes).Get(nodeKey(parent, p.Base()))
	if v == nil {
		return parent, nil, fs.ErrNotExist
	}
	n, err := decodeNode(v)
	return parent, n, err
}

// mkdirs creates the directories missing below the existing directory id
// at path at, logging one event each, and returns the deepest one's id.
func (t *txn) mkdirs(id uint64, at fs.Path, missing []string) uint64 {
	for _, name := range missing {
		child := t.nextID()
		n := &node{Kind: fs.KindDir, ID: child, Created: t.now, Modified: t.now, Author: t.author}
		t.put(t.bucket(&t.nodes, bktNodes), nodeKey(id, name), encodeNode(n))
		at = at.Child(name)
		t.appendEvent(&event{Op: fs.OpMkdir, Kind: fs.KindDir, Path: string(at)})
		id = child
	}
	return id
}

// ancestorOf returns the path of the existing directory above missing.
func ancestorOf(dir fs.Path, missing []string) fs.Path {
	for range missing {
		dir = dir.Dir()
	}
	return dir
}

// hasChildren reports whether directory id has entries.
func (t *txn) hasChildren(id uint64) bool {
	prefix := u64(id)
	k, _ := t.bucket(&t.nodes, bktNodes).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// content is a file's content read into chunks, ready to commit.
type content struct {
	chunks [][]byte
	hashes [][hashLen]byte
	inline []byte // the whole content when it is small (no chunks)
	size   int64
	tokens int64
	csize  int64 // chunk size the content was cut with
}

// addChunks stores the chunks of a new version, or takes a reference on
// those already stored, and returns their refs. With data nil every chunk
// must be stored already (a new version of existing content).
//
// New chunks get ids from the chunks bucket's sequence, so their bytes are
// appended at the end of the B-tree: a copy-on-write B-tree rewrites every
// leaf it touches, and random hash keys would make each new chunk rewrite
// a neighbour's bytes too. Only the small index entry goes in at a random
// place.
func (t *txn) addChunks(hashes [][hashLen]byte, data [][]byte) []chunkRef {
	refs := make([]chunkRef, len(hashes))
	for i, h := range hashes {
		if t.err != nil {
			return nil
		}
		refs[i].Hash = h
		if v := t.bucket(&t.chunkIdx, bktChunkIdx).Get(h[:]); v != nil {
			id, n, err := decodeIdx(v)
			if err != nil {
				t.err = err
				return nil
			}
			refs[i].ID = id
			t.put(t.bucket(&t.chunkIdx, bktChunkIdx), h[:], encodeIdx(id, n+1))
			continue
		}
		if data == nil {
			// Refuse rather than record a dangling reference.
			t.err = fmt.Errorf("%w: store: chunk %x missing", fs.ErrInvalid, h)
			return nil
		}
		id, err := t.bucket(&t.chunks, bktChunks).NextSequence()
		if err != nil {
			t.err = fmt.Errorf("store: chunk id: %w", err)
			return nil
		}
		refs[i].ID = id
		t.put(t.bucket(&t.chunks, bktChunks), u64(id), data[i])
		t.put(t.bucket(&t.chunkIdx, bktChunkIdx), h[:], encodeIdx(id, 1))
	}
	return refs
}

// addRefs takes one more reference on each of refs' chunks.
func (t *txn) addRefs(refs []chunkRef) {
	hashes := make([][hashLen]byte, len(refs))
	for i, r := range refs {
		hashes[i] = r.Hash
	}
	t.addChunks(hashes, nil)
}

// encodeIdx is a chunk index value: the chunk's id (8 bytes BE) and its
// reference count (uvarint).
func encodeIdx(id, n uint64) []byte {
	return binary.AppendUvarint(u64(id), n)
}

func decodeIdx(v []byte) (uint64, uint64, error) {
	if len(v) < 9 {
		return 0, 0, errCorrupt
	}
	n, k := binary.Uvarint(v[8:])
	if k <= 0 || k != len(v)-8 {
		return 0, 0, errCorrupt
	}
	return binary.BigEndian.Uint64(v), n, nil
}

// dropChunks releases one reference on each chunk, deleting those that
// nobody references any more. It returns the chunks and bytes freed.
func (t *txn) dropChunks(refs []chunkRef) (int, int64) {
	var chunks int
	var freed int64
	for _, r := range refs {
		if t.err != nil {
			break
		}
		v := t.bucket(&t.chunkIdx, bktChunkIdx).Get(r.Hash[:])
		if v == nil {
			continue // already gone: nothing to release
		}
		id, n, err := decodeIdx(v)
		if err != nil {
			t.err = err
			break
		}
		if n > 1 {
			t.put(t.bucket(&t.chunkIdx, bktChunkIdx), r.Hash[:], encodeIdx(id, n-1))
			continue
		}
		key := u64(id)
		freed += int64(len(t.bucket(&t.chunks, bktChunks).Get(key)))
		chunks++
		t.del(t.bucket(&t.chunkIdx, bktChunkIdx), r.Hash[:])
		t.del(t.bucket(&t.chunks, bktChunks), key)
	}
	return chunks, freed
}

// deleteHistory deletes every version of file id and releases its chunks.
func (t *txn) deleteHistory(id uint64) error {
	prefix := u64(id)
	var keys [][]byte
	var refs []chunkRef
	c := t.bucket(&t.versions, bktVersions).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		ver, err := decodeVersion(v, true)
		if err != nil {
			return err
		}
		keys = append(keys, bytes.Clone(k))
		refs = append(refs, ver.Chunks...)
	}
	for _, k := range keys {
		t.del(t.bucket(&t.versions, bktVersions), k)
	}
	t.dropChunks(refs)
	return t.err
}

// deleteTree deletes directory id's entries, recursively, with their
// history.
func (t *txn) deleteTree(id uint64) error {
	stack := []uint64{id}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		prefix := u64(dir)
		var keys [][]byte
		var files []uint64
		c := t.bucket(&t.nodes, bktNodes).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			kind, cid, err := decodeNodeHead(v)
			if err != nil {
				return err
			}
			keys = append(keys, bytes.Clone(k))
			if kind == fs.KindDir {
				stack = append(stack, cid)
			} else {
				files = append(files, cid)
			}
		}
		for _, k := range keys {
			t.del(t.bucket(&t.nodes, bktNodes), k)
		}
		for _, f := range files {
			if err := t.deleteHistory(f); err != nil {
				return err
			}
		}
	}
	return t.err
}

// write makes c the new version of file p.
func (t *txn) write(p fs.Path, c *content, opts fs.WriteOptions) (*fs.Info, error) {
	if p.IsRoot() {
		return nil, fs.ErrIsDir
	}
	parent, missing, err := t.lookupDir(p.Dir())
	if err != nil {
		return nil, err
	}
	var cur *node
	key := nodeKey(parent, p.Base())
	if len(missing) == 0 {
		if v := t.bucket(&t.nodes, bktNodes).Get(key); v != nil {
			if cur, err = decodeNode(v); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case cur != nil && cur.Kind == fs.KindDir:
		return nil, fs.ErrIsDir
	case cur != nil && opts.Create:
		return nil, fmt.Errorf("%w: file exists (write with create)", fs.ErrExist)
	case cur == nil && opts.MustExist:
		return nil, fmt.Errorf("%w: file does not exist (write with must-exist)", fs.ErrNotExist)
	case opts.IfVersion != 0 && (cur == nil || cur.Version != opts.IfVersion):
		have := int64(0)
		if cur != nil {
			have = cur.Version
		}
		return nil, fmt.Errorf("%w: expected version %d, current is %d", fs.ErrConflict, opts.IfVersion, have)
	}

	// Every check passed; from here on only bbolt can fail.
	if len(missing) > 0 {
		parent = t.mkdirs(parent, ancestorOf(p.Dir(), missing), missing)
		key = nodeKey(parent, p.Base())
	}
	n := &node{Kind: fs.KindFile, Version: 1, Created: t.now}
	if cur != nil {
		n.ID, n.Version, n.Created, n.Meta = cur.ID, cur.Version+1, cur.Created, cur.Meta
	} else {
		n.ID = t.nextID()
	}
	if opts.Meta != nil {
		n.Meta = cloneMeta(opts.Meta)
	}
	n.Size, n.Tokens, n.Modified, n.Author = c.size, c.tokens, t.now, t.author
	refs := t.addChunks(c.hashes, c.chunks)
	t.putVersion(n, c.csize, refs, c.inline)
	t.put(t.bucket(&t.nodes, bktNodes), key, encodeNode(n))
	t.appendEvent(&event{Op: fs.OpWrite, Kind: fs.KindFile, Path: string(p), Version: n.Version})
	if t.err != nil {
		return nil, t.err
	}
	return t.s.info(p, n), nil
}

func (t *txn) putVersion(n *node, csize int64, refs []chunkRef, inline []byte) {
	v := &version{
		Time: n.Modified, Size: n.Size, Tokens: n.Tokens, Author: n.Author, Meta: n.Meta,
		ChunkSize: csize, Chunks: refs, Inline: inline,
	}
	if len(refs) == 0 {
		v.ChunkSize = 0
	}
	t.put(t.bucket(&t.versions, bktVersions), versionKey(n.ID, n.Version), encodeVersion(v))
}

// setMeta makes a new version of file p with the same content and changed
// user metadata.
func (t *txn) setMeta(p fs.Path, changes map[string]*string) (*fs.Info, error) {
	if p.IsRoot() {
		return nil, fs.ErrIsDir
	}
	parent, n, err := t.get(p)
	if err != nil {
		return nil, err
	}
	if n.Kind == fs.KindDir {
		return nil, fs.ErrIsDir
	}
	raw := t.bucket(&t.versions, bktVersions).Get(versionKey(n.ID, n.Version))
	if raw == nil {
		return nil, fmt.Errorf("%w: store: current version of %s missing", fs.ErrInvalid, p)
	}
	cur, err := decodeVersion(raw, true)
	if err != nil {
		return nil, err
	}
	meta := cloneMeta(n.Meta)
	for k, v := range changes {
		if v == nil {
			delete(meta, k)
			continue
		}
		if meta == nil {
			meta = map[string]string{}
		}
		meta[k] = *v
	}
	if len(meta) == 0 {
		meta = nil
	}
	n.Version++
	n.Modified, n.Author, n.Meta = t.now, t.author, meta
	t.addRefs(cur.Chunks)
	t.putVersion(n, cur.ChunkSize, cur.Chunks, cur.Inline)
	t.put(t.bucket(&t.nodes, bktNodes), nodeKey(parent, p.Base()), encodeNode(n))
	// A new version, like any write: watchers and the index treat it so.
	t.appendEvent(&event{Op: fs.OpWrite, Kind: fs.KindFile, Path: string(p), Version: n.Version})
	if t.err != nil {
		return nil, t.err
	}
	return t.s.info(p, n), nil
}

// mkdir creates directory p and its missing parents.
func (t *txn) mkdir(p fs.Path) error {
	if p.IsRoot() {
		return nil
	}
	parent, missing, err := t.lookupDir(p.Dir())
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		if v := t.bucket(&t.nodes, bktNodes).Get(nodeKey(parent, p.Base())); v != nil {
			k, _, err := decodeNodeHead(v)
			if err != nil {
				return err
			}
			if k == fs.KindDir {
				return nil
			}
			return fmt.Errorf("%w: a file has this name", fs.ErrExist)
		}
	}
	t.mkdirs(parent, ancestorOf(p.Dir(), missing), append(missing, p.Base()))
	return t.err
}

// remove removes p (with everything below it when recursive).
func (t *txn) remove(p fs.Path, recursive bool) error {
	if p.IsRoot() {
		return fmt.Errorf("%w: cannot remove the root", fs.ErrInvalid)
	}
	parent, n, err := t.get(p)
	if err != nil {
		return err
	}
	if n.Kind == fs.KindDir && !recursive && t.hasChildren(n.ID) {
		return fs.ErrNotEmpty
	}
	t.del(t.bucket(&t.nodes, bktNodes), nodeKey(parent, p.Base()))
	if n.Kind == fs.KindDir {
		err = t.deleteTree(n.ID)
	} else {
		err = t.deleteHistory(n.ID)
	}
	if err != nil {
		if t.err == nil {
			t.err = err // a corrupt record met half way: abort the transaction
		}
		return err
	}
	t.appendEvent(&event{Op: fs.OpRemove, Kind: n.Kind, Path: string(p)})
	return t.err
}

// rename moves src to dst with POSIX rename semantics (see doc.go).
func (t *txn) rename(src, dst fs.Path) error {
	if src.IsRoot() || dst.IsRoot() {
		return fmt.Errorf("%w: cannot rename the root", fs.ErrInvalid)
	}
	sparent, sn, err := t.get(src)
	if err != nil {
		return err
	}
	if src == dst {
		return nil
	}
	if sn.Kind == fs.KindDir && dst.Within(src) {
		return fmt.Errorf("%w: cannot move a directory into itself", fs.ErrInvalid)
	}
	dparent, missing, err := t.lookupDir(dst.Dir())
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: destination directory does not exist", fs.ErrNotExist)
	}
	dkey := nodeKey(dparent, dst.Base())
	var dn *node
	if v := t.bucket(&t.nodes, bktNodes).Get(dkey); v != nil {
		if dn, err = decodeNode(v); err != nil {
			return err
		}
		switch {
		case sn.Kind == fs.KindFile && dn.Kind == fs.KindDir:
			return fmt.Errorf("%w: cannot replace a directory with a file", fs.ErrIsDir)
		case sn.Kind == fs.KindDir && dn.Kind == fs.KindFile:
			return fmt.Errorf("%w: cannot replace a file with a directory", fs.ErrNotDir)
		case dn.Kind == fs.KindDir && t.hasChildren(dn.ID):
			return fs.ErrNotEmpty
		}
	}

	if dn != nil && dn.Kind == fs.KindFile {
		if err := t.deleteHistory(dn.ID); err != nil {
			if t.err == nil {
				t.err = err
			}
			return err
		}
	}
	// The node keeps its id, so a directory's children and a file's
	// history move with it for free.
	t.del(t.bucket(&t.nodes, bktNodes), nodeKey(sparent, src.Base()))
	t.put(t.bucket(&t.nodes, bktNodes), dkey, encodeNode(sn))
	t.appendEvent(&event{Op: fs.OpRename, Kind: sn.Kind, Path: string(src), Dest: string(dst)})
	return t.err
}

func cloneMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
