package hostdir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/fs"
)

// Options configure a host directory mount. The zero value mounts it
// read-only and counts no tokens.
type Options struct {
	// Writable allows writes, directory creation, removal and renames.
	Writable bool
	// Counter, when set, counts the tokens of text files (see the package
	// documentation for when).
	Counter fs.TokenCounter
	// MaxCountBytes is the largest file whose tokens are counted; zero means
	// 1 MiB.
	MaxCountBytes int64
	// FileMode and DirMode are the permissions of created files and
	// directories before the umask; zero means 0644 and 0755.
	FileMode, DirMode os.FileMode
}

// tmpPrefix names the temporary files of writes in progress; listings hide
// them so a crash in the middle of a write leaves no visible debris.
const tmpPrefix = ".ctxfs-tmp-"

// FS is a host directory as an fs.FS.
//
// It is safe for concurrent use: os.Root is, and the token cache has its own
// lock. Concurrent writes to one path each replace the file atomically; the
// last rename wins.
type FS struct {
	root *os.Root
	opts Options

	// mu guards tokens.
	mu     sync.Mutex
	tokens map[fs.Path]tokenEntry
}

// tokenEntry is a cached token count, valid while the file keeps the size
// and modification time it had when counted.
type tokenEntry struct {
	size   int64
	mtime  time.Time
	tokens int
}

var (
	_ fs.FS = (*FS)(nil)
)

// escapeErr is os.Root's unexported "path escapes from parent" error,
// captured from a probe so escapes can be told apart with errors.Is rather
// than by matching the message.
var (
	escapeOnce sync.Once
	escapeErr  error
)

func probeEscape(root *os.Root) {
	escapeOnce.Do(func() {
		_, err := root.Lstat("..")
		var pe *os.PathError
		if errors.As(err, &pe) {
			escapeErr = pe.Err
		} else if err != nil {
			escapeErr = err
		}
	})
}

// New opens host directory dir. It fails with fs.ErrNotExist if dir does
// not exist and fs.ErrNotDir if it is not a directory.
func New(dir string, opts Options) (*FS, error) {
	if opts.MaxCountBytes == 0 {
		opts.MaxCountBytes = 1 << 20
	}
	if opts.FileMode == 0 {
		opts.FileMode = 0o644
	}
	if opts.DirMode == 0 {
		opts.DirMode = 0o755
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("hostdir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("hostdir: %s: %w", dir, fs.ErrNotDir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("hostdir: %w", err)
	}
	probeEscape(root)
	return &FS{root: root, opts: opts, tokens: make(map[fs.Path]tokenEntry)}, nil
}

// Close releases the directory handle. Files already open stay usable.
func (h *FS) Close() error { return h.root.Close() }

// Dir returns the host directory's name as given to New.
func (h *FS) Dir() string { return h.root.Name() }

// Writable reports whether the mount accepts writes.
func (h *FS) Writable() bool { return h.opts.Writable }

// rel turns a provider path into a name relative to the root.
func rel(p fs.Path) string {
	if p.IsRoot() {
		return "."
	}
	return string(p[1:])
}

// mapErr translates a host error into the fs sentinels, keeping the errno
// reachable for errors.Is with syscall values.
func mapErr(op string, p fs.Path, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	var errno syscall.Errno
	switch {
	case escapeErr != nil && errors.Is(err, escapeErr):
		return &fs.PathError{Op: op, Path: string(p), Err: fmt.Errorf("%w: the path leads outside the host directory", fs.ErrPermission)}
	case errors.As(err, &errno):
		// Errno first: syscall maps ENOTEMPTY to io/fs's ErrExist, but the
		// fs contract wants ErrNotEmpty.
		switch errno {
		case syscall.ENOTDIR:
			sentinel = fs.ErrNotDir
		case syscall.EISDIR:
			sentinel = fs.ErrIsDir
		case syscall.ENOTEMPTY:
			sentinel = fs.ErrNotEmpty
		case syscall.EROFS:
			sentinel = fs.ErrReadOnly
		case syscall.EINVAL, syscall.ENAMETOOLONG, syscall.EXDEV:
			sentinel = fs.ErrInvalid
		case syscall.ELOOP:
			sentinel = fs.ErrInvalid
		case syscall.EFBIG, syscall.ENOSPC, syscall.EDQUOT:
			sentinel = fs.ErrTooLarge
		}
	}
	if sentinel == nil {
		return &fs.PathError{Op: op, Path: string(p), Err: unwrapPath(err)}
	}
	return &fs.PathError{Op: op, Path: string(p), Err: fmt.Errorf("%w (%w)", sentinel, unwrapPath(err))}
}

// unwrapPath strips os's PathError/LinkError so the host-relative name does
// not appear twice in messages.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

func (h *FS) readOnly(op string, p fs.Path) error {
	if h.opts.Writable {
		return nil
	}
	return &fs.PathError{Op: op, Path: string(p), Err: fs.ErrReadOnly}
}

// info converts host file information for path p. It returns false for
// special files, which the provider does not expose.
func (h *FS) info(p fs.Path, fi os.FileInfo) (*fs.Info, bool) {
	i := &fs.Info{Path: p, Modified: fi.ModTime(), ReadOnly: !h.opts.Writable}
	switch {
	case fi.Mode().IsRegular():
		i.Kind = fs.KindFile
		i.Size = fi.Size()
	case fi.IsDir():
		i.Kind = fs.KindDir
	default:
		return nil, false
	}
	return i, true
}

// Stat describes p, following symbolic links inside the directory.
func (h *FS) Stat(ctx context.Context, p fs.Path) (*fs.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := h.root.Stat(rel(p))
	if err != nil {
		return nil, mapErr("stat", p, err)
	}
	i, ok := h.info(p, fi)
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: string(p), Err: fmt.Errorf("%w: not a regular file or directory", fs.ErrNotExist)}
	}
	if i.Kind == fs.KindFile {
		i.Tokens = h.countTokens(p, fi, nil)
	}
	return i, nil
}

