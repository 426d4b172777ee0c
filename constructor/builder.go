package constructor

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/tokens"
)

// Options configure a Builder. The zero value gives the defaults.
type Options struct {
	// Counter counts tokens with the target model's tokenizer; nil means
	// tokens.Default() (cl100k_base).
	Counter fs.TokenCounter
	// Tokenizer names Counter's encoding in manifests; "" means cl100k_base.
	Tokenizer string
	// MaxFiles bounds the files one source may bring (0 means 500); a
	// larger source is narrowed by search when the provider can search.
	MaxFiles int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Request is one build.
type Request struct {
	Query   string   `json:"query"`
	Budget  int      `json:"budget"`
	Sources []Source `json:"sources"`
	// Session is the history session the manifest is saved under; "" means
	// "default".
	Session string `json:"session,omitempty"`
	// DryRun builds without saving the manifest (benchmarks that build
	// thousands of contexts).
	DryRun bool `json:"dry_run,omitempty"`
	// Rank tunes scoring.
	Rank RankOptions `json:"-"`

	baseline bool
}

// Item is one unit in a built context, as recorded in its manifest.
type Item struct {
	Path    fs.Path `json:"path"`
	Version int64   `json:"version"`
	Start   int     `json:"start"` // byte range of the unit in that version
	End     int     `json:"end"`
	Unit    string  `json:"unit"` // the unit's id: a turn id or L<line>
	Kind    string  `json:"kind"`
	Heading string  `json:"heading,omitempty"`
	Date    string  `json:"date,omitempty"` // the anchor of relative dates, YYYY-MM-DD
	Size    string  `json:"size"`           // full, excerpt, compressed, oneline
	Tokens  int     `json:"tokens"`
	Score   float64 `json:"score"`
	Why     string  `json:"why"`
	Source  string  `json:"source"`
}

// Section is a group of items from one file, under one header line.
type Section struct {
	// Dir is the file's directory, printed as a line of its own ("# DIR/")
	// before the first of a run of sections from it; Header names the file.
	Dir    string `json:"dir"`
	Header string `json:"header"`
	Items  []int  `json:"items"` // indexes into Manifest.Items, in prompt order
}

// Manifest records how a context was built, enough to rebuild its prompt
// byte for byte from the recorded versions.
type Manifest struct {
	ID        string    `json:"id"`
	Session   string    `json:"session"`
	Query     string    `json:"query"`
	Principal string    `json:"principal,omitempty"`
	Budget    int       `json:"budget"`
	Tokens    int       `json:"tokens"`
	Tokenizer string    `json:"tokenizer"`
	Created   time.Time `json:"created"`
	Sources   []Source  `json:"sources"`
	Items     []Item    `json:"items"`
	Sections  []Section `json:"sections"`
	// Candidates is how many units were scored; Skipped lists files that
	// could not be read (access refused or gone).
	Candidates int      `json:"candidates"`
	Skipped    []string `json:"skipped,omitempty"`
	SHA256     string   `json:"sha256"` // of the prompt
}

// Context is a built (or replayed) context.
type Context struct {
	Prompt   string    `json:"prompt"`
	Tokens   int       `json:"tokens"`
	Manifest *Manifest `json:"manifest"`
	// Saved is where the manifest was written ("" for a dry run).
	Saved fs.Path `json:"saved,omitempty"`
}

// Builder builds contexts from the files of an fs.FS.
//
// Concurrency: safe for concurrent use. Parsed files are cached by path
// and version, so repeated builds over the same sources read only what
// changed; every build still lists its sources through fsys with the
// caller's principal, so access control applies to each build.
type Builder struct {
	fsys      fs.FS
	counter   fs.TokenCounter
	tokenizer string
	maxFiles  int
	log       *slog.Logger

	// mu guards cache and corpora.
	mu    sync.Mutex
	cache map[fs.Path]*doc
	// corpora holds the collection statistics of recent source sets,
	// keyed by their files' paths, versions and sources.
	corpora map[string]*corpus
}

// New returns a Builder over fsys.
func New(fsys fs.FS, opts Options) *Builder {
	b := &Builder{fsys: fsys, counter: opts.Counter, tokenizer: opts.Tokenizer, maxFiles: opts.MaxFiles, log: opts.Logger, cache: map[fs.Path]*doc{}, corpora: map[string]*corpus{}}
	if b.counter == nil {
		b.counter, _ = tokens.Default()
		if b.tokenizer == "" {
			b.tokenizer = tokens.Encoding
		}
	}
	if b.tokenizer == "" {
		b.tokenizer = "custom"
	}
	if b.maxFiles <= 0 {
		b.maxFiles = 500
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	return b
}

// Counter returns the token counter budgets are measured with.
func (b *Builder) Counter() fs.TokenCounter { return b.counter }

// ContextsDir is where a session's manifests are saved.
func ContextsDir(session string) fs.Path {
	return fs.MustParse("/history").Child(session).Child("contexts")
}

// load returns the parsed file, from the cache when its version is known.
func (b *Builder) load(ctx context.Context, info *fs.Info) (*doc, error) {
	b.mu.Lock()
	d := b.cache[info.Path]
	b.mu.Unlock()
	if d != nil && info.Version != 0 && d.version == info.Version {
		return d, nil
	}
	f, err := b.fsys.Open(ctx, info.Path)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, 16<<20))
	st := f.Stat()
	f.Close()
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = info
	}
	d = parseDoc(st, data)
	d.measure(b.counter)
	if st.Version != 0 {
		b.mu.Lock()
		b.cache[info.Path] = d
		b.mu.Unlock()
	}
	return d, nil
}

