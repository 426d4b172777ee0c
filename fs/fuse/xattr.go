package fuse

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// The extended attributes of a file. The system fields are read-only;
// user metadata is read and written under MetaPrefix.
const (
	XattrVersion  = "user.ctxfs.version"
	XattrTokens   = "user.ctxfs.tokens"
	XattrAuthor   = "user.ctxfs.author"
	XattrModified = "user.ctxfs.modified"
	MetaPrefix    = "user.ctxfs.meta."
	xattrPrefix   = "user.ctxfs."
)

// committedInfo returns the file system's current information of the
// file. A file created here and not yet committed has none (nil): its
// attributes appear with its first version, and reading them must not
// make one (ls -l lists attributes of files being written).
func (n *fileNode) committedInfo(ctx context.Context) (*fs.Info, syscall.Errno) {
	n.mu.Lock()
	pending := n.pending
	n.mu.Unlock()
	if pending {
		return nil, 0
	}
	p, ok := n.m.pathOf(&n.Inode)
	if !ok {
		return nil, syscall.ENOENT
	}
	info, err := n.m.fsys.Stat(ctx, p)
	if err != nil {
		return nil, errno(err)
	}
	return info, 0
}

// commitPending commits a file created here, so that metadata can be set
// on its first version.
func (n *fileNode) commitPending(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.pending {
		return nil
	}
	return n.commitLocked(ctx)
}

func xattrValue(info *fs.Info, attr string) (string, bool) {
	switch attr {
	case XattrVersion:
		return strconv.FormatInt(info.Version, 10), true
	case XattrTokens:
		return strconv.Itoa(info.Tokens), true
	case XattrAuthor:
		return info.Author, true
	case XattrModified:
		return info.Modified.UTC().Format(time.RFC3339Nano), true
	}
	if key, ok := strings.CutPrefix(attr, MetaPrefix); ok {
		v, ok := info.Meta[key]
		return v, ok
	}
	return "", false
}

// copyOut follows the xattr calling convention: with an empty dest only
// the size is returned, with one too small ERANGE.
func copyOut(dest []byte, val string) (uint32, syscall.Errno) {
	if len(dest) == 0 {
		return uint32(len(val)), 0
	}
	if len(dest) < len(val) {
		return uint32(len(val)), syscall.ERANGE
	}
	return uint32(copy(dest, val)), 0
}

func (n *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if !strings.HasPrefix(attr, xattrPrefix) {
		return 0, errNoAttr
	}
	info, en := n.committedInfo(n.m.ctx(ctx))
	if en != 0 {
		return 0, en
	}
	if info == nil {
		return 0, errNoAttr
	}
	v, ok := xattrValue(info, attr)
	if !ok {
		return 0, errNoAttr
	}
	return copyOut(dest, v)
}

func (n *fileNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	info, en := n.committedInfo(n.m.ctx(ctx))
	if en != 0 || info == nil {
		return 0, en
	}
	var b strings.Builder
	for _, a := range []string{XattrVersion, XattrTokens, XattrAuthor, XattrModified} {
		b.WriteString(a)
		b.WriteByte(0)
	}
	keys := make([]string, 0, len(info.Meta))
	for k := range info.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(MetaPrefix)
		b.WriteString(k)
		b.WriteByte(0)
	}
	return copyOut(dest, b.String())
}

// setMeta applies one metadata change through fs.MetaSetter.
func (n *fileNode) setMeta(ctx context.Context, attr string, val *string, flags uint32) syscall.Errno {
	if n.m.opts.ReadOnly {
		return syscall.EROFS
	}
	key, ok := strings.CutPrefix(attr, MetaPrefix)
	if !ok {
		if strings.HasPrefix(attr, xattrPrefix) {
			return syscall.EPERM // system fields are not settable
		}
		return syscall.ENOTSUP
	}
	if key == "" {
		return syscall.EINVAL
	}
	if n.m.metaSetter == nil {
		return syscall.ENOTSUP
	}
	ctx = n.m.ctx(ctx)
	if err := n.commitPending(ctx); err != nil {
		return errno(err)
	}
	info, en := n.committedInfo(ctx)
	if en != 0 {
		return en
	}
	_, exists := info.Meta[key]
	switch {
	case val == nil && !exists:
		return errNoAttr
	case flags&0x1 != 0 && exists: // XATTR_CREATE
		return syscall.EEXIST
	case flags&0x2 != 0 && !exists: // XATTR_REPLACE
		return errNoAttr
	}
	p, ok := n.m.pathOf(&n.Inode)
	if !ok {
		return syscall.ENOENT
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.m.expectChange(fs.OpWrite, p, "")
	ninfo, err := n.m.metaSetter.SetMeta(ctx, p, map[string]*string{key: val})
	if err != nil {
		n.m.unexpect(fs.OpWrite, p, "")
		return errno(err)
	}
	if ninfo != nil && n.buf == nil {
		n.info, n.infoAt = ninfo, time.Now()
		// Same content, new version: the kernel's pages stay valid.
		if n.cached == keyOf(info) {
			n.cached = keyOf(ninfo)
		}
	}
	return 0
}

func (n *fileNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	v := string(data)
	return n.setMeta(ctx, attr, &v, flags)
}

func (n *fileNode) Removexattr(ctx context.Context, attr string) syscall.Errno {
	return n.setMeta(ctx, attr, nil, 0)
}