// countTokens returns the token count of file p described by fi, from the
// cache or by reading it (from f when given, else through the root).
func (h *FS) countTokens(p fs.Path, fi os.FileInfo, f *os.File) int {
	if h.opts.Counter == nil || fi.Size() > h.opts.MaxCountBytes || fi.Size() == 0 {
		return 0
	}
	h.mu.Lock()
	e, ok := h.tokens[p]
	h.mu.Unlock()
	if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return e.tokens
	}
	var data []byte
	var err error
	if f != nil {
		data = make([]byte, fi.Size())
		var n int
		n, err = f.ReadAt(data, 0)
		if err == io.EOF {
			err = nil
		}
		data = data[:n]
	} else {
		data, err = h.root.ReadFile(rel(p))
	}
	if err != nil || !utf8.Valid(data) {
		return 0
	}
	n := h.opts.Counter.CountTokens(string(data))
	h.mu.Lock()
	h.tokens[p] = tokenEntry{size: fi.Size(), mtime: fi.ModTime(), tokens: n}
	h.mu.Unlock()
	return n
}

// cachedTokens returns a still valid cached count, or 0.
func (h *FS) cachedTokens(p fs.Path, size int64, mtime time.Time) int {
	if h.opts.Counter == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.tokens[p]; ok && e.size == size && e.mtime.Equal(mtime) {
		return e.tokens
	}
	return 0
}

