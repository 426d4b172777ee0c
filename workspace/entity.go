package workspace

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

// entity is an actor's file, entities/<slug>.md:
//
//	# Name
//	kind: person
//	aliases: Henry, Mr. Reed
//
//	## Roles
//	- protagonist (obs 000003)
//
//	## States
//	- nervous (September 22, 2026, obs 000003)
//
//	## Events
//	- WHEN | PLACE | KIND | WHAT | who: ... | obs 000003
type entity struct {
	Name    string
	Slug    string
	Kind    string
	Aliases []string
	Roles   []string // "role (obs ID)"
	States  []string // "state (when, obs ID)"
	Events  []eventLine
}

func parseEntity(data []byte) *entity {
	e := &entity{}
	section := ""
	for _, ln := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(ln)
		switch {
		case strings.HasPrefix(t, "# "):
			e.Name = strings.TrimSpace(t[2:])
		case strings.HasPrefix(t, "## "):
			section = strings.ToLower(strings.TrimSpace(t[3:]))
		case section == "" && strings.HasPrefix(t, "kind:"):
			e.Kind = strings.TrimSpace(t[5:])
		case section == "" && strings.HasPrefix(t, "aliases:"):
			for _, a := range strings.Split(t[8:], ",") {
				if a = strings.TrimSpace(a); a != "" {
					e.Aliases = append(e.Aliases, a)
				}
			}
		case strings.HasPrefix(t, "- "):
			switch section {
			case "roles":
				e.Roles = append(e.Roles, t[2:])
			case "states":
				e.States = append(e.States, t[2:])
			case "events":
				if l, ok := parseEventLine(t); ok {
					e.Events = append(e.Events, l)
				}
			}
		}
	}
	return e
}

func (e *entity) merge(a Actor, evs []eventLine, id string) {
	// Person is the operator's default guess for a name; a head word or an
	// article ("the High Line") is better evidence, and it wins.
	if e.Kind == KindPerson && (a.Kind == KindPlace || a.Kind == KindOrganization) || e.Kind == "" {
		e.Kind = a.Kind
	}
	for _, al := range append(append([]string{}, a.Aliases...), a.Name) {
		if normKey(al) != normKey(e.Name) && !containsFold(e.Aliases, al) {
			e.Aliases = append(e.Aliases, al)
		}
	}
	for _, r := range a.Roles {
		s := fmt.Sprintf("%s (obs %s)", r, id)
		if !contains(e.Roles, s) {
			e.Roles = append(e.Roles, s)
		}
	}
	when := ""
	if len(evs) > 0 {
		when = evs[0].When
	}
	for _, st := range a.States {
		s := fmt.Sprintf("%s (%s, obs %s)", st, dash(when), id)
		if !contains(e.States, s) {
			e.States = append(e.States, s)
		}
	}
	e.Events = mergeTimeline(e.Events, evs)
}

func containsFold(xs []string, x string) bool {
	for _, y := range xs {
		if strings.EqualFold(y, x) {
			return true
		}
	}
	return false
}

