package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/tokens"
)

// DefaultBudget is the default bound of a persona file, in tokens.
const DefaultBudget = 2048

// Options configure a Memory. The zero value gives the defaults.
type Options struct {
	// Budget bounds each persona file in tokens; 0 means DefaultBudget.
	Budget int
	// Extractor finds candidate items; nil means Rules{}.
	Extractor Extractor
	// Counter counts tokens; nil means tokens.Default() (cl100k_base).
	Counter fs.TokenCounter
	// Root is the directory of the per-user directories; zero means /memory.
	Root fs.Path
}

// Memory keeps one persona file per user, /memory/<user>/persona.md,
// written through an fs.FS so versioning, search and access control apply.
//
// Concurrency: safe for concurrent use, also across processes sharing a
// store. The file is the only state: each update reads it, merges and
// writes conditionally on the version it read (fs.WriteOptions.IfVersion),
// retrying on conflict, so concurrent observations never lose an update
// and a person's edit to the file is what the next update starts from.
type Memory struct {
	fsys      fs.FS
	root      fs.Path
	budget    int
	extractor Extractor
	counter   fs.TokenCounter
}

// New returns a Memory over fsys.
func New(fsys fs.FS, opts Options) *Memory {
	m := &Memory{fsys: fsys, root: opts.Root, budget: opts.Budget, extractor: opts.Extractor, counter: opts.Counter}
	if m.root == "" {
		m.root = fs.MustParse("/memory")
	}
	if m.budget <= 0 {
		m.budget = DefaultBudget
	}
	if m.extractor == nil {
		m.extractor = Rules{}
	}
	if m.counter == nil {
		m.counter, _ = tokens.Default()
	}
	return m
}

// Path is the persona file of user.
func (m *Memory) Path(user string) (fs.Path, error) {
	if user == "" {
		return "", fmt.Errorf("%w: empty memory user", fs.ErrInvalid)
	}
	if err := fs.ValidName(user); err != nil {
		return "", fmt.Errorf("memory user %q: %w", user, err)
	}
	dir, err := m.root.Join(user)
	if err != nil {
		return "", err
	}
	return dir.Child("persona.md"), nil
}

// Action is one reconciliation decision.
type Action struct {
	Op   string `json:"op"` // add, merge, supersede, ignore, compact-merge, drop
	Item Item   `json:"item"`
	Old  *Item  `json:"old,omitempty"`
}

// Result is what Observe did.
type Result struct {
	Path    fs.Path  `json:"path"`
	Version int64    `json:"version"`
	Tokens  int      `json:"tokens"`
	Budget  int      `json:"budget"`
	Items   int      `json:"items"`
	Actions []Action `json:"actions"`
}

// Observe extracts candidate items from turns and reconciles them with
// the user's persona file: a new slot is added, a restatement merged, a
// contradiction supersedes the old item (moved to Superseded with its
// dates), and the file is compacted to its budget. It writes a new
// version only when something changed.
func (m *Memory) Observe(ctx context.Context, user string, turns []Turn) (*Result, error) {
	p, err := m.Path(user)
	if err != nil {
		return nil, err
	}
	cands, err := m.extractor.Extract(ctx, turns)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		data, ver, err := readFile(ctx, m.fsys, p)
		if err != nil {
			return nil, err
		}
		per := parsePersona(user, data)
		actions := reconcile(per, cands)
		dropped := m.compact(per)
		actions = append(actions, dropped...)
		out := per.render()
		res := &Result{Path: p, Version: ver, Budget: m.budget, Items: len(per.Items), Actions: actions, Tokens: m.counter.CountTokens(string(out))}
		if ver != 0 && bytes.Equal(out, data) {
			return res, nil
		}
		if ver == 0 && len(per.Items) == 0 {
			return res, nil // nothing to remember yet: create no empty file
		}
		opts := fs.WriteOptions{IfVersion: ver, Meta: map[string]string{"kind": "persona"}}
		if ver == 0 {
			opts.Create = true
		}
		info, err := m.fsys.Write(ctx, p, bytes.NewReader(out), opts)
		if (errors.Is(err, fs.ErrConflict) || errors.Is(err, fs.ErrExist)) && attempt < 1000 {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			continue // someone else wrote first: merge into their version
		}
		if err != nil {
			return nil, err
		}
		res.Version = info.Version
		return res, nil
	}
}