// List returns the entries of directory p sorted by name; see the package
// documentation for what is left out.
func (h *FS) List(ctx context.Context, p fs.Path) ([]*fs.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := h.root.Open(rel(p))
	if err != nil {
		return nil, mapErr("list", p, err)
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return nil, mapErr("list", p, err)
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "list", Path: string(p), Err: fs.ErrNotDir}
	}
	var out []*fs.Info
	for {
		ents, err := d.ReadDir(1024)
		for _, e := range ents {
			if i := h.entryInfo(p, e); i != nil {
				out = append(out, i)
			}
		}
		if err == io.EOF || len(ents) == 0 {
			break
		}
		if err != nil {
			return nil, mapErr("list", p, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out, nil
}

// entryInfo describes one directory entry of dir, or returns nil for an
// entry that is not exposed.
func (h *FS) entryInfo(dir fs.Path, e os.DirEntry) *fs.Info {
	name := e.Name()
	if strings.HasPrefix(name, tmpPrefix) || fs.ValidName(name) != nil {
		return nil
	}
	cp := dir.Child(name)
	var fi os.FileInfo
	var err error
	if e.Type()&os.ModeSymlink != 0 {
		// Resolve through the root: links that escape or dangle fail here
		// and are left out, so a listing never shows what Open refuses.
		fi, err = h.root.Stat(rel(cp))
	} else {
		fi, err = e.Info()
	}
	if err != nil {
		return nil
	}
	i, ok := h.info(cp, fi)
	if !ok {
		return nil
	}
	if i.Kind == fs.KindFile {
		i.Tokens = h.cachedTokens(cp, fi.Size(), fi.ModTime())
	}
	return i
}

// Open opens file p for reading.
func (h *FS) Open(ctx context.Context, p fs.Path) (fs.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// O_NONBLOCK so that opening a FIFO cannot hang; it is refused below.
	f, err := h.root.OpenFile(rel(p), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, mapErr("open", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, mapErr("open", p, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: string(p), Err: fs.ErrIsDir}
	}
	i, ok := h.info(p, fi)
	if !ok {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: string(p), Err: fmt.Errorf("%w: not a regular file", fs.ErrNotExist)}
	}
	i.Tokens = h.countTokens(p, fi, f)
	return &file{File: f, info: i}, nil
}

// file is an open host file. os.File's ReadAt is safe for concurrent use
// (pread); Read and Seek share the offset.
type file struct {
	*os.File
	info *fs.Info
}

func (f *file) Stat() *fs.Info { return f.info.Clone() }

// Write replaces the content of file p atomically (see the package
// documentation).
func (h *FS) Write(ctx context.Context, p fs.Path, r io.Reader, opts fs.WriteOptions) (*fs.Info, error) {
	if err := h.readOnly("write", p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.IsRoot() {
		return nil, &fs.PathError{Op: "write", Path: string(p), Err: fs.ErrIsDir}
	}
	if opts.IfVersion != 0 {
		return nil, &fs.PathError{Op: "write", Path: string(p), Err: fmt.Errorf("%w: host directories keep no versions", fs.ErrNotSupported)}
	}
	if len(opts.Meta) > 0 {
		return nil, &fs.PathError{Op: "write", Path: string(p), Err: fmt.Errorf("%w: host directories keep no metadata", fs.ErrNotSupported)}
	}
	name := rel(p)
	fi, err := h.root.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		return nil, &fs.PathError{Op: "write", Path: string(p), Err: fs.ErrIsDir}
	case err == nil && opts.Create:
		return nil, &fs.PathError{Op: "write", Path: string(p), Err: fs.ErrExist}
	case err == nil && !fi.Mode().IsRegular():
		return nil, &fs.PathError{Op: "write", Path: string(p), Err: fmt.Errorf("%w: not a regular file", fs.ErrInvalid)}
	case err != nil && errors.Is(err, os.ErrNotExist) && opts.MustExist:
		return nil, &fs.PathError{Op: "write", Path: string(p), Err: fs.ErrNotExist}
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, mapErr("write", p, err)
	}
	exists := err == nil
	var mode os.FileMode
	if exists {
		// Write through symbolic links: replace the file a link names, not
		// the link, as editors do; and keep the file's permissions.
		if name, err = h.resolveLinks(name); err != nil {
			return nil, mapErr("write", p, err)
		}
		mode = fi.Mode().Perm()
	}
	dir := path.Dir(name)
	if dir != "." {
		if err := h.root.MkdirAll(dir, h.opts.DirMode); err != nil {
			return nil, mapErr("write", p, err)
		}
	}
	tmp, f, err := h.createTemp(dir)
	if err != nil {
		return nil, mapErr("write", p, err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			h.root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, mapErr("write", p, err)
	}
	if exists {
		if err := f.Chmod(mode); err != nil {
			return nil, mapErr("write", p, err)
		}
	}
	if err := f.Sync(); err != nil {
		return nil, mapErr("write", p, err)
	}
	if err := f.Close(); err != nil {
		return nil, mapErr("write", p, err)
	}
	if opts.Create {
		// A hard link fails with EEXIST if the name appeared meanwhile,
		// which a rename would silently replace.
		if err := h.root.Link(tmp, name); err != nil {
			done = true
			h.root.Remove(tmp)
			return nil, mapErr("write", p, err)
		}
		h.root.Remove(tmp)
	} else if err := h.root.Rename(tmp, name); err != nil {
		return nil, mapErr("write", p, err)
	}
	done = true
	h.syncDirName(dir)
	fi, err = h.root.Stat(name)
	if err != nil {
		return nil, mapErr("write", p, err)
	}
	i, _ := h.info(p, fi)
	return i, nil
}

// maxLinks bounds the symbolic links resolveLinks follows, as the kernel's
// ELOOP limit does.
const maxLinks = 40

// resolveLinks follows the symbolic links of the last element of the
// root-relative name until it names a non-link, and returns that name. A
// link that leads outside the root is an escape error (os.Root refuses it
// too, but the lexical check keeps the result a clean name inside).
func (h *FS) resolveLinks(name string) (string, error) {
	for range maxLinks {
		fi, err := h.root.Lstat(name)
		if err != nil {
			return "", err
		}
		if fi.Mode().Type() != os.ModeSymlink {
			return name, nil
		}
		target, err := h.root.Readlink(name)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			return "", escapeOr(syscall.EPERM)
		}
		name = path.Join(path.Dir(name), target)
		if name == ".." || strings.HasPrefix(name, "../") {
			return "", escapeOr(syscall.EPERM)
		}
	}
	return "", syscall.ELOOP
}

// escapeOr returns os.Root's escape error, or fallback if it is unknown.
func escapeOr(fallback error) error {
	if escapeErr != nil {
		return escapeErr
	}
	return fallback
}

// createTemp creates a new temporary file in the root-relative directory
// dir and returns its root-relative name.
func (h *FS) createTemp(dir string) (string, *os.File, error) {
	for range 10 {
		var b [8]byte
		rand.Read(b[:])
		name := tmpPrefix + hex.EncodeToString(b[:])
		if dir != "." {
			name = dir + "/" + name
		}
		f, err := h.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, h.opts.FileMode)
		if err == nil {
			return name, f, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", nil, err
		}
	}
	return "", nil, fmt.Errorf("%w: could not create a temporary file", fs.ErrExist)
}

// syncDir makes a rename in dir durable. Errors are ignored: some file
// systems cannot sync directories, and the rename itself succeeded.
func (h *FS) syncDir(dir fs.Path) { h.syncDirName(rel(dir)) }

func (h *FS) syncDirName(dir string) {
	d, err := h.root.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// Mkdir creates directory p and missing parents.
func (h *FS) Mkdir(ctx context.Context, p fs.Path) error {
	if err := h.readOnly("mkdir", p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.IsRoot() {
		return nil
	}
	if err := h.root.MkdirAll(rel(p), h.opts.DirMode); err != nil {
		// MkdirAll reports a file in the way as ENOTDIR; the fs contract
		// says ErrExist when the path itself is a file.
		if fi, serr := h.root.Stat(rel(p)); serr == nil && !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: string(p), Err: fs.ErrExist}
		}
		return mapErr("mkdir", p, err)
	}
	return nil
}

// Remove removes p; a non-empty directory needs recursive.
func (h *FS) Remove(ctx context.Context, p fs.Path, recursive bool) error {
	if err := h.readOnly("remove", p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.IsRoot() {
		return &fs.PathError{Op: "remove", Path: string(p), Err: fmt.Errorf("%w: cannot remove the mount's root", fs.ErrInvalid)}
	}
	name := rel(p)
	// Lstat: removing a symbolic link removes the link, whatever it points
	// to; its parents must still resolve inside the root.
	if _, err := h.root.Lstat(name); err != nil {
		return mapErr("remove", p, err)
	}
	var err error
	if recursive {
		err = h.root.RemoveAll(name)
	} else {
		err = h.root.Remove(name)
		var errno syscall.Errno
		if errors.As(err, &errno) && errno == syscall.EEXIST {
			err = syscall.ENOTEMPTY // some systems say EEXIST for rmdir of a non-empty dir
		}
	}
	return mapErr("remove", p, err)
}

// Rename moves src to dst, replacing a file at dst, or an empty directory
// when src is a directory. The parent of dst must exist.
func (h *FS) Rename(ctx context.Context, src, dst fs.Path) error {
	if err := h.readOnly("rename", src); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if src.IsRoot() || dst.IsRoot() {
		return &fs.PathError{Op: "rename", Path: string(src), Err: fmt.Errorf("%w: cannot move the mount's root", fs.ErrInvalid)}
	}
	if dst.Within(src) {
		if dst == src {
			if _, err := h.root.Lstat(rel(src)); err != nil {
				return mapErr("rename", src, err)
			}
			return nil
		}
		return &fs.PathError{Op: "rename", Path: string(src), Err: fmt.Errorf("%w: cannot move a directory into itself", fs.ErrInvalid)}
	}
	sfi, err := h.root.Lstat(rel(src))
	if err != nil {
		return mapErr("rename", src, err)
	}
	dfi, err := h.root.Lstat(rel(dst))
	switch {
	case err == nil && dfi.IsDir() && !sfi.IsDir():
		return &fs.PathError{Op: "rename", Path: string(dst), Err: fs.ErrIsDir}
	case err == nil && !dfi.IsDir() && sfi.IsDir():
		return &fs.PathError{Op: "rename", Path: string(dst), Err: fs.ErrNotDir}
	case err == nil && dfi.IsDir():
		// os.Root.Rename never replaces a directory; remove the empty one
		// first (it fails with ErrNotEmpty otherwise).
		if err := h.root.Remove(rel(dst)); err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) && errno == syscall.EEXIST {
				err = syscall.ENOTEMPTY
			}
			return mapErr("rename", dst, err)
		}
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return mapErr("rename", dst, err)
	}
	if err := h.root.Rename(rel(src), rel(dst)); err != nil {
		return mapErr("rename", src, err)
	}
	h.syncDir(dst.Dir())
	if src.Dir() != dst.Dir() {
		h.syncDir(src.Dir())
	}
	return nil
}

