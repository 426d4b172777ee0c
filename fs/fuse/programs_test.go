package fuse

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeTree writes a tree of text and binary files under dir.
func makeTree(tb testing.TB, dir string, seed uint64) {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	for d := 0; d < 4; d++ {
		sub := filepath.Join(dir, fmt.Sprintf("dir%d", d), fmt.Sprintf("sub%d", d%2))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		for f := 0; f < 6; f++ {
			var data []byte
			if f%3 == 0 {
				data = make([]byte, r.IntN(300_000))
				for i := range data {
					data[i] = byte(r.Uint32())
				}
			} else {
				var b strings.Builder
				for l := 0; l < r.IntN(200)+1; l++ {
					fmt.Fprintf(&b, "line %d of file %d in %d: %x\n", l, f, d, r.Uint64())
					if r.IntN(20) == 0 {
						b.WriteString("here is the needle\n")
					}
				}
				data = []byte(b.String())
			}
			target := sub
			if f%2 == 0 {
				target = filepath.Dir(sub)
			}
			if err := os.WriteFile(filepath.Join(target, fmt.Sprintf("file%d.txt", f)), data, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644)
}

// run runs a command line through sh (so that no cd happens between
// fork and exec in this process, which serves the mount) and returns its
// output; a non-zero exit fails tb.
func run(tb testing.TB, env []string, script string) string {
	tb.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

func TestPrograms(t *testing.T) {
	st, mnt := mountStore(t, Options{})
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 1)
	tree := filepath.Join(mnt, "tree")
	q := func(s string) string { return "'" + s + "'" }

	t.Run("CpDiff", func(t *testing.T) {
		run(t, nil, "cp -r "+q(src)+" "+q(tree))
		run(t, nil, "diff -r "+q(src)+" "+q(tree))
		// Every file is one version: cp writes and closes each once.
		info, err := st.Stat(testCtx(), "/tree/dir1/sub1/file1.txt")
		if err != nil || info.Version != 1 {
			t.Errorf("copied file: %+v %v", info, err)
		}
	})

	t.Run("Grep", func(t *testing.T) {
		want := run(t, nil, "cd "+q(src)+" && grep -rn needle . | sort")
		got := run(t, nil, "cd "+q(tree)+" && grep -rn needle . | sort")
		if got != want || !strings.Contains(got, "needle") {
			t.Errorf("grep -r in the mount:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("Tar", func(t *testing.T) {
		archive := filepath.Join(t.TempDir(), "out.tar")
		run(t, nil, "tar -C "+q(tree)+" -cf "+q(archive)+" .")
		back := filepath.Join(mnt, "untarred")
		run(t, nil, "mkdir "+q(back)+" && tar -C "+q(back)+" -xf "+q(archive))
		run(t, nil, "diff -r "+q(src)+" "+q(back))
		out := filepath.Join(t.TempDir(), "out")
		run(t, nil, "mkdir "+q(out)+" && tar -C "+q(back)+" -cf - . | tar -C "+q(out)+" -xf -")
		run(t, nil, "diff -r "+q(src)+" "+q(out))
	})

	t.Run("EditorSave", func(t *testing.T) {
		name := filepath.Join(mnt, "doc.md")
		mustWrite(t, name, "# Title\n\nold text\n")
		// What editors do: write a temporary file, then rename it over
		// the original.
		tmp := filepath.Join(mnt, ".doc.md.swp")
		mustWrite(t, tmp, "# Title\n\nnew text\n")
		if err := os.Rename(tmp, name); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, name); got != "# Title\n\nnew text\n" {
			t.Errorf("after save: %q", got)
		}
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Errorf("temporary file still there: %v", err)
		}
		// sed -i saves the same way.
		run(t, nil, "sed -i s/new/newer/ "+q(name))
		if got := mustRead(t, name); got != "# Title\n\nnewer text\n" {
			t.Errorf("after sed -i: %q", got)
		}
		if v := version(t, name); v != 1 {
			t.Errorf("saved file is version %d of its new history, want 1", v)
		}
	})

	t.Run("Git", func(t *testing.T) {
		home := t.TempDir()
		env := []string{
			"HOME=" + home, "XDG_CONFIG_HOME=" + home, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Tester", "GIT_AUTHOR_EMAIL=tester@example.com",
			"GIT_COMMITTER_NAME=Tester", "GIT_COMMITTER_EMAIL=tester@example.com",
		}
		repo := filepath.Join(mnt, "repo")
		run(t, env, "git init -q -b main "+q(repo))
		run(t, env, "cp -r "+q(src)+"/. "+q(repo))
		run(t, env, "git -C "+q(repo)+" add -A && git -C "+q(repo)+" commit -q -m first")
		if out := run(t, env, "git -C "+q(repo)+" status --porcelain"); out != "" {
			t.Errorf("status after commit:\n%s", out)
		}
		mustWrite(t, filepath.Join(repo, "dir0/file2.txt"), "changed\n")
		os.Remove(filepath.Join(repo, "empty"))
		mustWrite(t, filepath.Join(repo, "new.txt"), "new\n")
		out := run(t, env, "git -C "+q(repo)+" status --porcelain")
		for _, want := range []string{" M dir0/file2.txt", " D empty", "?? new.txt"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
		run(t, env, "git -C "+q(repo)+" add -A && git -C "+q(repo)+" commit -q -m second")
		log := run(t, env, "git -C "+q(repo)+" log --format=%s")
		if log != "second\nfirst\n" {
			t.Errorf("git log:\n%s", log)
		}
		if out := run(t, env, "git -C "+q(repo)+" status --porcelain"); out != "" {
			t.Errorf("status after the second commit:\n%s", out)
		}
		run(t, env, "git -C "+q(repo)+" fsck --strict --no-progress")
		// A clone out of the mount checks out the same tree.
		clone := filepath.Join(t.TempDir(), "clone")
		run(t, env, "git clone -q "+q(repo)+" "+q(clone)+" && git -C "+q(clone)+" checkout -q HEAD~1")
		run(t, nil, "diff -r --exclude=.git "+q(src)+" "+q(clone))
	})
}
