package api

import (
	"fmt"
	"net/http"
	"os"

	"github.com/ctxfs/ctxfs/fs"
)

// HeaderAs names the principal a request on the local socket acts as
// (LocalOwner honours it; nothing else does).
const HeaderAs = "X-Ctxfs-As"

// LocalOwner returns an Authenticate hook for the data directory's unix
// socket. A request whose peer is this process's user (or root) acts as
// admin, the principal named admin; with an X-Ctxfs-As header it acts as
// that (non-admin) principal instead, so the local command line can run
// `--as NAME` through a running server. Requests from other users, or from
// connections without peer credentials (not a unix socket), are refused
// with fs.ErrUnauthenticated. The socket's 0600 mode already keeps other
// users out; this is the second lock.
func LocalOwner(admin string) func(*http.Request) (fs.Principal, error) {
	uid := uint32(os.Getuid())
	return func(r *http.Request) (fs.Principal, error) {
		peer, ok := PeerFrom(r.Context())
		if !ok {
			return fs.Principal{}, fmt.Errorf("%w: not a local socket connection", fs.ErrUnauthenticated)
		}
		if peer.UID != uid && peer.UID != 0 {
			return fs.Principal{}, fmt.Errorf("%w: uid %d does not own this server", fs.ErrUnauthenticated, peer.UID)
		}
		if as := r.Header.Get(HeaderAs); as != "" {
			if err := fs.ValidPrincipalName(as); err != nil {
				return fs.Principal{}, err
			}
			return fs.Principal{Name: as}, nil
		}
		return fs.Principal{Name: admin, Admin: true}, nil
	}
}