// Scan calls fn for every file and directory below dir (dir excluded), in
// lexical order, parents before children, without reading content: Info
// holds path, kind, size and modification time. Symbolic links to
// directories are reported but not descended into, so link cycles cannot
// make the walk endless. An error from fn stops the scan and is returned;
// fs.SkipDir returned for a directory skips its contents.
func (h *FS) Scan(ctx context.Context, dir fs.Path, fn func(*fs.Info) error) error {
	fi, err := h.root.Stat(rel(dir))
	if err != nil {
		return mapErr("scan", dir, err)
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "scan", Path: string(dir), Err: fs.ErrNotDir}
	}
	return h.scan(ctx, dir, fn)
}

// SkipDir is io/fs's SkipDir, for Scan callbacks.
var SkipDir = iofs.SkipDir

func (h *FS) scan(ctx context.Context, dir fs.Path, fn func(*fs.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := h.root.Open(rel(dir))
	if err != nil {
		return mapErr("scan", dir, err)
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return mapErr("scan", dir, err)
	}
	sort.Slice(ents, func(a, b int) bool { return ents[a].Name() < ents[b].Name() })
	for _, e := range ents {
		i := h.entryInfo(dir, e)
		if i == nil {
			continue
		}
		err := fn(i)
		if i.Kind == fs.KindDir {
			if err == SkipDir {
				continue
			}
			if err != nil {
				return err
			}
			if e.Type()&os.ModeSymlink != 0 {
				continue
			}
			if err := h.scan(ctx, i.Path, fn); err != nil {
				return err
			}
			continue
		}
		if err == SkipDir {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
