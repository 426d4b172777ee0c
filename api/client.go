package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// Client is the API's remote file system: an fs.FS (with versions, search,
// metadata and change watching) whose calls go to a ctxfs server.
//
// A Client is safe for concurrent use. It holds pooled connections; Close
// releases idle ones. The principal of a call is the one the server
// authenticates (the bearer token, or the socket's owner), not one carried
// in the call's context.
type Client struct {
	base  string // scheme://host, no trailing slash
	token string
	as    string // X-Ctxfs-As, for the local socket
	hc    *http.Client
}

// As returns a client that shares c's connections and asks to act as
// principal name. Only the local socket's LocalOwner hook honours it;
// a server that authenticates by token ignores it.
func (c *Client) As(name string) *Client {
	cc := *c
	cc.as = name
	return &cc
}

var (
	_ fs.FS         = (*Client)(nil)
	_ fs.Versioner  = (*Client)(nil)
	_ fs.Searcher   = (*Client)(nil)
	_ fs.MetaSetter = (*Client)(nil)
	_ fs.Watcher    = (*Client)(nil)
)

// SocketName is the name of the unix socket in a data directory.
const SocketName = "ctxfs.sock"

// SocketPath returns the path of the unix socket of data directory dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

// ErrNoServer is returned by DialSocket when no server answers on the
// socket; the caller should then open the store itself.
var ErrNoServer = errors.New("no ctxfs server is running")

// NewClient returns a client for the server at baseURL: "http://host:port",
// "https://host:port" or "unix:///path/to/socket". A non-empty token is sent
// as a bearer token. NewClient does not contact the server; see Ping.
func NewClient(baseURL, token string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("api: %w: server address %q: %v", fs.ErrInvalid, baseURL, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.Proxy = nil // packages read no environment; a proxy is the caller's choice (Transport)
	c := &Client{token: token, hc: &http.Client{Transport: tr}}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("api: %w: server address %q has no host", fs.ErrInvalid, baseURL)
		}
		c.base = u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/")
	case "unix":
		sock := u.Path
		if sock == "" {
			sock = u.Opaque
		}
		if sock == "" {
			return nil, fmt.Errorf("api: %w: server address %q has no socket path", fs.ErrInvalid, baseURL)
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		// The host name is a placeholder: the dialer ignores it.
		c.base = "http://ctxfs.sock"
	default:
		return nil, fmt.Errorf("api: %w: server address %q: scheme must be http, https or unix", fs.ErrInvalid, baseURL)
	}
	return c, nil
}

// Dial is NewClient without a token, for the local socket:
// Dial("unix:///path/to/ctxfs.sock").
func Dial(addr string) (*Client, error) { return NewClient(addr, "") }

// DialSocket connects to the server of data directory dir through its unix
// socket and checks that it answers. It returns an error wrapping
// ErrNoServer when the socket is missing or nothing listens on it (a stale
// socket file left by a crash); other errors mean a server is there but
// failed.
func DialSocket(ctx context.Context, dir string) (*Client, error) {
	sock := SocketPath(dir)
	if len(sock) > maxSockPath {
		// No server can listen there (ServeUnix refuses such paths).
		return nil, fmt.Errorf("%w at %s (the path is too long for a unix socket)", ErrNoServer, sock)
	}
	c, err := Dial("unix://" + sock)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx); err != nil {
		c.Close()
		if isNoServer(err) {
			return nil, fmt.Errorf("%w at %s", ErrNoServer, sock)
		}
		return nil, err
	}
	return c, nil
}

// isNoServer reports whether err says nothing listens: the socket is
// missing, refuses connections or is not a socket.
func isNoServer(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOTSOCK) || errors.Is(err, os.ErrNotExist)
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Ping checks that the server answers /healthz.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("api: ping: %w: status %s", fs.ErrClosed, resp.Status)
	}
	return nil
}

// escapePath turns p into URL path form, escaping each element.
func escapePath(p fs.Path) string {
	if p.IsRoot() {
		return "/"
	}
	var b strings.Builder
	for _, e := range p.Elems() {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(e))
	}
	return b.String()
}

// do sends a request. path is already escaped.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader, hdr http.Header) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	c.authorize(req)
	return c.hc.Do(req)
}

func (c *Client) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.as != "" {
		req.Header.Set(HeaderAs, c.as)
	}
}

