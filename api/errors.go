package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ctxfs/ctxfs/fs"
)

// errorKind is one row of the error table: an fs sentinel, the HTTP status
// the server answers with and the code the JSON body carries.
type errorKind struct {
	err    error
	status int
	code   string
}

// errorTable maps errors to statuses and codes, and codes back to errors.
// Order matters: the first sentinel an error matches wins, so the specific
// ones come before those that an underlying errno may also match (a host
// ENOTEMPTY is also io/fs's ErrExist).
var errorTable = []errorKind{
	{fs.ErrNotEmpty, http.StatusConflict, "not_empty"},
	{fs.ErrNotDir, http.StatusConflict, "not_dir"},
	{fs.ErrIsDir, http.StatusConflict, "is_dir"},
	{fs.ErrReadOnly, http.StatusForbidden, "read_only"},
	{fs.ErrConflict, http.StatusPreconditionFailed, "conflict"},
	{fs.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{fs.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{fs.ErrNotSupported, http.StatusNotImplemented, "not_supported"},
	{fs.ErrClosed, http.StatusServiceUnavailable, "closed"},
	{fs.ErrPermission, http.StatusForbidden, "permission_denied"},
	{fs.ErrNotExist, http.StatusNotFound, "not_found"},
	{fs.ErrExist, http.StatusConflict, "exists"},
	{fs.ErrInvalid, http.StatusBadRequest, "invalid"},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, "timeout"},
	{context.Canceled, 499, "canceled"}, // nginx's "client closed request"
}

const codeInternal = "internal"

// classify returns the status and code for err.
func classify(err error) (int, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "too_large"
	}
	for _, k := range errorTable {
		if errors.Is(err, k.err) {
			return k.status, k.code
		}
	}
	return http.StatusInternalServerError, codeInternal
}

// StatusCode returns the HTTP status the API answers err with.
func StatusCode(err error) int {
	s, _ := classify(err)
	return s
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Op      string `json:"op,omitempty"`
	Path    string `json:"path,omitempty"`
}

// toErrorJSON splits a *PathError so the client can rebuild it without the
// operation and path appearing twice in the message.
func toErrorJSON(err error) (int, errorJSON) {
	status, code := classify(err)
	e := errorJSON{Code: code, Message: err.Error()}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		e.Op, e.Path, e.Message = pe.Op, pe.Path, pe.Err.Error()
	}
	return status, e
}

// RemoteError is an error reported by the server. It unwraps to the fs
// sentinel its code names, so errors.Is works across the wire.
type RemoteError struct {
	Status  int    // HTTP status
	Code    string // the error code of the body, e.g. "not_found"
	Message string
	err     error // the sentinel, nil for unknown codes
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the fs sentinel of the error's code.
func (e *RemoteError) Unwrap() error { return e.err }

// sentinelFor returns the sentinel for a code, or for the status when the
// code is unknown (a proxy's answer, say).
func sentinelFor(code string, status int) error {
	for _, k := range errorTable {
		if k.code == code {
			return k.err
		}
	}
	if code == "" {
		return statusSentinels[status]
	}
	return nil
}

// statusSentinels interpret a status without an error code, as a proxy in
// front of the server might send.
var statusSentinels = map[int]error{
	http.StatusBadRequest:            fs.ErrInvalid,
	http.StatusUnauthorized:          fs.ErrUnauthenticated,
	http.StatusForbidden:             fs.ErrPermission,
	http.StatusNotFound:              fs.ErrNotExist,
	http.StatusConflict:              fs.ErrExist,
	http.StatusPreconditionFailed:    fs.ErrConflict,
	http.StatusRequestEntityTooLarge: fs.ErrTooLarge,
	http.StatusNotImplemented:        fs.ErrNotSupported,
	http.StatusServiceUnavailable:    fs.ErrClosed,
}

// remoteErr builds the client-side error for a failed response.
func remoteErr(op string, p fs.Path, status int, body errorJSON) error {
	re := &RemoteError{Status: status, Code: body.Code, Message: body.Message, err: sentinelFor(body.Code, status)}
	if re.Message == "" {
		re.Message = http.StatusText(status)
		if re.err != nil {
			re.Message = re.err.Error()
		}
	}
	if body.Op != "" {
		op = body.Op
	}
	path := string(p)
	if body.Path != "" {
		path = body.Path
	}
	if path == "" {
		return fmt.Errorf("%s: %w", op, re)
	}
	return &fs.PathError{Op: op, Path: path, Err: re}
}
