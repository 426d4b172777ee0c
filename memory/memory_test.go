package memory

import (
	"context"
	"errors"
	"fmt"
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

func user(s string) Turn { return Turn{Role: "user", Content: s} }

func readText(tb testing.TB, m *Memory, u string) string {
	tb.Helper()
	p, _, err := m.Read(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	return p.Render()
}

func TestExtractRules(t *testing.T) {
	cases := []struct {
		in      string
		section string
		key     string
		text    string
	}{
		{"I love green tea.", Preferences, "pref:green tea", "loves green tea"},
		{"Honestly I don't like coffee anymore.", Preferences, "pref:coffee", "does not like coffee"},
		{"I hate jazz music", Preferences, "pref:jazz music", "dislikes jazz music"},
		{"I live in Paris, it's lovely.", Facts, "home", "lives in Paris"},
		{"We just moved and I moved to Berlin last month.", Facts, "home", "lives in Berlin last month"},
		{"I'm from Lisbon originally", Facts, "origin", "is from Lisbon originally"},
		{"I work as a nurse at the clinic", Facts, "job", "works as a nurse at the clinic"},
		{"I'm a software engineer.", Facts, "job", "is a software engineer"},
		{"My sister is Anna.", Relationships, "rel:sister:anna", "sister: Anna"},
		{"I have two kids", Relationships, "family:kid", "has two kids"},
		{"I plan to learn Japanese this year.", Goals, "goal:learn japanese this", "plans to learn Japanese this year"},
		{"I no longer want to learn Japanese.", Goals, "goal:learn japanese", "no longer plans to learn Japanese"},
		{"Please keep it short.", Style, "style:length", "wants short answers"},
		{"My favorite color is blue.", Preferences, "favorite:color", "favorite color: blue"},
		{"I have a dog named Rex.", Facts, "pet:dog", "has a dog named Rex"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			items, err := Rules{}.Extract(context.Background(), []Turn{user(c.in)})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Section == c.section && it.Key == c.key && it.Text == c.text {
					return
				}
			}
			t.Errorf("got %+v, want {%s %s %q}", items, c.section, c.key, c.text)
		})
	}
	// Small talk, questions, other roles and pronouns yield nothing.
	for _, s := range []string{"How are you?", "Do you like tea?", "The weather is nice today.", "I like it.", "", "我喜欢绿茶。", "Ich wohne in Berlin."} {
		items, err := Rules{}.Extract(context.Background(), []Turn{user(s), {Role: "assistant", Content: "I love pizza."}})
		if err != nil || len(items) != 0 {
			t.Errorf("%q: got %+v, %v; want nothing", s, items, err)
		}
	}
}

// stream is a long conversation: statements among small talk, some later
// changed. want is the current value of each slot at the end; old the
// superseded ones.
func stream() (turns []Turn, want, old []string) {
	small := []string{"Hi there!", "How's it going?", "Thanks, that helps.", "Haha, good one.", "Can you tell me a joke?", "What's the weather like?", "Ok, sounds good.", "Interesting, tell me more."}
	stated := []string{
		"I love green tea.", "I live in Paris.", "I work as a teacher.", "My sister is Anna.",
		"I plan to run a marathon.", "I hate cilantro.", "I'm from Lisbon.", "My favorite band is Radiohead.",
		"I have a cat named Miso.", "Please keep it short.", "I enjoy hiking.", "I want to learn Japanese.",
	}
	changed := []string{"I moved to Lyon.", "I don't like green tea anymore.", "I work as a nurse.", "I no longer plan to run a marathon.", "My favorite band is Blur."}
	i := 0
	add := func(s string) {
		turns = append(turns, Turn{Role: "user", Content: s, Time: fmt.Sprintf("2024-01-%02d", 1+i/10), ID: fmt.Sprintf("s1#%d", i+1)})
		turns = append(turns, Turn{Role: "assistant", Content: "I love that! Noted."})
		i++
	}
	for k := 0; k < 200; k++ {
		add(small[k%len(small)])
		if k%10 == 3 && k/10 < len(stated) {
			add(stated[k/10])
		}
		if k%10 == 7 && k/10 >= 14 && k/10-14 < len(changed) {
			add(changed[k/10-14])
		}
	}
	want = []string{"lives in Lyon", "does not like green tea", "works as a nurse", "sister: Anna", "no longer plans to run a marathon",
		"dislikes cilantro", "is from Lisbon", "favorite band: Blur", "has a cat named Miso", "wants short answers", "enjoys hiking", "plans to learn Japanese"}
	old = []string{"lives in Paris", "loves green tea", "works as a teacher", "plans to run a marathon", "favorite band: Radiohead"}
	return turns, want, old
}