// Build builds a context for req within its budget and, unless it is a
// dry run, saves its manifest under /history/SESSION/contexts/ID.json.
func (b *Builder) Build(ctx context.Context, req Request) (*Context, error) {
	if req.Budget <= 0 {
		return nil, fmt.Errorf("%w: budget must be positive", fs.ErrInvalid)
	}
	if len(req.Sources) == 0 {
		return nil, fmt.Errorf("%w: no sources", fs.ErrInvalid)
	}
	if req.Session == "" {
		req.Session = "default"
	}
	if err := fs.ValidName(req.Session); err != nil {
		return nil, err
	}
	m := &Manifest{
		ID: newID(), Session: req.Session, Query: req.Query, Principal: fs.AuthorFrom(ctx),
		Budget: req.Budget, Tokenizer: b.tokenizer, Created: time.Now().UTC(), Sources: req.Sources,
	}
	var docs []*doc
	var key strings.Builder
	pinned := map[fs.Path]bool{}
	seen := map[fs.Path]bool{}
	for _, src := range req.Sources {
		if err := src.validate(); err != nil {
			return nil, err
		}
		infos, err := src.files(ctx, b.fsys, req.Query, b.maxFiles)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
				m.Skipped = append(m.Skipped, src.String()+": "+err.Error())
				continue
			}
			return nil, err
		}
		for _, info := range infos {
			if seen[info.Path] {
				continue
			}
			seen[info.Path] = true
			d, err := b.load(ctx, info)
			if err != nil {
				if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrIsDir) {
					m.Skipped = append(m.Skipped, string(info.Path))
					continue
				}
				return nil, err
			}
			// A cached doc is shared: tag a shallow copy with the source.
			dd := *d
			dd.source = src.String()
			docs = append(docs, &dd)
			fmt.Fprintf(&key, "%s@%d<%s\n", d.path, d.version, dd.source)
			if src.Pin != "" {
				pinned[d.path] = true
			}
		}
	}
	b.mu.Lock()
	c := b.corpora[key.String()]
	b.mu.Unlock()
	if c == nil {
		c = newCorpus(docs)
		b.mu.Lock()
		if len(b.corpora) >= 64 {
			clear(b.corpora)
		}
		b.corpora[key.String()] = c
		b.mu.Unlock()
	}
	m.Candidates = c.n
	ranked := c.rank(req.Query, req.Rank)
	// Pinned units go first whatever their score.
	var pins []cand
	for _, cd := range c.units {
		if pinned[cd.d.path] {
			cd.score, cd.why = 1e9, []string{"pinned"}
			pins = append(pins, cd)
		}
	}
	if len(pins) > 0 {
		rest := ranked[:0:0]
		for _, cd := range ranked {
			if !pinned[cd.d.path] {
				rest = append(rest, cd)
			}
		}
		ranked = append(pins, rest...)
	}
	var out *Context
	if req.baseline {
		out = b.assembleBaseline(m, ranked, c, req.Budget)
	} else {
		out = b.assemble(m, ranked, req.Budget)
	}
	if !req.DryRun {
		p, err := b.save(ctx, m)
		if err != nil {
			return nil, err
		}
		out.Saved = p
	}
	return out, nil
}

