package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// door is one way into a running ctxfs server, acting as one principal.
// read and write return nil when allowed and an error when refused.
type door interface {
	read(p string) (string, error)
	write(p, content string) error
}

type restDoor struct{ addr, token string }

func (d restDoor) do(method, p string, body io.Reader) (string, error) {
	req, _ := http.NewRequest(method, "http://"+d.addr+"/v1/fs"+p, body)
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b), nil
}
func (d restDoor) read(p string) (string, error) { return d.do("GET", p, nil) }
func (d restDoor) write(p, c string) error {
	_, err := d.do("PUT", p, strings.NewReader(c))
	return err
}

type afsDoor struct{ addr, token string }

func (d afsDoor) call(method string, params map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"method": method, "params": params})
	req, _ := http.NewRequest("POST", "http://"+d.addr+"/afs/rpc", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Success bool
		Data    json.RawMessage
		Error   struct {
			Code    int
			Message string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, fmt.Errorf("HTTP %d: %v", resp.StatusCode, err)
	}
	if !env.Success {
		return nil, fmt.Errorf("HTTP %d, AFS code %d: %s", resp.StatusCode, env.Error.Code, env.Error.Message)
	}
	return env.Data, nil
}
func (d afsDoor) read(p string) (string, error) {
	data, err := d.call("read", map[string]any{"path": p})
	if err != nil {
		return "", err
	}
	var out struct{ Data struct{ Content string } }
	json.Unmarshal(data, &out)
	return out.Data.Content, nil
}
func (d afsDoor) write(p, c string) error {
	_, err := d.call("write", map[string]any{"path": p, "content": c})
	return err
}

type mcpDoor struct{ c *client.Client }

func (d mcpDoor) call(tool string, args map[string]any) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcpgo.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := d.c.CallTool(ctx, req)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(mcpgo.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	if res.IsError {
		return "", errors.New(b.String())
	}
	return b.String(), nil
}
func (d mcpDoor) read(p string) (string, error) { return d.call("ctx_read", map[string]any{"path": p}) }
func (d mcpDoor) write(p, c string) error {
	_, err := d.call("ctx_write", map[string]any{"path": p, "content": c})
	return err
}

func startMCP(t *testing.T, tr transport.Interface) (mcpDoor, error) {
	c := client.NewClient(tr)
	// Start's context lives as long as the connection: a stdio transport
	// ends its child process when it is done.
	if err := c.Start(context.Background()); err != nil {
		return mcpDoor{}, err
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcpgo.InitializeRequest{}
	req.Params.ClientInfo = mcpgo.Implementation{Name: "ctxfs-access-test", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		return mcpDoor{}, err
	}
	return mcpDoor{c}, nil
}

func mcpHTTPDoor(t *testing.T, addr, token string) (door, error) {
	tr, err := transport.NewStreamableHTTP("http://"+addr+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		return nil, err
	}
	return startMCP(t, tr)
}

func mcpStdioDoor(t *testing.T, data, as string) (door, error) {
	args := []string{"mcp"}
	if as != "" {
		args = append(args, "--as", as)
	}
	tr := transport.NewStdio(binary, append(os.Environ(), "CTXFS_DATA="+data), args...)
	return startMCP(t, tr)
}

type fuseDoor struct{ dir string }

func (d fuseDoor) read(p string) (string, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, p))
	return string(b), err
}
func (d fuseDoor) write(p, c string) error {
	full := filepath.Join(d.dir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(c), 0o644)
}

func fuseDoorAs(t *testing.T, data, as string) door {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return nil
	}
	mnt := t.TempDir()
	args := []string{"mount", mnt}
	if as != "" {
		args = append(args, "--as", as)
	}
	startDaemon(t, data, "mounted at", args...)
	return fuseDoor{mnt}
}

