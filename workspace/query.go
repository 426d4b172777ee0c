package workspace

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// Cues are what a question asks about, as the query understood it.
type Cues struct {
	Entities []string `json:"entities,omitempty"` // known actors named by the question
	Places   []string `json:"places,omitempty"`
	Dates    []string `json:"dates,omitempty"`
	Kinds    []string `json:"kinds,omitempty"` // occasions ("craft beer festival")
	Unknown  []string `json:"unknown,omitempty"`
	Words    []string `json:"words,omitempty"` // free words, when nothing else was recognized
	Order    string   `json:"order,omitempty"` // "time" when the question asks for an order in time
}

// Line is one line of a query's context with the observation it cites.
type Line struct {
	Text   string  `json:"text"`
	Obs    string  `json:"obs"`              // observation id
	File   fs.Path `json:"file"`             // the observation's file
	Source string  `json:"source,omitempty"` // the observation's source label
}

// Context is a query's answer: lines of matching events within a token budget.
type Context struct {
	Question string    `json:"question"`
	Cues     Cues      `json:"cues"`
	Text     string    `json:"text"`
	Tokens   int       `json:"tokens"`
	Budget   int       `json:"budget"`
	Lines    []Line    `json:"lines"`
	Files    []fs.Path `json:"files"` // workspace files the context was built from
}

// DefaultBudget is the query budget in tokens when none is given.
const DefaultBudget = 1024

// episode is everything the workspace knows about one observation.
type episode struct {
	id      string
	file    fs.Path
	source  string
	when    string
	day     time.Time
	dated   bool
	place   string
	places  map[string]bool
	actors  []string // by number of events, most first
	kinds   []string
	kindW   map[string]bool
	textW   map[string]int
	textLow string
	events  []eventLine
	score   float64
}

// Snapshot is a workspace loaded for querying. It is immutable and safe
// for concurrent use; load a new one to see later observations.
type Snapshot struct {
	w        *Workspace
	episodes []*episode
	byID     map[string]*episode
	ents     []*entity
	byKey    map[string]*entity
	byPart   map[string][]*entity
	df       map[string]int
	files    []fs.Path
}

// Load reads the workspace's timeline, entities and observations.
func (w *Workspace) Load(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{w: w, byID: map[string]*episode{}, byKey: map[string]*entity{}, byPart: map[string][]*entity{}, df: map[string]int{}}
	tl, _, err := readFile(ctx, w.fsys, w.path("timeline.md"))
	if err != nil {
		return nil, err
	}
	ents, err := w.loadEntities(ctx)
	if err != nil {
		return nil, err
	}
	s.ents = ents
	for _, e := range ents {
		for _, n := range append([]string{e.Name}, e.Aliases...) {
			if k := normKey(n); k != "" && s.byKey[k] == nil {
				s.byKey[k] = e
			}
		}
		if e.Kind == KindPerson {
			for _, part := range strings.Fields(normKey(e.Name)) {
				s.byPart[part] = append(s.byPart[part], e)
			}
		}
	}
	obsDir := w.path("observations")
	for _, l := range parseEvents(tl) {
		ep := s.byID[l.Obs]
		if ep == nil {
			ep = &episode{id: l.Obs, file: obsDir.Child(l.Obs + ".md"), places: map[string]bool{}, kindW: map[string]bool{}}
			s.byID[l.Obs] = ep
			s.episodes = append(s.episodes, ep)
		}
		ep.events = append(ep.events, l)
	}
	for _, ep := range s.episodes {
		data, _, err := readFile(ctx, w.fsys, ep.file)
		if err != nil {
			return nil, err
		}
		ep.finish(string(data))
		// Places the observation mentions besides its main one.
		for _, e := range ents {
			if e.Kind == KindPlace && strings.Contains(ep.textLow, strings.ToLower(e.Name)) {
				ep.places[normKey(e.Name)] = true
				if ep.place == "" {
					ep.place = e.Name // learned as a place from later observations
				}
			}
		}
		// Names the operator first took for people but the workspace now
		// knows as places or organizations are not people of the episode.
		people := ep.actors[:0]
		for _, a := range ep.actors {
			if e := s.byKey[normKey(a)]; e == nil || e.Kind == KindPerson {
				people = append(people, a)
			}
		}
		ep.actors = people
		for w := range ep.textW {
			s.df[w]++
		}
	}
	sort.SliceStable(s.episodes, func(i, j int) bool { return s.episodes[i].id < s.episodes[j].id })
	s.files = []fs.Path{w.path("timeline.md")}
	return s, nil
}

