package afs

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

// Severity is how far an action reaches (§6).
type Severity string

const (
	SeverityAmbient  Severity = "ambient"  // reads only what the caller sees anyway
	SeverityBoundary Severity = "boundary" // crosses a boundary: new data, host files
	SeverityCritical Severity = "critical" // destructive or external effects
)

// The action policies (§6): which severities exec allows.
const (
	PolicySafe     = "safe"     // ambient only
	PolicyStandard = "standard" // ambient and boundary
	PolicyFull     = "full"     // everything
)

// ExecPolicy is the action policy of exec. The zero value is the standard
// policy with nothing blocked.
type ExecPolicy struct {
	// Policy is safe, standard or full; empty means standard.
	Policy string
	// Blocked actions are refused whatever the policy says.
	Blocked []string
	// Allowed actions pass whatever their severity (Blocked still wins).
	Allowed []string
	// Mounts overrides the policy for the AFS mounts at these AFS paths
	// (the path "/" names the root provider).
	Mounts map[string]ExecPolicy
}

// Validate checks the policy names.
func (p ExecPolicy) Validate() error {
	switch p.Policy {
	case "", PolicySafe, PolicyStandard, PolicyFull:
	default:
		return fmt.Errorf("%w: exec policy %q (use safe, standard or full)", fs.ErrInvalid, p.Policy)
	}
	for at, m := range p.Mounts {
		if len(m.Mounts) > 0 {
			return fmt.Errorf("%w: exec policy for mount %s: nested mount policies", fs.ErrInvalid, at)
		}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("mount %s: %w", at, err)
		}
	}
	return nil
}

// check runs the guard of §6 for action name of severity sev: blocked,
// then allowed, then severity against the policy.
func (p ExecPolicy) check(name string, sev Severity) error {
	if slices.Contains(p.Blocked, name) {
		return fmt.Errorf("Action '%s' is blocked by policy", name)
	}
	if slices.Contains(p.Allowed, name) {
		return nil
	}
	policy := p.Policy
	if policy == "" {
		policy = PolicyStandard
	}
	ok := false
	switch policy {
	case PolicyFull:
		ok = true
	case PolicyStandard:
		ok = sev == SeverityAmbient || sev == SeverityBoundary
	case PolicySafe:
		ok = sev == SeverityAmbient
	}
	if !ok {
		return fmt.Errorf("Action '%s' severity '%s' exceeds policy '%s'", name, sev, policy)
	}
	return nil
}

// action is a node action.
type action struct {
	name        string
	severity    Severity
	description string
	onDir       bool // offered on directories (else on files)
	run         func(h *handler, ctx context.Context, target fs.Path, args map[string]json.RawMessage) (any, error)
}

// actions are the fs actions every node of every mount offers.
var actions = []action{
	{name: "archive", severity: SeverityBoundary, onDir: true,
		description: "pack a directory's files into a tar.gz or zip archive (args: format, pattern, outputPath)",
		run:         (*handler).archive},
	{name: "checksum", severity: SeverityBoundary,
		description: "hash a file's content (args: algorithm md5|sha1|sha256|sha512)",
		run:         (*handler).checksum},
}

func actionsFor(info *fs.Info) []action {
	var out []action
	for _, a := range actions {
		if a.onDir == info.IsDir() {
			out = append(out, a)
		}
	}
	return out
}

// actionFailure is an action that failed on its own terms: the envelope
// still succeeds and carries it (§3 exec).
type actionFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type actionResult struct {
	Success bool           `json:"success"`
	Data    any            `json:"data,omitempty"`
	Error   *actionFailure `json:"error,omitempty"`
}

type execParams struct {
	Path string                     `json:"path"`
	Args map[string]json.RawMessage `json:"args"`
}

const actionsElem = "/.actions/"

