package workspace

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/fs"
)

// Observation is one piece of experience to remember: a text with optional
// hints of when and where it happened.
type Observation struct {
	Text   string
	Time   string // optional: when it happened ("May 7, 2024", "2024-05-07")
	Place  string // optional: where it happened
	Source string // optional: a label of its origin ("Chapter 3", "session_2")
}

// Actor kinds.
const (
	KindPerson       = "person"
	KindPlace        = "place"
	KindOrganization = "organization"
	KindObject       = "object"
)

// Actor is a participant of an observation.
type Actor struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Aliases []string `json:"aliases,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	States  []string `json:"states,omitempty"`
}

// Event is something that happened: what, who, when and where.
type Event struct {
	When   string   `json:"when,omitempty"`  // as written ("September 22, 2026")
	Place  string   `json:"place,omitempty"` // canonical place name
	Kind   string   `json:"kind,omitempty"`  // occasion ("photography exhibition")
	What   string   `json:"what"`            // the clause that tells it
	Actors []string `json:"actors,omitempty"`
}

// Structure is what an operator makes of one observation.
type Structure struct {
	When   string   `json:"when,omitempty"`
	Place  string   `json:"place,omitempty"`
	Kinds  []string `json:"kinds,omitempty"`
	Actors []Actor  `json:"actors"`
	Events []Event  `json:"events"`
}

// Operator turns an observation into a semantic structure. Implementations
// are safe for concurrent use.
type Operator interface {
	Operate(ctx context.Context, obs Observation) (*Structure, error)
}

// Limits that bound what one observation can produce, whatever its text.
const (
	// MaxObservationBytes is the largest observation text accepted.
	MaxObservationBytes = 1 << 20
	maxActors           = 200
	maxEvents           = 500
	maxFieldBytes       = 300
)

// ErrEmpty is returned for an observation without text.
var ErrEmpty = fmt.Errorf("%w: empty observation", fs.ErrInvalid)

func checkText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return ErrEmpty
	case len(text) > MaxObservationBytes:
		return fmt.Errorf("%w: observation of %d bytes (limit %d)", fs.ErrTooLarge, len(text), MaxObservationBytes)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: observation is not UTF-8", fs.ErrInvalid)
	}
	return nil
}

// Rules is the deterministic, model-free operator: capitalized phrases
// become people, places and organizations (by their head words), dates are
// recognized in the common written forms, occasions by their head nouns,
// and each sentence that names a person becomes an event.
//
// Rules is stateless and safe for concurrent use.
type Rules struct{}

var _ Operator = Rules{}

type mention struct {
	key   string // normKey of the canonical name
	kind  string
	count int
	first int
	name  string
}

// Operate implements Operator.
func (Rules) Operate(ctx context.Context, obs Observation) (*Structure, error) {
	if err := checkText(obs.Text); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obs.Time = strings.Join(strings.Fields(obs.Time), " ")
	if obs.Place = strings.Join(strings.Fields(obs.Place), " "); normKey(obs.Place) == "" {
		obs.Place = "" // a hint without a word in it names no place
	}
	sentences := splitSentences(obs.Text)
	st := &Structure{Actors: []Actor{}, Events: []Event{}}

	// When: the hint, else the first date of the text.
	if obs.Time != "" {
		st.When = clip(obs.Time, maxFieldBytes)
	} else if ds := findDates(obs.Text); len(ds) > 0 {
		st.When = ds[0].Surface
	}

	// Pass 1: collect capitalized phrases and classify them.
	found := map[string]*mention{}
	var order []string
	midSentence := map[string]bool{} // single words seen capitalized inside a sentence
	type sentInfo struct {
		ws      []word
		phrases []phrase
	}
	infos := make([]sentInfo, len(sentences))
	for si, s := range sentences {
		ws := words(s)
		ps := capPhrases(ws)
		infos[si] = sentInfo{ws, ps}
		for _, p := range ps {
			if !p.First {
				midSentence[strings.ToLower(p.Text)] = true
			}
		}
	}
	add := func(name, kind string, pos int) {
		k := normKey(name)
		if k == "" {
			return
		}
		m := found[k]
		if m == nil {
			if len(found) >= maxActors {
				return
			}
			m = &mention{key: k, kind: kind, first: pos, name: clip(name, maxFieldBytes)}
			found[k] = m
			order = append(order, k)
		}
		m.count++
	}
	pos := 0
	for si, in := range infos {
		// Dialogue: "Caroline: Hey Mel!" names its speaker.
		if m := reSpeaker.FindStringSubmatch(sentences[si]); m != nil {
			add(m[1], KindPerson, pos)
			midSentence[strings.ToLower(m[1])] = true
		}
		for _, p := range in.phrases {
			pos++
			kind := classify(p)
			if kind == "" {
				continue
			}
			if len(p.Words) == 1 && p.First && !midSentence[strings.ToLower(p.Text)] && !verbFollows(in.ws, p.EndIdx) {
				continue // "Shaking", "Suddenly": sentence starters, not names
			}
			add(p.Text, kind, pos)
		}
	}
	if obs.Place != "" {
		add(obs.Place, KindPlace, 0)
	}

	// Single words that are a part of a longer person name are aliases of it.
	alias := map[string]string{} // single-word key -> full key
	for _, k := range order {
		m := found[k]
		if m.kind != KindPerson || !strings.Contains(k, " ") {
			continue
		}
		for _, part := range strings.Fields(k) {
			if connectors[part] {
				continue
			}
			if prev, ok := alias[part]; ok && prev != k {
				alias[part] = "" // ambiguous
				continue
			}
			alias[part] = k
		}
	}
	canon := func(k string) string {
		if full := alias[k]; full != "" && !strings.Contains(k, " ") {
			return full
		}
		return k
	}
	aliasesOf := map[string][]string{}
	for _, k := range order {
		m := found[k]
		c := canon(k)
		if c != k && m.kind == KindPerson {
			found[c].count += m.count
			aliasesOf[c] = append(aliasesOf[c], m.name)
			m.kind = "" // folded
		}
	}

	// Where: the hint, else the most mentioned place.
	if obs.Place != "" {
		st.Place = found[normKey(obs.Place)].name
	} else {
		var best *mention
		for _, k := range order {
			m := found[k]
			if m.kind == KindPlace && (best == nil || m.count > best.count) {
				best = m
			}
		}
		if best != nil {
			st.Place = best.name
		}
	}

	// Pass 2: events, roles and states from the sentences that name people.
	roles := map[string][]string{}
	states := map[string][]string{}
	kindSeen := map[string]bool{}
	kindN := map[string]int{}
	var kinds []string
	for _, in := range infos {
		for _, k := range eventPhrases(in.ws) {
			kindN[k]++
			if !kindSeen[k] && len(kinds) < 20 {
				kindSeen[k] = true
				kinds = append(kinds, k)
			}
		}
		for _, p := range in.phrases {
			k := normKey(p.Text)
			if m := found[k]; m != nil && m.kind == KindOrganization || m != nil && m.kind == KindPlace {
				continue
			}
			if len(p.Words) >= 1 && eventHeads[stem(strings.ToLower(p.Words[len(p.Words)-1]))] {
				lk := strings.ToLower(p.Text)
				if !kindSeen[lk] && len(kinds) < 20 {
					kindSeen[lk] = true
					kinds = append(kinds, lk)
				}
			}
		}
	}
	// The occasion named most often is the observation's main one; a
	// longer phrase counts its head's bare mentions ("the hackathon").
	score := func(k string) int {
		n := kindN[k]
		if f := strings.Fields(k); len(f) > 1 {
			n += kindN[f[len(f)-1]]
		}
		return n
	}
	sort.SliceStable(kinds, func(i, j int) bool { return score(kinds[i]) > score(kinds[j]) })
	st.Kinds = kinds
	for si, in := range infos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var who []string
		seen := map[string]bool{}
		for _, p := range in.phrases {
			c := canon(normKey(p.Text))
			m := found[c]
			if m == nil || m.kind != KindPerson || seen[c] {
				continue
			}
			seen[c] = true
			who = append(who, m.name)
			if r := appositive(in.ws, p.EndIdx); r != "" && len(roles[c]) < 10 {
				roles[c] = append(roles[c], r)
			}
			if s := stateAfter(in.ws, p.EndIdx); s != "" && len(states[c]) < 10 {
				states[c] = append(states[c], s)
			}
		}
		if len(who) == 0 || len(st.Events) >= maxEvents {
			continue
		}
		ev := Event{When: st.When, Place: st.Place, What: clip(sentences[si], maxFieldBytes), Actors: who}
		if ks := eventPhrases(in.ws); len(ks) > 0 {
			ev.Kind = ks[0]
		} else if len(kinds) > 0 {
			ev.Kind = kinds[0]
		}
		if ds := findDates(sentences[si]); len(ds) > 0 && obs.Time == "" {
			ev.When = ds[0].Surface
		}
		st.Events = append(st.Events, ev)
	}

	// Actors, the most mentioned person first: the protagonist.
	var people []*mention
	for _, k := range order {
		m := found[k]
		if m.kind == "" {
			continue
		}
		if m.kind == KindPerson {
			people = append(people, m)
		}
	}
	sort.SliceStable(people, func(i, j int) bool { return people[i].count > people[j].count })
	top := ""
	if len(people) > 0 && (len(people) == 1 || people[0].count > people[1].count) {
		top = people[0].key
	}
	for _, k := range order {
		m := found[k]
		if m.kind == "" {
			continue
		}
		a := Actor{Name: m.name, Kind: m.kind, Aliases: dedupe(aliasesOf[k]), States: dedupe(states[k])}
		if m.kind == KindPerson {
			if k == top {
				a.Roles = append(a.Roles, "protagonist")
			} else {
				a.Roles = append(a.Roles, "participant")
			}
			a.Roles = append(a.Roles, dedupe(roles[k])...)
		}
		st.Actors = append(st.Actors, a)
	}
	return st, nil
}

func dedupe(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[strings.ToLower(x)] {
			seen[strings.ToLower(x)] = true
			out = append(out, x)
		}
	}
	return out
}

// classify tells what a capitalized phrase names, or "" for nothing.
func classify(p phrase) string {
	if len(p.Words) == 0 || len(p.Words) > 6 {
		return ""
	}
	last := strings.ToLower(p.Words[len(p.Words)-1])
	first := strings.ToLower(p.Words[0])
	switch {
	case eventHeads[stem(last)]:
		return "" // an occasion ("Astronomy Night"), kept as a kind
	case orgHeads[strings.TrimSuffix(last, ".")]:
		return KindOrganization
	case placeHeads[last] || placePrefixes[first] && len(p.Words) > 1 || headBeforeOf(p.Words):
		return KindPlace
	case len(p.Words) == 1 && (p.Before == "at" || p.Before == "in" || p.Before == "near" || p.Before == "inside"):
		return KindPlace
	}
	for _, w := range p.Words {
		if stopwords[strings.ToLower(w)] && !connectors[strings.ToLower(w)] {
			return ""
		}
		if isDigits(w) {
			return ""
		}
	}
	if len(p.Words) == 1 && (interjections[strings.ToLower(p.Text)] || notNames[strings.ToLower(p.Text)]) {
		return ""
	}
	if strings.ToUpper(p.Text) == p.Text && len(p.Words) == 1 {
		return "" // acronyms and shouting
	}
	if p.Before == "the" && len(p.Words) > 1 {
		return KindPlace // "the High Line": people do not take an article
	}
	return KindPerson
}

// appositive reads "Noa Middleton, the lead instructor," as a role.
func appositive(ws []word, i int) string {
	if i+2 >= len(ws) || !(ws[i].Text == "the" || ws[i].Text == "a" || ws[i].Text == "an") {
		return ""
	}
	// words() drops the comma, so accept the pattern only when a role noun
	// follows within four words.
	var parts []string
	for k := i + 1; k < len(ws) && k <= i+4; k++ {
		lw := strings.ToLower(ws[k].Text)
		parts = append(parts, lw)
		if roleNouns[stem(lw)] {
			return strings.Join(parts, " ")
		}
		if stopwords[lw] && lw != "of" {
			return ""
		}
	}
	return ""
}

var roleNouns = toSet(`instructor teacher organizer actor actress director head leader host guide chef
doctor nurse manager owner founder designer artist writer author photographer detective officer engineer
developer student coach captain judge mentor curator speaker singer musician dancer player member
volunteer friend sister brother mother father wife husband partner colleague boss assistant
security emcee`)

// stateAfter reads "X felt nervous", "X was exhausted" as a state.
func stateAfter(ws []word, i int) string {
	if i+1 >= len(ws) {
		return ""
	}
	switch strings.ToLower(ws[i].Text) {
	case "felt", "was", "seemed", "looked", "became", "grew", "is", "feels", "seems", "looks":
	default:
		return ""
	}
	var parts []string
	for k := i + 1; k < len(ws) && len(parts) < 3; k++ {
		lw := strings.ToLower(ws[k].Text)
		if k == i+1 && (lw == "a" || lw == "an" || lw == "the" || lw == "not" || lw == "very" || lw == "so") {
			parts = append(parts, lw)
			continue
		}
		if stopwords[lw] || isCapitalized(ws[k].Text) {
			break
		}
		parts = append(parts, lw)
		if len(parts) >= 1 && !(parts[0] == "a" || parts[0] == "an" || parts[0] == "the" || parts[0] == "not" || parts[0] == "very" || parts[0] == "so") {
			break
		}
	}
	if len(parts) == 0 {
		return ""
	}
	last := parts[len(parts)-1]
	if last == "a" || last == "an" || last == "the" || last == "not" || last == "very" || last == "so" {
		return ""
	}
	return strings.Join(parts, " ")
}

// dayOf parses when into a day for ordering; ok is false for unknown times.
func dayOf(when string) (time.Time, bool) { return parseDay(when) }

var reSpeaker = regexp.MustCompile(`^(\p{Lu}[\p{L}'-]*(?: \p{Lu}[\p{L}'-]*)?): `)

// verbFollows reports whether the word after a sentence-initial
// capitalized word reads as its verb ("Henry was", "Owen collapsed"), so
// the word is a name rather than an adverb or a participle.
func verbFollows(ws []word, i int) bool {
	if i <= 0 || i >= len(ws) || ws[i-1].Break {
		return false
	}
	if notNames[strings.ToLower(ws[i-1].Text)] {
		return false
	}
	w := strings.ToLower(ws[i].Text)
	if commonVerbs[w] {
		return true
	}
	return len(w) > 4 && strings.HasSuffix(w, "ed") && !isCapitalized(ws[i].Text)
}

// notNames are words that start sentences as subjects but name no one.
var notNames = toSet(`everyone everybody someone somebody nobody anyone anybody people children everything
something nothing sunlight moonlight silence darkness time life night morning evening day music laughter
applause rain snow wind fog mist tension excitement hey hi hello thanks wow yeah yes oh ok okay sure great cool
awesome congrats congratulations haha lol omg`)

var commonVerbs = toSet(`was is felt had has said says went met saw took gave made came found looked seemed
smiled nodded thought knew began stood sat ran walked told asked turned became kept left got did does
will would could can should might must`)

// headBeforeOf finds a place head before "of": "Statue of Liberty",
// "Museum of Natural History".
func headBeforeOf(ws []string) bool {
	for i := 0; i+1 < len(ws); i++ {
		if ws[i+1] == "of" && placeHeads[strings.ToLower(ws[i])] {
			return true
		}
	}
	return false
}