func (ep *episode) finish(raw string) {
	text := raw
	if strings.HasPrefix(raw, "---\n") {
		if end := strings.Index(raw[4:], "\n---\n"); end >= 0 {
			for _, ln := range strings.Split(raw[4:4+end], "\n") {
				k, v, _ := strings.Cut(ln, ": ")
				if k == "source" {
					ep.source = v
				}
			}
			text = raw[4+end+5:]
		}
	}
	count := map[string]int{}
	placeN := map[string]int{}
	for _, l := range ep.events {
		if ep.when == "" && l.When != "" {
			ep.when = l.When
		}
		if l.Place != "" {
			placeN[l.Place]++
			ep.places[normKey(l.Place)] = true
		}
		for _, who := range l.Who {
			count[who]++
		}
		if l.Kind != "" && !contains(ep.kinds, l.Kind) {
			ep.kinds = append(ep.kinds, l.Kind)
		}
	}
	for p, n := range placeN {
		if ep.place == "" || n > placeN[ep.place] || n == placeN[ep.place] && p < ep.place {
			ep.place = p
		}
	}
	for who := range count {
		ep.actors = append(ep.actors, who)
	}
	sort.Slice(ep.actors, func(i, j int) bool {
		if count[ep.actors[i]] != count[ep.actors[j]] {
			return count[ep.actors[i]] > count[ep.actors[j]]
		}
		return ep.actors[i] < ep.actors[j]
	})
	ep.day, ep.dated = dayOf(ep.when)
	for _, k := range ep.kinds {
		for _, w := range contentWords(k) {
			ep.kindW[w] = true
		}
	}
	ep.textW = map[string]int{}
	for _, w := range contentWords(text) {
		ep.textW[w]++
	}
	for w := range ep.kindW {
		ep.textW[w]++
	}
	ep.textLow = strings.ToLower(text)
}

// Query answers question from the current state of the workspace.
func (w *Workspace) Query(ctx context.Context, question string, budget int) (*Context, error) {
	s, err := w.Load(ctx)
	if err != nil {
		return nil, err
	}
	return s.Query(question, budget)
}

// ErrNoQuestion is returned for an empty question.
var ErrNoQuestion = errors.New("workspace: empty question")

// Query turns question into cues, ranks the observations by how many cues
// their events match, and writes one line per matching observation (when,
// where, occasion, who) in rank order while the budget allows, then the
// events themselves. Every line cites its observation. The lines are
// finally put in time order.
func (s *Snapshot) Query(question string, budget int) (*Context, error) {
	if strings.TrimSpace(question) == "" {
		return nil, ErrNoQuestion
	}
	if budget <= 0 {
		budget = DefaultBudget
	}
	if len(question) > 4096 {
		question = clip(question, 4096)
	}
	c := &Context{Question: question, Budget: budget, Lines: []Line{}, Files: []fs.Path{}}
	c.Cues = s.cues(question)
	ranked := s.rank(c.Cues)
	s.render(c, ranked)
	return c, nil
}

