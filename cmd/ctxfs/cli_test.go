package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	iofs "io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ctxfs "github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
)

// The CLI tests run the real binary, built once, against data directories
// in t.TempDir, as a user would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ctxfs-cli-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ctxfs")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ctxfs: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary with data directory data.
func runCLI(tb testing.TB, data string, stdin []byte, args ...string) result {
	tb.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "CTXFS_DATA="+data, "XDG_DATA_HOME="+tb.TempDir())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatalf("running ctxfs %v: %v", args, err)
	}
	return result{o.String(), e.String(), code}
}

func mustRun(tb testing.TB, data string, stdin []byte, args ...string) string {
	tb.Helper()
	r := runCLI(tb, data, stdin, args...)
	if r.code != 0 {
		tb.Fatalf("ctxfs %v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

func TestRoundTripAndVersions(t *testing.T) {
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 1000, 1 << 20, 1<<20 + 1, 64 << 20}
	var contents [][]byte
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		contents = append(contents, b)
		var put struct {
			Path    string `json:"path"`
			Version int64  `json:"version"`
			Size    int64  `json:"size"`
			Tokens  int    `json:"tokens"`
		}
		out := mustRun(t, data, b, "put", "/bin/blob", "--json")
		if err := json.Unmarshal([]byte(out), &put); err != nil {
			t.Fatalf("put --json: %v: %s", err, out)
		}
		if put.Path != "/bin/blob" || put.Version != int64(i+1) || put.Size != int64(n) {
			t.Fatalf("put = %+v, want version %d size %d", put, i+1, n)
		}
	}
	for i, want := range contents {
		got := mustRun(t, data, nil, "cat", fmt.Sprintf("/bin/blob@%d", i+1))
		if got != string(want) {
			t.Fatalf("cat @%d: %d bytes differ from the %d written", i+1, len(got), len(want))
		}
	}
	if got := mustRun(t, data, nil, "cat", "/bin/blob"); got != string(contents[len(contents)-1]) {
		t.Fatal("cat of the current version differs")
	}
	var log []struct {
		Version int64     `json:"version"`
		Time    time.Time `json:"time"`
		Size    int64     `json:"size"`
		Author  string    `json:"author"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, data, nil, "log", "/bin/blob", "--json")), &log); err != nil {
		t.Fatal(err)
	}
	if len(log) != len(sizes) {
		t.Fatalf("log has %d versions, want %d", len(log), len(sizes))
	}
	for i, v := range log {
		want := len(sizes) - i
		if v.Version != int64(want) || v.Size != int64(sizes[want-1]) || v.Time.IsZero() || v.Author == "" {
			t.Fatalf("log[%d] = %+v", i, v)
		}
	}
	// stat --json has every documented field.
	var st map[string]any
	json.Unmarshal([]byte(mustRun(t, data, []byte("hello tea"), "put", "/notes/a.md", "--meta", "src=test")), &st)
	if err := json.Unmarshal([]byte(mustRun(t, data, nil, "stat", "/notes/a.md", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"path", "kind", "size", "version", "tokens", "created", "modified", "author", "meta"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stat --json lacks %q: %v", k, st)
		}
	}
	if st["kind"] != "file" || st["tokens"].(float64) != 2 || st["meta"].(map[string]any)["src"] != "test" {
		t.Errorf("stat = %v", st)
	}
	if _, err := time.Parse(time.RFC3339, st["created"].(string)); err != nil {
		t.Errorf("created not RFC 3339: %v", err)
	}
}

// snapshot is the observable state of a store: every path with its stat,
// and the log of every file.
func snapshot(tb testing.TB, data string) string {
	tb.Helper()
	ls := mustRun(tb, data, nil, "ls", "-R", "/", "--json")
	var infos []struct {
		Path string `json:"path"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(ls), &infos); err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(ls)
	for _, i := range infos {
		if i.Kind == "file" {
			b.WriteString(mustRun(tb, data, nil, "log", i.Path, "--json"))
		}
	}
	return b.String()
}

func TestBadInputChangesNothing(t *testing.T) {
	data := t.TempDir()
	mustRun(t, data, []byte("a"), "put", "/d/f")
	mustRun(t, data, []byte("b"), "put", "/d/sub/g")
	before := snapshot(t, data)
	long := strings.Repeat("n", 256)
	deep := "/" + strings.Repeat("abcdefgh/", 460)
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"relative path", "x", []string{"put", "d/x"}, 1},
		{"dot-dot", "x", []string{"put", "/d/../x"}, 1},
		{"empty element", "x", []string{"put", "/d//x"}, 1},
		{"dot element", "x", []string{"put", "/d/./x"}, 1},
		{"invalid UTF-8", "x", []string{"put", "/d/\xff\xfe"}, 1},
		{"name over 255 bytes", "x", []string{"put", "/d/" + long}, 1},
		{"path over 4096 bytes", "x", []string{"put", deep + "x"}, 1},
		{"file over a directory", "x", []string{"put", "/d/sub"}, 1},
		{"directory under a file", "x", []string{"put", "/d/f/x"}, 1},
		{"directory into itself", "", []string{"mv", "/d", "/d/sub/d"}, 1},
		{"directory onto itself below", "", []string{"mv", "/d/sub", "/d/sub/x"}, 1},
		{"missing version", "", []string{"cat", "/d/f@7"}, 1},
		{"version zero", "", []string{"cat", "/d/f@0"}, 1},
		{"missing file", "", []string{"cat", "/nope"}, 1},
		{"rm of a non-empty directory", "", []string{"rm", "/d"}, 1},
		{"mv of a missing file", "", []string{"mv", "/nope", "/x"}, 1},
		{"bad meta", "x", []string{"put", "/d/m", "--meta", "novalue"}, 2},
		{"unknown flag", "", []string{"ls", "--bogus"}, 2},
		{"too many args", "", []string{"stat", "/a", "/b"}, 2},
		{"unknown command", "", []string{"frobnicate"}, 2},
		{"bad search query", "", []string{"search", "\"unterminated"}, 1},
		{"prune keep zero", "", []string{"prune", "--keep", "0"}, 2},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var stdin []byte
			if tt.stdin != "" {
				stdin = []byte(tt.stdin)
			}
			r := runCLI(t, data, stdin, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "ctxfs: ") || len(r.stderr) < 12 {
				t.Fatalf("no clear message on stderr: %q", r.stderr)
			}
		})
	}
	if after := snapshot(t, data); after != before {
		t.Fatalf("rejected commands changed the store:\nbefore %s\nafter %s", before, after)
	}
}