// drain reads a little of what is left of a body, so the connection can be
// reused, and closes it.
func drain(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

// call does a request for op on p and decodes a JSON answer into out (when
// out is not nil). Error answers become errors wrapping fs sentinels.
func (c *Client) call(ctx context.Context, op string, p fs.Path, method, path string, q url.Values, body io.Reader, hdr http.Header, out any) error {
	resp, err := c.do(ctx, method, path, q, body, hdr)
	if err != nil {
		return c.transportErr(op, p, err)
	}
	defer drain(resp)
	if resp.StatusCode >= 400 {
		return decodeErr(op, p, resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fs.Wrap(op, p, fmt.Errorf("%w: decoding the server's answer: %v", fs.ErrInvalid, err))
	}
	return nil
}

// transportErr keeps a context error recognisable and names the operation.
func (c *Client) transportErr(op string, p fs.Path, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if p == "" {
		return fmt.Errorf("api: %s: %w", op, err)
	}
	return &fs.PathError{Op: op, Path: string(p), Err: err}
}

// decodeErr turns an error response into an error.
func decodeErr(op string, p fs.Path, resp *http.Response) error {
	var body errorBody
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	}
	return remoteErr(op, p, resp.StatusCode, body.Error)
}

func (c *Client) statCall(ctx context.Context, op string, p fs.Path, method, path string, q url.Values, body io.Reader, hdr http.Header) (*fs.Info, error) {
	var info fs.Info
	if err := c.call(ctx, op, p, method, path, q, body, hdr, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Stat describes p.
func (c *Client) Stat(ctx context.Context, p fs.Path) (*fs.Info, error) {
	return c.statCall(ctx, "stat", p, http.MethodGet, "/v1/stat"+escapePath(p), nil, nil, nil)
}

// List returns the entries of directory p sorted by name.
func (c *Client) List(ctx context.Context, p fs.Path) ([]*fs.Info, error) {
	var out []*fs.Info
	if err := c.call(ctx, "list", p, http.MethodGet, "/v1/list"+escapePath(p), nil, nil, nil, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []*fs.Info{}
	}
	return out, nil
}

// Open opens the current version of file p. Reading streams the body;
// ReadAt and reads after a Seek use range requests pinned to the opened
// version, so they see the same content even if the file changes (for
// unversioned providers such as host directories, they see the current
// content).
func (c *Client) Open(ctx context.Context, p fs.Path) (fs.File, error) {
	return c.open(ctx, "open", p, 0)
}

// OpenVersion opens version v of file p.
func (c *Client) OpenVersion(ctx context.Context, p fs.Path, v int64) (fs.File, error) {
	if v <= 0 {
		return nil, &fs.PathError{Op: "open", Path: string(p), Err: fmt.Errorf("%w: version must be positive", fs.ErrInvalid)}
	}
	return c.open(ctx, "open", p, v)
}

func (c *Client) open(ctx context.Context, op string, p fs.Path, v int64) (fs.File, error) {
	q := url.Values{}
	if v > 0 {
		q.Set("version", strconv.FormatInt(v, 10))
	}
	// The body outlives this call, so it must not end with ctx (a caller
	// that opens with a request-scoped context and reads later is common):
	// ctx can cancel the request until the answer's headers arrive, Close
	// ends it afterwards.
	octx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	resp, err := c.do(octx, http.MethodGet, "/v1/fs"+escapePath(p), q, nil, nil)
	if !stop() && err == nil {
		resp.Body.Close()
		err = ctx.Err()
	}
	fail := func(err error) (fs.File, error) {
		if resp != nil {
			drain(resp)
		}
		cancel()
		return nil, err
	}
	if err != nil {
		resp = nil
		return fail(c.transportErr(op, p, err))
	}
	if resp.StatusCode >= 400 {
		return fail(decodeErr(op, p, resp))
	}
	if resp.Header.Get(HeaderKind) == "dir" {
		return fail(&fs.PathError{Op: op, Path: string(p), Err: fs.ErrIsDir})
	}
	info, err := infoFromHeader(p, resp)
	if err != nil {
		return fail(fs.Wrap(op, p, err))
	}
	return &remoteFile{c: c, p: p, info: info, body: resp.Body, cancel: cancel}, nil
}

func infoFromHeader(p fs.Path, resp *http.Response) (*fs.Info, error) {
	h := resp.Header.Get(HeaderStat)
	if h == "" {
		return &fs.Info{Path: p, Kind: fs.KindFile, Size: resp.ContentLength}, nil
	}
	var info fs.Info
	if err := json.Unmarshal([]byte(h), &info); err != nil {
		return nil, fmt.Errorf("%w: bad %s header: %v", fs.ErrInvalid, HeaderStat, err)
	}
	return &info, nil
}

// remoteFile is an open remote file. ReadAt is safe for concurrent use
// (each call is its own request); Read and Seek share the offset under mu.
type remoteFile struct {
	c      *Client
	p      fs.Path
	info   *fs.Info
	cancel context.CancelFunc // ends the first request's stream

	// mu guards the stream and the offsets.
	mu      sync.Mutex
	body    io.ReadCloser // streaming from bodyOff; nil when none is open
	bodyOff int64
	off     int64
	closed  bool
}

func (f *remoteFile) Stat() *fs.Info { return f.info.Clone() }

// rangeGet requests bytes [off, end) of the opened version (end < 0: to
// the end).
func (f *remoteFile) rangeGet(off, end int64) (*http.Response, error) {
	q := url.Values{}
	if f.info.Version > 0 {
		q.Set("version", strconv.FormatInt(f.info.Version, 10))
	}
	hdr := http.Header{}
	if end < 0 {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", off))
	} else {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-%d", off, end-1))
	}
	resp, err := f.c.do(context.Background(), http.MethodGet, "/v1/fs"+escapePath(f.p), q, nil, hdr)
	if err != nil {
		return nil, f.c.transportErr("read", f.p, err)
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		return resp, nil
	case http.StatusOK:
		// A server that ignores ranges: skip to off.
		if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
			resp.Body.Close()
			return nil, fs.Wrap("read", f.p, err)
		}
		return resp, nil
	case http.StatusRequestedRangeNotSatisfiable:
		drain(resp)
		return nil, io.EOF
	}
	defer drain(resp)
	return nil, decodeErr("read", f.p, resp)
}

func (f *remoteFile) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: string(f.p), Err: fs.ErrClosed}
	}
	if f.off >= f.info.Size {
		return 0, io.EOF
	}
	if f.body != nil && f.bodyOff != f.off {
		f.body.Close()
		f.body = nil
	}
	if f.body == nil {
		resp, err := f.rangeGet(f.off, -1)
		if err != nil {
			return 0, err
		}
		f.body, f.bodyOff = resp.Body, f.off
	}
	n, err := f.body.Read(b)
	f.off += int64(n)
	f.bodyOff = f.off
	if err == io.EOF && f.off < f.info.Size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (f *remoteFile) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: string(f.p), Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return 0, &fs.PathError{Op: "readat", Path: string(f.p), Err: fs.ErrClosed}
	}
	if len(b) == 0 {
		return 0, nil
	}
	if off >= f.info.Size {
		return 0, io.EOF
	}
	want := min(int64(len(b)), f.info.Size-off)
	resp, err := f.rangeGet(off, off+want)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.ReadFull(resp.Body, b[:want])
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return n, io.EOF
	}
	if err != nil {
		return n, err
	}
	if int64(n) < int64(len(b)) {
		return n, io.EOF
	}
	return n, nil
}

