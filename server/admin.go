package server

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

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/auth"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
)

// Registry is what the principal and acl commands need: auth.Registry
// locally, AdminClient through a running server.
type Registry interface {
	Add(ctx context.Context, name string, admin bool) (string, error)
	List(ctx context.Context) ([]auth.Principal, error)
	Remove(ctx context.Context, name string) error
	AddRule(ctx context.Context, principal, pattern, perms string) (auth.Rule, error)
	Rules(ctx context.Context) ([]auth.Rule, error)
	RemoveRule(ctx context.Context, id string) error
}

var (
	_ Registry = (*auth.Registry)(nil)
	_ Registry = (*AdminClient)(nil)
)

// adminHandler serves the registry of sys under /v1/admin/ for admins, so
// that principals and rules can be managed while the server owns the
// store. Rule changes take effect at once.
func adminHandler(sys *local.System, authenticate func(*http.Request) (fs.Principal, error)) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(api.StatusCode(err))
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": err.Error()}})
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	admin := func(h func(w http.ResponseWriter, r *http.Request)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pr, err := authenticate(r)
			if err != nil {
				reply(w, nil, err)
				return
			}
			if !pr.Admin {
				reply(w, nil, fmt.Errorf("%w: %s is not an admin", fs.ErrPermission, pr.Name))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			h(w, r)
		})
	}
	decode := func(r *http.Request, v any) error {
		if err := json.NewDecoder(r.Body).Decode(v); err != nil {
			return fmt.Errorf("%w: request body: %v", fs.ErrInvalid, err)
		}
		return nil
	}
	mux.Handle("POST /v1/admin/principals", admin(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name  string `json:"name"`
			Admin bool   `json:"admin"`
		}
		if err := decode(r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		token, err := sys.Auth.Add(r.Context(), req.Name, req.Admin)
		reply(w, map[string]any{"name": req.Name, "admin": req.Admin, "token": token}, err)
	}))
	mux.Handle("GET /v1/admin/principals", admin(func(w http.ResponseWriter, r *http.Request) {
		ps, err := sys.Auth.List(r.Context())
		reply(w, ps, err)
	}))
	mux.Handle("DELETE /v1/admin/principals/{name}", admin(func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]string{}, sys.Auth.Remove(r.Context(), r.PathValue("name")))
	}))
	mux.Handle("POST /v1/admin/acl", admin(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Principal, Pattern, Perms string }
		if err := decode(r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		rule, err := sys.Auth.AddRule(r.Context(), req.Principal, req.Pattern, req.Perms)
		if err == nil {
			err = sys.ReloadPolicy(r.Context())
		}
		reply(w, rule, err)
	}))
	mux.Handle("GET /v1/admin/acl", admin(func(w http.ResponseWriter, r *http.Request) {
		rules, err := sys.Auth.Rules(r.Context())
		reply(w, rules, err)
	}))
	mux.Handle("DELETE /v1/admin/acl/{id}", admin(func(w http.ResponseWriter, r *http.Request) {
		err := sys.Auth.RemoveRule(r.Context(), r.PathValue("id"))
		if err == nil {
			err = sys.ReloadPolicy(r.Context())
		}
		reply(w, map[string]string{}, err)
	}))
	return mux
}

// AdminClient manages principals and rules through a running server's
// unix socket.
type AdminClient struct {
	hc *http.Client
}

// DialAdmin connects to the server of data directory dir. It returns an
// error wrapping api.ErrNoServer when none runs.
func DialAdmin(ctx context.Context, dir string) (*AdminClient, error) {
	c, err := api.DialSocket(ctx, dir)
	if err != nil {
		return nil, err
	}
	c.Close()
	sock := local.SocketPath(dir)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	return &AdminClient{hc: &http.Client{Transport: tr}}, nil
}

// Close releases the client's connections.
func (c *AdminClient) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

func (c *AdminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://ctxfs"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string }
		}
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%w: %s", statusErr(resp.StatusCode), e.Error.Message)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// statusErr maps an admin reply's status back to its sentinel.
func statusErr(code int) error {
	switch code {
	case http.StatusBadRequest:
		return fs.ErrInvalid
	case http.StatusUnauthorized:
		return fs.ErrUnauthenticated
	case http.StatusForbidden:
		return fs.ErrPermission
	case http.StatusNotFound:
		return fs.ErrNotExist
	case http.StatusConflict:
		return fs.ErrExist
	}
	return errors.New(http.StatusText(code))
}

// Add implements Registry.
func (c *AdminClient) Add(ctx context.Context, name string, admin bool) (string, error) {
	var out struct{ Token string }
	err := c.do(ctx, "POST", "/v1/admin/principals", map[string]any{"name": name, "admin": admin}, &out)
	return out.Token, err
}

// List implements Registry.
func (c *AdminClient) List(ctx context.Context) ([]auth.Principal, error) {
	var out []auth.Principal
	err := c.do(ctx, "GET", "/v1/admin/principals", nil, &out)
	return out, err
}

// Remove implements Registry.
func (c *AdminClient) Remove(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/admin/principals/"+url.PathEscape(name), nil, nil)
}

// AddRule implements Registry.
func (c *AdminClient) AddRule(ctx context.Context, principal, pattern, perms string) (auth.Rule, error) {
	var out auth.Rule
	err := c.do(ctx, "POST", "/v1/admin/acl", map[string]string{"principal": principal, "pattern": pattern, "perms": perms}, &out)
	return out, err
}

// Rules implements Registry.
func (c *AdminClient) Rules(ctx context.Context) ([]auth.Rule, error) {
	var out []auth.Rule
	err := c.do(ctx, "GET", "/v1/admin/acl", nil, &out)
	return out, err
}

// RemoveRule implements Registry.
func (c *AdminClient) RemoveRule(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/v1/admin/acl/"+url.PathEscape(id), nil, nil)
}