func section(text, name string) string {
	_, after, ok := strings.Cut(text, "## "+name+"\n")
	if !ok {
		return ""
	}
	if i := strings.Index(after, "\n## "); i >= 0 {
		after = after[:i]
	}
	return after
}

func TestLongStream(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m := New(st, Options{})
	turns, want, old := stream()
	// Feed in batches, as a chat would.
	for i := 0; i < len(turns); i += 7 {
		j := min(i+7, len(turns))
		if _, err := m.Observe(ctx, "alice", turns[i:j]); err != nil {
			t.Fatal(err)
		}
	}
	text := readText(t, m, "alice")
	sup := section(text, Superseded)
	live := strings.Replace(text, sup, "", 1)
	for _, w := range want {
		if !strings.Contains(live, "- "+w+" {") {
			t.Errorf("current value %q missing from the live sections:\n%s", w, text)
		}
	}
	for _, o := range old {
		if !strings.Contains(sup, "- "+o+" {") {
			t.Errorf("old value %q missing from Superseded:\n%s", o, text)
		}
		if strings.Contains(live, "- "+o+" {") {
			t.Errorf("old value %q still live", o)
		}
	}
	if !strings.Contains(sup, "lives in Paris {home | s1#") || !strings.Contains(sup, "..2024-") {
		t.Errorf("superseded item lacks provenance and dates:\n%s", sup)
	}
	counter, _ := tokens.Default()
	if n := counter.CountTokens(text); n > DefaultBudget {
		t.Errorf("persona is %d tokens, over %d", n, DefaultBudget)
	}
	// Versions: one per batch that changed something, readable through the store.
	p, _ := m.Path("alice")
	log, err := st.Log(ctx, p)
	if err != nil || len(log) < 10 {
		t.Errorf("log: %d versions, %v", len(log), err)
	}
	// Recall finds the current home for a home question.
	r, err := m.Recall(ctx, "alice", "Where do I live?", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Items) == 0 || r.Items[0].Text != "lives in Lyon" || r.Tokens > 100 {
		t.Errorf("recall: %+v", r)
	}
	r, _ = m.Recall(ctx, "alice", "where did I live before?", 200)
	if !strings.Contains(r.Text, "lives in Paris") {
		t.Errorf("recall of the past misses the superseded home:\n%s", r.Text)
	}
}

func TestBudget(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	counter, _ := tokens.Default()
	const budget = 200
	m := New(st, Options{Budget: budget})
	var stated []string
	for i := 0; i < 60; i++ {
		s := fmt.Sprintf("I love dish number %d.", i)
		if i%3 == 0 {
			s = fmt.Sprintf("I want to visit city %d.", i)
		}
		stated = append(stated, s)
		res, err := m.Observe(ctx, "bob", []Turn{{Role: "user", Content: s, Time: fmt.Sprintf("2024-02-%02d", 1+i%28)}})
		if err != nil {
			t.Fatal(err)
		}
		text := readText(t, m, "bob")
		if n := counter.CountTokens(text); n > budget {
			t.Fatalf("after %d statements the persona is %d tokens, over %d", i+1, n, budget)
		}
		if res.Tokens > budget {
			t.Fatalf("result reports %d tokens", res.Tokens)
		}
		// Nothing stated is lost while there is room: until the first drop,
		// every statement is in the file.
		dropped := false
		for _, a := range res.Actions {
			dropped = dropped || a.Op == "drop"
		}
		if !dropped && i < 5 {
			for _, s := range stated {
				w := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "I love "), "I want to "), ".")
				if !strings.Contains(text, w) {
					t.Errorf("statement %q lost while there was room:\n%s", s, text)
				}
			}
		}
	}
	// Goals (least important) went first: the newest preferences are there.
	text := readText(t, m, "bob")
	if !strings.Contains(text, "dish number 59") {
		t.Errorf("newest preference dropped:\n%s", text)
	}
}

