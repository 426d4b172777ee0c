package api

import "github.com/ctxfs/ctxfs/fs"

// DecodeErrorForTest encodes err as the server would and decodes it as the
// client does.
func DecodeErrorForTest(op string, p fs.Path, err error) error {
	status, body := toErrorJSON(err)
	return remoteErr(op, p, status, body)
}

// RoutesForTest returns the patterns of the authenticated endpoints.
func RoutesForTest() []string {
	var out []string
	for _, r := range (&handler{}).routes() {
		out = append(out, r.pattern)
	}
	return out
}
