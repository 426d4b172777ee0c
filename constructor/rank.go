package constructor

import (
	"math"
	"math/bits"
	"sort"
	"strings"
)

// cand is a scored unit.
type cand struct {
	d     *doc
	u     *unit
	score float64
	why   []string
}

// RankOptions tune scoring. The zero value gives the defaults, which are
// generic retrieval settings (standard BM25 parameters, one round of
// pseudo-relevance feedback), not fitted to any benchmark.
type RankOptions struct {
	// NoExpansion turns off query expansion from the top hits' vocabulary.
	NoExpansion bool
	// NoNeighbours turns off the credit a unit gets from a matching neighbour.
	NoNeighbours bool
	// NoSpeakers turns off speaker awareness.
	NoSpeakers bool
	// Plain is bare BM25: no expansion, neighbours, speaker, cue or time
	// scoring (the baseline).
	Plain bool
}

const (
	bm25K1 = 1.2
	bm25B  = 0.75
	// prfDocs and prfTerms: how many top units feed expansion, and how
	// many of their terms are added, each at prfWeight of a query term.
	prfDocs   = 8
	prfTerms  = 12
	prfWeight = 0.3
	// neighbourShare is the share of a neighbour's score a unit gets: the
	// question before an answer and the reply after a statement carry its
	// meaning.
	neighbourShare = 0.45
	// answerShare is the share of a question's score its answer gets (and
	// of a short reply's score the statement it answers gets).
	answerShare = 0.8
	shortReply  = 5
	// minStem and stemShare: vocabulary words sharing a prefix of at least
	// minStem letters with a query term join the query at stemShare.
	minStem   = 5
	stemShare = 0.6
	// assocTerms and assocWeight: each question word brings its
	// assocTerms closest companions at up to assocWeight.
	importance      = 0.3
	importanceWords = 20
	assocTerms      = 4
	assocWeight     = 0.3
)

// corpus is the units of one build with their collection statistics.
type corpus struct {
	docs   []*doc
	units  []cand
	df     map[string]int
	n      int
	avgLen float64
	// speakers maps a speaker's lower-cased name to its canonical form.
	speakers     map[string]string
	speakerTerms map[string]bool
	offsets      []int // index in units of each doc's first unit
}

func newCorpus(docs []*doc) *corpus {
	c := &corpus{docs: docs, df: map[string]int{}, speakers: map[string]string{}}
	total := 0
	for _, d := range docs {
		c.offsets = append(c.offsets, len(c.units))
		for t, n := range d.df {
			c.df[t] += n
		}
		total += d.length
		for i := range d.units {
			u := &d.units[i]
			c.units = append(c.units, cand{d: d, u: u})
			if u.speaker != "" {
				c.speakers[strings.ToLower(u.speaker)] = u.speaker
			}
		}
	}
	c.speakerTerms = map[string]bool{}
	for l := range c.speakers {
		c.speakerTerms[term(l)] = true
	}
	c.n = len(c.units)
	if c.n > 0 {
		c.avgLen = float64(total) / float64(c.n)
	}
	return c
}

func (c *corpus) idf(t string) float64 {
	df := float64(c.df[t])
	return math.Log(1 + (float64(c.n)-df+0.5)/(df+0.5))
}

// query is a parsed query: weighted terms and cues.
type query struct {
	weights  map[string]float64
	speakers map[string]bool // speakers the question names
	temporal bool            // the question asks when
	cues     []string        // capitalised words and numbers of the question (names, places, dates)
}