// sharpen is the exponent that turns a normalised score into a value.
var sharpen = 2.0

// header is the first line of a file's section: its path (the citation)
// and the date its relative dates are anchored to.
func header(d *doc) string {
	h := "## " + d.path.Base()
	if !d.date.IsZero() {
		h += " (" + day(d.date) + ")"
	}
	return h
}

// Baseline builds a context the plain way, for comparison in benchmarks:
// bare BM25 over single units, each hit with its previous and next unit,
// all at full size, added in score order until the budget is full. It
// saves no manifest.
func (b *Builder) Baseline(ctx context.Context, req Request) (*Context, error) {
	req.DryRun, req.baseline = true, true
	req.Rank = RankOptions{Plain: true}
	return b.Build(ctx, req)
}

func (b *Builder) assembleBaseline(m *Manifest, ranked []cand, c *corpus, budget int) *Context {
	// Position of each unit in the corpus, to find neighbours.
	at := make(map[*unit]int, len(c.units))
	for i := range c.units {
		at[c.units[i].u] = i
	}
	var all []cand
	in := map[*unit]int{} // unit -> index in all
	opened := map[*doc]bool{}
	used := 0
	full := 0 // index of SizeFull
	for _, h := range ranked {
		j := at[h.u]
		var group []cand
		cost := 0
		newDocs := map[*doc]bool{}
		for _, k := range []int{j - 1, j, j + 1} {
			if k < 0 || k >= len(c.units) || c.units[k].d != h.d {
				continue
			}
			u := c.units[k].u
			if _, ok := in[u]; ok {
				continue
			}
			cd := c.units[k]
			cd.score = h.score
			cd.why = []string{"bm25"}
			if k != j {
				cd.why = []string{"neighbour"}
			}
			group = append(group, cd)
			cost += u.tokens[full]
			if !opened[cd.d] && !newDocs[cd.d] {
				newDocs[cd.d] = true
				cost += b.counter.CountTokens(header(cd.d)+"\n") + 1
				if len(opened) == 0 && len(newDocs) == 1 {
					cost += b.counter.CountTokens(dirLine(cd.d.path) + "\n")
				}
			}
		}
		if len(group) == 0 || used+cost > budget {
			continue
		}
		used += cost
		for d := range newDocs {
			opened[d] = true
		}
		for _, cd := range group {
			in[cd.u] = len(all)
			all = append(all, cd)
		}
	}
	hulls := make([][]int, len(all))
	level := make([]int, len(all))
	chosen := make([]int, len(all))
	for i := range all {
		hulls[i] = []int{full}
		chosen[i] = i
	}
	for {
		out := b.render(m, all, hulls, level, chosen, header)
		if out.Tokens <= budget || len(chosen) == 0 {
			return out
		}
		chosen = chosen[:len(chosen)-1]
	}
}

// step is one move of the budget solver: putting item i in at size k, or
// growing it from its current size to k.
type step struct {
	i, k  int
	gain  float64
	cost  int
	ratio float64
}

type steps []step

func (s steps) Len() int           { return len(s) }
func (s steps) Less(i, j int) bool { return s[i].ratio > s[j].ratio }
func (s steps) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *steps) Push(x any)        { *s = append(*s, x.(step)) }
func (s *steps) Pop() any          { o := *s; x := o[len(o)-1]; *s = o[:len(o)-1]; return x }

// hull returns, for a unit, the sizes on the upper convex hull of (tokens,
// value) starting at (0,0), smallest first: the sizes worth considering,
// each better per token than growing past it.
func hull(u *unit, score float64) []int {
	type pt struct {
		k    int
		cost float64
		val  float64
	}
	var pts []pt
	for k := len(sizes) - 1; k >= 0; k-- {
		pts = append(pts, pt{k, float64(u.tokens[k]), score * fidelity[sizes[k]] * u.kept[k]})
	}
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].cost < pts[b].cost })
	h := []pt{{-1, 0, 0}}
	for _, p := range pts {
		if p.val <= h[len(h)-1].val {
			continue
		}
		if p.cost == h[len(h)-1].cost {
			h[len(h)-1] = p
			continue
		}
		for len(h) >= 2 {
			a, b := h[len(h)-2], h[len(h)-1]
			if (b.val-a.val)*(p.cost-a.cost) <= (p.val-a.val)*(b.cost-a.cost) {
				h = h[:len(h)-1]
				continue
			}
			break
		}
		h = append(h, p)
	}
	ks := make([]int, 0, len(h)-1)
	for _, p := range h[1:] {
		ks = append(ks, p.k)
	}
	return ks
}

