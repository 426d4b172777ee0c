package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/fs"
)

// info builds the public description of node n at p. The caller owns the
// result (Meta is a copy).
func (s *Store) info(p fs.Path, n *node) *fs.Info {
	i := s.ownInfo(p, n)
	i.Meta = cloneMeta(n.Meta)
	return i
}

// ownInfo is info for a node decoded just now, whose Meta nobody else
// holds: it is handed over without a copy.
func (s *Store) ownInfo(p fs.Path, n *node) *fs.Info {
	return &fs.Info{
		Path:     p,
		Kind:     n.Kind,
		Size:     n.Size,
		Version:  n.Version,
		Tokens:   int(n.Tokens),
		Created:  fromNanos(n.Created),
		Modified: fromNanos(n.Modified),
		Author:   n.Author,
		Meta:     n.Meta,
		ReadOnly: s.opts.ReadOnly,
	}
}

func (s *Store) rootInfo(t *txn) *fs.Info {
	var created int64
	if v := t.tx.Bucket(bktMeta).Get(keyCreated); len(v) == 8 {
		created = int64(beUint64(v))
	}
	return &fs.Info{Path: fs.Root, Kind: fs.KindDir, Created: fromNanos(created), Modified: fromNanos(created), ReadOnly: s.opts.ReadOnly}
}

// Stat implements fs.FS.
func (s *Store) Stat(ctx context.Context, p fs.Path) (*fs.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, fs.Wrap("stat", p, err)
	}
	var info *fs.Info
	err := s.view(func(t *txn) error {
		if p.IsRoot() {
			info = s.rootInfo(t)
			return nil
		}
		_, n, err := t.get(p)
		if err != nil {
			return err
		}
		info = s.ownInfo(p, n)
		return nil
	})
	return info, fs.Wrap("stat", p, err)
}

// List implements fs.FS. The entries of a directory are one contiguous key
// range holding everything Info needs, so a listing is one cursor scan.
func (s *Store) List(ctx context.Context, p fs.Path) ([]*fs.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, fs.Wrap("list", p, err)
	}
	var out []*fs.Info
	err := s.view(func(t *txn) error {
		id := rootID
		if !p.IsRoot() {
			_, n, err := t.get(p)
			if err != nil {
				return err
			}
			if n.Kind != fs.KindDir {
				return fs.ErrNotDir
			}
			id = n.ID
		}
		var err error
		out, err = s.listDir(t, p, id)
		return err
	})
	if err != nil {
		return nil, fs.Wrap("list", p, err)
	}
	return out, nil
}

// listDir lists directory id at path p. It allocates per listing rather
// than per entry where it can: the Infos in one slice, the paths as
// substrings of one string, author names shared.
func (s *Store) listDir(t *txn, p fs.Path, id uint64) ([]*fs.Info, error) {
	base := string(p)
	if p.IsRoot() {
		base = ""
	}
	prefix := u64(id)
	// Counting first (a cursor walk without decoding) lets every slice be
	// allocated once at its final size.
	count := 0
	c := t.bucket(&t.nodes, bktNodes).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		count++
	}
	infos := make([]fs.Info, 0, count)
	paths := make([]byte, 0, count*(len(base)+16))
	ends := make([]int, 0, count)
	authors := map[string]string{}
	var n node
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		name := k[8:]
		// Names were validated by fs.Parse on the way in; a key that could
		// not have come from there is corruption.
		if len(name) == 0 || bytes.IndexByte(name, '/') >= 0 || bytes.IndexByte(name, 0) >= 0 {
			return nil, errCorrupt
		}
		n = node{}
		if err := decodeNodeTo(v, &n, authors); err != nil {
			return nil, err
		}
		infos = append(infos, fs.Info{
			Kind:     n.Kind,
			Size:     n.Size,
			Version:  n.Version,
			Tokens:   int(n.Tokens),
			Created:  fromNanos(n.Created),
			Modified: fromNanos(n.Modified),
			Author:   n.Author,
			Meta:     n.Meta,
			ReadOnly: s.opts.ReadOnly,
		})
		paths = append(paths, base...)
		paths = append(paths, '/')
		paths = append(paths, name...)
		ends = append(ends, len(paths))
	}
	all := string(paths)
	out := make([]*fs.Info, len(infos))
	start := 0
	for i := range infos {
		infos[i].Path = fs.Path(all[start:ends[i]])
		start = ends[i]
		out[i] = &infos[i]
	}
	return out, nil
}