func (c *corpus) parseQuery(q string, o RankOptions) *query {
	pq := &query{weights: map[string]float64{}, speakers: map[string]bool{}}
	lower := strings.ToLower(q)
	pq.temporal = strings.HasPrefix(lower, "when") || strings.Contains(lower, "what date") ||
		strings.Contains(lower, "what year") || strings.Contains(lower, "what month") || strings.Contains(lower, "how long")
	ws := words(q)
	for i, w := range ws {
		n := norm(w.text)
		if i > 0 && norm(ws[i-1].text) == "how" {
			continue // "how long", "how many", "how often": the question's shape
		}
		base := strings.TrimSuffix(n, "'s")
		if sp, ok := c.speakers[base]; ok && !o.NoSpeakers {
			pq.speakers[sp] = true
			continue
		}
		if isStop(n) || questionWords[n] {
			continue
		}
		t := term(n)
		pq.weights[t] = 1
		if (i > 0 && capitalised(w.text)) || strings.IndexFunc(w.text, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 {
			pq.cues = append(pq.cues, t)
		}
	}
	// Words of the conversation that share a long stem with a query word
	// ("mentorship", "mentored") count for part of it.
	var add []string
	for t := range pq.weights {
		if len(t) < minStem {
			continue
		}
		for v := range c.df {
			if v != t && len(v) >= minStem && (strings.HasPrefix(v, t) || strings.HasPrefix(t, v)) {
				add = append(add, v)
			}
		}
	}
	for _, v := range add {
		if _, ok := pq.weights[v]; !ok {
			pq.weights[v] = stemShare
		}
	}
	if len(pq.weights) == 0 {
		// A question about a speaker and nothing else: search the names.
		for sp := range pq.speakers {
			pq.weights[term(strings.ToLower(sp))] = 1
		}
	}
	return pq
}

// bm25 scores every unit against the weighted terms.
func (c *corpus) bm25(w map[string]float64) []float64 {
	scores := make([]float64, len(c.units))
	for t, wt := range w {
		idf := c.idf(t)
		for di, d := range c.docs {
			base := c.offsets[di]
			for _, ui := range d.post[t] {
				u := &d.units[ui]
				tf := float64(u.tf[t])
				norm := bm25K1 * (1 - bm25B + bm25B*float64(len(u.terms))/c.avgLen)
				scores[base+int(ui)] += wt * idf * tf * (bm25K1 + 1) / (tf + norm)
			}
		}
	}
	return scores
}

// rank scores every unit for q and returns the candidates with a positive
// score, best first.
func (c *corpus) rank(q string, o RankOptions) []cand {
	if o.Plain {
		o.NoExpansion, o.NoNeighbours, o.NoSpeakers = true, true, true
	}
	pq := c.parseQuery(q, o)
	if o.Plain {
		pq.cues, pq.temporal = nil, false
	}
	scores := c.bm25(pq.weights)
	expanded := false
	if !o.NoExpansion {
		if c.associate(pq) {
			scores = c.bm25(pq.weights)
			expanded = true
		}
		if c.expand(pq, scores) {
			scores = c.bm25(pq.weights)
			expanded = true
		}
	}
	out := make([]cand, len(c.units))
	copy(out, c.units)
	for i := range out {
		s := scores[i]
		if s <= 0 {
			continue
		}
		out[i].why = append(out[i].why, "bm25")
		if expanded {
			out[i].why[0] = "bm25+expansion"
		}
		u := out[i].u
		if len(pq.speakers) == 1 && pq.speakers[u.speaker] {
			// The fact asked about is usually said by the person asked about.
			s *= 1.2
			out[i].why = append(out[i].why, "speaker")
		}
		// Importance: a unit that says more (more distinct content words,
		// names, numbers) is likelier to hold a fact than small talk;
		// this offsets BM25's length normalisation a little.
		s *= 1 + importance*math.Min(1, float64(len(u.tf))/importanceWords)
		cueHits := 0
		for _, cue := range pq.cues {
			if u.tf[cue] > 0 {
				cueHits++
			}
		}
		if cueHits > 0 {
			s *= 1 + 0.1*float64(cueHits)
			out[i].why = append(out[i].why, "cue")
		}
		if pq.temporal && u.timed {
			s *= 1.15
			out[i].why = append(out[i].why, "time")
		}
		out[i].score = s
	}
	if !o.NoNeighbours {
		base := make([]float64, len(out))
		for i := range out {
			base[i] = out[i].score
		}
		for i := range out {
			best := 0.0
			for _, j := range []int{i - 1, i + 1} {
				if j < 0 || j >= len(out) || out[j].d != out[i].d || !isTurn(out[i].u) || !isTurn(out[j].u) {
					continue // documents carry their heading in each line instead
				}
				share := neighbourShare
				if j == i-1 && strings.Contains(out[j].u.text, "?") || j == i+1 && len(out[j].u.tf) < shortReply {
					// The answer to a question that matched, or the
					// statement a short reply refers to.
					share = answerShare
				}
				best = math.Max(best, share*base[j])
			}
			if nb := best; nb > out[i].score {
				if out[i].score == 0 {
					out[i].why = []string{"neighbour"}
				} else {
					out[i].why = append(out[i].why, "neighbour")
				}
				out[i].score = nb
			}
		}
	}
	kept := out[:0]
	for _, c := range out {
		if c.score > 0 {
			kept = append(kept, c)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].score > kept[j].score })
	return kept
}

