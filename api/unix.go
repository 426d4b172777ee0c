package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// maxSockPath is the longest unix socket path Linux accepts (sun_path is
// 108 bytes with the terminating NUL).
const maxSockPath = 107

// ErrServerRunning is returned by ServeUnix when another server already
// answers on the socket.
var ErrServerRunning = errors.New("a ctxfs server is already running")

// Peer is the process at the other end of a unix socket connection, as the
// kernel reports it (SO_PEERCRED).
type Peer struct {
	PID int32
	UID uint32
	GID uint32
}

type peerKey struct{}

// PeerFrom returns the peer credentials of the unix socket connection a
// request came in on; ok is false for other connections.
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// ServeUnix serves h on a unix socket at sockPath until ctx is done, then
// shuts down gracefully (waiting up to 10 s for requests in flight) and
// removes the socket. The socket has mode 0600 from the moment it appears
// at sockPath: it is created in a private temporary directory and renamed
// into place. A socket file already at sockPath is replaced only if nothing
// answers on it (a crash's leftover); if a server answers, ServeUnix returns
// ErrServerRunning. Requests carry the peer's credentials (PeerFrom), so an
// Authenticate hook can check the caller's uid.
func ServeUnix(ctx context.Context, sockPath string, h http.Handler) error {
	return serveUnix(ctx, sockPath, h, nil)
}

// serveUnix is ServeUnix with a hook called once the socket is listening
// (tests use it to know when to connect).
func serveUnix(ctx context.Context, sockPath string, h http.Handler, ready func()) error {
	if err := clearStale(sockPath); err != nil {
		return err
	}
	dir := filepath.Dir(sockPath)
	// A short name: the temporary socket path must fit the ~107 bytes a
	// unix socket address allows, at most a few bytes more than sockPath.
	tmpDir, err := os.MkdirTemp(dir, ".s")
	if err != nil {
		return fmt.Errorf("api: socket: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmpSock := filepath.Join(tmpDir, "s")
	if len(sockPath) > maxSockPath || len(tmpSock) > maxSockPath {
		return fmt.Errorf("api: socket %s: %w: the path is longer than the %d bytes a unix socket allows; use a shorter data directory", sockPath, fs.ErrInvalid, maxSockPath)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpSock, Net: "unix"})
	if err != nil {
		return fmt.Errorf("api: socket: %w", err)
	}
	// The listener keeps working after the rename; it must not unlink the
	// temporary name on close, and we remove the real one ourselves.
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(tmpSock, 0o600); err != nil {
		l.Close()
		return fmt.Errorf("api: socket: %w", err)
	}
	if err := os.Rename(tmpSock, sockPath); err != nil {
		l.Close()
		return fmt.Errorf("api: socket: %w", err)
	}
	os.Remove(tmpDir)
	// Remove the socket only while it is still ours: a later server may
	// have replaced it after we were declared stale.
	ours, _ := os.Stat(sockPath)
	defer func() {
		if fi, err := os.Stat(sockPath); err == nil && ours != nil && os.SameFile(fi, ours) {
			os.Remove(sockPath)
		}
	}()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if p, ok := peerOf(c); ok {
				return context.WithValue(ctx, peerKey{}, p)
			}
			return ctx
		},
	}
	DrainOnShutdown(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	if ready != nil {
		ready()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("api: serving %s: %w", sockPath, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// clearStale removes a socket file at path that nothing answers on.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("api: socket: %w", err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("api: socket %s: %w: a file that is not a socket is in the way", path, fs.ErrExist)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("api: socket %s: %w", path, ErrServerRunning)
	}
	if !isNoServer(err) {
		return fmt.Errorf("api: socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("api: socket: %w", err)
	}
	return nil
}