func TestSearchAndMounts(t *testing.T) {
	data := t.TempDir()
	mustRun(t, data, []byte("the quick brown fox"), "put", "/notes/fox.md", "--meta", "topic=animals")
	mustRun(t, data, []byte("a lazy dog sleeps"), "put", "/other/dog.md")
	var hits []struct {
		Path    string  `json:"path"`
		Score   float64 `json:"score"`
		Snippet string  `json:"snippet"`
		Version int64   `json:"version"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, data, nil, "search", "fox", "--json")), &hits); err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Path != "/notes/fox.md" || hits[0].Version != 1 || !strings.Contains(hits[0].Snippet, "fox") {
		t.Fatalf("search fox = %+v", hits)
	}
	json.Unmarshal([]byte(mustRun(t, data, nil, "search", "dog fox", "--under", "/other", "--json")), &hits)
	if len(hits) != 1 || hits[0].Path != "/other/dog.md" {
		t.Fatalf("search --under /other = %+v", hits)
	}
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "zebra.txt"), []byte("stripes of a zebra"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(host, "escape"))
	mustRun(t, data, nil, "mounts", "add", "zoo", host)
	var ms []map[string]any
	json.Unmarshal([]byte(mustRun(t, data, nil, "mounts", "ls", "--json")), &ms)
	if len(ms) != 1 || ms[0]["name"] != "zoo" || ms[0]["at"] != "/mnt/zoo" || ms[0]["rw"] != false {
		t.Fatalf("mounts ls = %v", ms)
	}
	if got := mustRun(t, data, nil, "cat", "/mnt/zoo/zebra.txt"); got != "stripes of a zebra" {
		t.Fatalf("cat through mount = %q", got)
	}
	if r := runCLI(t, data, nil, "cat", "/mnt/zoo/escape"); r.code == 0 || strings.Contains(r.stdout, "root:") {
		t.Fatalf("symlink escape readable: %+v", r)
	}
	if r := runCLI(t, data, []byte("x"), "put", "/mnt/zoo/new.txt"); r.code != 1 {
		t.Fatalf("write to read-only mount: %+v", r)
	}
	json.Unmarshal([]byte(mustRun(t, data, nil, "search", "zebra", "--json")), &hits)
	if len(hits) != 1 || hits[0].Path != "/mnt/zoo/zebra.txt" {
		t.Fatalf("search of host mount = %+v", hits)
	}
	mustRun(t, data, nil, "mounts", "rm", "zoo")
	if r := runCLI(t, data, nil, "cat", "/mnt/zoo/zebra.txt"); r.code != 1 {
		t.Fatalf("mount still there after rm: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(host, "zebra.txt")); err != nil {
		t.Fatal("mounts rm touched the host directory")
	}
}

func TestLockWait(t *testing.T) {
	data := t.TempDir()
	mustRun(t, data, nil, "init")
	// A process holding the store (a long stdin read keeps put inside its
	// write) makes another wait for --lock-timeout, then fail clearly.
	holder := exec.Command(binary, "put", "/slow")
	holder.Env = append(os.Environ(), "CTXFS_DATA="+data)
	w, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	// Wait until the holder has the store open: until then a probe gets
	// through. Once it is locked, a probe waits --lock-timeout and fails.
	locked := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r := runCLI(t, data, nil, "--lock-timeout", "300ms", "ls", "/")
		if r.code == 1 && strings.Contains(r.stderr, "in use") {
			locked = true
			break
		}
		if r.code != 0 {
			t.Fatalf("probe: %+v", r)
		}
	}
	if !locked {
		t.Fatal("the holder never locked the store")
	}
	start := time.Now()
	r := runCLI(t, data, []byte("x"), "--lock-timeout", "300ms", "put", "/other")
	if r.code != 1 || !strings.Contains(r.stderr, "in use") {
		t.Errorf("second process: %+v", r)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("second process gave up after %v, before --lock-timeout", waited)
	}
	w.Close()
	if err := holder.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	if got := mustRun(t, data, nil, "cat", "/slow"); got != "partial" {
		t.Fatalf("cat /slow = %q", got)
	}
}

// TestCrashDuringPuts SIGKILLs put processes at random moments. Every put
// that exited 0 must be there with its exact bytes, nothing partial may be
// visible, and search finds the acknowledged content.
func TestCrashDuringPuts(t *testing.T) {
	data := t.TempDir()
	mustRun(t, data, nil, "init")
	rng := rand.New(rand.NewPCG(7, 8))
	// Kill delays are drawn around how long one put takes on this machine
	// now, so that some puts finish and some die, however loaded it is.
	t0 := time.Now()
	mustRun(t, data, []byte("calibration "+strings.Repeat("z ", 50<<10)), "put", "/calibrate")
	typical := time.Since(t0)
	acked := map[string][]byte{}
	attempted := map[string][][]byte{}
	for i := 0; i < 40; i++ {
		p := fmt.Sprintf("/crash/f%02d", i%25)
		content := []byte(fmt.Sprintf("word%03d %s", i, strings.Repeat("z ", rng.IntN(100<<10))))
		attempted[p] = append(attempted[p], content)
		cmd := exec.Command(binary, "put", p)
		cmd.Env = append(os.Environ(), "CTXFS_DATA="+data)
		cmd.Stdin = bytes.NewReader(content)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil {
				acked[p] = content
			}
		case <-time.After(time.Duration(rng.Int64N(int64(2 * typical)))):
			cmd.Process.Signal(syscall.SIGKILL)
			if err := <-done; err == nil {
				acked[p] = content
			}
		}
	}
	if len(acked) == 0 {
		t.Fatal("no put finished; the test proves nothing")
	}
	for p := range attempted {
		r := runCLI(t, data, nil, "cat", p)
		if want, ok := acked[p]; ok {
			if r.code != 0 {
				t.Fatalf("acknowledged %s missing: %s", p, r.stderr)
			}
			// A later, killed put may have committed after its ack was lost;
			// what is there must be one of the attempted contents, whole.
			if r.stdout != string(want) && !isOneOf(r.stdout, attempted[p]) {
				t.Fatalf("%s holds %d bytes that no put wrote", p, len(r.stdout))
			}
			continue
		}
		if r.code == 0 && !isOneOf(r.stdout, attempted[p]) {
			t.Fatalf("%s holds partial content (%d bytes)", p, len(r.stdout))
		}
	}
	for p, want := range acked {
		word := strings.Fields(string(want))[0]
		got := mustRun(t, data, nil, "search", word, "--json")
		if !strings.Contains(got, p) && isLatest(t, data, p, want) {
			t.Fatalf("search %s does not find acknowledged %s: %s", word, p, got)
		}
	}
	t.Logf("%d paths acknowledged out of %d attempted", len(acked), len(attempted))
}

func isOneOf(s string, cs [][]byte) bool {
	for _, c := range cs {
		if s == string(c) {
			return true
		}
	}
	return false
}

func isLatest(tb testing.TB, data, p string, want []byte) bool {
	return mustRun(tb, data, nil, "cat", p) == string(want)
}

// TestCrashDuringImport SIGKILLs an import of thousands of files. The
// store opens afterwards, every imported file is whole, and a later import
// completes.
func TestCrashDuringImport(t *testing.T) {
	data := t.TempDir()
	src := t.TempDir()
	sums := map[string][32]byte{}
	for i := 0; i < 3000; i++ {
		rel := fmt.Sprintf("d%02d/file%04d.txt", i%30, i)
		content := []byte(fmt.Sprintf("document %d about topic%d %s", i, i%97, strings.Repeat("lorem ipsum ", i%200)))
		os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755)
		os.WriteFile(filepath.Join(src, rel), content, 0o644)
		sums["/imp/"+rel] = sha256.Sum256(content)
	}
	for _, delay := range []time.Duration{1500 * time.Millisecond, 4 * time.Second} {
		cmd := exec.Command(binary, "import", src, "/imp")
		cmd.Env = append(os.Environ(), "CTXFS_DATA="+data)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		checkImported(t, data, sums, false)
	}
	out := mustRun(t, data, nil, "import", src, "/imp", "--json")
	var stats struct{ Files int }
	json.Unmarshal([]byte(out), &stats)
	if stats.Files != 3000 {
		t.Fatalf("import summary %s", out)
	}
	checkImported(t, data, sums, true)
	got := mustRun(t, data, nil, "search", "topic42", "--limit", "100", "--json")
	var hits []struct{ Path string }
	json.Unmarshal([]byte(got), &hits)
	want := 0
	for i := 0; i < 3000; i++ {
		if i%97 == 42 {
			want++
		}
	}
	if len(hits) != want {
		t.Fatalf("search topic42 found %d files, want %d", len(hits), want)
	}
}

// checkImported opens the store in this process, after the ctxfs
// processes have ended, and checks every file against its source: no file
// may be partial, and with all every source file must be there.
func checkImported(tb testing.TB, data string, sums map[string][32]byte, all bool) {
	tb.Helper()
	ctx := context.Background()
	sys, err := local.Open(ctx, data, local.Options{})
	if err != nil {
		tb.Fatalf("store does not open after the kill: %v", err)
	}
	defer sys.Close()
	files := 0
	err = iofs.WalkDir(ctxfs.IOFS(ctxfs.WithPrincipal(ctx, ctxfs.System), sys.NS, ctxfs.Root), ".", func(name string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		want, ok := sums["/"+name]
		if !ok {
			return fmt.Errorf("unexpected file %s", name)
		}
		f, err := sys.NS.Open(ctxfs.WithPrincipal(ctx, ctxfs.System), ctxfs.MustParse("/"+name))
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		io.Copy(h, f)
		if [32]byte(h.Sum(nil)) != want {
			return fmt.Errorf("%s is partial or corrupt", name)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if all && files != len(sums) {
		tb.Fatalf("%d files after a complete import, want %d", files, len(sums))
	}
	tb.Logf("%d whole files in the store", files)
}

// TestConfig checks where settings come from: flag over environment over
// config file.
func TestConfig(t *testing.T) {
	fromFile := t.TempDir()
	fromEnv := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "ctxfs.yaml")
	os.WriteFile(cfg, []byte("data: "+fromFile+"\n"), 0o644)
	run := func(env []string, args ...string) result {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader("x")
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{o.String(), e.String(), code}
	}
	if r := run([]string{"CTXFS_DATA="}, "--config", cfg, "put", "/a"); r.code != 0 {
		t.Fatalf("put with config: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(fromFile, "store.db")); err != nil {
		t.Fatalf("the config file's data directory was not used: %v", err)
	}
	if r := run([]string{"CTXFS_DATA=" + fromEnv}, "--config", cfg, "put", "/b"); r.code != 0 {
		t.Fatalf("put with env: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(fromEnv, "store.db")); err != nil {
		t.Fatalf("CTXFS_DATA did not override the config file: %v", err)
	}
	flagDir := t.TempDir()
	if r := run([]string{"CTXFS_DATA=" + fromEnv}, "--config", cfg, "--data", flagDir, "put", "/c"); r.code != 0 {
		t.Fatalf("put with flag: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(flagDir, "store.db")); err != nil {
		t.Fatalf("--data did not override the environment: %v", err)
	}
	if r := run(nil, "--config", filepath.Join(t.TempDir(), "missing.yaml"), "ls"); r.code != 1 || !strings.Contains(r.stderr, "configuration") {
		t.Fatalf("a missing explicit config file: %+v", r)
	}
	os.WriteFile(cfg, []byte("data: [unclosed\n"), 0o644)
	if r := run(nil, "--config", cfg, "ls"); r.code != 1 || !strings.Contains(r.stderr, "configuration") {
		t.Fatalf("a malformed config file: %+v", r)
	}
}