// TestAccessEveryDoor walks the same access cases through every door of
// one running server: REST, AFS RPC, MCP over HTTP and over stdio, and the
// FUSE mount with --as. alice reads and writes /memory/alice/..., cannot
// read or write /memory/bob/..., a bad token is refused, and an admin can
// do both.
func TestAccessEveryDoor(t *testing.T) {
	data := t.TempDir()
	var alice, admin struct{ Token string }
	json.Unmarshal([]byte(mustRun(t, data, nil, "principal", "add", "alice", "--json")), &alice)
	json.Unmarshal([]byte(mustRun(t, data, nil, "principal", "add", "boss", "--admin", "--json")), &admin)
	mustRun(t, data, []byte("bob's"), "put", "/memory/bob/p.md")
	mustRun(t, data, []byte("alice's"), "put", "/memory/alice/p.md")
	addr := freeAddr(t)
	startDaemon(t, data, "serving", "serve", "--addr", addr)

	type doorMaker struct {
		name string
		as   func(who string) (door, error) // who: "alice", "admin" or "bad" (a wrong token)
	}
	token := func(who string) string {
		switch who {
		case "alice":
			return alice.Token
		case "admin":
			return admin.Token
		}
		return "ctxfs_not-a-real-token"
	}
	doors := []doorMaker{
		{"REST", func(who string) (door, error) { return restDoor{addr, token(who)}, nil }},
		{"AFS", func(who string) (door, error) { return afsDoor{addr, token(who)}, nil }},
		{"MCP-HTTP", func(who string) (door, error) { return mcpHTTPDoor(t, addr, token(who)) }},
		{"MCP-stdio", func(who string) (door, error) {
			switch who {
			case "bad":
				return nil, nil // stdio has no token: the socket's owner check is the lock
			case "admin":
				return mcpStdioDoor(t, data, "")
			}
			return mcpStdioDoor(t, data, who)
		}},
		{"FUSE", func(who string) (door, error) {
			switch who {
			case "bad":
				return nil, nil
			case "admin":
				return fuseDoorAs(t, data, ""), nil
			}
			return fuseDoorAs(t, data, who), nil
		}},
	}
	for _, dm := range doors {
		t.Run(dm.name, func(t *testing.T) {
			cases := []struct {
				who, op, path string
				allowed       bool
			}{
				{"alice", "read", "/memory/alice/p.md", true},
				{"alice", "write", "/memory/alice/" + dm.name + ".md", true},
				{"alice", "read", "/memory/bob/p.md", false},
				{"alice", "write", "/memory/bob/" + dm.name + ".md", false},
				{"bad", "read", "/memory/alice/p.md", false},
				{"admin", "read", "/memory/bob/p.md", true},
				{"admin", "write", "/memory/bob/admin-" + dm.name + ".md", true},
			}
			opened := map[string]door{}
			for _, c := range cases {
				d, ok := opened[c.who]
				if !ok {
					var err error
					d, err = dm.as(c.who)
					if err != nil {
						if c.who == "bad" {
							continue // refused at the door itself: as it should be
						}
						t.Fatalf("opening the door as %s: %v", c.who, err)
					}
					if d == nil {
						if dm.name == "FUSE" && c.who != "bad" {
							t.Skip("no /dev/fuse or fusermount3: install fuse3 (CI does)")
						}
						continue
					}
					opened[c.who] = d
				}
				var err error
				switch c.op {
				case "read":
					var got string
					got, err = d.read(c.path)
					if err == nil && !strings.Contains(got, "'s") {
						t.Errorf("%s read %s: got %q", c.who, c.path, got)
					}
				case "write":
					err = d.write(c.path, "written by "+c.who)
				}
				if c.allowed && err != nil {
					t.Errorf("%s %s %s: refused: %v", c.who, c.op, c.path, err)
				}
				if !c.allowed && err == nil {
					t.Errorf("%s %s %s: allowed, want refused", c.who, c.op, c.path)
				}
			}
		})
	}
	// Nothing refused was written.
	out := mustRun(t, data, nil, "ls", "/memory/bob")
	for _, dm := range doors {
		if strings.Contains(out, "\n"+dm.name+".md") || strings.HasPrefix(out, dm.name+".md") {
			t.Errorf("a refused write through %s reached the store:\n%s", dm.name, out)
		}
	}
}
