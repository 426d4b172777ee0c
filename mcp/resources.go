package mcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/ctxfs/ctxfs/fs"
)

// URIScheme is the scheme of file resources: ctxfs:///notes/a.md.
const URIScheme = "ctxfs"

// URI returns the resource URI of path p (elements percent-escaped).
func URI(p fs.Path) string {
	return (&url.URL{Scheme: URIScheme, Path: string(p)}).String()
}

// ParseURI returns the path named by a ctxfs:/// resource URI.
func ParseURI(uri string) (fs.Path, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", invalidf("resource URI %q: %v", uri, err)
	}
	if u.Scheme != URIScheme || u.Host != "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", invalidf("resource URI %q is not of the form ctxfs:///PATH", uri)
	}
	p, err := fs.Parse(u.Path)
	if err != nil {
		return "", invalidf("resource URI %q: %v", uri, err)
	}
	return p, nil
}

// mimeType guesses a file's MIME type from its name; text/plain otherwise.
func mimeType(p fs.Path) string {
	if t := mime.TypeByExtension(path.Ext(string(p))); t != "" {
		return t
	}
	if strings.HasSuffix(string(p), ".md") {
		return "text/markdown"
	}
	return "text/plain"
}

func (s *Server) addResourceTemplate() {
	s.mcp.AddResourceTemplate(
		mcpgo.NewResourceTemplate(URIScheme+"://{+path}", "ctxfs file",
			mcpgo.WithTemplateDescription("Any file of the ctxfs namespace by its absolute path, e.g. ctxfs:///memory/alice/persona.md. Subscribe to get notifications/resources/updated when it changes."),
		),
		s.readResource,
	)
}

// readResource serves resources/read. Errors become JSON-RPC errors whose
// message starts with the error table's code.
func (s *Server) readResource(ctx context.Context, req mcpgo.ReadResourceRequest) ([]mcpgo.ResourceContents, error) {
	ctx = s.principal(ctx)
	p, err := ParseURI(req.Params.URI)
	if err == nil {
		if _, ok := fs.PrincipalFrom(ctx); !ok {
			err = fmt.Errorf("%w: the request has no principal", fs.ErrUnauthenticated)
		}
	}
	var b []byte
	if err == nil {
		b, _, err = s.readFile(ctx, p, 0)
	}
	if err != nil {
		return nil, errors.New(errorText(err))
	}
	if utf8.Valid(b) {
		return []mcpgo.ResourceContents{mcpgo.TextResourceContents{URI: req.Params.URI, MIMEType: mimeType(p), Text: string(b)}}, nil
	}
	return []mcpgo.ResourceContents{mcpgo.BlobResourceContents{URI: req.Params.URI, MIMEType: "application/octet-stream", Blob: base64.StdEncoding.EncodeToString(b)}}, nil
}

// listResources fills a resources/list answer with the files the caller
// may read, in path order, a page at a time (the cursor is the base64 of
// the last path of the previous page, as mcp-go's own cursors are).
func (s *Server) listResources(ctx context.Context, _ any, req *mcpgo.ListResourcesRequest, res *mcpgo.ListResourcesResult) {
	ctx = s.principal(ctx)
	if _, ok := fs.PrincipalFrom(ctx); !ok {
		return
	}
	var after fs.Path
	if c := req.Params.Cursor; c != "" {
		if b, err := base64.StdEncoding.DecodeString(string(c)); err == nil {
			after = fs.Path(b)
		}
	}
	page := s.opts.ResourcePage
	var out []mcpgo.Resource
	more := false
	var walk func(dir fs.Path) bool
	walk = func(dir fs.Path) bool {
		entries, err := s.fsys.List(ctx, dir)
		if err != nil {
			return true // unreadable or vanished: skip it
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
		for _, e := range entries {
			if ctx.Err() != nil {
				return false
			}
			if e.IsDir() {
				// Skip whole subtrees that sort before the cursor.
				if after != "" && e.Path < after && !after.Within(e.Path) {
					continue
				}
				if !walk(e.Path) {
					return false
				}
				continue
			}
			if after != "" && !pathAfter(e.Path, after) {
				continue
			}
			if len(out) == page {
				more = true
				return false
			}
			size := e.Size
			out = append(out, mcpgo.Resource{URI: URI(e.Path), Name: string(e.Path), MIMEType: mimeType(e.Path), Size: &size})
		}
		return true
	}
	walk(fs.Root)
	if out == nil {
		out = []mcpgo.Resource{}
	}
	res.Resources = out
	res.NextCursor = ""
	if more {
		res.NextCursor = mcpgo.Cursor(base64.StdEncoding.EncodeToString([]byte(out[len(out)-1].Name)))
	}
}

// pathAfter reports whether p comes after q in the walk's order (depth
// first, entries sorted by path within each directory).
func pathAfter(p, q fs.Path) bool {
	pe, qe := p.Elems(), q.Elems()
	for i := 0; i < len(pe) && i < len(qe); i++ {
		if pe[i] != qe[i] {
			return pe[i] > qe[i]
		}
	}
	return len(pe) > len(qe)
}

// subscriptionURIs returns the resource URIs a subscribe or listen
// request asks for; nil for other messages.
func subscriptionURIs(message any) (method string, uris []string) {
	raw, ok := message.(json.RawMessage)
	if !ok {
		return "", nil
	}
	var m struct {
		Method string `json:"method"`
		Params struct {
			URI           string `json:"uri"`
			Notifications struct {
				ResourceSubscriptions []string `json:"resourceSubscriptions"`
			} `json:"notifications"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return "", nil
	}
	switch mcpgo.MCPMethod(m.Method) {
	case mcpgo.MethodResourcesSubscribe:
		return m.Method, []string{m.Params.URI}
	case mcpgo.MethodSubscriptionsListen:
		return m.Method, m.Params.Notifications.ResourceSubscriptions
	}
	return "", nil
}
