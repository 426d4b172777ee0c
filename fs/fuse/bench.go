package fuse

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ctxfs/ctxfs/fs"
)

// BenchOptions configure Bench. FS and Dir are required.
type BenchOptions struct {
	// FS is the file system to mount and measure; an empty one (a fresh
	// store) keeps the figures comparable between runs.
	FS fs.FS
	// Dir is a scratch directory on the disk to compare with: the mount
	// points and the loopback's backing directory are made in it, and
	// removed afterwards.
	Dir string
	// Mount are the options of the ctxfs mount.
	Mount Options
	// FileSize is the size of the sequential file; zero means 256 MiB.
	FileSize int64
	// BlockSize is the size of each read and write call; zero means 1 MiB.
	BlockSize int
	// SmallFiles is the number of small files; zero means 10,000.
	SmallFiles int
	// SmallSize is the size of each small file; zero means 1 KiB.
	SmallSize int
	// Fsync makes every written file fsync'ed before it is closed, in
	// both file systems.
	Fsync bool
	// Progress, when set, is called as each phase ends.
	Progress func(r Result)
}

// Report is the outcome of Bench: each phase on both file systems.
type Report struct {
	FileSize   int64    `json:"file_size"`
	BlockSize  int      `json:"block_size"`
	SmallFiles int      `json:"small_files"`
	SmallSize  int      `json:"small_size"`
	Fsync      bool     `json:"fsync"`
	Results    []Result `json:"results"`
}