// Open implements fs.FS: the File reads the version current now, even if
// the file is overwritten while it is open.
func (s *Store) Open(ctx context.Context, p fs.Path) (fs.File, error) {
	return s.open(ctx, "open", p, 0)
}

// OpenVersion implements fs.Versioner.
func (s *Store) OpenVersion(ctx context.Context, p fs.Path, v int64) (fs.File, error) {
	if v <= 0 {
		return nil, fs.Wrap("open", p, fmt.Errorf("%w: version must be positive", fs.ErrInvalid))
	}
	return s.open(ctx, "open", p, v)
}

// eagerReadMax is the largest one-chunk file whose content Open reads in
// its own transaction rather than on the first read.
const eagerReadMax = 64 << 10

func (s *Store) open(ctx context.Context, op string, p fs.Path, want int64) (fs.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, fs.Wrap(op, p, err)
	}
	var f *file
	err := s.view(func(t *txn) error {
		if p.IsRoot() {
			return fs.ErrIsDir
		}
		_, n, err := t.get(p)
		if err != nil {
			return err
		}
		if n.Kind == fs.KindDir {
			return fs.ErrIsDir
		}
		v := n.Version
		if want != 0 {
			v = want
		}
		raw := t.bucket(&t.versions, bktVersions).Get(versionKey(n.ID, v))
		if raw == nil {
			if want != 0 {
				return fmt.Errorf("%w: version %d of %s (not written or pruned)", fs.ErrNotExist, want, p)
			}
			return fmt.Errorf("%w: store: current version of %s missing", fs.ErrInvalid, p)
		}
		ver, err := decodeVersion(raw, true)
		if err != nil {
			return err
		}
		info := s.info(p, n)
		info.Version, info.Size, info.Tokens = v, ver.Size, int(ver.Tokens)
		info.Modified, info.Author, info.Meta = fromNanos(ver.Time), ver.Author, cloneMeta(ver.Meta)
		f = &file{s: s, info: info, csize: ver.ChunkSize, chunks: ver.Chunks, inline: ver.Inline}
		// A small file's one chunk is read now, in this transaction:
		// every later read then needs none (search snippets, FUSE opens
		// and `cat` of small files are most opens).
		if len(ver.Chunks) == 1 && ver.Size <= eagerReadMax {
			data := t.bucket(&t.chunks, bktChunks).Get(u64(ver.Chunks[0].ID))
			if data == nil || int64(len(data)) < ver.Size {
				return fmt.Errorf("%w: store: chunk of %s missing", fs.ErrInvalid, p)
			}
			f.inline, f.chunks = bytes.Clone(data[:ver.Size]), nil
		}
		return nil
	})
	if err != nil {
		return nil, fs.Wrap(op, p, err)
	}
	return f, nil
}

// Write implements fs.FS. The content is read and cut into chunks before
// the write transaction starts, so a slow reader never holds the writer
// lock; the commit is shared with concurrent writers.
func (s *Store) Write(ctx context.Context, p fs.Path, r io.Reader, opts fs.WriteOptions) (*fs.Info, error) {
	if err := s.writable(); err != nil {
		return nil, fs.Wrap("write", p, err)
	}
	c, err := s.readContent(ctx, r)
	if err != nil {
		return nil, fs.Wrap("write", p, err)
	}
	var info *fs.Info
	err = s.update(ctx, func(t *txn) error {
		var err error
		info, err = t.write(p, c, opts)
		return err
	})
	if err != nil {
		return nil, fs.Wrap("write", p, err)
	}
	return info, nil
}

