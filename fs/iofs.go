package fs

import (
	"context"
	"io"
	iofs "io/fs"
	"path"
	"time"
)

// IOFS returns a read-only io/fs view of the tree at root of f, so that
// fs.WalkDir, http.FS, template.ParseFS and testing/fstest work on any ctxfs
// provider. Every call runs with ctx (which carries the principal). Names
// follow io/fs rules: "." is root, no leading slash.
func IOFS(ctx context.Context, f FS, root Path) iofs.FS {
	return &ioView{ctx: ctx, f: f, root: root}
}

type ioView struct {
	ctx  context.Context
	f    FS
	root Path
}

var (
	_ iofs.ReadDirFS  = (*ioView)(nil)
	_ iofs.StatFS     = (*ioView)(nil)
	_ iofs.ReadFileFS = (*ioView)(nil)
)

func (v *ioView) path(op, name string) (Path, error) {
	if !iofs.ValidPath(name) {
		return "", &PathError{Op: op, Path: name, Err: iofs.ErrInvalid}
	}
	if name == "." {
		return v.root, nil
	}
	p, err := Parse("/" + name)
	if err != nil {
		return "", &PathError{Op: op, Path: name, Err: iofs.ErrInvalid}
	}
	return p.Under(v.root), nil
}

// ioErr rewrites an error to carry the io/fs name rather than the ctxfs path.
func ioErr(op, name string, err error) error {
	if pe, ok := err.(*PathError); ok {
		return &PathError{Op: op, Path: name, Err: pe.Err}
	}
	return &PathError{Op: op, Path: name, Err: err}
}

func (v *ioView) Open(name string) (iofs.File, error) {
	p, err := v.path("open", name)
	if err != nil {
		return nil, err
	}
	info, err := v.f.Stat(v.ctx, p)
	if err != nil {
		return nil, ioErr("open", name, err)
	}
	if info.IsDir() {
		return &ioDir{v: v, p: p, name: name, info: info}, nil
	}
	file, err := v.f.Open(v.ctx, p)
	if err != nil {
		return nil, ioErr("open", name, err)
	}
	return &ioFile{File: file, name: name}, nil
}

func (v *ioView) Stat(name string) (iofs.FileInfo, error) {
	p, err := v.path("stat", name)
	if err != nil {
		return nil, err
	}
	info, err := v.f.Stat(v.ctx, p)
	if err != nil {
		return nil, ioErr("stat", name, err)
	}
	return fileInfo{info, path.Base(name)}, nil
}

func (v *ioView) ReadDir(name string) ([]iofs.DirEntry, error) {
	p, err := v.path("readdir", name)
	if err != nil {
		return nil, err
	}
	entries, err := v.f.List(v.ctx, p)
	if err != nil {
		return nil, ioErr("readdir", name, err)
	}
	out := make([]iofs.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = iofs.FileInfoToDirEntry(fileInfo{e, e.Name()})
	}
	return out, nil
}

func (v *ioView) ReadFile(name string) ([]byte, error) {
	f, err := v.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, ok := f.(*ioDir); ok {
		return nil, &PathError{Op: "read", Path: name, Err: ErrIsDir}
	}
	return io.ReadAll(f)
}

// FileInfo returns an io/fs FileInfo for info.
func FileInfo(info *Info) iofs.FileInfo { return fileInfo{info, info.Name()} }

type fileInfo struct {
	i    *Info
	name string
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.i.Size }
func (fi fileInfo) ModTime() time.Time { return fi.i.Modified }
func (fi fileInfo) IsDir() bool        { return fi.i.IsDir() }
func (fi fileInfo) Sys() any           { return fi.i }
func (fi fileInfo) Mode() iofs.FileMode {
	m := iofs.FileMode(0o644)
	if fi.i.IsDir() {
		m = iofs.ModeDir | 0o755
	}
	if fi.i.ReadOnly {
		m &^= 0o222
	}
	return m
}

type ioFile struct {
	File
	name string
}

func (f *ioFile) Stat() (iofs.FileInfo, error) {
	return fileInfo{f.File.Stat(), path.Base(f.name)}, nil
}

type ioDir struct {
	v       *ioView
	p       Path
	name    string
	info    *Info
	entries []iofs.DirEntry
	read    bool
	off     int
}

func (d *ioDir) Stat() (iofs.FileInfo, error) { return fileInfo{d.info, path.Base(d.name)}, nil }
func (d *ioDir) Read([]byte) (int, error) {
	return 0, &PathError{Op: "read", Path: d.name, Err: ErrIsDir}
}
func (d *ioDir) Close() error { return nil }

func (d *ioDir) ReadDir(n int) ([]iofs.DirEntry, error) {
	if !d.read {
		es, err := d.v.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = es, true
	}
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
