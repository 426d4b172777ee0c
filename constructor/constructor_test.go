package constructor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/tokens"
)

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func admin() context.Context { return fs.WithPrincipal(context.Background(), fs.System) }

func write(tb testing.TB, f fs.FS, ctx context.Context, p, content string) *fs.Info {
	tb.Helper()
	info, err := f.Write(ctx, fs.MustParse(p), strings.NewReader(content), fs.WriteOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return info
}

var vocab = strings.Fields(`garden pottery camping museum violin recipe marathon bakery painting sunrise
adoption agency counselor festival beach hiking guitar puppy library concert volunteer school chess
bicycle lake mountain novel poetry theatre pizza workshop conference parade`)

// seed writes a conversation of sessions and some notes.
func seed(tb testing.TB, f fs.FS, r *rand.Rand) {
	ctx := admin()
	speakers := []string{"Ana", "Ben"}
	for s := 1; s <= 6; s++ {
		var b strings.Builder
		fmt.Fprintf(&b, "# Session %d (2:00 pm on %d May, 2023)\n\n", s, s+1)
		for t := 1; t <= 30; t++ {
			n := 3 + r.IntN(25)
			var ws []string
			for range n {
				if r.IntN(3) == 0 {
					ws = append(ws, vocab[r.IntN(len(vocab))])
				} else {
					ws = append(ws, []string{"the", "and", "I", "really", "went", "yesterday", "last", "week", "was", "so", "fun", "we"}[r.IntN(12)])
				}
			}
			caption := ""
			if r.IntN(8) == 0 {
				caption = "a photo of a " + vocab[r.IntN(len(vocab))]
			}
			b.WriteString(FormatTurn(fmt.Sprintf("D%d:%d", s, t), speakers[t%2], strings.Join(ws, " ")+".", caption))
			b.WriteByte('\n')
		}
		write(tb, f, ctx, fmt.Sprintf("/history/chat/s%02d.md", s), b.String())
	}
	write(tb, f, ctx, "/notes/guide.md", "# Garden\n\nPlant the tomatoes in May. Water the garden every morning.\n\n- pottery class on Tuesdays\n- violin lessons\n\n# Travel\n\nThe lake trip needs a tent and a bicycle.\n")
}

func TestBudgetNeverExceeded(t *testing.T) {
	st := openStore(t)
	r := rand.New(rand.NewPCG(1, 2))
	seed(t, st, r)
	b := New(st, Options{})
	counter, _ := tokens.Default()
	ctx := admin()
	srcs := [][]Source{
		{{Session: "chat"}},
		{{Glob: "/notes/**"}, {Session: "chat"}},
		{{Glob: "/history/chat/s0[12].md"}, {Pin: "/notes/guide.md"}},
	}
	for i := range 150 {
		budget := 1 + r.IntN(1500)
		q := vocab[r.IntN(len(vocab))] + " " + vocab[r.IntN(len(vocab))] + "?"
		src := srcs[i%len(srcs)]
		out, err := b.Build(ctx, Request{Query: q, Budget: budget, Sources: src, DryRun: true})
		if err != nil {
			t.Fatalf("build %q budget %d: %v", q, budget, err)
		}
		if n := counter.CountTokens(out.Prompt); n > budget || n != out.Tokens {
			t.Fatalf("budget %d: prompt has %d tokens (reported %d)", budget, n, out.Tokens)
		}
		sum := 0
		for _, it := range out.Manifest.Items {
			sum += it.Tokens
			if it.Path == "" || it.Version == 0 || it.End <= it.Start || it.Why == "" {
				t.Fatalf("incomplete manifest item %+v", it)
			}
		}
		if budget >= 400 && len(out.Manifest.Items) == 0 {
			t.Fatalf("budget %d for %q: nothing chosen", budget, q)
		}
	}
}

func TestManifestReplayAfterChange(t *testing.T) {
	st := openStore(t)
	seed(t, st, rand.New(rand.NewPCG(3, 4)))
	b := New(st, Options{})
	ctx := admin()
	out, err := b.Build(ctx, Request{Query: "pottery and violin", Budget: 300, Sources: []Source{{Glob: "/notes/**"}, {Session: "chat"}}, Session: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Saved != ContextsDir("s1").Child(out.Manifest.ID+".json") {
		t.Fatalf("saved at %q", out.Saved)
	}
	if _, err := st.Stat(ctx, out.Saved); err != nil {
		t.Fatal(err)
	}
	// Change every file the context drew on.
	for _, it := range out.Manifest.Items {
		write(t, st, ctx, string(it.Path), "# rewritten\n\nnothing of the old content\n")
	}
	// A fresh builder (no cache) replays from the recorded versions.
	re, err := New(st, Options{}).Replay(ctx, out.Manifest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if re.Prompt != out.Prompt || re.Tokens != out.Tokens {
		t.Fatalf("replay differs:\n%s\n---\n%s", re.Prompt, out.Prompt)
	}
	// A build now sees the new content.
	now, err := b.Build(ctx, Request{Query: "pottery and violin", Budget: 300, Sources: []Source{{Glob: "/notes/**"}}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(now.Prompt, "pottery") {
		t.Fatalf("stale content after change:\n%s", now.Prompt)
	}
	if _, err := b.Replay(ctx, "20990101T000000-00000000"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("replay of an unknown id: %v", err)
	}
}

func TestAccessControl(t *testing.T) {
	st := openStore(t)
	seed(t, st, rand.New(rand.NewPCG(5, 6)))
	write(t, st, admin(), "/memory/bob/persona.md", "## Preferences\n- likes pottery (s1#2, 2023-05-01)\n")
	ns := fs.NewNamespace(st, fs.NamespaceOptions{})
	b := New(ns, Options{})
	bob := fs.WithPrincipal(context.Background(), fs.Principal{Name: "bob"})
	out, err := b.Build(bob, Request{Query: "pottery", Budget: 500, Sources: []Source{{Glob: "/notes/**"}, {User: "bob"}}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Manifest.Items {
		if !it.Path.Within(fs.MustParse("/memory/bob")) {
			t.Fatalf("bob got %s", it.Path)
		}
	}
	if len(out.Manifest.Items) == 0 || !strings.Contains(out.Prompt, "likes pottery") {
		t.Fatalf("bob's own memory missing:\n%s", out.Prompt)
	}
	if len(out.Manifest.Skipped) == 0 {
		t.Fatal("refused source not recorded as skipped")
	}
}

func TestPinnedAndLayout(t *testing.T) {
	st := openStore(t)
	seed(t, st, rand.New(rand.NewPCG(7, 8)))
	b := New(st, Options{})
	out, err := b.Build(admin(), Request{Query: "marathon", Budget: 800, Sources: []Source{{Session: "chat"}, {Pin: "/notes/guide.md"}}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Prompt, "Water the garden") {
		t.Fatalf("pinned file missing:\n%s", out.Prompt)
	}
	if !strings.HasPrefix(out.Prompt, "# /") {
		t.Fatalf("prompt does not start with a citation:\n%s", out.Prompt)
	}
	for _, it := range out.Manifest.Items {
		if !strings.Contains(out.Prompt, it.Unit+" ") {
			t.Fatalf("item %s not cited in the prompt", it.Unit)
		}
	}
}

func TestAnchor(t *testing.T) {
	at := time.Date(2023, 5, 8, 0, 0, 0, 0, time.UTC) // a Monday
	for _, tc := range []struct{ in, want string }{
		{"I went yesterday", "I went yesterday (7 May 2023)"},
		{"we met last Saturday!", "we met last Saturday (6 May 2023)!"},
		{"two weeks ago it rained", "two weeks ago (week of 24 April 2023) it rained"},
		{"last year was hard", "last year (2022) was hard"},
		{"next month I move", "next month (June 2023) I move"},
		{"nothing relative", "nothing relative"},
	} {
		if got := anchor(tc.in, at); got != tc.want {
			t.Errorf("anchor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := anchor("yesterday", time.Time{}); got != "yesterday" {
		t.Errorf("zero date changed the text: %q", got)
	}
}

func TestCompressKeepsContentWords(t *testing.T) {
	in := "Hey Mel! I went to a LGBTQ support group on 7 May 2023 and it was so powerful."
	got := compress(in)
	for _, w := range []string{"Mel", "LGBTQ", "support", "group", "7", "May", "2023", "powerful"} {
		if !strings.Contains(got, w) {
			t.Errorf("compress lost %q: %q", w, got)
		}
	}
	if len(got) >= len(in) {
		t.Errorf("compress did not shrink: %q", got)
	}
}

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Source
		ok   bool
	}{
		{"/notes/**", Source{Glob: "/notes/**"}, true},
		{"user:alice", Source{User: "alice"}, true},
		{"workspace:w1", Source{Workspace: "w1"}, true},
		{"session:s", Source{Session: "s"}, true},
		{"pin:/a/b.md", Source{Pin: "/a/b.md"}, true},
		{"bogus:x", Source{}, false},
		{"user:", Source{}, false},
		{"notes", Source{}, false},
	} {
		got, err := ParseSource(tc.in)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("ParseSource(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("ParseSource(%q): error %v does not wrap ErrInvalid", tc.in, err)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	st := openStore(b)
	seed(b, st, rand.New(rand.NewPCG(9, 10)))
	bl := New(st, Options{})
	ctx := admin()
	req := Request{Query: "pottery class and the lake trip", Budget: 1024, Sources: []Source{{Session: "chat"}, {Glob: "/notes/**"}}, DryRun: true}
	if _, err := bl.Build(ctx, req); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := bl.Build(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestJSONLinesHistory(t *testing.T) {
	st := openStore(t)
	ctx := admin()
	jl := `{"role":"Ana","content":"I adopted a puppy yesterday","id":"s1#1"}
{"role":"Ben","content":"What is the puppy called?"}
{"role":"Ana","content":"Her name is Biscuit."}
`
	if _, err := st.Write(ctx, fs.MustParse("/history/j/session_1.jsonl"), strings.NewReader(jl), fs.WriteOptions{Meta: map[string]string{"date": "1:56 pm on 8 May, 2023"}}); err != nil {
		t.Fatal(err)
	}
	b := New(st, Options{})
	out, err := b.Build(ctx, Request{Query: "What is the name of Ana's puppy?", Budget: 200, Sources: []Source{{Session: "j"}}, Session: "j"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"s1#1 Ana:", "7 May 2023", "Biscuit"} {
		if !strings.Contains(out.Prompt, want) {
			t.Errorf("prompt lacks %q:\n%s", want, out.Prompt)
		}
	}
	re, err := b.Replay(ctx, out.Manifest.ID)
	if err != nil || re.Prompt != out.Prompt {
		t.Fatalf("replay: %v\n%s", err, re.Prompt)
	}
}

func TestConcurrentBuilds(t *testing.T) {
	st := openStore(t)
	seed(t, st, rand.New(rand.NewPCG(11, 12)))
	b := New(st, Options{})
	ctx := admin()
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for i := range 5 {
				q := vocab[(g*5+i)%len(vocab)]
				var out *Context
				out, err = b.Build(ctx, Request{Query: q, Budget: 200 + 50*i, Sources: []Source{{Session: "chat"}, {Glob: "/notes/**"}}, DryRun: i%2 == 0})
				if err == nil && out.Tokens > 200+50*i {
					err = fmt.Errorf("over budget: %d", out.Tokens)
				}
				if err != nil {
					break
				}
				if g == 0 {
					// Writes while others build: the cache must follow versions.
					if _, err = st.Write(ctx, fs.MustParse("/notes/guide.md"), strings.NewReader(fmt.Sprintf("# Garden\n\nround %d pottery\n", i)), fs.WriteOptions{}); err != nil {
						break
					}
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