// WriteText prints the report as a table: each phase's time and
// throughput on both file systems, the ratio and whether it meets its
// goal.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "ctxfs mount vs go-fuse loopback (no passthrough), same disk, same run; reads and stats after a remount\n")
	fmt.Fprintf(&b, "file %d MiB in %d KiB calls; %d small files of %d bytes; fsync %v\n\n",
		rep.FileSize>>20, rep.BlockSize>>10, rep.SmallFiles, rep.SmallSize, rep.Fsync)
	fmt.Fprintf(&b, "%-13s %12s %14s %12s %14s %7s %6s\n", "phase", "ctxfs", "", "loopback", "", "ratio", "goal")
	for _, r := range rep.Results {
		rate := func(d time.Duration) string {
			if r.Bytes > 0 && (r.Phase == PhaseSeqWrite || r.Phase == PhaseSeqRead) {
				return fmt.Sprintf("%8.1f MB/s", r.MBps(d))
			}
			return fmt.Sprintf("%8.0f files/s", r.OpsPerSec(d))
		}
		met := "ok"
		if !r.Met() {
			met = "MISSED"
		}
		fmt.Fprintf(&b, "%-13s %12v %14s %12v %14s %7.2f %4.1f %s\n", r.Phase,
			r.Ctxfs.Round(time.Millisecond), rate(r.Ctxfs), r.Loopback.Round(time.Millisecond), rate(r.Loopback), r.Ratio, r.Goal, met)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Result is one phase measured on the ctxfs mount and on the loopback
// mount. Ratio is ctxfs's throughput over the loopback's (the loopback's
// time over ctxfs's); Goal is the ratio the phase should reach.
type Result struct {
	Phase    string        `json:"phase"`
	Bytes    int64         `json:"bytes"` // bytes moved per run (0 for metadata phases)
	Ops      int           `json:"ops"`   // files handled per run
	Ctxfs    time.Duration `json:"ctxfs_ns"`
	Loopback time.Duration `json:"loopback_ns"`
	Ratio    float64       `json:"ratio"`
	Goal     float64       `json:"goal"`
}

// MBps returns the throughput of d over r's bytes, in MB/s (10^6).
func (r Result) MBps(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(r.Bytes) / 1e6 / d.Seconds()
}

// OpsPerSec returns files per second for d.
func (r Result) OpsPerSec(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(r.Ops) / d.Seconds()
}

// Met reports whether the phase reached its goal.
func (r Result) Met() bool { return r.Ratio >= r.Goal }

// The phases of Bench and their goals (ratios to the loopback).
const (
	PhaseSeqWrite    = "seq-write"
	PhaseSeqRead     = "seq-read"
	PhaseSmallCreate = "small-create"
	PhaseSmallStat   = "small-stat"
	PhaseSmallRead   = "small-read"
	PhaseSmallTotal  = "small-total"

	GoalRead  = 0.5
	GoalWrite = 0.3
	GoalSmall = 0.3
)

// Bench measures sequential write and read of one large file and create,
// stat and read of many small files through a ctxfs mount of opts.FS and,
// in the same run, through go-fuse's loopback file system over a
// directory of opts.Dir, with kernel passthrough turned off so its data
// goes through the server as ctxfs's does. Both are remounted before the
// read and stat phases, so the kernel's caches of the mounts are cold.
func Bench(ctx context.Context, opts BenchOptions) (*Report, error) {
	if opts.FS == nil || opts.Dir == "" {
		return nil, fmt.Errorf("%w: Bench needs FS and Dir", fs.ErrInvalid)
	}
	if opts.FileSize <= 0 {
		opts.FileSize = 256 << 20
	}
	if opts.BlockSize <= 0 {
		opts.BlockSize = 1 << 20
	}
	if opts.SmallFiles <= 0 {
		opts.SmallFiles = 10000
	}
	if opts.SmallSize <= 0 {
		opts.SmallSize = 1 << 10
	}
	work, err := os.MkdirTemp(opts.Dir, "ctxfs-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	targets := []*benchTarget{
		{name: "ctxfs", mount: func(dir string) (benchMount, error) {
			return Mount(ctx, dir, opts.FS, opts.Mount)
		}},
		{name: "loopback", mount: func(dir string) (benchMount, error) {
			return mountLoopback(filepath.Join(work, "backing"), dir)
		}},
	}
	if err := os.Mkdir(filepath.Join(work, "backing"), 0o755); err != nil {
		return nil, err
	}
	for _, t := range targets {
		t.dir = filepath.Join(work, "mnt-"+t.name)
		if err := os.Mkdir(t.dir, 0o755); err != nil {
			return nil, err
		}
		if err := t.remount(); err != nil {
			return nil, err
		}
		defer t.unmount()
	}

	rep := &Report{FileSize: opts.FileSize, BlockSize: opts.BlockSize, SmallFiles: opts.SmallFiles, SmallSize: opts.SmallSize, Fsync: opts.Fsync}
	block := make([]byte, opts.BlockSize)
	rand.Read(block)
	small := block[:min(opts.SmallSize, len(block))]
	if opts.SmallSize > len(block) {
		small = make([]byte, opts.SmallSize)
		rand.Read(small)
	}

	type phase struct {
		name    string
		bytes   int64
		ops     int
		goal    float64
		remount bool
		run     func(dir string) error
	}
	phases := []phase{
		{PhaseSeqWrite, opts.FileSize, 1, GoalWrite, false, func(dir string) error {
			return seqWrite(filepath.Join(dir, "big"), block, opts.FileSize, opts.Fsync)
		}},
		{PhaseSeqRead, opts.FileSize, 1, GoalRead, true, func(dir string) error {
			return seqRead(filepath.Join(dir, "big"), make([]byte, opts.BlockSize), opts.FileSize)
		}},
		{PhaseSmallCreate, int64(opts.SmallFiles) * int64(opts.SmallSize), opts.SmallFiles, GoalSmall, false, func(dir string) error {
			return smallCreate(filepath.Join(dir, "small"), opts.SmallFiles, small, opts.Fsync)
		}},
		{PhaseSmallStat, 0, opts.SmallFiles, GoalSmall, true, func(dir string) error {
			return smallStat(filepath.Join(dir, "small"), opts.SmallFiles, int64(len(small)))
		}},
		{PhaseSmallRead, int64(opts.SmallFiles) * int64(opts.SmallSize), opts.SmallFiles, GoalSmall, false, func(dir string) error {
			return smallRead(filepath.Join(dir, "small"), opts.SmallFiles, len(small))
		}},
	}
	var smallTotal [2]time.Duration
	for _, ph := range phases {
		res := Result{Phase: ph.name, Bytes: ph.bytes, Ops: ph.ops, Goal: ph.goal}
		for i, t := range targets {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			if ph.remount {
				if err := t.remount(); err != nil {
					return rep, err
				}
			}
			start := time.Now()
			if err := ph.run(t.dir); err != nil {
				return rep, fmt.Errorf("%s on %s: %w", ph.name, t.name, err)
			}
			d := time.Since(start)
			if i == 0 {
				res.Ctxfs = d
			} else {
				res.Loopback = d
			}
			if ph.name != PhaseSeqWrite && ph.name != PhaseSeqRead {
				smallTotal[i] += d
			}
		}
		res.Ratio = ratio(res.Loopback, res.Ctxfs)
		rep.Results = append(rep.Results, res)
		if opts.Progress != nil {
			opts.Progress(res)
		}
	}
	total := Result{Phase: PhaseSmallTotal, Bytes: 2 * int64(opts.SmallFiles) * int64(opts.SmallSize), Ops: opts.SmallFiles,
		Ctxfs: smallTotal[0], Loopback: smallTotal[1], Ratio: ratio(smallTotal[1], smallTotal[0]), Goal: GoalSmall}
	rep.Results = append(rep.Results, total)
	if opts.Progress != nil {
		opts.Progress(total)
	}
	var errs []error
	for _, t := range targets {
		errs = append(errs, t.unmount())
	}
	return rep, errors.Join(errs...)
}

func ratio(loop, ctxfs time.Duration) float64 {
	if ctxfs <= 0 {
		return 0
	}
	return loop.Seconds() / ctxfs.Seconds()
}

// benchMount is what Bench needs of a mount.
type benchMount interface {
	Unmount() error
	Wait()
}

type benchTarget struct {
	name  string
	dir   string
	mount func(dir string) (benchMount, error)
	cur   benchMount
}

func (t *benchTarget) remount() error {
	if err := t.unmount(); err != nil {
		return err
	}
	m, err := t.mount(t.dir)
	if err != nil {
		return fmt.Errorf("mounting %s: %w", t.name, err)
	}
	t.cur = m
	return nil
}

func (t *benchTarget) unmount() error {
	if t.cur == nil {
		return nil
	}
	err := t.cur.Unmount()
	t.cur.Wait()
	t.cur = nil
	return err
}

func seqWrite(name string, block []byte, size int64, fsync bool) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	for written := int64(0); written < size; {
		b := block
		if rest := size - written; rest < int64(len(b)) {
			b = b[:rest]
		}
		n, err := f.Write(b)
		if err != nil {
			f.Close()
			return err
		}
		written += int64(n)
	}
	if fsync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func seqRead(name string, buf []byte, want int64) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var got int64
	for {
		n, err := f.Read(buf)
		got += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if got != want {
		return fmt.Errorf("read %d bytes, want %d", got, want)
	}
	return nil
}

func smallName(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("f%05d", i))
}

