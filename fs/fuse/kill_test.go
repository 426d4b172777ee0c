package fuse

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// Environment of the helper process of TestKill.
const (
	envKillStore = "CTXFS_FUSE_TEST_KILL_STORE"
	envKillMount = "CTXFS_FUSE_TEST_KILL_MOUNT"
)

// TestKillHelper is not a test: TestKill runs the test binary with it as
// the only test, in a process that serves a mount until it is killed.
func TestKillHelper(t *testing.T) {
	dbPath, dir := os.Getenv(envKillStore), os.Getenv(envKillMount)
	if dbPath == "" {
		t.Skip("helper process of TestKill; runs only when TestKill starts it")
	}
	st, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Mount(context.Background(), dir, st, Options{}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	time.Sleep(time.Minute)
}

// TestKill kills a serving process with SIGKILL and checks that what was
// closed in its mount is in the store, what was not closed is not there
// at all, and that the same directory mounts again (the stale mount is
// cleared). The files are written by this process, not the server: a
// process that holds files open in its own mount cannot exit, since the
// kernel waits for the (dead) server to answer their flush.
func TestKill(t *testing.T) {
	requireFUSE(t)
	tmp := t.TempDir()
	dbPath := filepath.Join(tmp, "ctxfs.db")
	dir := filepath.Join(tmp, "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.v")
	cmd.Env = append(os.Environ(), envKillStore+"="+dbPath, envKillMount+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatal("helper process ended before it was ready")
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper process not ready after 30s")
	}

	if err := os.WriteFile(filepath.Join(dir, "closed.txt"), []byte("committed at close"), 0o644); err != nil {
		t.Fatal(err)
	}
	open, err := os.Create(filepath.Join(dir, "open.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open.WriteString("never closed"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := open.Close(); err == nil {
		t.Error("closing a file of a killed server succeeded")
	}
	if _, err := os.Stat(dir); !errors.Is(err, syscall.ENOTCONN) {
		t.Errorf("mount point after the kill: %v, want ENOTCONN", err)
	}

	st, err := store.Open(dbPath, storeOpts())
	if err != nil {
		t.Fatalf("opening the store after the kill: %v", err)
	}
	defer st.Close()
	if _, err := st.Stat(testCtx(), "/open.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file never closed is in the store: %v", err)
	}
	srv, err := Mount(context.Background(), dir, st, Options{})
	if err != nil {
		t.Fatalf("mounting again after the kill: %v", err)
	}
	defer func() {
		if err := srv.Unmount(); err != nil {
			t.Error(err)
		}
		srv.Wait()
	}()
	if got := mustRead(t, filepath.Join(dir, "closed.txt")); got != "committed at close" {
		t.Errorf("closed file reads %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "open.txt")); !os.IsNotExist(err) {
		t.Errorf("unclosed file in the new mount: %v", err)
	}
}

func TestMountErrors(t *testing.T) {
	requireFUSE(t)
	st := newStore(t, storeOpts())
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Mount(context.Background(), file, st, Options{}); !errors.Is(err, fs.ErrNotDir) {
		t.Errorf("mount on a file: %v", err)
	}
	srv, dir := mountFS(t, st, Options{})
	if _, err := Mount(context.Background(), dir, st, Options{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("mount on a live mount: %v", err)
	}
	if srv.Mountpoint() != dir {
		t.Errorf("Mountpoint %q", srv.Mountpoint())
	}
}

func TestUnmountBusy(t *testing.T) {
	// Unmount with a file still open commits it and detaches the mount.
	requireFUSE(t)
	st := newStore(t, storeOpts())
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Mount(ctx, dir, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "busy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("written before unmount")
	cancel() // cancelling the context unmounts
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := mountedAt(dir); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still mounted after the context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Unmount(); err != nil {
		t.Errorf("Unmount: %v", err)
	}
	info, err := st.Stat(testCtx(), "/busy.txt")
	if err != nil || info.Size != int64(len("written before unmount")) {
		t.Errorf("open file after unmount: %+v %v", info, err)
	}
	select {
	case <-srv.Done():
		t.Error("server stopped while a file of the lazily detached mount was open")
	default:
	}
	f.Close()
	select {
	case <-srv.Done():
	case <-time.After(10 * time.Second):
		t.Error("server still running after the last open file was closed")
	}
}