func (s *Snapshot) cues(q string) Cues {
	var c Cues
	low := strings.ToLower(q)
	for _, k := range []string{"chronolog", "earliest", "latest", "most recent", "last time", "in order", "first time"} {
		if strings.Contains(low, k) {
			c.Order = "time"
		}
	}
	for _, d := range findDates(q) {
		c.Dates = append(c.Dates, d.Day.Format("2006-01-02"))
	}
	kindSeen := map[string]bool{}
	for _, sent := range splitSentences(q) {
		ws := words(sent)
		for _, p := range capPhrases(ws) {
			k := normKey(p.Text)
			if e := s.byKey[k]; e != nil {
				if e.Kind == KindPlace {
					c.Places = appendNew(c.Places, e.Name)
				} else {
					c.Entities = appendNew(c.Entities, e.Name)
				}
				continue
			}
			if es := s.byPart[k]; len(es) == 1 && !strings.Contains(k, " ") {
				c.Entities = appendNew(c.Entities, es[0].Name)
				continue
			}
			switch classify(p) {
			case KindPlace:
				c.Places = appendNew(c.Places, p.Text)
				continue
			case KindPerson:
				if len(p.Words) > 1 && !eventHeads[stem(strings.ToLower(p.Words[len(p.Words)-1]))] {
					c.Unknown = appendNew(c.Unknown, p.Text)
					continue
				}
			case KindOrganization:
				c.Unknown = appendNew(c.Unknown, p.Text)
				continue
			}
			if len(p.Words) == 1 && p.First {
				continue
			}
			if lk := strings.ToLower(p.Text); !kindSeen[lk] {
				kindSeen[lk] = true
				c.Kinds = append(c.Kinds, lk)
			}
		}
		for _, k := range eventPhrases(ws) {
			if len(contentWords(k)) == 0 {
				continue // "events": every observation is one
			}
			if !kindSeen[k] && !coveredBy(k, c.Kinds) {
				kindSeen[k] = true
				c.Kinds = append(c.Kinds, k)
			}
		}
	}
	if len(c.Entities)+len(c.Places)+len(c.Dates)+len(c.Kinds)+len(c.Unknown) == 0 {
		c.Words = dedupe(contentWords(q))
	}
	return c
}

func coveredBy(k string, kinds []string) bool {
	for _, x := range kinds {
		if strings.Contains(x, k) {
			return true
		}
	}
	return false
}

func appendNew(xs []string, x string) []string {
	if containsFold(xs, x) {
		return xs
	}
	return append(xs, x)
}

func (s *Snapshot) idf(w string) float64 {
	n := float64(len(s.episodes))
	return math.Log(1 + (n-float64(s.df[w])+0.5)/(float64(s.df[w])+0.5))
}

// rank scores every observation against the cues; each recognized cue
// adds up to 1, so observations matching more cues come first.
func (s *Snapshot) rank(c Cues) []*episode {
	var out []*episode
	for _, ep := range s.episodes {
		score := 0.0
		for _, e := range c.Entities {
			if contains(ep.actors, e) {
				score++
			}
		}
		for _, p := range c.Places {
			switch {
			case ep.places[normKey(p)]:
				score++
			case strings.Contains(ep.textLow, strings.ToLower(p)):
				score += 0.5
			}
		}
		for _, d := range c.Dates {
			if ep.dated && ep.day.Format("2006-01-02") == d {
				score++
			} else {
				for _, l := range ep.events {
					if day, ok := dayOf(l.When); ok && day.Format("2006-01-02") == d {
						score++
						break
					}
				}
			}
		}
		for _, k := range c.Kinds {
			score += s.termScore(ep, contentWords(k), true)
		}
		for _, u := range c.Unknown {
			// A name the workspace does not know may still be written in
			// an observation in a form the operator missed.
			if strings.Contains(ep.textLow, strings.ToLower(u)) {
				score += 0.5
			}
		}
		if len(c.Words) > 0 {
			score += s.termScore(ep, c.Words, false)
		}
		if score > 0 {
			ep2 := *ep
			ep2.score = score
			out = append(out, &ep2)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].id < out[j].id
	})
	return out
}

// termScore is the idf-weighted share of ws found in the episode: in its
// occasions (full weight) or its text (a little less, and saturating with
// repetition).
func (s *Snapshot) termScore(ep *episode, ws []string, kinds bool) float64 {
	var got, total float64
	for _, w := range ws {
		idf := s.idf(w)
		total += idf
		switch {
		case kinds && ep.kindW[w]:
			got += idf
		case ep.textW[w] > 0:
			tf := float64(ep.textW[w])
			got += idf * 0.7 * tf / (tf + 1)
		}
	}
	if total == 0 {
		return 0
	}
	return got / total
}

