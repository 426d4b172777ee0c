package fuse

import (
	"context"
	"errors"
	"syscall"

	"github.com/ctxfs/ctxfs/fs"
)

// errnoTable maps the fs error sentinels to the errno values a POSIX
// program expects. It is the only place where ctxfs errors become errnos:
// every operation of the mount returns errno(err). The order matters only
// for errors that wrap more than one sentinel, which ctxfs errors never do.
var errnoTable = []struct {
	err   error
	errno syscall.Errno
}{
	{fs.ErrNotExist, syscall.ENOENT},
	{fs.ErrExist, syscall.EEXIST},
	{fs.ErrNotDir, syscall.ENOTDIR},
	{fs.ErrIsDir, syscall.EISDIR},
	{fs.ErrNotEmpty, syscall.ENOTEMPTY},
	{fs.ErrPermission, syscall.EACCES},
	{fs.ErrUnauthenticated, syscall.EACCES},
	{fs.ErrReadOnly, syscall.EROFS},
	{fs.ErrInvalid, syscall.EINVAL},
	{fs.ErrTooLarge, syscall.EFBIG},
	{fs.ErrConflict, syscall.EBUSY},
	{fs.ErrNotSupported, syscall.ENOTSUP},
	{fs.ErrClosed, syscall.ESHUTDOWN},
	{context.Canceled, syscall.EINTR},
	{context.DeadlineExceeded, syscall.ETIMEDOUT},
}

// errno returns the errno for err: 0 for nil, the table's entry for the
// sentinel err wraps, an errno err already is (from the temp file of a
// write buffer, say), else EIO.
func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	for _, e := range errnoTable {
		if errors.Is(err, e.err) {
			return e.errno
		}
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return syscall.EIO
}
