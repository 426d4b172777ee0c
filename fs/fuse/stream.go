package fuse

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/ctxfs/ctxfs/fs"
)

// A stream overlaps a large file's commit with its writing. When a file
// that started empty (created, or truncated to nothing) is written
// strictly in order and outgrows the memory part of its buffer, its
// content is also fed, as it arrives, to a file system Write running in
// the background; close then only ends that Write, which has read and
// hashed the content meanwhile, instead of starting one. The buffer
// still receives every byte (reads through the file, and any change
// other than an append, use it): the stream is an optimization that is
// abandoned, committing nothing, when the file is changed out of order,
// truncated, renamed, removed, or the Write fails early, and the commit
// then goes the ordinary way.
type stream struct {
	path fs.Path
	ch   chan *[]byte // data to feed, in order; closed to finish
	fed  int64        // bytes sent on ch (owner: the node, under its lock)

	aborted atomic.Bool
	done    chan struct{} // closed when the Write has returned
	info    *fs.Info      // the Write's result, once done
	err     error
}

// streamDepth is how many writes may wait to be fed; with 1 MiB writes,
// 8 MiB in flight.
const streamDepth = 8

var errAborted = errors.New("stream abandoned")

var feedBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// startStream begins a background Write of p fed from a new stream.
func (m *mount) startStream(ctx context.Context, p fs.Path) *stream {
	s := &stream{path: p, ch: make(chan *[]byte, streamDepth), done: make(chan struct{})}
	pr, pw := io.Pipe()
	go func() {
		var werr error
		for b := range s.ch {
			if werr == nil {
				_, werr = pw.Write(*b)
			}
			*b = (*b)[:0]
			feedBufs.Put(b)
		}
		if s.aborted.Load() {
			pw.CloseWithError(errAborted)
		} else {
			pw.Close()
		}
	}()
	go func() {
		s.info, s.err = m.fsys.Write(ctx, p, pr, fs.WriteOptions{})
		if s.err == nil && s.aborted.Load() {
			s.err = errAborted // unreachable: an abandoned feed fails the read
		}
		pr.CloseWithError(io.ErrClosedPipe) // unblock a feeder the Write left
		close(s.done)
	}()
	return s
}

// feed sends a copy of data. It reports false when the Write has already
// ended (failed), so the stream cannot be the commit.
func (s *stream) feed(data []byte) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	b := feedBufs.Get().(*[]byte)
	*b = append((*b)[:0], data...)
	s.ch <- b
	s.fed += int64(len(data))
	return true
}

// abort abandons the stream: the Write fails and commits nothing.
func (s *stream) abort() {
	s.aborted.Store(true)
	close(s.ch)
}

// finish ends the feed and returns the Write's result.
func (s *stream) finish() (*fs.Info, error) {
	close(s.ch)
	<-s.done
	return s.info, s.err
}

// streamWriteLocked keeps the stream in step after a write of data at off
// to the buffer, which held prev bytes before (n.mu held): it starts one
// when a file written in order leaves memory, feeds it, or abandons it.
func (n *fileNode) streamWriteLocked(ctx context.Context, data []byte, off, prev int64) {
	if !n.seq {
		return
	}
	if off != prev {
		n.breakStreamLocked()
		return
	}
	if n.stream == nil {
		if n.streamed || !n.buf.spilled() {
			return
		}
		p, ok := n.m.pathOf(&n.Inode)
		if !ok {
			return
		}
		n.streamed = true
		n.stream = n.m.startStream(ctx, p)
		// What the buffer holds so far, the write just made included.
		chunk := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(chunk)
		for pos := int64(0); pos < n.buf.Size(); {
			k, err := n.buf.ReadAt(*chunk, pos)
			if k > 0 && !n.stream.feed((*chunk)[:k]) {
				n.breakStreamLocked()
				return
			}
			pos += int64(k)
			if err != nil && pos < n.buf.Size() {
				n.breakStreamLocked()
				return
			}
		}
		return
	}
	if !n.stream.feed(data) {
		n.breakStreamLocked()
	}
}

// breakStreamLocked abandons the stream (and streaming for the rest of
// this buffer's life): the file is no longer written in order.
func (n *fileNode) breakStreamLocked() {
	n.seq = false
	if n.stream != nil {
		n.stream.abort()
		n.stream = nil
	}
}

// finishStreamLocked commits through the stream if it holds exactly the
// buffer's content for the node's current path; ok is false when it
// cannot (it is then abandoned) and the caller commits the ordinary way.
func (n *fileNode) finishStreamLocked(p fs.Path) (info *fs.Info, err error, ok bool) {
	s := n.stream
	if s == nil {
		return nil, nil, false
	}
	n.stream = nil
	if !n.seq || s.path != p || s.fed != n.buf.Size() {
		s.abort()
		return nil, nil, false
	}
	n.m.expectChange(fs.OpWrite, p, "")
	info, err = s.finish()
	if err != nil {
		n.m.unexpect(fs.OpWrite, p, "")
	} else {
		n.m.streamCommits.Add(1)
	}
	return info, err, true
}