// Read returns the user's persona and its version (0 and an empty
// persona when there is none yet).
func (m *Memory) Read(ctx context.Context, user string) (*Persona, int64, error) {
	p, err := m.Path(user)
	if err != nil {
		return nil, 0, err
	}
	data, ver, err := readFile(ctx, m.fsys, p)
	if err != nil {
		return nil, 0, err
	}
	return parsePersona(user, data), ver, nil
}

// Render returns the persona file's text.
func (p *Persona) Render() string { return string(p.render()) }

func readFile(ctx context.Context, fsys fs.FS, p fs.Path) ([]byte, int64, error) {
	f, err := fsys.Open(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, err
	}
	return data, f.Stat().Version, nil
}

// reconcile merges candidates into per, in order.
func reconcile(per *Persona, cands []Item) []Action {
	var acts []Action
	for _, c := range cands {
		idx := -1
		for i, it := range per.Items {
			if it.Section != Superseded && it.Key == c.Key {
				idx = i
				break
			}
		}
		if idx < 0 {
			per.Items = append(per.Items, c)
			acts = append(acts, Action{Op: "add", Item: c})
			continue
		}
		old := per.Items[idx]
		if normalize(old.Text) == normalize(c.Text) {
			acts = append(acts, Action{Op: "merge", Item: old})
			continue // a restatement: keep the first provenance
		}
		if old.Section != c.Section && !containsStr(Sections, old.Section) {
			// A person moved it to a section of their own: keep it there.
			c.Section = old.Section
		}
		sup := old
		sup.Section = Superseded
		sup.Until = c.Since
		if sup.Until == "" {
			sup.Until = "?"
		}
		per.Items[idx] = c
		per.Items = append(per.Items, sup)
		o := old
		acts = append(acts, Action{Op: "supersede", Item: c, Old: &o})
	}
	return acts
}

// weight is how much an item's section matters when something must go.
func weight(section string) int {
	switch section {
	case Facts:
		return 5
	case Relationships, Style:
		return 4
	case Preferences:
		return 3
	case Goals:
		return 2
	case Superseded:
		return 0
	}
	return 3
}

// compact brings per within the budget: merge duplicates and
// near-duplicates first, then drop Superseded items oldest first, then the
// least important items oldest first.
func (m *Memory) compact(per *Persona) []Action {
	fits := func() bool { return m.counter.CountTokens(string(per.render())) <= m.budget }
	if fits() {
		return nil
	}
	var acts []Action
	// 1. Merge: same key twice in the live sections, or near-identical text.
	var kept []Item
	for _, it := range per.Items {
		dup := false
		for j, k := range kept {
			if k.Section == it.Section && (k.Key == it.Key && it.Section != Superseded || similar(k.Text, it.Text)) {
				// keep the later statement's text, the earlier date
				merged := it
				if merged.Since == "" || k.Since != "" && k.Since < merged.Since {
					merged.Since = k.Since
				}
				kept[j] = merged
				acts = append(acts, Action{Op: "compact-merge", Item: merged, Old: &k})
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, it)
		}
	}
	per.Items = kept
	// 2 and 3. Drop by weight, oldest (earliest in the file) first.
	for !fits() && len(per.Items) > 0 {
		drop := 0
		for i, it := range per.Items {
			if weight(it.Section) < weight(per.Items[drop].Section) {
				drop = i
			}
		}
		acts = append(acts, Action{Op: "drop", Item: per.Items[drop]})
		per.Items = append(per.Items[:drop], per.Items[drop+1:]...)
	}
	return acts
}

// similar reports near-duplicates: word sets overlapping by 80% or more.
func similar(a, b string) bool {
	wa, wb := strings.Fields(normalize(a)), strings.Fields(normalize(b))
	if len(wa) == 0 || len(wb) == 0 {
		return false
	}
	set := map[string]bool{}
	for _, w := range wa {
		set[w] = true
	}
	inter := 0
	union := len(set)
	seen := map[string]bool{}
	for _, w := range wb {
		if seen[w] {
			continue
		}
		seen[w] = true
		if set[w] {
			inter++
		} else {
			union++
		}
	}
	return float64(inter)/float64(union) >= 0.8
}

// Recalled is the answer to Recall.
type Recalled struct {
	User    string  `json:"user"`
	Query   string  `json:"query"`
	Path    fs.Path `json:"path"`
	Version int64   `json:"version"`
	Items   []Item  `json:"items"`
	Text    string  `json:"text"`
	Tokens  int     `json:"tokens"`
	Budget  int     `json:"budget"`
}

