package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/tokens"
)

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	counter, _ := tokens.Default()
	st, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{NoSync: true, Counter: counter})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func cat(tb testing.TB, fsys fs.FS, p string) string {
	tb.Helper()
	f, err := fsys.Open(context.Background(), fs.MustParse(p))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func actor(st *Structure, name string) *Actor {
	for i := range st.Actors {
		if st.Actors[i].Name == name {
			return &st.Actors[i]
		}
	}
	return nil
}

func TestRulesOperator(t *testing.T) {
	text := `On May 7, 2024, Zoe Brown sang at Hither Hills State Park. Noa Middleton, the lead instructor, watched.
Zoe felt nervous. Later Zoe's friend Alma Aultman joined the karaoke night at the park.`
	st, err := Rules{}.Operate(context.Background(), Observation{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if st.When != "May 7, 2024" || st.Place != "Hither Hills State Park" {
		t.Errorf("when %q place %q", st.When, st.Place)
	}
	zoe := actor(st, "Zoe Brown")
	if zoe == nil || zoe.Kind != KindPerson || !contains(zoe.Roles, "protagonist") || !contains(zoe.Aliases, "Zoe") || !contains(zoe.States, "nervous") {
		t.Errorf("Zoe Brown: %+v", zoe)
	}
	if noa := actor(st, "Noa Middleton"); noa == nil || !contains(noa.Roles, "lead instructor") {
		t.Errorf("Noa Middleton: %+v", noa)
	}
	if a := actor(st, "Alma Aultman"); a == nil {
		t.Error("Alma Aultman missing")
	}
	if p := actor(st, "Hither Hills State Park"); p == nil || p.Kind != KindPlace {
		t.Errorf("place: %+v", p)
	}
	if len(st.Events) != 4 || !contains(st.Events[3].Actors, "Zoe Brown") || st.Events[3].Kind != "karaoke night" {
		t.Errorf("events: %+v", st.Events)
	}
	if !contains(st.Kinds, "karaoke night") {
		t.Errorf("kinds %v", st.Kinds)
	}
	// Hints win over the text.
	st, _ = Rules{}.Operate(context.Background(), Observation{Text: "Ann Lee met Bo Chen.", Time: "2023-05-08", Place: "Oslo"})
	if st.When != "2023-05-08" || st.Place != "Oslo" || st.Events[0].Place != "Oslo" {
		t.Errorf("hints ignored: %+v", st)
	}
}

func TestOperatorInputs(t *testing.T) {
	ctx := context.Background()
	for _, op := range []Operator{Rules{}, LLM{Generator: &scripted{answers: []string{`{"actors":[],"events":[]}`}}}} {
		if _, err := op.Operate(ctx, Observation{Text: "  \n"}); !errors.Is(err, ErrEmpty) || !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%T empty: %v", op, err)
		}
		if _, err := op.Operate(ctx, Observation{Text: strings.Repeat("a", MaxObservationBytes+1)}); !errors.Is(err, fs.ErrTooLarge) {
			t.Errorf("%T huge: %v", op, err)
		}
		if _, err := op.Operate(ctx, Observation{Text: "a\xffb"}); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%T non-UTF-8: %v", op, err)
		}
	}
	// Non-English: no names to find in Chinese, Cyrillic names found.
	st, err := Rules{}.Operate(ctx, Observation{Text: "我们昨天在公园里见面了。"})
	if err != nil || len(st.Actors) != 0 || len(st.Events) != 0 {
		t.Errorf("chinese: %+v %v", st, err)
	}
	st, err = Rules{}.Operate(ctx, Observation{Text: "Иван Петров встретил Анну Смирнову в парке."})
	if err != nil || actor(st, "Иван Петров") == nil {
		t.Errorf("russian: %+v %v", st, err)
	}
	// Large but allowed: bounded output.
	big := strings.Repeat("Ann Lee met Bo Chen at Central Park on May 1, 2024. ", MaxObservationBytes/60)
	st, err = Rules{}.Operate(ctx, Observation{Text: big})
	if err != nil || len(st.Events) > maxEvents || len(st.Actors) > maxActors {
		t.Errorf("big: %d events %d actors %v", len(st.Events), len(st.Actors), err)
	}
}

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	w, err := New(st, "trip", Options{})
	if err != nil {
		t.Fatal(err)
	}
	obs := []Observation{
		{Text: "On March 3, 2024, Henry Reed visited Port Jefferson with Amira Hayes for the photography exhibition. Henry took photos."},
		{Text: "On January 5, 2024, Henry Reed's camera broke at the High Line. Henry was furious."},
		{Text: "HENRY REED met Amira at the Brooklyn Bridge on March 3, 2024."},
		{Text: "Reed's day was quiet.", Time: "2024-06-01"},
	}
	for _, o := range obs {
		if _, err := w.Observe(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// Entity resolution: case, possessive and first name are one person.
	infos, err := st.List(ctx, fs.MustParse("/workspace/trip/entities"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range infos {
		names = append(names, in.Name())
	}
	henry := cat(t, st, "/workspace/trip/entities/henry-reed.md")
	if strings.Count(strings.Join(names, " "), "henry") != 1 {
		t.Errorf("Henry Reed split into several entities: %v", names)
	}
	for _, want := range []string{"# Henry Reed", "kind: person", "protagonist (obs 000001)", "furious (January 5, 2024, obs 000002)"} {
		if !strings.Contains(henry, want) {
			t.Errorf("henry-reed.md lacks %q:\n%s", want, henry)
		}
	}
	// Events in time order in the entity file and the timeline.
	if i, j := strings.Index(henry, "January 5, 2024"), strings.Index(henry, "- March 3, 2024"); i < 0 || j < 0 || i > j {
		t.Errorf("entity events out of time order:\n%s", henry)
	}
	tl := cat(t, st, "/workspace/trip/timeline.md")
	lines := parseEvents([]byte(tl))
	if len(lines) < 3 || lines[0].Obs != "000002" {
		t.Errorf("timeline not in time order:\n%s", tl)
	}
	amira := cat(t, st, "/workspace/trip/entities/amira-hayes.md")
	if !strings.Contains(amira, "aliases: Amira") {
		t.Errorf("Amira not resolved as an alias:\n%s", amira)
	}
	// Conflict: Henry at Port Jefferson and Brooklyn Bridge on March 3.
	conf := cat(t, st, "/workspace/trip/conflicts.md")
	if !strings.Contains(conf, "Henry Reed is in 2 places on 2024-03-03") {
		t.Errorf("conflicts:\n%s", conf)
	}
	// Contradicting states at one time are a conflict too.
	if _, err := w.Observe(ctx, Observation{Text: "Amira Hayes was calm. Amira Hayes felt nervous.", Time: "March 4, 2024"}); err != nil {
		t.Fatal(err)
	}
	if conf := cat(t, st, "/workspace/trip/conflicts.md"); !strings.Contains(conf, "Amira Hayes is both calm (obs 000005) and nervous (obs 000005) on March 4, 2024") {
		t.Errorf("state conflict missing:\n%s", conf)
	}
	// Observations are append-only and numbered.
	if o := cat(t, st, "/workspace/trip/observations/000004.md"); !strings.Contains(o, "when: 2024-06-01") || !strings.Contains(o, "Reed's day was quiet.") {
		t.Errorf("observation 4:\n%s", o)
	}
	if _, err := w.Observe(ctx, Observation{Text: ""}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty observe: %v", err)
	}
	if _, err := New(st, "a/b", Options{}); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
}

func TestQuery(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	w, _ := New(st, "q", Options{})
	for _, o := range []Observation{
		{Text: "Ezra Edwards demonstrated cat leaps at the parkour workshop at Bethpage Black Course on September 13, 2025.", Source: "c1"},
		{Text: "Chloe Castillo revealed future collections at the fashion show at the American Museum of Natural History on September 22, 2026.", Source: "c2"},
		{Text: "On May 11, 2026, Chloe Castillo hosted a parkour workshop at the High Line.", Source: "c3"},
		{Text: "Levi Rodriguez hosted astronomy trivia at the American Museum of Natural History on December 26, 2026.", Source: "c4"},
	} {
		if _, err := w.Observe(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	s, err := w.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q       string
		want    []string // sources that must be cited
		first   string   // the best match
		contain string
	}{
		{"List all locations where Chloe Castillo was observed.", []string{"c2", "c3"}, "", "High Line"},
		{"When did the parkour workshop take place?", []string{"c1", "c3"}, "", "September 13, 2025"},
		{"What happened at American Museum of Natural History?", []string{"c2", "c4"}, "", "Levi Rodriguez"},
		{"What did Chloe do on May 11, 2026?", []string{"c3"}, "c3", "parkour workshop"},
		{"Who was at the parkour workshop at Bethpage Black Course?", []string{"c1"}, "", "Ezra Edwards"},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			ctxt, err := s.Query(c.q, 200)
			if err != nil {
				t.Fatal(err)
			}
			cited := map[string]bool{}
			for _, l := range ctxt.Lines {
				cited[l.Source] = true
				if !strings.Contains(l.Text, "[obs "+l.Obs+"]") {
					t.Errorf("line does not cite its source: %q", l.Text)
				}
			}
			for _, src := range c.want {
				if !cited[src] {
					t.Errorf("source %s not cited; cues %+v\n%s", src, ctxt.Cues, ctxt.Text)
				}
			}
			if !strings.Contains(ctxt.Text, c.contain) {
				t.Errorf("context lacks %q:\n%s", c.contain, ctxt.Text)
			}
			if ctxt.Tokens > 200 {
				t.Errorf("%d tokens over budget", ctxt.Tokens)
			}
		})
	}
	// A tiny budget stays within budget; an empty question is an error.
	c, err := s.Query("Where was Chloe Castillo?", 12)
	if err != nil || c.Tokens > 12 {
		t.Errorf("tiny budget: %d tokens, %v", c.Tokens, err)
	}
	if _, err := s.Query("  ", 100); !errors.Is(err, ErrNoQuestion) {
		t.Errorf("empty question: %v", err)
	}
	// Nothing known: an empty context, not an error.
	c, err = s.Query("What did Zebulon Quartz do in Tokyo?", 100)
	if err != nil || len(c.Lines) != 0 {
		t.Errorf("unknown: %+v %v", c, err)
	}
	// An empty workspace answers with nothing.
	w2, _ := New(st, "empty", Options{})
	c, err = w2.Query(ctx, "anything?", 100)
	if err != nil || len(c.Lines) != 0 {
		t.Errorf("empty workspace: %+v %v", c, err)
	}
}

func TestConcurrentObserve(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, _ := New(st, "busy", Options{})
			_, err := w.Observe(ctx, Observation{Text: fmt.Sprintf("Ann Lee met Person%c Smith at Central Park on May %d, 2024.", 'A'+i, i+1)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ann := cat(t, st, "/workspace/busy/entities/ann-lee.md")
	tl := cat(t, st, "/workspace/busy/timeline.md")
	for i := 0; i < n; i++ {
		who := fmt.Sprintf("Person%c Smith", 'A'+i)
		if !strings.Contains(ann, who) || !strings.Contains(tl, who) {
			t.Errorf("observation %d lost", i)
		}
	}
	infos, _ := st.List(ctx, fs.MustParse("/workspace/busy/observations"))
	if len(infos) != n {
		t.Errorf("%d observations, want %d", len(infos), n)
	}
}

type scripted struct {
	mu      sync.Mutex
	answers []string
}

func (s *scripted) Generate(ctx context.Context, req inference.Request) (*inference.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.answers) == 0 {
		return nil, errors.New("no more answers")
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return &inference.Response{Text: a}, nil
}

func TestLLMOperator(t *testing.T) {
	ctx := context.Background()
	good := "```json\n" + `{"when":"May 8, 2023","place":"Oslo","kinds":["support group"],
	"actors":[{"name":"Caroline","kind":"person","roles":["speaker"],"states":["moved"]},{"name":"Oslo","kind":"place"}],
	"events":[{"what":"Caroline went to a support group | twice","actors":["Caroline"]}]}` + "\n```"
	st := openStore(t)
	w, _ := New(st, "llm", Options{Operator: LLM{Generator: &scripted{answers: []string{good}}}})
	res, err := w.Observe(ctx, Observation{Text: "I went to a support group."})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Structure.Events) != 1 || res.Structure.Events[0].Place != "Oslo" {
		t.Errorf("structure %+v", res.Structure)
	}
	if c := cat(t, st, "/workspace/llm/entities/caroline.md"); !strings.Contains(c, "Caroline went to a support group / twice") {
		t.Errorf("entity file:\n%s", c)
	}
	for _, bad := range []string{
		"nothing",
		`{"actors":[{"name":"A","kind":"alien"}],"events":[]}`,
		`{"actors":[],"events":[{"what":"x","actors":["Nobody"]}]}`,
		`{"actors":[],"events":[],"mood":"happy"}`,
		`{"actors":[{"name":" ","kind":"person"}],"events":[]}`,
	} {
		_, err := LLM{Generator: &scripted{answers: []string{bad}}}.Operate(ctx, Observation{Text: "x"})
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzRules(f *testing.F) {
	for _, s := range []string{"On May 7, 2024, Zoe Brown sang at Hither Hills State Park.", "St. Patrick's Cathedral", "Ann's Ann's Ann",
		"我们昨天在公园里见面了。", "Иван Петров", "2024-02-30 13:99 PM", "- x | y | z | w | who: a | obs 1", "A B C D E F G H I J", ""} {
		f.Add(s, "", "")
	}
	f.Add("Ann Lee met Bo", "May 1, 2024", "Oslo")
	f.Fuzz(func(t *testing.T, text, when, place string) {
		st, err := Rules{}.Operate(context.Background(), Observation{Text: text, Time: when, Place: place})
		if err != nil {
			if !errors.Is(err, fs.ErrInvalid) && !errors.Is(err, fs.ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(st.Actors) > maxActors || len(st.Events) > maxEvents || len(st.Kinds) > 20 {
			t.Fatalf("unbounded: %d actors %d events", len(st.Actors), len(st.Events))
		}
		sanitize(st)
		for _, ev := range st.Events {
			l := lineOf(ev, "000001")
			back, ok := parseEventLine(l.String())
			if !ok || back.What != l.What || back.Place != l.Place {
				t.Fatalf("event line does not round-trip: %q -> %+v", l.String(), back)
			}
		}
	})
}

func FuzzLLMAnswer(f *testing.F) {
	f.Add(`{"actors":[{"name":"A","kind":"person"}],"events":[{"what":"x","actors":["A"]}]}`)
	f.Add("```json\n{\"actors\":[],\"events\":[]}\n```")
	f.Add(`{"actors":[{"name":"A\"}","kind":"place"}],"events":[]}`)
	f.Add(`{{{{`)
	f.Fuzz(func(t *testing.T, answer string) {
		st, err := LLM{Generator: &scripted{answers: []string{answer}}}.Operate(context.Background(), Observation{Text: "x"})
		if err != nil {
			if !errors.Is(err, fs.ErrInvalid) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(st.Actors) > maxActors || len(st.Events) > maxEvents {
			t.Fatal("unbounded")
		}
	})
}
