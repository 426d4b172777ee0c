package fuse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ctxfs/ctxfs/fs"
)

// Server is a mounted file system.
//
// Concurrency: Unmount and Wait may be called from any goroutine, and
// Unmount more than once.
type Server struct {
	m          *mount
	srv        *gofuse.Server
	mountpoint string
	cancel     context.CancelFunc
	watchDone  chan struct{}
	done       chan struct{} // closed when the server has stopped

	once sync.Once
	err  error // of the first Unmount
}

// Mount mounts fsys at mountpoint and serves it until Unmount is called
// or ctx is done. A stale mount left at mountpoint by a killed process is
// cleared first; a live one is an error wrapping fs.ErrExist.
func Mount(ctx context.Context, mountpoint string, fsys fs.FS, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	dir, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, err
	}
	if err := ClearStale(dir); err != nil {
		return nil, err
	}
	if t, ok := mountedAt(dir); ok {
		return nil, &fs.PathError{Op: "mount", Path: dir, Err: fmt.Errorf("%w: a %s file system is mounted there", fs.ErrExist, t)}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, &fs.PathError{Op: "mount", Path: dir, Err: fs.ErrNotDir}
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("mount %s: /dev/fuse is not available (install fuse3): %w", dir, err)
	}

	m := &mount{
		fsys:    fsys,
		opts:    opts,
		started: time.Now(),
		log:     opts.Logger,
		open:    make(map[*fileNode]struct{}),
		expect:  make(map[expectKey]expectation),
	}
	m.uid, m.gid = currentIDs()
	m.base = context.WithoutCancel(ctx)
	if opts.Principal.Name != "" {
		m.base = fs.WithPrincipal(m.base, opts.Principal)
	}
	m.versioner, _ = fsys.(fs.Versioner)
	m.searcher, _ = fsys.(fs.Searcher)
	m.metaSetter, _ = fsys.(fs.MetaSetter)
	m.watcher, _ = fsys.(fs.Watcher)
	m.root = &dirNode{m: m}

	at, et, neg := opts.AttrTimeout, opts.EntryTimeout, time.Duration(0)
	mo := gofuse.MountOptions{
		FsName:       "ctxfs",
		Name:         "ctxfs",
		MaxWrite:     1 << 20,
		MaxReadAhead: 1 << 20,
		AllowOther:   opts.AllowOther,
		// As root, mount(2) directly; otherwise through fusermount3.
		DirectMount: os.Geteuid() == 0,
		// O_TRUNC arrives with OPEN, so truncating and rewriting a file
		// is one change, not two.
		ExtraCapabilities: gofuse.CAP_ATOMIC_O_TRUNC,
		Debug:             opts.Debug,
		Logger:            slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	if opts.ReadOnly {
		mo.Options = append(mo.Options, "ro")
	}
	gopts := &gofs.Options{
		MountOptions:    mo,
		AttrTimeout:     &at,
		EntryTimeout:    &et,
		NegativeTimeout: &neg,
		UID:             m.uid,
		GID:             m.gid,
		Logger:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if opts.Principal.Name != "" {
		wctx = fs.WithPrincipal(wctx, opts.Principal)
	}
	watchDone := make(chan struct{})
	var watch func()
	if m.watcher != nil {
		watch = m.startWatch(wctx, watchDone)
	} else {
		close(watchDone)
	}
	srv, err := gofs.Mount(dir, m.root, gopts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	s := &Server{m: m, srv: srv, mountpoint: dir, cancel: cancel, watchDone: watchDone, done: make(chan struct{})}
	go func() {
		srv.Wait()
		close(s.done)
	}()
	if watch != nil {
		go watch()
	}
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				s.Unmount()
			case <-wctx.Done():
			}
		}()
	}
	return s, nil
}

// Mountpoint is the absolute path the file system is mounted at.
func (s *Server) Mountpoint() string { return s.mountpoint }

// Unmount commits the writes of files still open, stops following the
// change log and unmounts. When files are still open (a shell inside the
// mount, say) it detaches the mount lazily: it vanishes from the
// namespace at once and the server goes on serving the open files until
// they are closed; Wait returns then.
func (s *Server) Unmount() error {
	s.once.Do(func() {
		ctx := s.m.ctx(context.Background())
		commitErr := s.m.commitAll(ctx)
		s.cancel()
		<-s.watchDone
		err := s.srv.Unmount()
		if err != nil {
			if lerr := lazyUnmount(s.mountpoint); lerr == nil {
				err = nil
			} else {
				err = fmt.Errorf("unmount %s: %w (lazy unmount: %v)", s.mountpoint, err, lerr)
			}
		}
		s.err = errors.Join(commitErr, err)
	})
	return s.err
}

// Wait blocks until the file system is unmounted and every request has
// been served. After a lazy unmount that is when the last file open in
// the mount is closed.
func (s *Server) Wait() { <-s.done }

// Done returns a channel that is closed when Wait would return, for a
// command that waits for the server but not forever:
//
//	srv.Unmount()
//	select {
//	case <-srv.Done():
//	case <-time.After(5 * time.Second): // a shell still inside the mount
//	}
//
// Exiting then is safe: writes to files still open were committed by
// Unmount, and the kernel fails further access with ENOTCONN.
func (s *Server) Done() <-chan struct{} { return s.done }

// ClearStale clears a mount at dir whose server is gone (a process that
// was killed leaves one behind: every access fails with ENOTCONN), so that
// dir can be mounted again. It does nothing to a healthy directory or a
// live mount.
func ClearStale(dir string) error {
	_, err := os.Stat(dir)
	if err == nil || !errors.Is(err, syscall.ENOTCONN) && !errors.Is(err, syscall.ECONNABORTED) {
		return nil
	}
	if err := lazyUnmount(dir); err != nil {
		return fmt.Errorf("clearing the stale mount at %s: %w", dir, err)
	}
	return nil
}

// lazyUnmount detaches the mount at dir: with umount2(MNT_DETACH) as root,
// else with fusermount3 -u -z.
func lazyUnmount(dir string) error {
	if os.Geteuid() == 0 {
		if err := detach(dir); err == nil {
			return nil
		}
	}
	var last error
	for _, prog := range []string{"fusermount3", "fusermount"} {
		out, err := exec.Command(prog, "-u", "-z", dir).CombinedOutput()
		if err == nil {
			return nil
		}
		last = fmt.Errorf("%s: %v: %s", prog, err, strings.TrimSpace(string(out)))
	}
	return last
}

// mountedAt reports the type of the file system mounted exactly at dir,
// from /proc/self/mountinfo.
func mountedAt(dir string) (string, bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var found string
	var ok bool
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || unescapeMountinfo(fields[4]) != dir {
			continue
		}
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) {
				// The last mount at dir is the one in effect.
				found, ok = fields[i+1], true
				break
			}
		}
	}
	return found, ok
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