func smallCreate(dir string, n int, data []byte, fsync bool) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		f, err := os.OpenFile(smallName(dir, i), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		if fsync {
			if err := f.Sync(); err != nil {
				f.Close()
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func smallStat(dir string, n int, size int64) error {
	var st syscall.Stat_t
	for i := 0; i < n; i++ {
		if err := syscall.Stat(smallName(dir, i), &st); err != nil {
			return err
		}
		if st.Size != size {
			return fmt.Errorf("%s: size %d, want %d", smallName(dir, i), st.Size, size)
		}
	}
	return nil
}

func smallRead(dir string, n, size int) error {
	buf := make([]byte, size+1)
	for i := 0; i < n; i++ {
		fd, err := syscall.Open(smallName(dir, i), syscall.O_RDONLY, 0)
		if err != nil {
			return err
		}
		got, err := syscall.Read(fd, buf)
		syscall.Close(fd)
		if err != nil {
			return err
		}
		if got != size {
			return fmt.Errorf("%s: read %d bytes, want %d", smallName(dir, i), got, size)
		}
	}
	return nil
}

// mountLoopback mounts go-fuse's loopback file system of backing at dir,
// with the same kernel settings as a ctxfs mount and no kernel
// passthrough: its file handles are wrapped so that they offer no backing
// file descriptor, and every byte goes through the server.
func mountLoopback(backing, dir string) (*gofuse.Server, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, err
	}
	root := &gofs.LoopbackRoot{Path: backing, Dev: uint64(st.Dev)}
	root.NewNode = func(r *gofs.LoopbackRoot, parent *gofs.Inode, name string, st *syscall.Stat_t) gofs.InodeEmbedder {
		return &noPassthroughNode{LoopbackNode: gofs.LoopbackNode{RootData: r}}
	}
	root.RootNode = root.NewNode(root, nil, "", &st)
	sec := time.Second
	opts := &gofs.Options{
		AttrTimeout:  &sec,
		EntryTimeout: &sec,
		MountOptions: gofuse.MountOptions{
			FsName:       "loopback",
			Name:         "loopback",
			MaxWrite:     1 << 20,
			MaxReadAhead: 1 << 20,
			DirectMount:  os.Geteuid() == 0,
		},
	}
	return gofs.Mount(dir, root.RootNode, opts)
}

// noPassthroughNode is a loopback node whose open files have no backing
// file descriptor.
type noPassthroughNode struct {
	gofs.LoopbackNode
}

func (n *noPassthroughNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fh, fl, en := n.LoopbackNode.Open(ctx, flags)
	return wrapLoopbackFile(fh), fl, en
}

func (n *noPassthroughNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	in, fh, fl, en := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	return in, wrapLoopbackFile(fh), fl, en
}

func wrapLoopbackFile(fh gofs.FileHandle) gofs.FileHandle {
	if lf, ok := fh.(*gofs.LoopbackFile); ok {
		return &noPassthroughFile{f: lf}
	}
	return fh
}

// noPassthroughFile forwards the file operations of a loopback file,
// except PassthroughFd.
type noPassthroughFile struct {
	f *gofs.LoopbackFile
}

var (
	_ gofs.FileReader    = (*noPassthroughFile)(nil)
	_ gofs.FileWriter    = (*noPassthroughFile)(nil)
	_ gofs.FileReleaser  = (*noPassthroughFile)(nil)
	_ gofs.FileFlusher   = (*noPassthroughFile)(nil)
	_ gofs.FileFsyncer   = (*noPassthroughFile)(nil)
	_ gofs.FileGetattrer = (*noPassthroughFile)(nil)
	_ gofs.FileSetattrer = (*noPassthroughFile)(nil)
	_ gofs.FileLseeker   = (*noPassthroughFile)(nil)
	_ gofs.FileAllocater = (*noPassthroughFile)(nil)
)

func (p *noPassthroughFile) Read(ctx context.Context, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	return p.f.Read(ctx, dest, off)
}
func (p *noPassthroughFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	return p.f.Write(ctx, data, off)
}
func (p *noPassthroughFile) Release(ctx context.Context) syscall.Errno { return p.f.Release(ctx) }
func (p *noPassthroughFile) Flush(ctx context.Context) syscall.Errno   { return p.f.Flush(ctx) }
func (p *noPassthroughFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return p.f.Fsync(ctx, flags)
}
func (p *noPassthroughFile) Getattr(ctx context.Context, out *gofuse.AttrOut) syscall.Errno {
	return p.f.Getattr(ctx, out)
}
func (p *noPassthroughFile) Setattr(ctx context.Context, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	return p.f.Setattr(ctx, in, out)
}
func (p *noPassthroughFile) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return p.f.Lseek(ctx, off, whence)
}
func (p *noPassthroughFile) Allocate(ctx context.Context, off uint64, size uint64, mode uint32) syscall.Errno {
	return p.f.Allocate(ctx, off, size, mode)
}
