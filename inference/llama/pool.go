package llama

import (
	"runtime"
	"sync"
)

// Task is one parallel step of the forward pass. Run is called once per part, each on
// its own goroutine, with part in [0, parts); it must touch only its share of the output.
// Tasks are long-lived structs whose fields are set before each Pool.Run, so that
// dispatching one allocates nothing.
type Task interface {
	Run(part, parts int)
}

// Pool is a fixed set of goroutines that run Tasks in parallel. It exists so that the
// hundreds of matrix-vector products of one token do not each spawn goroutines.
//
// A Pool runs one Task at a time: Run must not be called concurrently (a session owns its
// pool). Close stops the workers.
type Pool struct {
	n     int
	start []chan Task // one per worker goroutine (parts 1..n-1)
	done  sync.WaitGroup
}

// NewPool starts a pool of n parts (n-1 goroutines plus the caller's). n <= 0 means
// runtime.GOMAXPROCS(0).
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool{n: n, start: make([]chan Task, n-1)}
	for i := range p.start {
		ch := make(chan Task, 1)
		p.start[i] = ch
		go p.worker(i+1, ch)
	}
	return p
}

func (p *Pool) worker(part int, ch chan Task) {
	for t := range ch {
		t.Run(part, p.n)
		p.done.Done()
	}
}

// Threads returns the number of parts each task is split into.
func (p *Pool) Threads() int { return p.n }

// Run runs t on every part and returns when all parts are done.
func (p *Pool) Run(t Task) {
	p.done.Add(len(p.start))
	for _, ch := range p.start {
		ch <- t
	}
	t.Run(0, p.n)
	p.done.Wait()
}

// Close stops the worker goroutines. The pool must not be used afterwards.
func (p *Pool) Close() {
	for _, ch := range p.start {
		close(ch)
	}
	p.start = nil
}

// split returns the half-open range of part out of parts over n items.
func split(n, part, parts int) (lo, hi int) {
	return n * part / parts, n * (part + 1) / parts
}