func (f *remoteFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = f.off + offset
	case io.SeekEnd:
		abs = f.info.Size + offset
	default:
		return 0, &fs.PathError{Op: "seek", Path: string(f.p), Err: fs.ErrInvalid}
	}
	if abs < 0 {
		return 0, &fs.PathError{Op: "seek", Path: string(f.p), Err: fs.ErrInvalid}
	}
	f.off = abs
	return abs, nil
}

func (f *remoteFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: string(f.p), Err: fs.ErrClosed}
	}
	f.closed = true
	if f.body != nil {
		f.body.Close()
		f.body = nil
	}
	f.cancel()
	return nil
}

// guardReader hands the caller's reader to the HTTP transport and takes it
// back: the transport may still read a request body after Do returns (when
// the server answers early), and the caller's reader must not be touched
// once Write has returned.
type guardReader struct {
	mu   sync.Mutex
	r    io.Reader
	done bool
}

func (g *guardReader) Read(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return 0, io.ErrClosedPipe
	}
	return g.r.Read(b)
}

func (g *guardReader) Close() error {
	g.mu.Lock()
	g.done = true
	g.mu.Unlock()
	return nil
}

// Write sends r's content as the new version of file p. The body is
// streamed, not buffered.
func (c *Client) Write(ctx context.Context, p fs.Path, r io.Reader, opts fs.WriteOptions) (*fs.Info, error) {
	if r == nil {
		r = bytes.NewReader(nil)
	}
	hdr := http.Header{}
	switch {
	case opts.IfVersion > 0:
		hdr.Set("If-Match", etag(opts.IfVersion))
	case opts.MustExist:
		hdr.Set("If-Match", "*")
	}
	if opts.Create {
		hdr.Set("If-None-Match", "*")
	}
	hdr.Set("Content-Type", "application/octet-stream")
	q := url.Values{}
	if opts.Meta != nil {
		q["meta"] = []string{}
		for k, v := range opts.Meta {
			q.Add("meta", k+"="+v)
		}
		if len(opts.Meta) == 0 {
			q.Set("meta", "")
		}
	}
	g := &guardReader{r: r}
	defer g.Close()
	// A known length lets the server refuse an oversized body at once.
	length := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		length = int64(l.Len())
	}
	u := c.base + "/v1/fs" + escapePath(p)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, g)
	if err != nil {
		return nil, fs.Wrap("write", p, err)
	}
	req.Header = hdr
	c.authorize(req)
	if length >= 0 {
		req.ContentLength = length
		if length == 0 {
			req.Body = http.NoBody
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportErr("write", p, err)
	}
	defer drain(resp)
	if resp.StatusCode >= 400 {
		return nil, decodeErr("write", p, resp)
	}
	var info fs.Info
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return nil, fs.Wrap("write", p, fmt.Errorf("%w: decoding the server's answer: %v", fs.ErrInvalid, err))
	}
	return &info, nil
}