// assemble solves the budget, orders sections and renders the prompt,
// trimming until the prompt's measured token count fits.
func (b *Builder) assemble(m *Manifest, ranked []cand, budget int) *Context {
	headerTok := map[*doc]int{}
	hulls := make([][]int, len(ranked))
	level := make([]int, len(ranked)) // index into hulls[i] of the chosen size, -1 none
	// A unit's value is its chance of being what the query needs, which
	// falls much faster than its score: sharpen the normalised score.
	vals := make([]float64, len(ranked))
	top := 0.0
	for _, cd := range ranked {
		if cd.score < 1e9 {
			top = max(top, cd.score)
		}
	}
	for i, cd := range ranked {
		switch {
		case cd.score >= 1e9:
			vals[i] = 1e9
		case top > 0:
			vals[i] = math.Pow(cd.score/top, sharpen)
		}
	}
	var pq steps
	for i := range ranked {
		hulls[i] = hull(ranked[i].u, vals[i])
		level[i] = -1
		if len(hulls[i]) > 0 {
			pq = append(pq, next(ranked, vals, hulls, level, i))
		}
	}
	heap.Init(&pq)
	used := 0
	open := map[*doc]int{} // chosen items per doc
	openDir := map[fs.Path]bool{}
	var chosen []int
	for pq.Len() > 0 {
		s := heap.Pop(&pq).(step)
		cd := ranked[s.i]
		cost := s.cost
		if level[s.i] < 0 {
			if open[cd.d] == 0 {
				if _, ok := headerTok[cd.d]; !ok {
					headerTok[cd.d] = b.counter.CountTokens(header(cd.d)+"\n") + 1
				}
				cost += headerTok[cd.d]
				if !openDir[cd.d.path.Dir()] {
					cost += b.counter.CountTokens(dirLine(cd.d.path) + "\n")
				}
			}
			if copies(ranked, chosen, s.i) >= 2 {
				continue // no three near-copies of one fact
			}
		}
		if used+cost > budget {
			continue
		}
		used += cost
		if level[s.i] < 0 {
			open[cd.d]++
			openDir[cd.d.path.Dir()] = true
			chosen = append(chosen, s.i)
		}
		level[s.i]++
		if level[s.i]+1 < len(hulls[s.i]) {
			heap.Push(&pq, next(ranked, vals, hulls, level, s.i))
		}
	}
	for {
		out := b.render(m, ranked, hulls, level, chosen, header)
		if out.Tokens <= budget || len(chosen) == 0 {
			return out
		}
		// Token counts of parts rarely add up exactly; shed the weakest.
		worst := 0
		for j, i := range chosen {
			if ranked[i].score < ranked[chosen[worst]].score {
				worst = j
			}
		}
		i := chosen[worst]
		if level[i] > 0 {
			level[i]--
		} else {
			level[i] = -1
			chosen = append(chosen[:worst], chosen[worst+1:]...)
		}
	}
}

func next(ranked []cand, vals []float64, hulls [][]int, level []int, i int) step {
	u := ranked[i].u
	to := hulls[i][level[i]+1]
	gain := vals[i] * fidelity[sizes[to]] * u.kept[to]
	cost := u.tokens[to]
	if level[i] >= 0 {
		from := hulls[i][level[i]]
		gain -= vals[i] * fidelity[sizes[from]] * u.kept[from]
		cost -= u.tokens[from]
	}
	r := gain / float64(max(cost, 1))
	return step{i: i, k: to, gain: gain, cost: cost, ratio: r}
}

func copies(ranked []cand, chosen []int, i int) int {
	n := 0
	for _, j := range chosen {
		if nearCopy(ranked[i].u, ranked[j].u) {
			n++
		}
	}
	return n
}

