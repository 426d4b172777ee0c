package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// LoadOptions shape a load test. The zero value means 64 clients for 10 s,
// 8 reads to 1 write to 1 search, over 1000 files of 1 KiB under /bench.
type LoadOptions struct {
	Clients  int
	Duration time.Duration
	// Reads, Writes and Searches weigh the request mix.
	Reads, Writes, Searches int
	Files                   int
	FileSize                int
	Under                   fs.Path
	// Seed makes the corpus and the request sequence reproducible.
	Seed uint64
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Reads == 0 && o.Writes == 0 && o.Searches == 0 {
		o.Reads, o.Writes, o.Searches = 8, 1, 1
	}
	if o.Files <= 0 {
		o.Files = 1000
	}
	if o.FileSize <= 0 {
		o.FileSize = 1024
	}
	if o.Under == "" {
		o.Under = "/bench"
	}
	return o
}

// OpStats are the figures of one kind of request.
type OpStats struct {
	Requests int64         `json:"requests"`
	Errors   int64         `json:"errors"`
	PerSec   float64       `json:"per_sec"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
}

// LoadResult is what a load test measured.
type LoadResult struct {
	Clients  int                `json:"clients"`
	Duration time.Duration      `json:"duration_ns"`
	Total    OpStats            `json:"total"`
	Ops      map[string]OpStats `json:"ops"` // "read", "write", "search"
	// FirstError is one of the errors, to say what went wrong.
	FirstError string `json:"first_error,omitempty"`
}

// loadCorpus is the content of file i: words from a small vocabulary, so
// searches find something.
func loadCorpus(seed uint64, i, size int) []byte {
	words := []string{"context", "memory", "agent", "persona", "workspace", "kv", "cache", "snapkv", "token", "budget", "episode", "actor", "timeline", "refine", "draft", "distill"}
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	var b bytes.Buffer
	for b.Len() < size {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.Bytes()[:size]
}

// Populate writes the load test's corpus into fsys.
func Populate(ctx context.Context, fsys fs.FS, opts LoadOptions) error {
	opts = opts.withDefaults()
	for i := range opts.Files {
		p := opts.Under.Child(fmt.Sprintf("f%05d.txt", i))
		if _, err := fsys.Write(ctx, p, bytes.NewReader(loadCorpus(opts.Seed, i, opts.FileSize)), fs.WriteOptions{}); err != nil {
			return err
		}
	}
	return nil
}

type sample struct {
	op  int // 0 read, 1 write, 2 search
	d   time.Duration
	err error
}

var opNames = []string{"read", "write", "search"}

// Load runs opts.Clients concurrent loops of reads, writes and searches
// against c for opts.Duration, over the corpus Populate wrote.
func Load(ctx context.Context, c *Client, opts LoadOptions) (*LoadResult, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	weights := []int{opts.Reads, opts.Writes, opts.Searches}
	total := opts.Reads + opts.Writes + opts.Searches
	results := make([][]sample, opts.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range opts.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(opts.Seed+1, uint64(w)))
			buf := make([]byte, 32<<10)
			for ctx.Err() == nil {
				n := r.IntN(total)
				op := 0
				for n >= weights[op] {
					n -= weights[op]
					op++
				}
				i := r.IntN(opts.Files)
				p := opts.Under.Child(fmt.Sprintf("f%05d.txt", i))
				t0 := time.Now()
				var err error
				switch op {
				case 0:
					var f fs.File
					if f, err = c.Open(ctx, p); err == nil {
						_, err = io.CopyBuffer(io.Discard, f, buf)
						f.Close()
					}
				case 1:
					_, err = c.Write(ctx, p, bytes.NewReader(loadCorpus(opts.Seed+uint64(t0.UnixNano()), i, opts.FileSize)), fs.WriteOptions{})
				case 2:
					_, err = c.Search(ctx, fs.Query{Text: "snapkv budget", Under: opts.Under, Limit: 10})
				}
				if ctx.Err() != nil {
					return // the run ended during this request: not counted
				}
				results[w] = append(results[w], sample{op, time.Since(t0), err})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := &LoadResult{Clients: opts.Clients, Duration: elapsed, Ops: map[string]OpStats{}}
	var all []time.Duration
	per := make([][]time.Duration, 3)
	errs := make([]int64, 3)
	for _, rs := range results {
		for _, s := range rs {
			all = append(all, s.d)
			per[s.op] = append(per[s.op], s.d)
			if s.err != nil {
				errs[s.op]++
				if res.FirstError == "" {
					res.FirstError = s.err.Error()
				}
			}
		}
	}
	res.Total = stats(all, errs[0]+errs[1]+errs[2], elapsed)
	for op, ds := range per {
		if weights[op] > 0 {
			res.Ops[opNames[op]] = stats(ds, errs[op], elapsed)
		}
	}
	return res, nil
}

func stats(ds []time.Duration, errs int64, elapsed time.Duration) OpStats {
	s := OpStats{Requests: int64(len(ds)), Errors: errs}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	s.PerSec = float64(len(ds)) / elapsed.Seconds()
	s.P50 = ds[len(ds)*50/100]
	s.P99 = ds[min(len(ds)-1, len(ds)*99/100)]
	return s
}

// BareHandler is the baseline of a load test: a plain net/http handler that
// answers the same requests as the API (file bytes, writes, search hits)
// from memory, with no store, index, authentication or access checks.
func BareHandler(opts LoadOptions) http.Handler {
	opts = opts.withDefaults()
	var mu sync.RWMutex
	files := map[string][]byte{}
	for i := range opts.Files {
		files[string(opts.Under.Child(fmt.Sprintf("f%05d.txt", i)))] = loadCorpus(opts.Seed, i, opts.FileSize)
	}
	hits := []byte(`[{"path":"` + string(opts.Under) + `/f00000.txt","score":1,"snippet":"<mark>snapkv</mark>","version":1}]` + "\n")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/fs/{path...}", func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		b, ok := files["/"+r.PathValue("path")]
		mu.RUnlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	})
	mux.HandleFunc("PUT /v1/fs/{path...}", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		p := "/" + r.PathValue("path")
		mu.Lock()
		files[p] = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"kind":"file","size":%d,"version":1,"tokens":0,"author":"","meta":{}}`+"\n", p, len(b))
	})
	mux.HandleFunc("GET /v1/search", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(hits)
	})
	return mux
}