// Mkdir creates directory p and missing parents.
func (c *Client) Mkdir(ctx context.Context, p fs.Path) error {
	return c.call(ctx, "mkdir", p, http.MethodPost, "/v1/fs"+escapePath(p), url.Values{"mkdir": {"1"}}, nil, nil, nil)
}

// Remove removes p; a non-empty directory needs recursive.
func (c *Client) Remove(ctx context.Context, p fs.Path, recursive bool) error {
	var q url.Values
	if recursive {
		q = url.Values{"recursive": {"true"}}
	}
	return c.call(ctx, "remove", p, http.MethodDelete, "/v1/fs"+escapePath(p), q, nil, nil, nil)
}

// Rename moves src to dst.
func (c *Client) Rename(ctx context.Context, src, dst fs.Path) error {
	return c.call(ctx, "rename", src, http.MethodPost, "/v1/fs"+escapePath(src), url.Values{"move": {string(dst)}}, nil, nil, nil)
}

// Log lists the versions of file p, newest first.
func (c *Client) Log(ctx context.Context, p fs.Path) ([]fs.Version, error) {
	var out []fs.Version
	if err := c.call(ctx, "log", p, http.MethodGet, "/v1/log"+escapePath(p), nil, nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// SetMeta changes the user metadata of file p.
func (c *Client) SetMeta(ctx context.Context, p fs.Path, changes map[string]*string) (*fs.Info, error) {
	b, err := json.Marshal(changes)
	if err != nil {
		return nil, fs.Wrap("setmeta", p, fmt.Errorf("%w: %v", fs.ErrInvalid, err))
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	return c.statCall(ctx, "setmeta", p, http.MethodPatch, "/v1/meta"+escapePath(p), nil, bytes.NewReader(b), hdr)
}

// Search runs q on the server's index.
func (c *Client) Search(ctx context.Context, q fs.Query) ([]fs.Hit, error) {
	v := url.Values{"q": {q.Text}}
	if q.Under != "" {
		v.Set("under", string(q.Under))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out []fs.Hit
	if err := c.call(ctx, "search", q.Under, http.MethodGet, "/v1/search", v, nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// changes fetches one page of events after since.
func (c *Client) changes(ctx context.Context, since uint64, limit int, wait time.Duration) (changesPage, error) {
	q := url.Values{
		"since": {strconv.FormatUint(since, 10)},
		"limit": {strconv.Itoa(limit)},
	}
	if wait > 0 {
		q.Set("wait", strconv.Itoa(int(wait/time.Second)))
	}
	var page changesPage
	err := c.call(ctx, "changes", "", http.MethodGet, "/v1/changes", q, nil, nil, &page)
	return page, err
}

// Changes calls fn for each event after since, in order, until fn fails or
// the server's log ends.
func (c *Client) Changes(ctx context.Context, since uint64, fn func(fs.Event) error) error {
	for {
		page, err := c.changes(ctx, since, 1000, 0)
		if err != nil {
			return err
		}
		if len(page.Events) == 0 {
			return nil
		}
		for _, je := range page.Events {
			e, err := je.event()
			if err != nil {
				return fmt.Errorf("api: changes: %w", err)
			}
			if err := fn(e); err != nil {
				return err
			}
			since = e.Seq
		}
	}
}

// LastSeq returns the newest sequence number of the server's log.
func (c *Client) LastSeq(ctx context.Context) (uint64, error) {
	page, err := c.changes(ctx, 0, 0, 0)
	return page.Last, err
}

// notifyWait is how long one long poll of Notify waits on the server.
const notifyWait = 25 * time.Second

// Notify returns a channel that receives a value after changes on the
// server, until ctx is done. It reads the server's last sequence number
// before returning, so a change made after Notify returns is signalled, and
// then long-polls /v1/changes in a goroutine; after a failure it retries
// once a second.
func (c *Client) Notify(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	seq, err := c.LastSeq(ctx)
	go func() {
		for ctx.Err() == nil {
			if err != nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				seq, err = c.LastSeq(ctx)
				continue
			}
			var page changesPage
			page, err = c.changes(ctx, seq, 1, notifyWait)
			if err != nil {
				continue
			}
			if page.Last > seq {
				seq = page.Last
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch
}
