package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/tokens"
)

// Options configure a Workspace. The zero value gives the defaults.
type Options struct {
	// Operator turns observations into structures; nil means Rules{}.
	Operator Operator
	// Counter counts tokens for query budgets; nil means tokens.Default().
	Counter fs.TokenCounter
	// Root is the directory holding workspaces; zero means /workspace.
	Root fs.Path
}

// Workspace is one episodic workspace, /workspace/<name>/, reached through
// an fs.FS so versioning, search and access control apply to it.
//
// Concurrency: safe for concurrent use, also by several processes sharing
// one store: every file is updated by read, merge and a conditional write
// (fs.WriteOptions.IfVersion), retried on conflict, so concurrent
// observations never lose each other's updates.
type Workspace struct {
	fsys    fs.FS
	dir     fs.Path
	name    string
	op      Operator
	counter fs.TokenCounter
}

// New returns the workspace name on fsys. It creates nothing until the
// first observation.
func New(fsys fs.FS, name string, opts Options) (*Workspace, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty workspace name", fs.ErrInvalid)
	}
	if err := fs.ValidName(name); err != nil {
		return nil, fmt.Errorf("workspace name %q: %w", name, err)
	}
	root := opts.Root
	if root == "" {
		root = fs.MustParse("/workspace")
	}
	dir, err := root.Join(name)
	if err != nil {
		return nil, err
	}
	w := &Workspace{fsys: fsys, dir: dir, name: name, op: opts.Operator, counter: opts.Counter}
	if w.op == nil {
		w.op = Rules{}
	}
	if w.counter == nil {
		w.counter, _ = tokens.Default()
	}
	return w, nil
}

// Dir is the workspace's directory.
func (w *Workspace) Dir() fs.Path { return w.dir }

func (w *Workspace) path(elems ...string) fs.Path {
	p := w.dir
	for _, e := range elems {
		p = p.Child(e)
	}
	return p
}

// ObserveResult tells what an observation changed.
type ObserveResult struct {
	Observation fs.Path    `json:"observation"`
	ID          string     `json:"id"`
	Structure   *Structure `json:"structure"`
	Entities    []fs.Path  `json:"entities"`
	Conflicts   []string   `json:"conflicts,omitempty"`
}

// Observe runs the operator on obs and reconciles its structure into the
// workspace: the raw observation is appended under observations/, each
// actor's file under entities/ gets its roles, states and events, the
// events enter timeline.md in time order and incoherences go to
// conflicts.md.
func (w *Workspace) Observe(ctx context.Context, obs Observation) (*ObserveResult, error) {
	st, err := w.op.Operate(ctx, obs)
	if err != nil {
		return nil, err
	}
	sanitize(st)
	id, op, err := w.appendObservation(ctx, obs)
	if err != nil {
		return nil, err
	}
	res := &ObserveResult{Observation: op, ID: id, Structure: st}

	idx, err := w.entityIndex(ctx)
	if err != nil {
		return nil, err
	}
	// Resolve each actor to an entity (existing or new) and rename event
	// actors and places to the canonical names.
	canon := map[string]string{} // operator name key -> canonical name
	slugs := map[string]string{} // canonical name -> slug
	for _, a := range st.Actors {
		e := idx.resolve(a)
		if e == nil {
			e = idx.add(a)
		}
		canon[normKey(a.Name)] = e.Name
		slugs[e.Name] = e.Slug
	}
	rename := func(n string) string {
		if c, ok := canon[normKey(n)]; ok {
			return c
		}
		return n
	}
	st.Place = rename(st.Place)
	for i := range st.Events {
		ev := &st.Events[i]
		ev.Place = rename(ev.Place)
		for j := range ev.Actors {
			ev.Actors[j] = rename(ev.Actors[j])
		}
	}
	var stateConf []string
	for _, a := range st.Actors {
		name := canon[normKey(a.Name)]
		slug := slugs[name]
		var evs []eventLine
		for _, ev := range st.Events {
			if contains(ev.Actors, name) || a.Kind == KindPlace && ev.Place == name {
				evs = append(evs, lineOf(ev, id))
			}
		}
		if a.Kind == KindPlace && len(evs) == 0 {
			evs = append(evs, eventLine{When: st.When, Place: name, Kind: firstOr(st.Kinds), What: "observed here", Obs: id})
		}
		p := w.path("entities", slug+".md")
		var sc []string
		err := update(ctx, w.fsys, p, func(old []byte) ([]byte, error) {
			e := parseEntity(old)
			if e.Name == "" {
				e.Name, e.Kind = name, a.Kind
			}
			e.merge(a, evs, id)
			sc = e.stateConflicts(id)
			return e.render(), nil
		})
		stateConf = append(stateConf, sc...)
		if err != nil {
			return nil, err
		}
		res.Entities = append(res.Entities, p)
	}

	var lines []eventLine
	for _, ev := range st.Events {
		lines = append(lines, lineOf(ev, id))
	}
	if len(lines) == 0 {
		// An observation without named people still has a place in time.
		lines = append(lines, eventLine{When: st.When, Place: st.Place, Kind: firstOr(st.Kinds), What: clip(firstSentence(obs.Text), maxFieldBytes), Obs: id})
	}
	var timeline []eventLine
	err = update(ctx, w.fsys, w.path("timeline.md"), func(old []byte) ([]byte, error) {
		timeline = mergeTimeline(parseEvents(old), lines)
		return renderTimeline(timeline), nil
	})
	if err != nil {
		return nil, err
	}
	found := append(placeConflicts(timeline, id), stateConf...)
	if len(found) > 0 {
		err = update(ctx, w.fsys, w.path("conflicts.md"), func(old []byte) ([]byte, error) {
			return mergeConflicts(old, found), nil
		})
		if err != nil {
			return nil, err
		}
		res.Conflicts = found
	}
	return res, nil
}