// render lays out the chosen items: one section per file, sections in the
// order best, third, fifth ... sixth, fourth, second, so the strongest
// material sits at the start and the end; items in file order.
func (b *Builder) render(m *Manifest, ranked []cand, hulls [][]int, level []int, chosen []int, header func(*doc) string) *Context {
	type sec struct {
		d     *doc
		best  float64
		items []int
	}
	byDoc := map[*doc]*sec{}
	var secs []*sec
	for _, i := range chosen {
		d := ranked[i].d
		s := byDoc[d]
		if s == nil {
			s = &sec{d: d}
			byDoc[d] = s
			secs = append(secs, s)
		}
		s.items = append(s.items, i)
		s.best = max(s.best, ranked[i].score)
	}
	// Group by directory, so each directory's line is printed once;
	// directories, and files within each, go best first, second best last.
	type group struct {
		dir  fs.Path
		best float64
		secs []*sec
	}
	byDir := map[fs.Path]*group{}
	var groups []*group
	for _, s := range secs {
		dir := s.d.path.Dir()
		g := byDir[dir]
		if g == nil {
			g = &group{dir: dir}
			byDir[dir] = g
			groups = append(groups, g)
		}
		g.secs = append(g.secs, s)
		g.best = max(g.best, s.best)
	}
	var ordered []*sec
	for _, g := range outsideIn(groups, func(g *group) float64 { return g.best }) {
		ordered = append(ordered, outsideIn(g.secs, func(s *sec) float64 { return s.best })...)
	}
	m.Items = m.Items[:0]
	m.Sections = m.Sections[:0]
	for _, s := range ordered {
		sort.Slice(s.items, func(a, c int) bool { return ranked[s.items[a]].u.pos < ranked[s.items[c]].u.pos })
		section := Section{Dir: dirLine(s.d.path), Header: header(s.d)}
		for _, i := range s.items {
			cd := ranked[i]
			k := hulls[i][level[i]]
			it := Item{
				Path: cd.d.path, Version: cd.d.version, Start: cd.u.start, End: cd.u.end, Unit: cd.u.id,
				Kind: cd.u.kind, Heading: cd.u.heading, Size: sizes[k], Tokens: cd.u.tokens[k],
				Score: round(cd.score), Why: strings.Join(cd.why, ","), Source: cd.d.source,
			}
			if !cd.d.date.IsZero() {
				it.Date = cd.d.date.Format("2006-01-02")
			}
			section.Items = append(section.Items, len(m.Items))
			m.Items = append(m.Items, it)
		}
		m.Sections = append(m.Sections, section)
	}
	lines := make([]string, len(m.Items))
	idx := 0
	for _, s := range ordered {
		for _, i := range s.items {
			lines[idx] = ranked[i].u.lines[hulls[i][level[i]]]
			idx++
		}
	}
	prompt := compose(m.Sections, lines)
	m.Tokens = b.counter.CountTokens(prompt)
	sum := sha256.Sum256([]byte(prompt))
	m.SHA256 = hex.EncodeToString(sum[:])
	return &Context{Prompt: prompt, Tokens: m.Tokens, Manifest: m}
}

// dirLine is the line that names a directory of sections.
func dirLine(p fs.Path) string {
	d := p.Dir()
	if d.IsRoot() {
		return "# /"
	}
	return "# " + string(d) + "/"
}

// outsideIn orders xs by decreasing key as best, third, fifth, ...,
// fourth, second: the strongest at the start and the end.
func outsideIn[T any](xs []T, key func(T) float64) []T {
	sort.SliceStable(xs, func(a, c int) bool { return key(xs[a]) > key(xs[c]) })
	out := make([]T, len(xs))
	lo, hi := 0, len(xs)-1
	for j, x := range xs {
		if j%2 == 0 {
			out[lo] = x
			lo++
		} else {
			out[hi] = x
			hi--
		}
	}
	return out
}

