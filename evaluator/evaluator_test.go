package evaluator

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

func setup(tb testing.TB) (*fs.Namespace, context.Context) {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	ns := fs.NewNamespace(st, fs.NamespaceOptions{})
	ctx := fs.WithPrincipal(context.Background(), fs.System)
	for p, c := range map[string]string{
		"/notes/garden.md": "# Garden\n\nPlant the tomatoes in May. Water the garden every morning.\n",
		"/notes/travel.md": "# Travel\n\nThe lake trip needs a tent and a bicycle.\n",
		"/history/s1/s01.md": "# Session 1 (8 May, 2023)\n\n" +
			constructor.FormatTurn("D1:1", "Ana", "I went to a pottery class yesterday.", "") + "\n" +
			constructor.FormatTurn("D1:2", "Ben", "Nice! What did you make?", "") + "\n" +
			constructor.FormatTurn("D1:3", "Ana", "A blue bowl for my mother.", "a photo of a blue bowl") + "\n",
	} {
		if _, err := ns.Write(ctx, fs.MustParse(p), strings.NewReader(c), fs.WriteOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	return ns, ctx
}

func build(tb testing.TB, ns fs.FS, ctx context.Context, q string) *constructor.Context {
	tb.Helper()
	out, err := constructor.New(ns, constructor.Options{}).Build(ctx, constructor.Request{
		Query: q, Budget: 400, Session: "s1",
		Sources: []constructor.Source{{Glob: "/notes/**"}, {Session: "s1"}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestCheckContext(t *testing.T) {
	ns, ctx := setup(t)
	out := build(t, ns, ctx, "What did Ana make at the pottery class? And the garden tomatoes?")
	e := New(ns, Options{})
	c, err := e.CheckContext(ctx, out.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK || !c.Identical || !c.BudgetKept || c.Tokens != out.Tokens || len(c.Items) == 0 {
		t.Fatalf("fresh context not ok: %+v", c)
	}

	// A newer version makes the items of that file stale.
	if _, err := ns.Write(ctx, fs.MustParse("/notes/garden.md"), strings.NewReader("# Garden\n\nPlant peppers.\n"), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err = e.CheckContext(ctx, out.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	stale := 0
	for _, ic := range c.Items {
		if ic.Path == "/notes/garden.md" {
			if !ic.Stale || !ic.Readable || ic.Current != ic.Version+1 {
				t.Errorf("garden item not flagged stale: %+v", ic)
			}
			stale++
		} else if ic.Stale {
			t.Errorf("unchanged item flagged stale: %+v", ic)
		}
	}
	if stale == 0 || c.Stale != stale || c.OK || !c.Identical {
		t.Fatalf("stale check: %+v", c)
	}

	// A principal without read access sees every item refused.
	bob := fs.WithPrincipal(context.Background(), fs.Principal{Name: "bob"})
	c, err = e.CheckContext(bob, out.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if c.Refused != len(c.Items) || c.OK {
		t.Fatalf("refused check: %+v", c)
	}
	for _, ic := range c.Items {
		if ic.Allowed || ic.Readable {
			t.Errorf("item allowed to bob: %+v", ic)
		}
	}

	// A removed file is gone, but its recorded version is still readable.
	if err := ns.Remove(ctx, fs.MustParse("/notes/travel.md"), false); err != nil {
		t.Fatal(err)
	}
	out2 := build(t, ns, ctx, "pottery bowl")
	if err := ns.Remove(ctx, fs.MustParse("/history/s1/s01.md"), false); err != nil {
		t.Fatal(err)
	}
	c, err = e.CheckContext(ctx, out2.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if c.Gone == 0 || c.OK {
		t.Fatalf("removed file not flagged: %+v", c)
	}
}

func TestCheckAnswer(t *testing.T) {
	ns, ctx := setup(t)
	out := build(t, ns, ctx, "What did Ana make at the pottery class?")
	e := New(ns, Options{})
	for _, tc := range []struct {
		name    string
		answer  string
		schema  string
		support float64
		bad     int
		json    *bool
		ok      bool
	}{
		{"supported with citation", "Ana made a blue bowl for her mother at the pottery class [D1:3].", "", 1, 0, nil, true},
		{"half invented", "Ana made a blue bowl [D1:3]. She sold it to a famous museum in Paris for millions.", "", 0.5, 0, nil, false},
		{"bad citation", "Ana made a blue bowl [D9:9].", "", 1, 1, nil, false},
		{"path citation", "Ana made a blue bowl [/history/s1/s01.md].", "", 1, 0, nil, true},
		{"json ok", `{"item":"blue bowl","for":"mother"}`, `{"type":"object","required":["item"],"properties":{"item":{"type":"string"},"for":{"type":"string"}},"additionalProperties":false}`, 1, 0, ptr(true), true},
		{"json missing field", `{"for":"mother"}`, `{"type":"object","required":["item"]}`, 1, 0, ptr(false), false},
		{"not json", `a blue bowl`, `{"type":"object"}`, 1, 0, ptr(false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := e.CheckAnswer(out.Prompt, out.Manifest, tc.answer, []byte(tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			if a.Support != tc.support || a.BadCitations != tc.bad || a.OK != tc.ok {
				t.Errorf("support %v bad %d ok %v; want %v %d %v (%+v)", a.Support, a.BadCitations, a.OK, tc.support, tc.bad, tc.ok, a)
			}
			if (a.JSON == nil) != (tc.json == nil) || a.JSON != nil && *a.JSON != *tc.json {
				t.Errorf("json valid %v, want %v (%v)", a.JSON, tc.json, a.SchemaErrors)
			}
		})
	}
	if _, err := e.CheckAnswer(out.Prompt, out.Manifest, "{}", []byte("{not a schema")); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("bad schema: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEvaluateAndReviewQueue(t *testing.T) {
	ns, ctx := setup(t)
	out := build(t, ns, ctx, "What did Ana make at the pottery class?")
	e := New(ns, Options{})

	good, err := e.Evaluate(ctx, Request{ContextID: out.Manifest.ID, Answer: "A blue bowl for her mother [D1:3]."})
	if err != nil {
		t.Fatal(err)
	}
	if good.Weak || good.Review != "" {
		t.Fatalf("good answer judged weak: %v", good.Reasons)
	}
	if _, err := ns.Stat(ctx, good.Saved); err != nil || good.Saved.Dir() != "/history/s1/evaluations" {
		t.Fatalf("evaluation not saved at %s: %v", good.Saved, err)
	}

	weak, err := e.Evaluate(ctx, Request{ContextID: out.Manifest.ID, Answer: "She built a rocket to Mars [D7:7]."})
	if err != nil {
		t.Fatal(err)
	}
	if !weak.Weak || weak.Review == "" || len(weak.Reasons) < 2 {
		t.Fatalf("weak answer not queued: %+v", weak)
	}
	weak2, err := e.Evaluate(ctx, Request{ContextID: out.Manifest.ID, Answer: "Nobody knows anything about quantum bees."})
	if err != nil {
		t.Fatal(err)
	}

	pending, err := e.Reviews(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 {
		t.Fatalf("pending = %d items, want 2", len(pending))
	}
	r, err := e.Decide(ctx, weak.ID, true, "fine after all")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusApproved || r.Decided == nil || r.By != "system" || r.Note != "fine after all" {
		t.Fatalf("decision: %+v", r)
	}
	if _, err := e.Decide(ctx, weak.ID, false, "again"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("deciding twice: %v", err)
	}
	if _, err := e.Decide(ctx, weak2.ID, false, "hallucinated"); err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]int{StatusPending: 0, StatusApproved: 1, StatusRejected: 1} {
		rs, err := e.Reviews(ctx, status)
		if err != nil || len(rs) != want {
			t.Errorf("%s: %d items (%v), want %d", status, len(rs), err, want)
		}
	}
	var rec map[string]any
	if err := readJSON(ctx, ns, weak2.Saved, &rec); err != nil || rec["review_status"] != StatusRejected {
		t.Errorf("evaluation record lacks the decision: %v %v", rec["review_status"], err)
	}
	if _, err := e.Reviews(ctx, "bogus"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("bogus status: %v", err)
	}
}

func TestWriteBack(t *testing.T) {
	ns, ctx := setup(t)
	e := New(ns, Options{})
	res, err := e.WriteBack(ctx, Exchange{Session: "s1", User: "ana", Workspace: "s1",
		Query: "I love hiking in the Alps. Where should I go in June?", Answer: "Try the Tour du Mont Blanc in Chamonix.", Time: "2023-05-09"})
	if err != nil {
		t.Fatal(err)
	}
	if res.History != "/history/s1/turns.jsonl" || res.Memory == nil || res.Workspace == nil {
		t.Fatalf("write-back result: %+v", res)
	}
	if _, err := ns.Stat(ctx, fs.MustParse("/memory/ana/persona.md")); err != nil {
		t.Fatalf("persona memory not written: %v", err)
	}
	if _, err := e.WriteBack(ctx, Exchange{Session: "s1", Query: "And in July?", Answer: "The Haute Route."}); err != nil {
		t.Fatal(err)
	}
	// The next build from the session sees the exchange.
	out, err := constructor.New(ns, constructor.Options{}).Build(ctx, constructor.Request{Query: "Mont Blanc Chamonix Haute Route", Budget: 300,
		Sources: []constructor.Source{{Session: "s1"}}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Prompt, "Chamonix") || !strings.Contains(out.Prompt, "Haute Route") {
		t.Fatalf("written-back turns not in the next context:\n%s", out.Prompt)
	}
	if _, err := e.WriteBack(ctx, Exchange{Session: "../x", Query: "q"}); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("bad session: %v", err)
	}
}