// expand adds the most telling terms of the top hits to the query
// (pseudo-relevance feedback): the conversation's own words for what the
// question asks about. It reports whether any term was added.
func (c *corpus) expand(pq *query, scores []float64) bool {
	idx := make([]int, 0, len(scores))
	for i, s := range scores {
		if s > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return false
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	if len(idx) > prfDocs {
		idx = idx[:prfDocs]
	}
	top := scores[idx[0]]
	w := map[string]float64{}
	for _, i := range idx {
		u := c.units[i].u
		rel := scores[i] / top
		for t, tf := range u.tf {
			if _, ok := pq.weights[t]; ok {
				continue
			}
			if c.df[t] < 2 {
				continue // a word said once cannot find anything new
			}
			if c.speakerTerms[t] {
				continue // names of who speaks are everywhere; they find nothing
			}
			if c.df[t]*20 > c.n {
				continue // a word in one unit of twenty is small talk, not a topic
			}
			w[t] += rel * float64(tf) / float64(len(u.terms)) * c.idf(t)
		}
	}
	type tw struct {
		t string
		w float64
	}
	var ts []tw
	for t, x := range w {
		ts = append(ts, tw{t, x})
	}
	sort.Slice(ts, func(a, b int) bool { return ts[a].w > ts[b].w || ts[a].w == ts[b].w && ts[a].t < ts[b].t })
	if len(ts) > prfTerms {
		ts = ts[:prfTerms]
	}
	if len(ts) == 0 {
		return false
	}
	maxW := ts[0].w
	for _, x := range ts {
		pq.weights[x.t] = prfWeight * x.w / maxW
	}
	return true
}

func hasDate(s string) bool {
	_, ok := parseDate(s)
	return ok
}

// nearCopy reports whether two units say nearly the same thing (Jaccard
// similarity of their terms at least 0.8).
func nearCopy(a, b *unit) bool {
	if len(a.tf) == 0 || len(b.tf) == 0 {
		return false
	}
	inter, union := 0, 0
	for i := range a.sig {
		inter += bits.OnesCount64(a.sig[i] & b.sig[i])
		union += bits.OnesCount64(a.sig[i] | b.sig[i])
	}
	return float64(inter)/float64(union) >= 0.8
}

func isTurn(u *unit) bool { return u.kind == KindTurn || u.kind == KindJSONTurn }

// associate adds, for each query term, the words of the conversation that
// keep company with it: those found most often in the same or an adjacent
// unit, relative to how common both are (a cosine of co-occurrence). It is
// a thesaurus built from the sources themselves ("basketball" brings
// "NBA" and "court" when they were said together).
func (c *corpus) associate(pq *query) bool {
	type tw struct {
		t string
		w float64
	}
	var add []tw
	for q, qw := range pq.weights {
		if qw < 1 {
			continue // only the question's own words
		}
		dfq := c.df[q]
		if dfq == 0 || dfq*20 > c.n {
			continue
		}
		co := map[string]int{}
		seen := map[int]bool{}
		for di, d := range c.docs {
			base := c.offsets[di]
			for _, ui := range d.post[q] {
				for k := int(ui) - 1; k <= int(ui)+1; k++ {
					if k < 0 || k >= len(d.units) || seen[base+k] {
						continue
					}
					seen[base+k] = true
					for t := range d.units[k].tf {
						co[t]++
					}
				}
			}
		}
		var best []tw
		for t, n := range co {
			if _, ok := pq.weights[t]; ok || n < 2 || c.speakerTerms[t] || c.df[t]*20 > c.n {
				continue
			}
			best = append(best, tw{t, float64(n) / math.Sqrt(float64(dfq)*float64(c.df[t]))})
		}
		sort.Slice(best, func(a, b int) bool { return best[a].w > best[b].w || best[a].w == best[b].w && best[a].t < best[b].t })
		if len(best) > assocTerms {
			best = best[:assocTerms]
		}
		for _, b := range best {
			add = append(add, tw{b.t, assocWeight * math.Min(1, b.w)})
		}
	}
	for _, a := range add {
		pq.weights[a.t] = math.Max(pq.weights[a.t], a.w)
	}
	return len(add) > 0
}
