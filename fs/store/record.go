package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// recordVersion is the first byte of every stored record. A decoder refuses
// any other value, so a future format can be told apart and migrated.
const recordVersion = 1

// hashLen is the length of a chunk address (SHA-256).
const hashLen = 32

// refLen is the stored length of a chunkRef.
const refLen = hashLen + 8

// chunkRef names one chunk of a version: its content hash, by which it is
// deduplicated and reference-counted, and its id, the key of its bytes.
type chunkRef struct {
	Hash [hashLen]byte
	ID   uint64
}

// errCorrupt is what every decoder returns for a record it cannot read. It
// wraps fs.ErrInvalid: a malformed stored record is a malformed argument
// from the point of view of the layer above.
var errCorrupt = fmt.Errorf("%w: corrupt store record", fs.ErrInvalid)

// node is the record of one directory entry, stored under its parent's id
// and its name. It carries everything Info needs, so listing a directory
// never touches versions or content.
type node struct {
	Kind     fs.Kind
	ID       uint64 // files: key of the version history; dirs: key prefix of the children
	Version  int64  // current version; 0 for directories
	Size     int64
	Tokens   int64
	Created  int64 // unix nanoseconds
	Modified int64
	Author   string
	Meta     map[string]string
}

// version is the record of one stored version of a file.
type version struct {
	Time      int64
	Size      int64
	Tokens    int64
	Author    string
	Meta      map[string]string
	ChunkSize int64      // every chunk but the last has this length
	Chunks    []chunkRef // the chunks, in order
	Inline    []byte     // the whole content of a small file, instead of chunks
}

// inlineMax is the largest content kept inside its version record rather
// than in chunks. A small file then costs no chunk and no reference count:
// two fewer B-tree updates per write, for content too small for
// deduplication to matter.
const inlineMax = 1024

// event is the stored form of an fs.Event (its Seq is the key).
type event struct {
	Op      fs.Op
	Kind    fs.Kind
	Path    string
	Dest    string
	Version int64
	Time    int64
	Author  string
}

// enc appends the primitive encodings used by every record.
type enc struct{ b []byte }

func (e *enc) byte(v byte)      { e.b = append(e.b, v) }
func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// meta writes a map in key order, so that equal maps encode equally.
func (e *enc) meta(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

// dec reads primitives with bounds checks. The first failure sticks: later
// reads return zero values, and err reports it once at the end.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() { d.err = errCorrupt; d.b = nil }

func (d *dec) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// nonneg reads a uvarint that must fit an int64.
func (d *dec) nonneg() int64 {
	v := d.uvarint()
	if v > 1<<62 {
		d.fail()
		return 0
	}
	return int64(v)
}

// str copies a string out of the buffer: bytes owned by a bbolt transaction
// must never escape it.
func (d *dec) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// internStr is str that returns the string already in m when there is one.
func (d *dec) internStr(m map[string]string) string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	b := d.b[:n]
	d.b = d.b[n:]
	if s, ok := m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	m[s] = s
	return s
}

// count reads an element count and checks that at least min bytes per
// element remain, so a corrupt count cannot make us allocate much.
func (d *dec) count(min int) int {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *dec) meta() map[string]string {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		k, v := d.str(), d.str()
		// Keys are written sorted and unique; anything else is corruption
		// and would make a round trip lossy.
		if i > 0 && k <= prev {
			d.fail()
			return nil
		}
		prev = k
		m[k] = v
	}
	return m
}

func (d *dec) version() {
	if v := d.byte(); d.err == nil && v != recordVersion {
		d.fail()
	}
}

// done reports the sticky error, or corruption when bytes are left over.
func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return d.err
}

func validKind(k fs.Kind) bool { return k == fs.KindFile || k == fs.KindDir }

func encodeNode(n *node) []byte {
	e := enc{b: make([]byte, 0, 48+len(n.Author))}
	e.byte(recordVersion)
	e.byte(byte(n.Kind))
	e.uvarint(n.ID)
	e.uvarint(uint64(n.Version))
	e.uvarint(uint64(n.Size))
	e.uvarint(uint64(n.Tokens))
	e.varint(n.Created)
	e.varint(n.Modified)
	e.str(n.Author)
	e.meta(n.Meta)
	return e.b
}

// decodeNodeHead reads only the kind and id, which is all that resolving a
// path through its ancestors needs.
func decodeNodeHead(b []byte) (fs.Kind, uint64, error) {
	d := dec{b: b}
	d.version()
	k := fs.Kind(d.byte())
	id := d.uvarint()
	if d.err == nil && !validKind(k) {
		d.fail()
	}
	return k, id, d.err
}

func decodeNode(b []byte) (*node, error) {
	n := &node{}
	if err := decodeNodeTo(b, n, nil); err != nil {
		return nil, err
	}
	return n, nil
}