func (h *handler) exec(ctx context.Context, raw json.RawMessage) (any, error) {
	var ep execParams
	if err := decodeParams(raw, &ep); err != nil {
		return nil, err
	}
	full, err := afsPath("path", ep.Path)
	if err != nil {
		return nil, err
	}
	s := string(full)
	i := strings.LastIndex(s, actionsElem)
	if i < 0 || strings.Contains(s[i+len(actionsElem):], "/") {
		return nil, badParams("invalid params: exec path must be NODE/.actions/NAME, not %s", full)
	}
	name := s[i+len(actionsElem):]
	node := fs.Root
	if i > 0 {
		node = fs.Path(s[:i])
	}
	var act *action
	for k := range actions {
		if actions[k].name == name {
			act = &actions[k]
		}
	}
	if act == nil {
		return nil, &fs.PathError{Op: "exec", Path: string(h.ns(full)), Err: fmt.Errorf("%w: no action %q (actions: archive, checksum)", fs.ErrNotExist, name)}
	}
	mount := h.mountOf(node)
	if err := h.execPolicy(mount).check(name, act.severity); err != nil {
		return nil, runtimeErr("%s", err.Error())
	}
	nnode := h.ns(node)
	if pol, ok := h.fsys.(interface{ Policy() *fs.Policy }); ok {
		pr, _ := fs.PrincipalFrom(ctx)
		if !pol.Policy().Allowed(pr, nnode, fs.PermExec) {
			return nil, &fs.PathError{Op: "exec", Path: string(nnode), Err: fmt.Errorf("%w: %s may not execute here", fs.ErrPermission, pr.Name)}
		}
	}
	info, err := h.fsys.Stat(ctx, nnode)
	if err != nil {
		return nil, err
	}
	if info.ReadOnly || h.mountReadOnly(ctx, mount) {
		return nil, &fs.PathError{Op: "exec", Path: string(nnode), Err: fmt.Errorf("%w: %s is on a read-only mount", fs.ErrReadOnly, node)}
	}
	target := node
	if a, ok := ep.Args["path"]; ok {
		var rel string
		if err := json.Unmarshal(a, &rel); err != nil {
			return actionFail("INVALID_ARGS", "args.path must be a string"), nil
		}
		rp, err := fs.Parse("/" + strings.TrimPrefix(rel, "/"))
		if err != nil {
			return actionFail("INVALID_ARGS", "args.path: "+err.Error()), nil
		}
		target = rp.Under(node)
	}
	data, err := act.run(h, ctx, target, ep.Args)
	if err != nil {
		var af *actionFailure
		if errors.As(err, &af) {
			return actionResult{Error: af}, nil
		}
		return nil, err
	}
	return actionResult{Success: true, Data: data}, nil
}

func (e *actionFailure) Error() string { return e.Message }

func actionFail(code, msg string) actionResult {
	return actionResult{Error: &actionFailure{Code: code, Message: msg}}
}

func (h *handler) execPolicy(mount fs.Path) ExecPolicy {
	if p, ok := h.opts.Exec.Mounts[string(mount)]; ok {
		return p
	}
	return h.opts.Exec
}

// mountReadOnly reports whether the AFS mount at at refuses writes.
func (h *handler) mountReadOnly(ctx context.Context, at fs.Path) bool {
	if at.IsRoot() {
		return false
	}
	info, err := h.fsys.Stat(ctx, h.ns(at))
	return err == nil && info.ReadOnly
}

// relToMount is the provider's view of AFS path p: p without its mount prefix.
func (h *handler) relToMount(p fs.Path) fs.Path {
	rel, _ := p.Rel(h.mountOf(p))
	return rel
}

// targetErr turns a failed look-up of the action's target into an action
// failure, except refusals, which stay envelope errors.
func targetErr(err error, target fs.Path) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrReadOnly) {
		return err
	}
	if fs.IsNotExist(err) {
		return &actionFailure{Code: "NOT_FOUND", Message: fmt.Sprintf("%s does not exist", target)}
	}
	return err
}

func stringArg(args map[string]json.RawMessage, name, def string) (string, error) {
	raw, ok := args[name]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &actionFailure{Code: "INVALID_ARGS", Message: "args." + name + " must be a string"}
	}
	return s, nil
}

// checksum hashes a file: {hash, algorithm, size, path}.
func (h *handler) checksum(ctx context.Context, target fs.Path, args map[string]json.RawMessage) (any, error) {
	alg, err := stringArg(args, "algorithm", "sha256")
	if err != nil {
		return nil, err
	}
	var hs hash.Hash
	switch alg {
	case "md5":
		hs = md5.New()
	case "sha1":
		hs = sha1.New()
	case "sha256":
		hs = sha256.New()
	case "sha512":
		hs = sha512.New()
	default:
		return nil, &actionFailure{Code: "INVALID_ARGS", Message: fmt.Sprintf("unsupported algorithm %q (md5, sha1, sha256, sha512)", truncate(alg, 32))}
	}
	f, err := h.fsys.Open(ctx, h.ns(target))
	if errors.Is(err, fs.ErrIsDir) {
		return nil, &actionFailure{Code: "INVALID_TARGET", Message: fmt.Sprintf("%s is a directory; checksum hashes files", target)}
	}
	if err != nil {
		return nil, targetErr(err, target)
	}
	defer f.Close()
	n, err := io.Copy(hs, f)
	if err != nil {
		return nil, err
	}
	return map[string]any{"hash": hex.EncodeToString(hs.Sum(nil)), "algorithm": alg, "size": n, "path": string(h.relToMount(target))}, nil
}

