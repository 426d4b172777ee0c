package mcp

import (
	"errors"
	"fmt"

	"github.com/ctxfs/ctxfs/fs"
)

// errorCodes is the door's one error table: each fs sentinel becomes a
// short code that starts the text of an error result, so an agent (and a
// test) can tell a missing file from a refusal without parsing prose. The
// first match wins; the order puts the specific sentinels first.
var errorCodes = []struct {
	err  error
	code string
}{
	{fs.ErrUnauthenticated, "unauthenticated"},
	{fs.ErrPermission, "permission_denied"},
	{fs.ErrReadOnly, "read_only"},
	{fs.ErrNotExist, "not_found"},
	{fs.ErrExist, "exists"},
	{fs.ErrConflict, "conflict"},
	{fs.ErrNotEmpty, "not_empty"},
	{fs.ErrNotDir, "not_dir"},
	{fs.ErrIsDir, "is_dir"},
	{fs.ErrTooLarge, "too_large"},
	{fs.ErrNotSupported, "not_supported"},
	{fs.ErrInvalid, "invalid"},
	{fs.ErrClosed, "closed"},
}

// ErrorCode returns the code of err in the door's error table, "internal"
// for errors that wrap no fs sentinel.
func ErrorCode(err error) string {
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return "internal"
}

// errorText is the text of an error result: "CODE: message".
func errorText(err error) string {
	return fmt.Sprintf("%s: %v", ErrorCode(err), err)
}

// invalidf returns an fs.ErrInvalid error for a bad argument.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", fs.ErrInvalid, fmt.Sprintf(format, args...))
}
