package api

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics counts the API's requests for a Prometheus scrape: requests by
// route, method and status, a latency histogram by route, and the number of
// requests in flight. Pass one to Options.Metrics and serve it (it is an
// http.Handler writing the Prometheus text format) at /metrics.
//
// A Metrics is safe for concurrent use; one may be shared by several
// handlers (the TCP and socket doors) to count them together.
type Metrics struct {
	inFlight atomic.Int64

	// mu guards the maps; the counters inside are updated under it too,
	// which is cheap next to an HTTP request.
	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram // by route
}

type reqKey struct {
	route, method string
	code          int
}

// latencyBuckets are the upper bounds of the latency histogram, in seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; one more for +Inf
	sum    float64
	n      uint64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}}
}

func (m *Metrics) observe(route, method string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{route, method, code}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[route] = h
	}
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

// ServeHTTP writes the metrics in the Prometheus text exposition format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.WriteTo(w)
}

// WriteTo writes the metrics in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		if c := strings.Compare(a.method, b.method); c != 0 {
			return c
		}
		return a.code - b.code
	})
	b.WriteString("# HELP ctxfs_http_requests_total API requests by route, method and status code.\n")
	b.WriteString("# TYPE ctxfs_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "ctxfs_http_requests_total{route=%q,method=%q,code=\"%d\"} %d\n", k.route, k.method, k.code, m.requests[k])
	}
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	b.WriteString("# HELP ctxfs_http_request_duration_seconds API request latency by route.\n")
	b.WriteString("# TYPE ctxfs_http_request_duration_seconds histogram\n")
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "ctxfs_http_request_duration_seconds_bucket{route=%q,le=%q} %d\n", r, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		cum += h.counts[len(latencyBuckets)]
		fmt.Fprintf(&b, "ctxfs_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, cum)
		fmt.Fprintf(&b, "ctxfs_http_request_duration_seconds_sum{route=%q} %g\n", r, h.sum)
		fmt.Fprintf(&b, "ctxfs_http_request_duration_seconds_count{route=%q} %d\n", r, h.n)
	}
	m.mu.Unlock()
	b.WriteString("# HELP ctxfs_http_requests_in_flight API requests being served.\n")
	b.WriteString("# TYPE ctxfs_http_requests_in_flight gauge\n")
	fmt.Fprintf(&b, "ctxfs_http_requests_in_flight %d\n", m.inFlight.Load())
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// statusWriter records the status a handler answers with. Unwrap lets
// http.ResponseController reach the real writer (flushes, deadlines).
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// measure wraps an endpoint to record its requests in m under route.
func (m *Metrics) measure(route string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Add(1)
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			m.inFlight.Add(-1)
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			m.observe(route, r.Method, code, time.Since(start))
		}()
		next(sw, r)
	}
}