// maxArchiveBytes bounds the content one archive packs.
const maxArchiveBytes = 1 << 30

// archive packs the files below a directory (matching args.pattern) into a
// tar.gz or zip: written into the namespace at args.outputPath when given
// (a write the caller must be allowed), else to a new file in
// Options.ArchiveDir on the server. {outputPath, size, fileCount, format}.
func (h *handler) archive(ctx context.Context, target fs.Path, args map[string]json.RawMessage) (any, error) {
	format, err := stringArg(args, "format", "tar.gz")
	if err != nil {
		return nil, err
	}
	if format != "tar.gz" && format != "zip" {
		return nil, &actionFailure{Code: "INVALID_ARGS", Message: fmt.Sprintf("unsupported format %q (tar.gz, zip)", truncate(format, 32))}
	}
	pattern, err := stringArg(args, "pattern", "")
	if err != nil {
		return nil, err
	}
	out, err := stringArg(args, "outputPath", "")
	if err != nil {
		return nil, err
	}
	var match func(fs.Path) bool
	if pattern != "" {
		m, err := globMatcher(pattern)
		if err != nil {
			return nil, &actionFailure{Code: "INVALID_ARGS", Message: err.Error()}
		}
		match = m
	}
	var outPath fs.Path
	if out != "" {
		if outPath, err = fs.Parse(out); err != nil {
			return nil, &actionFailure{Code: "INVALID_ARGS", Message: "args.outputPath: " + err.Error()}
		}
		if outPath.Within(target) {
			return nil, &actionFailure{Code: "INVALID_ARGS", Message: "args.outputPath lies inside the archived directory"}
		}
	}
	nt := h.ns(target)
	info, err := h.fsys.Stat(ctx, nt)
	if err != nil {
		return nil, targetErr(err, target)
	}
	if !info.IsDir() {
		return nil, &actionFailure{Code: "INVALID_TARGET", Message: fmt.Sprintf("%s is a file; archive packs directories", target)}
	}
	var buf bytes.Buffer
	count, err := h.pack(ctx, &buf, nt, format, match)
	if err != nil {
		return nil, err
	}
	result := map[string]any{"size": buf.Len(), "fileCount": count, "format": format}
	if outPath != "" {
		if _, err := h.fsys.Write(ctx, h.ns(outPath), bytes.NewReader(buf.Bytes()), fs.WriteOptions{}); err != nil {
			return nil, err
		}
		result["outputPath"] = string(outPath)
		return result, nil
	}
	name := "afs-archive-" + rand.Text()[:12] + "." + format
	hostPath := filepath.Join(h.opts.ArchiveDir, name)
	if err := os.WriteFile(hostPath, buf.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("writing the archive: %w", err)
	}
	result["outputPath"] = hostPath
	return result, nil
}

// pack writes the files below dir (namespace path) into w and returns how
// many it packed.
func (h *handler) pack(ctx context.Context, w io.Writer, dir fs.Path, format string, match func(fs.Path) bool) (int, error) {
	var tw *tar.Writer
	var zw *zip.Writer
	var gz *gzip.Writer
	if format == "zip" {
		zw = zip.NewWriter(w)
	} else {
		gz = gzip.NewWriter(w)
		tw = tar.NewWriter(gz)
	}
	count, total := 0, int64(0)
	queue := []fs.Path{dir}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		children, err := h.fsys.List(ctx, d)
		if err != nil {
			return 0, err
		}
		for _, c := range children {
			if c.IsDir() {
				queue = append(queue, c.Path)
				continue
			}
			rel, _ := c.Path.Rel(dir)
			if match != nil && !match(rel) {
				continue
			}
			f, err := h.fsys.Open(ctx, c.Path)
			if err != nil {
				return 0, err
			}
			fi := f.Stat()
			total += fi.Size
			if total > maxArchiveBytes {
				f.Close()
				return 0, &actionFailure{Code: "TOO_LARGE", Message: fmt.Sprintf("the files hold more than %d bytes", maxArchiveBytes)}
			}
			name := strings.TrimPrefix(string(rel), "/")
			if zw != nil {
				hw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fi.Modified})
				if err == nil {
					_, err = io.Copy(hw, f)
				}
				if err != nil {
					f.Close()
					return 0, err
				}
			} else {
				err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: fi.Size, ModTime: fi.Modified, Typeflag: tar.TypeReg})
				if err == nil {
					_, err = io.CopyN(tw, f, fi.Size)
				}
				if err != nil {
					f.Close()
					return 0, err
				}
			}
			f.Close()
			count++
		}
	}
	if zw != nil {
		return count, zw.Close()
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	return count, gz.Close()
}