func firstOr(xs []string) string {
	if len(xs) > 0 {
		return xs[0]
	}
	return ""
}

func firstSentence(s string) string {
	ss := splitSentences(s)
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// sanitize removes the separators of the file formats from operator output
// (an LLM operator may return anything) and bounds its size.
func sanitize(st *Structure) {
	clean := func(s string) string {
		s = strings.NewReplacer("|", "/", "\n", " ", "\r", " ", "[", "(", "]", ")").Replace(s)
		return clip(s, maxFieldBytes)
	}
	st.When, st.Place = clean(st.When), clean(st.Place)
	if len(st.Kinds) > 20 {
		st.Kinds = st.Kinds[:20]
	}
	for i := range st.Kinds {
		st.Kinds[i] = clean(st.Kinds[i])
	}
	if len(st.Actors) > maxActors {
		st.Actors = st.Actors[:maxActors]
	}
	actors := st.Actors[:0]
	for _, a := range st.Actors {
		a.Name = clean(a.Name)
		if normKey(a.Name) == "" {
			continue
		}
		for _, xs := range []*[]string{&a.Aliases, &a.Roles, &a.States} {
			if len(*xs) > 20 {
				*xs = (*xs)[:20]
			}
			for i := range *xs {
				(*xs)[i] = strings.ReplaceAll(clean((*xs)[i]), ",", " ")
			}
		}
		switch a.Kind {
		case KindPerson, KindPlace, KindOrganization, KindObject:
		default:
			a.Kind = KindObject
		}
		actors = append(actors, a)
	}
	st.Actors = actors
	if len(st.Events) > maxEvents {
		st.Events = st.Events[:maxEvents]
	}
	for i := range st.Events {
		ev := &st.Events[i]
		ev.When, ev.Place, ev.Kind, ev.What = clean(ev.When), clean(ev.Place), clean(ev.Kind), clean(ev.What)
		if len(ev.Actors) > 20 {
			ev.Actors = ev.Actors[:20]
		}
		for j := range ev.Actors {
			ev.Actors[j] = strings.ReplaceAll(clean(ev.Actors[j]), ",", " ")
		}
	}
}

// appendObservation stores the raw observation under the next free number.
func (w *Workspace) appendObservation(ctx context.Context, obs Observation) (string, fs.Path, error) {
	var b strings.Builder
	b.WriteString("---\n")
	for _, kv := range [][2]string{{"when", obs.Time}, {"place", obs.Place}, {"source", obs.Source}} {
		if v := strings.Join(strings.Fields(kv[1]), " "); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", kv[0], clip(v, maxFieldBytes))
		}
	}
	b.WriteString("---\n")
	b.WriteString(obs.Text)
	if !strings.HasSuffix(obs.Text, "\n") {
		b.WriteString("\n")
	}
	dir := w.path("observations")
	n := 0
	if infos, err := w.fsys.List(ctx, dir); err == nil {
		for _, in := range infos {
			if k, err := strconv.Atoi(strings.TrimSuffix(in.Name(), ".md")); err == nil && k > n {
				n = k
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	for attempt := 0; attempt < 1000; attempt++ {
		n++
		id := fmt.Sprintf("%06d", n)
		p := dir.Child(id + ".md")
		_, err := w.fsys.Write(ctx, p, strings.NewReader(b.String()), fs.WriteOptions{Create: true, Meta: map[string]string{"kind": "observation"}})
		if errors.Is(err, fs.ErrExist) {
			continue // another observer took this number
		}
		if err != nil {
			return "", "", err
		}
		return id, p, nil
	}
	return "", "", fmt.Errorf("%w: no free observation number", fs.ErrConflict)
}

// update applies fn to the current content of p (nil when missing) and
// writes the result conditionally on the version it read, retrying when
// another writer got there first.
func update(ctx context.Context, fsys fs.FS, p fs.Path, fn func(old []byte) ([]byte, error)) error {
	for attempt := 0; ; attempt++ {
		old, ver, err := readFile(ctx, fsys, p)
		if err != nil {
			return err
		}
		data, err := fn(old)
		if err != nil {
			return err
		}
		if ver != 0 && bytes.Equal(data, old) {
			return nil
		}
		opts := fs.WriteOptions{IfVersion: ver}
		if ver == 0 {
			opts.Create = true
		}
		_, err = fsys.Write(ctx, p, bytes.NewReader(data), opts)
		if (errors.Is(err, fs.ErrConflict) || errors.Is(err, fs.ErrExist)) && attempt < 1000 {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			continue
		}
		return err
	}
}

// readFile returns p's content and version; a missing file is (nil, 0, nil).
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

// eventLine is one event as written in timeline.md and entity files:
//
//   - WHEN | PLACE | KIND | WHAT | who: A, B | obs 000015
type eventLine struct {
	When, Place, Kind, What string
	Who                     []string
	Obs                     string
}

func lineOf(ev Event, id string) eventLine {
	return eventLine{When: ev.When, Place: ev.Place, Kind: ev.Kind, What: ev.What, Who: ev.Actors, Obs: id}
}

func (l eventLine) String() string {
	return fmt.Sprintf("- %s | %s | %s | %s | who: %s | obs %s", dash(l.When), dash(l.Place), dash(l.Kind), l.What, strings.Join(l.Who, ", "), l.Obs)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func undash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func parseEventLine(s string) (eventLine, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "- ") {
		return eventLine{}, false
	}
	f := strings.Split(s[2:], " | ")
	if len(f) != 6 || !strings.HasPrefix(f[5], "obs ") {
		return eventLine{}, false
	}
	l := eventLine{When: undash(f[0]), Place: undash(f[1]), Kind: undash(f[2]), What: f[3], Obs: strings.TrimPrefix(f[5], "obs ")}
	for _, n := range strings.Split(strings.TrimPrefix(f[4], "who:"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			l.Who = append(l.Who, n)
		}
	}
	return l, true
}

func parseEvents(data []byte) []eventLine {
	var out []eventLine
	for _, ln := range strings.Split(string(data), "\n") {
		if l, ok := parseEventLine(ln); ok {
			out = append(out, l)
		}
	}
	return out
}

// sortEvents orders events by day; events of unknown time keep their
// place after the dated ones, in observation order.
func sortEvents(ls []eventLine) {
	sort.SliceStable(ls, func(i, j int) bool {
		di, oki := dayOf(ls[i].When)
		dj, okj := dayOf(ls[j].When)
		switch {
		case oki && okj && !di.Equal(dj):
			return di.Before(dj)
		case oki != okj:
			return oki
		}
		return ls[i].Obs < ls[j].Obs
	})
}

func mergeTimeline(old, add []eventLine) []eventLine {
	have := map[string]bool{}
	for _, l := range old {
		have[l.String()] = true
	}
	out := append([]eventLine(nil), old...)
	for _, l := range add {
		if !have[l.String()] {
			have[l.String()] = true
			out = append(out, l)
		}
	}
	sortEvents(out)
	return out
}

func renderTimeline(ls []eventLine) []byte {
	var b strings.Builder
	b.WriteString("# Timeline\n\nEvents in time order: when | where | occasion | what | who | source observation.\n\n")
	for _, l := range ls {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// placeConflicts finds people placed in two places on the same day by the
// new observation id and an earlier one.
func placeConflicts(ls []eventLine, id string) []string {
	type key struct{ who, day string }
	places := map[key]map[string]string{} // place -> obs
	for _, l := range ls {
		d, ok := dayOf(l.When)
		if !ok || l.Place == "" {
			continue
		}
		for _, who := range l.Who {
			k := key{who, d.Format("2006-01-02")}
			if places[k] == nil {
				places[k] = map[string]string{}
			}
			if _, ok := places[k][l.Place]; !ok {
				places[k][l.Place] = l.Obs
			}
		}
	}
	var out []string
	for k, ps := range places {
		if len(ps) < 2 {
			continue
		}
		var names []string
		involved := false
		for p, o := range ps {
			names = append(names, fmt.Sprintf("%s (obs %s)", p, o))
			involved = involved || o == id
		}
		if !involved {
			continue
		}
		sort.Strings(names)
		out = append(out, fmt.Sprintf("- %s is in %d places on %s: %s", k.who, len(ps), k.day, strings.Join(names, "; ")))
	}
	sort.Strings(out)
	return out
}

func mergeConflicts(old []byte, add []string) []byte {
	lines := []string{}
	have := map[string]bool{}
	for _, ln := range strings.Split(string(old), "\n") {
		if strings.HasPrefix(ln, "- ") && !have[ln] {
			have[ln] = true
			lines = append(lines, ln)
		}
	}
	for _, ln := range add {
		if !have[ln] {
			have[ln] = true
			lines = append(lines, ln)
		}
	}
	var b strings.Builder
	b.WriteString("# Conflicts\n\nIncoherences found while reconciling observations.\n\n")
	for _, ln := range lines {
		b.WriteString(ln)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
