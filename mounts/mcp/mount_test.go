package mcp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	mcpserver "github.com/ctxfs/ctxfs/mcp"
	mcpmount "github.com/ctxfs/ctxfs/mounts/mcp"
)

// With envChild set, the test binary is ctxfs's own MCP server over stdio
// on a store in that directory, acting as an admin.
const envChild = "CTXFS_MCPMOUNT_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envChild); dir != "" {
		ctx := context.Background()
		sys, err := local.Open(ctx, dir, local.Options{NoSync: true})
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		srv := mcpserver.NewServer(sys.NS, mcpserver.Options{Principal: fs.Principal{Name: "admin", Admin: true}})
		err = srv.ServeStdio(ctx, os.Stdin, os.Stdout)
		sys.Close()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var ctx = context.Background()

// everything mounts @modelcontextprotocol/server-everything over stdio,
// skipping when it is not installed.
func everything(t *testing.T) *mcpmount.FS {
	t.Helper()
	js, err := filepath.Abs("testdata/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(js); err != nil {
		t.Skip("server-everything not installed: run npm ci --prefix mounts/mcp/testdata/node")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	m, err := mcpmount.Dial(ctx, mcpmount.Options{Command: node, Args: []string{js, "stdio"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func names(t *testing.T, f fs.FS, p string) []string {
	t.Helper()
	infos, err := f.List(ctx, fs.MustParse(p))
	if err != nil {
		t.Fatalf("list %s: %v", p, err)
	}
	var out []string
	for _, in := range infos {
		out = append(out, in.Name())
	}
	return out
}

func read(t *testing.T, f fs.FS, p string) string {
	t.Helper()
	file, err := f.Open(ctx, fs.MustParse(p))
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer file.Close()
	b, err := io.ReadAll(file)
	if err != nil {
		t.Fatal(err)
	}
	if file.Stat().Size != int64(len(b)) {
		t.Fatalf("%s: stat size %d, read %d bytes", p, file.Stat().Size, len(b))
	}
	return string(b)
}

func TestEverything(t *testing.T) {
	m := everything(t)
	if got := names(t, m, "/"); !slices.Equal(got, []string{"resources", "server.json", "tools"}) {
		t.Fatalf("root %v", got)
	}
	if info := read(t, m, "/server.json"); !strings.Contains(info, "Everything") {
		t.Fatalf("server.json %s", info)
	}
	tools := names(t, m, "/tools")
	for _, want := range []string{"echo", "get-sum"} {
		if !slices.Contains(tools, want) {
			t.Fatalf("tools %v lack %s", tools, want)
		}
	}
	if def := read(t, m, "/tools/echo"); !strings.Contains(def, `"inputSchema"`) || !strings.Contains(def, `"message"`) {
		t.Fatalf("echo definition %s", def)
	}

	// Exec calls tools; failures the tool reports are ToolErrors.
	out, err := m.Exec(ctx, "/tools/get-sum", map[string]any{"a": 2, "b": 3})
	if err != nil || !strings.Contains(out, "5") {
		t.Fatalf("get-sum: %q %v", out, err)
	}
	if out, err := m.Exec(ctx, "/tools/echo", map[string]any{"message": "hello mount"}); err != nil || !strings.Contains(out, "hello mount") {
		t.Fatalf("echo: %q %v", out, err)
	}
	var te *mcpmount.ToolError
	if _, err := m.Exec(ctx, "/tools/get-sum", map[string]any{"a": "two"}); !errors.As(err, &te) {
		t.Fatalf("get-sum with bad args: %v", err)
	}
	if _, err := m.Exec(ctx, "/tools/no-such-tool", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unknown tool: %v", err)
	}
	if _, err := m.Exec(ctx, "/server.json", nil); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("exec of a non-tool: %v", err)
	}
	// Found by type assertion, as other doors will.
	var f fs.FS = m
	if _, ok := f.(mcpmount.Executor); !ok {
		t.Fatal("FS is not an Executor")
	}

	// Resources are files named by their escaped URI.
	res := names(t, m, "/resources")
	arch := mcpmount.ResourceName("demo://resource/static/document/architecture.md")
	if !slices.Contains(res, arch) {
		t.Fatalf("resources %v lack %s", res, arch)
	}
	if doc := read(t, m, "/resources/"+arch); !strings.Contains(doc, "#") {
		t.Fatalf("architecture.md: %q", doc)
	}

	// Read-only, and missing paths are missing.
	if _, err := m.Write(ctx, "/tools/echo", strings.NewReader("x"), fs.WriteOptions{}); !errors.Is(err, fs.ErrReadOnly) {
		t.Fatalf("write: %v", err)
	}
	for _, p := range []string{"/tools/nope", "/resources/nope", "/other"} {
		if _, err := m.Stat(ctx, fs.MustParse(p)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("stat %s: %v", p, err)
		}
	}

	// The io/fs view passes the standard library's file system checks.
	if err := fstest.TestFS(fs.IOFS(ctx, m, fs.Root), "server.json", "tools/echo", "resources/"+arch); err != nil {
		t.Fatal(err)
	}
}

// TestInNamespace mounts the server at /mnt/everything in a namespace and
// reads it through the namespace's access checks.
func TestInNamespace(t *testing.T) {
	m := everything(t)
	sys, err := local.Open(ctx, t.TempDir(), local.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	if err := sys.NS.Mount("/mnt/everything", m); err != nil {
		t.Fatal(err)
	}
	adm := fs.WithPrincipal(ctx, fs.Principal{Name: "admin", Admin: true})
	f, err := sys.NS.Open(adm, "/mnt/everything/tools/echo")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	alice := fs.WithPrincipal(ctx, fs.Principal{Name: "alice"})
	if _, err := sys.NS.Open(alice, "/mnt/everything/tools/echo"); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("alice opened a mount she has no rights on: %v", err)
	}
	if _, err := sys.NS.Write(adm, "/mnt/everything/tools/x", strings.NewReader("x"), fs.WriteOptions{}); !errors.Is(err, fs.ErrReadOnly) {
		t.Fatalf("write through the namespace: %v", err)
	}
}

// TestOwnServer mounts ctxfs's own MCP server, over HTTP (as alice, with
// her token) and over stdio (a child process as admin).
func TestOwnServer(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		sys, err := local.Open(ctx, t.TempDir(), local.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close()
		srv := mcpserver.NewServer(sys.NS, mcpserver.Options{Authenticate: func(r *http.Request) (fs.Principal, error) {
			if r.Header.Get("Authorization") != "Bearer alice-token" {
				return fs.Principal{}, fs.ErrUnauthenticated
			}
			return fs.Principal{Name: "alice"}, nil
		}})
		defer srv.Close()
		hs := httptest.NewServer(srv)
		defer hs.Close()
		if _, err := mcpmount.Dial(ctx, mcpmount.Options{URL: hs.URL, Header: map[string]string{"Authorization": "Bearer wrong"}}); err == nil {
			t.Fatal("mounted with a bad token")
		}
		m, err := mcpmount.Dial(ctx, mcpmount.Options{URL: hs.URL, Header: map[string]string{"Authorization": "Bearer alice-token"}, CacheTTL: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		exerciseOwn(t, m, "/memory/alice/from-mount.md")
		var te *mcpmount.ToolError
		if _, err := m.Exec(ctx, "/tools/ctx_read", map[string]any{"path": "/memory/bob/x"}); !errors.As(err, &te) || !strings.HasPrefix(te.Text, "permission_denied:") {
			t.Fatalf("alice reading bob's file through the mount: %v", err)
		}
	})
	t.Run("stdio", func(t *testing.T) {
		m, err := mcpmount.Dial(ctx, mcpmount.Options{Command: os.Args[0], Args: []string{"-test.run=^$"}, Env: []string{envChild + "=" + t.TempDir()}, CacheTTL: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		exerciseOwn(t, m, "/notes/from-mount.md")
	})
}

func exerciseOwn(t *testing.T, m *mcpmount.FS, p string) {
	t.Helper()
	if got := names(t, m, "/tools"); !slices.Equal(got, slices.Sorted(slices.Values(mcpserver.BuiltinTools))) {
		t.Fatalf("tools %v", got)
	}
	if _, err := m.Exec(ctx, "/tools/ctx_write", map[string]any{"path": p, "content": "written through a mount"}); err != nil {
		t.Fatal(err)
	}
	name := mcpmount.ResourceName(mcpserver.URI(fs.MustParse(p)))
	if got := names(t, m, "/resources"); !slices.Contains(got, name) {
		t.Fatalf("resources %v lack %s", got, name)
	}
	if got := read(t, m, "/resources/"+name); got != "written through a mount" {
		t.Fatalf("resource content %q", got)
	}
	if got, err := m.Exec(ctx, "/tools/ctx_read", map[string]any{"path": p}); err != nil || got != "written through a mount" {
		t.Fatalf("ctx_read: %q %v", got, err)
	}
}