func TestConcurrentObserve(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m := New(st, Options{})
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m2 := New(st, Options{}) // as separate callers would
			_, err := m2.Observe(ctx, "carol", []Turn{user(fmt.Sprintf("I love topping%d.", i))})
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
	text := readText(t, m, "carol")
	for i := 0; i < n; i++ {
		if !strings.Contains(text, fmt.Sprintf("loves topping%d {", i)) {
			t.Errorf("update %d lost:\n%s", i, text)
		}
	}
}

func TestPersonEditRespected(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m := New(st, Options{})
	if _, err := m.Observe(ctx, "dave", []Turn{user("I live in Paris. I love jazz.")}); err != nil {
		t.Fatal(err)
	}
	p, _ := m.Path("dave")
	// A person corrects the home, deletes the jazz item and adds a note of their own.
	edited := "# Persona: dave\n\n## Facts\n- lives in Marseille {home | edit | 2024-03-01}\n\n## Notes\n- allergic to cats, ask before suggesting cafés\n"
	if _, err := st.Write(ctx, p, strings.NewReader(edited), fs.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Observe(ctx, "dave", []Turn{user("I enjoy cycling.")}); err != nil {
		t.Fatal(err)
	}
	text := readText(t, m, "dave")
	for _, w := range []string{"lives in Marseille", "allergic to cats", "## Notes", "enjoys cycling"} {
		if !strings.Contains(text, w) {
			t.Errorf("%q missing after the edit:\n%s", w, text)
		}
	}
	if strings.Contains(text, "jazz") || strings.Contains(text, "Paris") {
		t.Errorf("a deleted or corrected item came back:\n%s", text)
	}
	// A later statement supersedes the person's value like any other.
	if _, err := m.Observe(ctx, "dave", []Turn{{Role: "user", Content: "I moved to Nice.", Time: "2024-04-01"}}); err != nil {
		t.Fatal(err)
	}
	text = readText(t, m, "dave")
	if !strings.Contains(section(text, Superseded), "lives in Marseille {home | edit | 2024-03-01..2024-04-01}") {
		t.Errorf("edited value not superseded with dates:\n%s", text)
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	m := New(openStore(t), Options{})
	for _, u := range []string{"", "a/b", "..", "x\x00"} {
		if _, err := m.Observe(ctx, u, []Turn{user("I love tea")}); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("user %q: %v, want ErrInvalid", u, err)
		}
	}
	// No statements: no file.
	res, err := m.Observe(ctx, "erin", []Turn{user("hello"), user("")})
	if err != nil || res.Version != 0 {
		t.Errorf("empty observe: %+v %v", res, err)
	}
	if _, err := m.Observe(ctx, "erin", make([]Turn, MaxTurns+1)); !errors.Is(err, fs.ErrTooLarge) {
		t.Errorf("too many turns: %v", err)
	}
	// A huge turn is read up to the limit and still yields its statements.
	huge := "I love tea. " + strings.Repeat("blah ", MaxTurnBytes)
	if _, err := m.Observe(ctx, "erin", []Turn{user(huge)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readText(t, m, "erin"), "loves tea") {
		t.Error("statement of a huge turn lost")
	}
}

// scripted is an inference.Generator that returns fixed answers in turn:
// the LLM extractor's contract is tested against what a model may say.
type scripted struct {
	answers []string
	mu      sync.Mutex
	got     []inference.Request
}

func (s *scripted) Generate(ctx context.Context, req inference.Request) (*inference.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, req)
	if len(s.answers) == 0 {
		return nil, errors.New("no more answers")
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return &inference.Response{Text: a, FinishReason: inference.FinishStop}, nil
}

func TestLLMExtractor(t *testing.T) {
	ctx := context.Background()
	turns := []Turn{{Role: "user", Content: "I moved to Oslo and I adore skiing", Time: "2024-05-01", ID: "s3#1"}, {Role: "assistant", Content: "Nice!"}}
	good := "Sure:\n```json\n{\"items\":[{\"section\":\"Facts\",\"key\":\"home\",\"text\":\"lives in Oslo\",\"turn\":1},{\"section\":\"Preferences\",\"key\":\"pref:skiing\",\"text\":\"loves skiing {x|y}\",\"turn\":1},{\"section\":\"Facts\",\"key\":\"job\",\"text\":\"assistant\",\"turn\":2}]}\n```"
	g := &scripted{answers: []string{good}}
	items, err := LLM{Generator: g}.Extract(ctx, turns)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Key != "home" || items[0].Source != "s3#1" || items[0].Since != "2024-05-01" || strings.ContainsAny(items[1].Text, "{}|") {
		t.Errorf("items %+v", items)
	}
	if len(g.got) != 1 || !strings.Contains(g.got[0].Messages[0].Content, `"additionalProperties": false`) {
		t.Error("the request does not carry the schema")
	}
	for _, bad := range []string{
		"no json here",
		`{"items":[{"section":"Facts","key":"home","text":"x","turn":1,"extra":1}]}`,
		`{"items":[{"section":"Secrets","key":"home","text":"x","turn":1}]}`,
		`{"items":[{"section":"Facts","key":"home","text":"x","turn":9}]}`,
		`{"items":[{"section":"Facts","key":"","text":"x","turn":1}]}`,
		`{"items":[`,
	} {
		_, err := LLM{Generator: &scripted{answers: []string{bad}}}.Extract(ctx, turns)
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
	// Through Observe, with the real store.
	st := openStore(t)
	m := New(st, Options{Extractor: LLM{Generator: &scripted{answers: []string{good}}}})
	if _, err := m.Observe(ctx, "fay", turns); err != nil {
		t.Fatal(err)
	}
	if text := readText(t, m, "fay"); !strings.Contains(text, "lives in Oslo {home | s3#1 | 2024-05-01}") {
		t.Errorf("persona:\n%s", text)
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range []string{"I love green tea.", "I don't live in Paris anymore", "My sister is Anna", "I'm 34 years old",
		"Please keep it short", "我喜欢绿茶", "I prefer tea over coffee", "i i i love love", "{|}#\n- x {a | b | c}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items, err := Rules{}.Extract(context.Background(), []Turn{user(s)})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > maxItemsPerTurn {
			t.Fatalf("%d items", len(items))
		}
		for _, it := range items {
			if len(it.Text) > maxTextBytes+4 || len(it.Key) > 104 || strings.ContainsAny(it.Text+it.Key, "{}|\n") {
				t.Fatalf("unbounded or unsafe item %+v", it)
			}
			// Each item survives a round trip through the file format.
			p := &Persona{User: "u", Items: []Item{it}}
			back := parsePersona("u", p.render())
			if len(back.Items) != 1 || back.Items[0].Text != it.Text || back.Items[0].Key != it.Key {
				t.Fatalf("round trip %+v -> %+v", it, back.Items)
			}
		}
	})
}

func FuzzLLMAnswer(f *testing.F) {
	f.Add(`{"items":[{"section":"Facts","key":"home","text":"lives in Oslo","turn":1}]}`)
	f.Add("```json\n{\"items\":[]}\n```")
	f.Add(`{"items":[{"section":"Facts","key":"a}|{","text":"x\n## Superseded","turn":1}]}`)
	f.Add(`{{{`)
	f.Fuzz(func(t *testing.T, answer string) {
		turns := []Turn{user("I moved to Oslo"), {Role: "assistant", Content: "ok"}}
		items, err := LLM{Generator: &scripted{answers: []string{answer}}}.Extract(context.Background(), turns)
		if err != nil {
			if !errors.Is(err, fs.ErrInvalid) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(items) > 50 {
			t.Fatalf("%d items", len(items))
		}
		p := &Persona{User: "u", Items: items}
		for i := range p.Items {
			p.Items[i].Section = Facts
		}
		if back := parsePersona("u", p.render()); len(back.Items) != len(items) {
			t.Fatalf("items do not round-trip: %+v -> %+v", items, back.Items)
		}
	})
}