func (e *entity) render() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\nkind: %s\n", e.Name, e.Kind)
	if len(e.Aliases) > 0 {
		fmt.Fprintf(&b, "aliases: %s\n", strings.Join(e.Aliases, ", "))
	}
	for _, sec := range []struct {
		name  string
		items []string
	}{{"Roles", e.Roles}, {"States", e.States}} {
		if len(sec.items) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n", sec.name)
		for _, it := range sec.items {
			fmt.Fprintf(&b, "- %s\n", it)
		}
	}
	if len(e.Events) > 0 {
		b.WriteString("\n## Events\n")
		for _, l := range e.Events {
			b.WriteString(l.String())
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// entityIndex resolves names to the workspace's entities.
type entityIndex struct {
	byKey  map[string]*entity // normKey of name and aliases
	byPart map[string][]*entity
	slugs  map[string]bool
}

func (w *Workspace) entityIndex(ctx context.Context) (*entityIndex, error) {
	ents, err := w.loadEntities(ctx)
	if err != nil {
		return nil, err
	}
	idx := &entityIndex{byKey: map[string]*entity{}, byPart: map[string][]*entity{}, slugs: map[string]bool{}}
	for _, e := range ents {
		idx.insert(e)
	}
	return idx, nil
}

func (w *Workspace) loadEntities(ctx context.Context) ([]*entity, error) {
	infos, err := w.fsys.List(ctx, w.path("entities"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*entity
	for _, in := range infos {
		if in.IsDir() || !strings.HasSuffix(in.Name(), ".md") {
			continue
		}
		data, _, err := readFile(ctx, w.fsys, in.Path)
		if err != nil {
			return nil, err
		}
		e := parseEntity(data)
		if e.Name == "" {
			continue // not an entity file (a person's note): leave it alone
		}
		e.Slug = strings.TrimSuffix(in.Name(), ".md")
		out = append(out, e)
	}
	return out, nil
}

func (idx *entityIndex) insert(e *entity) {
	idx.slugs[e.Slug] = true
	for _, n := range append([]string{e.Name}, e.Aliases...) {
		k := normKey(n)
		if k == "" {
			continue
		}
		if _, ok := idx.byKey[k]; !ok {
			idx.byKey[k] = e
		}
	}
	if e.Kind == KindPerson {
		for _, part := range strings.Fields(normKey(e.Name)) {
			if !connectors[part] {
				idx.byPart[part] = append(idx.byPart[part], e)
			}
		}
	}
}

// resolve finds the entity a names: by name or alias regardless of case
// and possessives, or, for a one-word person name, the one person whose
// full name has that word.
func (idx *entityIndex) resolve(a Actor) *entity {
	for _, n := range append([]string{a.Name}, a.Aliases...) {
		if e := idx.byKey[normKey(n)]; e != nil {
			return e // one name, one entity, whatever kind each mention suggested
		}
	}
	k := normKey(a.Name)
	if a.Kind == KindPerson && !strings.Contains(k, " ") {
		if es := idx.byPart[k]; len(es) == 1 {
			return es[0]
		}
	}
	return nil
}

func (idx *entityIndex) add(a Actor) *entity {
	s := slug(a.Name)
	base := s
	for i := 2; idx.slugs[s]; i++ {
		s = fmt.Sprintf("%s-%d", base, i)
	}
	e := &entity{Name: a.Name, Slug: s, Kind: a.Kind}
	idx.insert(e)
	return e
}

// antonyms are states that cannot hold at once.
var antonyms = map[string]string{
	"alive": "dead", "awake": "asleep", "present": "absent", "open": "closed", "married": "single",
	"happy": "sad", "calm": "nervous", "healthy": "sick", "employed": "unemployed", "inside": "outside",
}

func contradict(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == "not "+b || b == "not "+a {
		return true
	}
	return antonyms[a] == b || antonyms[b] == a
}

// stateConflicts finds states of e that contradict each other at one time,
// one of them from observation id.
func (e *entity) stateConflicts(id string) []string {
	type st struct{ text, when, obs string }
	var sts []st
	for _, s := range e.States {
		i := strings.LastIndex(s, " (")
		if i < 0 || !strings.HasSuffix(s, ")") {
			continue
		}
		inner := s[i+2 : len(s)-1]
		j := strings.LastIndex(inner, ", obs ")
		if j < 0 {
			continue
		}
		sts = append(sts, st{s[:i], inner[:j], inner[j+6:]})
	}
	var out []string
	for a := range sts {
		for b := a + 1; b < len(sts); b++ {
			x, y := sts[a], sts[b]
			if x.when != y.when || x.when == "-" || (x.obs != id && y.obs != id) || !contradict(x.text, y.text) {
				continue
			}
			out = append(out, fmt.Sprintf("- %s is both %s (obs %s) and %s (obs %s) on %s", e.Name, x.text, x.obs, y.text, y.obs, x.when))
		}
	}
	return out
}