// Mkdir implements fs.FS.
func (s *Store) Mkdir(ctx context.Context, p fs.Path) error {
	if err := ctx.Err(); err != nil {
		return fs.Wrap("mkdir", p, err)
	}
	return fs.Wrap("mkdir", p, s.update(ctx, func(t *txn) error { return t.mkdir(p) }))
}

// Remove implements fs.FS. A directory tree goes in one transaction with
// one event. The chunks of removed files are released at once: a removed
// file has no path left to name its history by.
func (s *Store) Remove(ctx context.Context, p fs.Path, recursive bool) error {
	if err := ctx.Err(); err != nil {
		return fs.Wrap("remove", p, err)
	}
	return fs.Wrap("remove", p, s.update(ctx, func(t *txn) error { return t.remove(p, recursive) }))
}

// Rename implements fs.FS with POSIX semantics (see doc.go).
func (s *Store) Rename(ctx context.Context, src, dst fs.Path) error {
	if err := ctx.Err(); err != nil {
		return fs.Wrap("rename", src, err)
	}
	err := s.update(ctx, func(t *txn) error { return t.rename(src, dst) })
	if err != nil {
		return &fs.PathError{Op: "rename", Path: string(src) + " -> " + string(dst), Err: err}
	}
	return nil
}

// SetMeta implements fs.MetaSetter.
func (s *Store) SetMeta(ctx context.Context, p fs.Path, changes map[string]*string) (*fs.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, fs.Wrap("setmeta", p, err)
	}
	var info *fs.Info
	err := s.update(ctx, func(t *txn) error {
		var err error
		info, err = t.setMeta(p, changes)
		return err
	})
	if err != nil {
		return nil, fs.Wrap("setmeta", p, err)
	}
	return info, nil
}