// decodeNodeTo decodes into n. With authors non-nil, equal author names
// share one string: a listing of thousands of entries by a few authors
// then allocates a few strings, not thousands.
func decodeNodeTo(b []byte, n *node, authors map[string]string) error {
	d := dec{b: b}
	d.version()
	n.Kind = fs.Kind(d.byte())
	n.ID = d.uvarint()
	n.Version = d.nonneg()
	n.Size = d.nonneg()
	n.Tokens = d.nonneg()
	n.Created = d.varint()
	n.Modified = d.varint()
	if authors != nil {
		n.Author = d.internStr(authors)
	} else {
		n.Author = d.str()
	}
	n.Meta = d.meta()
	if err := d.done(); err != nil {
		return err
	}
	if !validKind(n.Kind) {
		return errCorrupt
	}
	return nil
}

func encodeVersion(v *version) []byte {
	e := enc{b: make([]byte, 0, 48+len(v.Author)+len(v.Chunks)*refLen+len(v.Inline))}
	e.byte(recordVersion)
	e.varint(v.Time)
	e.uvarint(uint64(v.Size))
	e.uvarint(uint64(v.Tokens))
	e.str(v.Author)
	e.meta(v.Meta)
	e.uvarint(uint64(v.ChunkSize))
	e.uvarint(uint64(len(v.Chunks)))
	for _, c := range v.Chunks {
		e.b = append(e.b, c.Hash[:]...)
		e.b = binary.BigEndian.AppendUint64(e.b, c.ID)
	}
	if len(v.Chunks) == 0 && len(v.Inline) > 0 {
		e.b = append(e.b, v.Inline...)
	}
	return e.b
}

// decodeVersion decodes a version record; with chunks false it stops before
// the chunk list, for callers (Log) that need only the header.
func decodeVersion(b []byte, chunks bool) (*version, error) {
	d := dec{b: b}
	d.version()
	v := &version{}
	v.Time = d.varint()
	v.Size = d.nonneg()
	v.Tokens = d.nonneg()
	v.Author = d.str()
	v.Meta = d.meta()
	v.ChunkSize = d.nonneg()
	n := d.count(refLen)
	if d.err != nil {
		return nil, d.err
	}
	if !chunks {
		return v, nil
	}
	if n > 0 {
		v.Chunks = make([]chunkRef, n)
		for i := range v.Chunks {
			copy(v.Chunks[i].Hash[:], d.b)
			v.Chunks[i].ID = binary.BigEndian.Uint64(d.b[hashLen:refLen])
			d.b = d.b[refLen:]
		}
	} else if len(d.b) > 0 {
		// No chunks: what follows is the inline content, exactly Size bytes.
		if int64(len(d.b)) != v.Size || v.Size > inlineMax {
			return nil, errCorrupt
		}
		v.Inline = bytes.Clone(d.b)
		d.b = nil
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	// The chunk list (or the inline content) must hold exactly Size bytes.
	if n == 0 {
		if v.Size != int64(len(v.Inline)) {
			return nil, errCorrupt
		}
	} else if v.ChunkSize <= 0 || v.Size <= int64(n-1)*v.ChunkSize || v.Size > int64(n)*v.ChunkSize {
		return nil, errCorrupt
	}
	return v, nil
}

func encodeEvent(ev *event) []byte {
	e := enc{b: make([]byte, 0, 32+len(ev.Path)+len(ev.Dest)+len(ev.Author))}
	e.byte(recordVersion)
	e.byte(byte(ev.Op))
	e.byte(byte(ev.Kind))
	e.str(ev.Path)
	e.str(ev.Dest)
	e.uvarint(uint64(ev.Version))
	e.varint(ev.Time)
	e.str(ev.Author)
	return e.b
}

func decodeEvent(b []byte) (*event, error) {
	d := dec{b: b}
	d.version()
	ev := &event{Op: fs.Op(d.byte()), Kind: fs.Kind(d.byte())}
	ev.Path = d.str()
	ev.Dest = d.str()
	ev.Version = d.nonneg()
	ev.Time = d.varint()
	ev.Author = d.str()
	if err := d.done(); err != nil {
		return nil, err
	}
	if ev.Op < fs.OpWrite || ev.Op > fs.OpMeta || !validKind(ev.Kind) {
		return nil, errCorrupt
	}
	if _, err := fs.Parse(ev.Path); err != nil {
		return nil, errCorrupt
	}
	if ev.Dest != "" {
		if _, err := fs.Parse(ev.Dest); err != nil {
			return nil, errCorrupt
		}
	}
	return ev, nil
}

// fsEvent converts a stored event to the public form.
func (ev *event) fsEvent(seq uint64) fs.Event {
	return fs.Event{
		Seq:     seq,
		Op:      ev.Op,
		Path:    fs.Path(ev.Path),
		Dest:    fs.Path(ev.Dest),
		Kind:    ev.Kind,
		Version: ev.Version,
		Time:    fromNanos(ev.Time),
		Author:  ev.Author,
	}
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Keys.

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

// nodeKey is the parent's id followed by the name: the children of one
// directory form one contiguous key range, sorted by name.
func nodeKey(parent uint64, name string) []byte {
	k := make([]byte, 8, 8+len(name))
	binary.BigEndian.PutUint64(k, parent)
	return append(k, name...)
}

// versionKey is the file id followed by the version number: a file's
// history is one contiguous range, oldest first.
func versionKey(id uint64, v int64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, id)
	binary.BigEndian.PutUint64(k[8:], uint64(v))
	return k
}