// compose joins sections: a header line, the item lines, a blank line
// between sections.
func compose(secs []Section, lines []string) string {
	var sb strings.Builder
	dir := ""
	for j, s := range secs {
		if j > 0 {
			sb.WriteByte('\n')
		}
		if s.Dir != dir {
			sb.WriteString(s.Dir)
			sb.WriteByte('\n')
			dir = s.Dir
		}
		sb.WriteString(s.Header)
		sb.WriteByte('\n')
		for _, i := range s.Items {
			sb.WriteString(lines[i])
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func round(x float64) float64 {
	return float64(int64(x*1e4+0.5)) / 1e4
}

func newID() string {
	var r [4]byte
	rand.Read(r[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(r[:])
}

func (b *Builder) save(ctx context.Context, m *Manifest) (fs.Path, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	p := ContextsDir(m.Session).Child(m.ID + ".json")
	if _, err := b.fsys.Write(ctx, p, bytes.NewReader(data), fs.WriteOptions{Create: true, Meta: map[string]string{"kind": "context-manifest"}}); err != nil {
		return "", err
	}
	return p, nil
}

// Load reads the manifest id. With session "" it looks in every session.
func Load(ctx context.Context, fsys fs.FS, session, id string) (*Manifest, fs.Path, error) {
	if err := fs.ValidName(id + ".json"); err != nil {
		return nil, "", err
	}
	var sessions []string
	if session != "" {
		sessions = []string{session}
	} else {
		entries, err := fsys.List(ctx, fs.MustParse("/history"))
		if err != nil {
			return nil, "", err
		}
		for _, e := range entries {
			if e.IsDir() {
				sessions = append(sessions, e.Path.Base())
			}
		}
	}
	for _, s := range sessions {
		p := ContextsDir(s).Child(id + ".json")
		data, err := readAll(ctx, fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		var m Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, "", fmt.Errorf("%w: manifest %s: %v", fs.ErrInvalid, p, err)
		}
		return &m, p, nil
	}
	return nil, "", &fs.PathError{Op: "replay", Path: id, Err: fmt.Errorf("%w: no context manifest with this id", fs.ErrNotExist)}
}

func readAll(ctx context.Context, fsys fs.FS, p fs.Path) ([]byte, error) {
	f, err := fsys.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ErrChanged reports that a replay could not reproduce the recorded prompt.
var ErrChanged = errors.New("replayed prompt differs from the recorded one")

// Replay rebuilds the prompt of manifest id (in any session) from the
// versions it recorded, so it is identical even after the files changed.
// It fails with fs.ErrNotExist if a recorded version was pruned, and
// returns ErrChanged (with the context) if the result's hash differs.
func (b *Builder) Replay(ctx context.Context, id string) (*Context, error) {
	m, _, err := Load(ctx, b.fsys, "", id)
	if err != nil {
		return nil, err
	}
	return b.ReplayManifest(ctx, m)
}

// ReplayManifest rebuilds the prompt recorded by m.
func (b *Builder) ReplayManifest(ctx context.Context, m *Manifest) (*Context, error) {
	lines, err := ReadItems(ctx, b.fsys, m.Items)
	if err != nil {
		return nil, err
	}
	prompt := compose(m.Sections, lines)
	out := &Context{Prompt: prompt, Tokens: b.counter.CountTokens(prompt), Manifest: m}
	sum := sha256.Sum256([]byte(prompt))
	if hex.EncodeToString(sum[:]) != m.SHA256 {
		return out, ErrChanged
	}
	return out, nil
}

// ReadItems renders each item from its recorded version and byte range.
func ReadItems(ctx context.Context, fsys fs.FS, items []Item) ([]string, error) {
	ver, ok := fsys.(fs.Versioner)
	type key struct {
		p fs.Path
		v int64
	}
	files := map[key][]byte{}
	lines := make([]string, len(items))
	for i, it := range items {
		k := key{it.Path, it.Version}
		data, seen := files[k]
		if !seen {
			var f fs.File
			var err error
			if ok && it.Version > 0 {
				f, err = ver.OpenVersion(ctx, it.Path, it.Version)
			} else {
				f, err = fsys.Open(ctx, it.Path)
			}
			if err != nil {
				return nil, err
			}
			data, err = io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, err
			}
			files[k] = data
		}
		line, err := it.render(data)
		if err != nil {
			return nil, err
		}
		lines[i] = line
	}
	return lines, nil
}

// render renders the item from its file's content.
func (it Item) render(data []byte) (string, error) {
	if it.Start < 0 || it.End > len(data) || it.Start > it.End {
		return "", &fs.PathError{Op: "replay", Path: string(it.Path), Err: fmt.Errorf("%w: byte range %d-%d outside version %d", fs.ErrInvalid, it.Start, it.End, it.Version)}
	}
	u := parseUnit(it.Kind, data[it.Start:it.End], 0, it.Heading)
	if it.Kind == KindJSONTurn {
		u.kind = KindJSONTurn
	}
	if u.kind != KindTurn && u.kind != KindJSONTurn || u.id == "L0" {
		u.id = it.Unit
	}
	var at time.Time
	if it.Date != "" {
		at, _ = time.Parse("2006-01-02", it.Date)
	}
	return u.render(it.Size, at), nil
}