func (s *Snapshot) render(c *Context, ranked []*episode) {
	counter := s.w.counter
	var lines []Line
	used := 0
	fits := func(text string) bool {
		n := counter.CountTokens(text + "\n")
		if used+n > c.Budget {
			return false
		}
		used += n
		return true
	}
	qwords := map[string]bool{}
	for _, w := range contentWords(c.Question) {
		qwords[w] = true
	}
	focus := map[string]bool{}
	for _, e := range c.Cues.Entities {
		focus[e] = true
	}
	// Pass 1: one line per observation, most relevant first.
	var chosen []*episode
	for _, ep := range ranked {
		text := s.header(ep, focus, c.Cues.Places)
		if !fits(text) {
			continue
		}
		chosen = append(chosen, ep)
		lines = append(lines, Line{Text: text, Obs: ep.id, File: ep.file, Source: ep.source})
	}
	// Pass 2: the events of the chosen observations, round robin, those of
	// the asked-about actors first.
	queues := make([][]eventLine, len(chosen))
	for i, ep := range chosen {
		var first, rest []eventLine
		for _, l := range ep.events {
			hit := false
			for _, who := range l.Who {
				hit = hit || focus[who]
			}
			if hit {
				first = append(first, l)
			} else {
				rest = append(rest, l)
			}
		}
		if len(focus) == 0 || len(first) == 0 {
			queues[i] = append(first, rest...)
		} else {
			queues[i] = first
		}
		// The events that share the most words with the question first.
		sort.SliceStable(queues[i], func(a, b int) bool {
			return overlap(queues[i][a].What, qwords) > overlap(queues[i][b].What, qwords)
		})
	}
	extra := map[string][]Line{}
	for more := true; more; {
		more = false
		for i, ep := range chosen {
			if len(queues[i]) == 0 {
				continue
			}
			l := queues[i][0]
			queues[i] = queues[i][1:]
			more = true
			text := "  - " + l.What + " [obs " + ep.id + "]"
			if fits(text) {
				extra[ep.id] = append(extra[ep.id], Line{Text: text, Obs: ep.id, File: ep.file, Source: ep.source})
			}
		}
	}
	if c.Cues.Order == "time" || len(c.Cues.Dates) > 0 || true {
		// Time order reads best whatever was asked; ranking already chose.
		sort.SliceStable(lines, func(i, j int) bool {
			a, b := s.byID[lines[i].Obs], s.byID[lines[j].Obs]
			switch {
			case a.dated && b.dated && !a.day.Equal(b.day):
				return a.day.Before(b.day)
			case a.dated != b.dated:
				return a.dated
			}
			return a.id < b.id
		})
	}
	var b strings.Builder
	seen := map[fs.Path]bool{}
	for _, ln := range lines {
		c.Lines = append(c.Lines, ln)
		b.WriteString(ln.Text)
		b.WriteByte('\n')
		for _, x := range extra[ln.Obs] {
			c.Lines = append(c.Lines, x)
			b.WriteString(x.Text)
			b.WriteByte('\n')
		}
		if !seen[ln.File] {
			seen[ln.File] = true
			c.Files = append(c.Files, ln.File)
		}
	}
	if len(lines) > 0 {
		c.Files = append(c.Files, s.files...)
	}
	c.Text = b.String()
	c.Tokens = counter.CountTokens(c.Text)
}

// header is an observation's summary line: when · where · occasion · who.
func (s *Snapshot) header(ep *episode, focus map[string]bool, places []string) string {
	var parts []string
	parts = append(parts, "[obs "+ep.id+"]")
	if ep.when != "" {
		parts = append(parts, ep.when)
	}
	if ep.place != "" {
		parts = append(parts, ep.place)
	}
	for _, p := range places {
		if ep.places[normKey(p)] && normKey(p) != normKey(ep.place) {
			parts = append(parts, "also "+p)
		}
	}
	if len(ep.kinds) > 0 {
		k := ep.kinds
		if len(k) > 2 {
			k = k[:2]
		}
		parts = append(parts, strings.Join(k, ", "))
	}
	var who []string
	for _, a := range ep.actors {
		if focus[a] {
			who = append(who, a)
		}
	}
	for _, a := range ep.actors {
		if len(who) >= 3 {
			break
		}
		if !focus[a] {
			who = append(who, a)
		}
	}
	if len(who) > 0 {
		parts = append(parts, strings.Join(who, ", "))
	}
	return strings.Join(parts, " · ")
}

// overlap counts the distinct question words in text.
func overlap(text string, qwords map[string]bool) int {
	n := 0
	seen := map[string]bool{}
	for _, w := range contentWords(text) {
		if qwords[w] && !seen[w] {
			seen[w] = true
			n++
		}
	}
	return n
}