// Log implements fs.Versioner: the stored versions of file p, newest first.
func (s *Store) Log(ctx context.Context, p fs.Path) ([]fs.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, fs.Wrap("log", p, err)
	}
	var out []fs.Version
	err := s.view(func(t *txn) error {
		if p.IsRoot() {
			return fs.ErrIsDir
		}
		_, n, err := t.get(p)
		if err != nil {
			return err
		}
		if n.Kind == fs.KindDir {
			return fs.ErrIsDir
		}
		prefix := u64(n.ID)
		c := t.bucket(&t.versions, bktVersions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != 16 {
				return errCorrupt
			}
			ver, err := decodeVersion(v, false)
			if err != nil {
				return err
			}
			out = append(out, fs.Version{
				Version: int64(beUint64(k[8:])),
				Time:    fromNanos(ver.Time),
				Size:    ver.Size,
				Author:  ver.Author,
				Tokens:  int(ver.Tokens),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fs.Wrap("log", p, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// bufPool holds chunk-sized read buffers. A full chunk keeps its buffer
// (bbolt needs the bytes until commit); a short last chunk is copied out
// so a small file does not pin a whole chunk buffer.
var bufPool sync.Pool

func (s *Store) getBuf() []byte {
	if b, ok := bufPool.Get().(*[]byte); ok && len(*b) == s.chunk {
		return *b
	}
	return make([]byte, s.chunk)
}

func (s *Store) putBuf(b []byte) { bufPool.Put(&b) }

// readContent reads r into chunks, hashing each, and counts tokens. The
// content is held once, in its chunks; there is no contiguous copy. A
// small prefix is read first, so a small file (kept inline in its version
// record) never takes a chunk-sized buffer.
func (s *Store) readContent(ctx context.Context, r io.Reader) (*content, error) {
	c := &content{csize: int64(s.chunk)}
	tooLarge := func() error {
		return fmt.Errorf("%w: content is over the limit of %d bytes", fs.ErrTooLarge, s.opts.MaxFileSize)
	}
	head := make([]byte, inlineMax+1)
	n, err := io.ReadFull(r, head)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if int64(n) > s.opts.MaxFileSize {
			return nil, tooLarge()
		}
		c.inline, c.size = head[:n:n], int64(n)
		c.tokens = s.countTokens([][]byte{c.inline}, c.size)
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("read content: %w", err)
	}
	pending := head // read already, not yet in a chunk
	for eof := false; !eof; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		buf := s.getBuf()
		k := copy(buf, pending)
		pending = pending[k:]
		if k < len(buf) {
			m, err := io.ReadFull(r, buf[k:])
			k += m
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				eof = true
			case err != nil:
				s.putBuf(buf)
				return nil, fmt.Errorf("read content: %w", err)
			}
		}
		if k == 0 {
			s.putBuf(buf)
			break
		}
		if c.size+int64(k) > s.opts.MaxFileSize {
			s.putBuf(buf)
			return nil, tooLarge()
		}
		chunk := buf[:k]
		if k < len(buf) {
			chunk = bytes.Clone(chunk)
			s.putBuf(buf)
		}
		c.chunks = append(c.chunks, chunk)
		c.hashes = append(c.hashes, sha256.Sum256(chunk))
		c.size += int64(k)
	}
	c.tokens = s.countTokens(c.chunks, c.size)
	return c, nil
}

// countTokens counts the tokens of chunks taken as one text, or returns 0
// when there is no counter or the content is not valid UTF-8 (binary).
func (s *Store) countTokens(chunks [][]byte, size int64) int64 {
	if s.opts.Counter == nil || size == 0 {
		return 0
	}
	if size <= maxExactTokenText {
		var b strings.Builder
		b.Grow(int(size))
		for _, c := range chunks {
			b.Write(c)
		}
		text := b.String()
		if !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0 {
			return 0
		}
		return int64(s.opts.Counter.CountTokens(text))
	}
	// Long text: validate and count piece by piece, carrying an incomplete
	// rune over to the next piece.
	var total int64
	var carry []byte
	for i, c := range chunks {
		piece := append(carry, c...)
		carry = nil
		if i < len(chunks)-1 {
			cut := len(piece)
			for k := len(piece) - 1; k >= 0 && k >= len(piece)-utf8.UTFMax; k-- {
				if utf8.RuneStart(piece[k]) {
					if !utf8.FullRune(piece[k:]) {
						cut = k
					}
					break
				}
			}
			carry = bytes.Clone(piece[cut:])
			piece = piece[:cut]
		}
		if !utf8.Valid(piece) || bytes.IndexByte(piece, 0) >= 0 {
			return 0
		}
		total += int64(s.opts.Counter.CountTokens(string(piece)))
	}
	return total
}

// Changes implements fs.Watcher. Events are read in pages and fn runs
// outside any transaction, so fn may use the store.
func (s *Store) Changes(ctx context.Context, since uint64, fn func(fs.Event) error) error {
	const page = 512
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var evs []fs.Event
		err := s.view(func(t *txn) error {
			c := t.bucket(&t.log, bktLog).Cursor()
			for k, v := c.Seek(u64(since + 1)); k != nil && len(evs) < page; k, v = c.Next() {
				if len(k) != 8 {
					return errCorrupt
				}
				ev, err := decodeEvent(v)
				if err != nil {
					return err
				}
				evs = append(evs, ev.fsEvent(beUint64(k)))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("changes: %w", err)
		}
		for _, ev := range evs {
			if err := fn(ev); err != nil {
				return err
			}
			since = ev.Seq
		}
		if len(evs) < page {
			return nil
		}
	}
}

// LastSeq implements fs.Watcher.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var seq uint64
	err := s.view(func(t *txn) error {
		seq = t.bucket(&t.log, bktLog).Sequence()
		return nil
	})
	return seq, err
}

func beUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}