// Recall returns the user's items relevant to query within budget tokens,
// most relevant first. Style items always count as relevant (they shape
// every answer); Superseded items only when the query asks about the past.
// An empty query recalls everything current, most important first.
func (m *Memory) Recall(ctx context.Context, user, query string, budget int) (*Recalled, error) {
	p, err := m.Path(user)
	if err != nil {
		return nil, err
	}
	if budget <= 0 {
		budget = m.budget
	}
	per, ver, err := m.Read(ctx, user)
	if err != nil {
		return nil, err
	}
	r := &Recalled{User: user, Query: query, Path: p, Version: ver, Items: []Item{}, Budget: budget}
	qw := map[string]bool{}
	for _, w := range strings.Fields(normalize(query)) {
		if !recallStop[w] {
			qw[w] = true
		}
	}
	past := false
	for _, w := range []string{"used to", "before", "previous", "past", "old ", "formerly", "change", "history"} {
		past = past || strings.Contains(strings.ToLower(query)+" ", w)
	}
	hints := sectionHints(query)
	type scored struct {
		it    Item
		score float64
		pos   int
	}
	var cand []scored
	for i, it := range per.Items {
		if it.Section == Superseded && !past {
			continue
		}
		s := 0.0
		for _, w := range strings.Fields(normalize(it.Text + " " + strings.ReplaceAll(it.Key, ":", " "))) {
			if qw[w] {
				s++
			}
		}
		s += hints[it.Section]
		if strings.HasPrefix(it.Key, "home") || strings.HasPrefix(it.Key, "job") || strings.HasPrefix(it.Key, "origin") {
			s += hints[it.Key]
		}
		if it.Section == Style {
			s += 0.5
		}
		if len(qw) == 0 {
			s = float64(weight(it.Section))
		}
		if s > 0 {
			cand = append(cand, scored{it, s, i})
		}
	}
	sort.SliceStable(cand, func(i, j int) bool { return cand[i].score > cand[j].score })
	var b strings.Builder
	used := 0
	for _, c := range cand {
		line := fmt.Sprintf("- [%s] %s (%s)\n", c.it.Section, c.it.Text, provenance(c.it))
		n := m.counter.CountTokens(line)
		if used+n > budget {
			continue
		}
		used += n
		b.WriteString(line)
		r.Items = append(r.Items, c.it)
	}
	r.Text = b.String()
	r.Tokens = m.counter.CountTokens(r.Text)
	return r, nil
}

func provenance(it Item) string {
	s := it.Source
	if it.Since != "" {
		s += ", " + it.Since
	}
	if it.Until != "" {
		s += " until " + it.Until
	}
	return strings.TrimPrefix(s, ", ")
}

var recallStop = map[string]bool{"what": true, "do": true, "doe": true, "i": true, "you": true, "is": true, "are": true, "where": true, "who": true, "how": true, "should": true, "for": true, "me": true, "of": true, "in": true, "to": true, "and": true, "or": true, "about": true, "know": true, "with": true, "user": true, "they": true, "their": true, "it": true, "on": true, "at": true, "be": true, "can": true, "will": true, "would": true}

// sectionHints maps words of a query to the sections they ask about.
func sectionHints(q string) map[string]float64 {
	h := map[string]float64{}
	l := " " + strings.ToLower(q) + " "
	has := func(ws ...string) bool {
		for _, w := range ws {
			if strings.Contains(l, w) {
				return true
			}
		}
		return false
	}
	if has(" like", " love", " prefer", " favo", " enjoy", " hate", " food", " eat", " drink", " music", " hobby", " hobbies", " recommend", " gift") {
		h[Preferences] = 0.75
	}
	if has(" live", " home", " where", " city", " address", " moved") {
		h["home"] = 2
	}
	if has(" from", " grew up", " origin") {
		h["origin"] = 2
	}
	if has(" job", " work", " career", " profession", " occupation", " employ") {
		h["job"] = 2
	}
	if has(" family", " wife", " husband", " partner", " kid", " child", " friend", " sister", " brother", " mother", " father", " married", " relationship") {
		h[Relationships] = 1
	}
	if has(" goal", " plan", " want", " hope", " intend", " future", " next") {
		h[Goals] = 1
	}
	return h
}