// BenchServe measures the API over fsys against the bare baseline in the
// same run: it populates fsys, serves each on a loopback TCP port, and runs
// the same load against both. fsys should be the namespace the server
// would serve (with search); requests act as an admin principal.
func BenchServe(ctx context.Context, fsys fs.FS, opts LoadOptions) (api, bare *LoadResult, err error) {
	opts = opts.withDefaults()
	admin := fs.Principal{Name: "bench", Admin: true}
	if err := Populate(fs.WithPrincipal(ctx, admin), fsys, opts); err != nil {
		return nil, nil, fmt.Errorf("api: bench: populating: %w", err)
	}
	run := func(h http.Handler) (*LoadResult, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(l)
		defer srv.Close()
		c, err := NewClient("http://"+l.Addr().String(), "")
		if err != nil {
			return nil, err
		}
		defer c.Close()
		c.hc.Transport.(*http.Transport).MaxIdleConnsPerHost = opts.Clients
		return Load(ctx, c, opts)
	}
	api, err = run(NewHandler(fsys, Options{Authenticate: func(*http.Request) (fs.Principal, error) { return admin, nil }}))
	if err != nil {
		return nil, nil, err
	}
	bare, err = run(BareHandler(opts))
	if err != nil {
		return nil, nil, err
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return api, bare, ctx.Err()
	}
	return api, bare, nil
}

// String formats r as one line per operation.
func (r *LoadResult) String() string {
	var b strings.Builder
	line := func(name string, s OpStats) {
		fmt.Fprintf(&b, "%-7s %8d req %10.0f req/s  p50 %8s  p99 %8s  errors %d\n", name, s.Requests, s.PerSec, s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond), s.Errors)
	}
	line("total", r.Total)
	for _, n := range opNames {
		if s, ok := r.Ops[n]; ok {
			line(n, s)
		}
	}
	return b.String()
}
