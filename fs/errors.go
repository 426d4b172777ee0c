package fs

import (
	"errors"
	iofs "io/fs"
)

// The error sentinels. Errors returned by ctxfs packages wrap exactly one of
// these (usually inside a *PathError); test them with errors.Is. The first
// four are io/fs's own, so os and io/fs callers see familiar errors.
var (
	ErrNotExist   = iofs.ErrNotExist   // no such file, directory or version
	ErrExist      = iofs.ErrExist      // the path already exists
	ErrPermission = iofs.ErrPermission // the principal may not do this
	ErrInvalid    = iofs.ErrInvalid    // a malformed path, argument or record

	ErrNotDir          = errors.New("not a directory")
	ErrIsDir           = errors.New("is a directory")
	ErrNotEmpty        = errors.New("directory not empty")
	ErrReadOnly        = errors.New("read-only file system")
	ErrConflict        = errors.New("conflict") // a precondition (expected version) failed
	ErrTooLarge        = errors.New("too large")
	ErrUnauthenticated = errors.New("unauthenticated") // no or a wrong credential
	ErrNotSupported    = errors.New("operation not supported")
	ErrClosed          = errors.New("closed")
)

// PathError records an error and the operation and path that caused it. It
// is io/fs's PathError, so errors.As works for callers of either package.
type PathError = iofs.PathError

// pathErr wraps err for op on p, keeping an existing *PathError as it is.
func pathErr(op string, p Path, err error) error {
	var pe *PathError
	if errors.As(err, &pe) {
		return err
	}
	return &PathError{Op: op, Path: string(p), Err: err}
}

// Wrap is pathErr for providers: it returns err as a *PathError for op and
// p unless it already is one.
func Wrap(op string, p Path, err error) error {
	if err == nil {
		return nil
	}
	return pathErr(op, p, err)
}
