package afs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

// The AFS error codes (AFS-PROTOCOL.md §1).
const (
	CodeNotFound         = 1
	CodePermissionDenied = 2
	CodeConflict         = 3
	CodePartial          = 4
	CodeRuntime          = 5
	CodeUnauthorized     = 6
)

// errorKind is one row of the error table: an fs sentinel and the AFS code
// it becomes.
type errorKind struct {
	err  error
	code int
}

// errorTable maps errors to AFS codes; the first sentinel an error matches
// wins. The specific sentinels come first because a host errno can match
// more than one (ENOTEMPTY is also io/fs's ErrExist), and a non-empty
// directory is a runtime error, not a conflict.
var errorTable = []errorKind{
	{fs.ErrNotEmpty, CodeRuntime},
	{fs.ErrNotDir, CodeRuntime},
	{fs.ErrIsDir, CodeRuntime},
	{fs.ErrUnauthenticated, CodeUnauthorized},
	{fs.ErrReadOnly, CodePermissionDenied},
	{fs.ErrPermission, CodePermissionDenied},
	{fs.ErrConflict, CodeConflict},
	{fs.ErrExist, CodeConflict},
	{fs.ErrNotExist, CodeNotFound},
	{fs.ErrInvalid, CodeRuntime},
	{fs.ErrNotSupported, CodeRuntime},
	{fs.ErrTooLarge, CodeRuntime},
	{fs.ErrClosed, CodeRuntime},
	{context.DeadlineExceeded, CodeRuntime},
	{context.Canceled, CodeRuntime},
}

// codeOf returns the AFS code of err and whether a table row matched (an
// unmatched error is unexpected and worth logging).
func codeOf(err error) (int, bool) {
	for _, k := range errorTable {
		if errors.Is(err, k.err) {
			return k.code, true
		}
	}
	return CodeRuntime, false
}

// rpcError is a failure with the HTTP status to answer it with; dispatched
// calls answer 200, transport faults 400, 401, 405 or 413.
type rpcError struct {
	status int
	code   int
	msg    string
	err    error // the cause, for errors.Is in tests and logs
}

func (e *rpcError) Error() string { return e.msg }
func (e *rpcError) Unwrap() error { return e.err }

// transportErr is a fault in the request itself (HTTP 400 unless status).
func transportErr(status int, format string, args ...any) *rpcError {
	return &rpcError{status: status, code: CodeRuntime, msg: fmt.Sprintf(format, args...), err: fs.ErrInvalid}
}

// badParams is a parameter that cannot be used: the call is not dispatched.
func badParams(format string, args ...any) *rpcError {
	return transportErr(http.StatusBadRequest, format, args...)
}

// runtimeErr is a failed dispatched call with code 5.
func runtimeErr(format string, args ...any) *rpcError {
	return &rpcError{status: http.StatusOK, code: CodeRuntime, msg: fmt.Sprintf(format, args...), err: fs.ErrInvalid}
}

// toRPC turns an error from the file system into a dispatched-call failure,
// rewriting namespace paths in *PathErrors into AFS paths so the message
// shows what the client asked for.
func (h *handler) toRPC(err error) *rpcError {
	var re *rpcError
	if errors.As(err, &re) {
		return re
	}
	code, known := codeOf(err)
	if !known {
		h.log.Warn("afs: unclassified error", "err", err)
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Op + " " + h.afsPathString(pe.Path) + ": " + pe.Err.Error()
	}
	return &rpcError{status: http.StatusOK, code: code, msg: msg, err: err}
}

// afsPathString maps a namespace path string into the AFS namespace for
// messages; a path outside the AFS root is shown as it is.
func (h *handler) afsPathString(s string) string {
	p, err := fs.Parse(s)
	if err != nil {
		return s
	}
	if rel, ok := p.Rel(h.root); ok {
		return string(rel)
	}
	return strings.TrimSpace(s)
}
