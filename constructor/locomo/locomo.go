// Package locomo runs the LoCoMo evidence-recall benchmark of the context
// constructor: each conversation is written into a fresh store as history
// files, and for every question of categories 1-4 a context is built from
// that conversation with the question as the query; a question's recall is
// the share of its evidence turns the context contains. A BM25 baseline
// (single turns, each hit with its previous and next turn, full text, in
// score order until the budget is full) is measured in the same run.
//
// Only the turns, their speakers, their images' captions, the session
// dates and the question text are inputs. The file's observation,
// session_summary and event_summary fields, the answers and the evidence
// are never written to the store: evidence is used for scoring only.
package locomo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctxfs/ctxfs/constructor"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
	"golang.org/x/sys/unix"
)

// Turn is one turn of a conversation, as the file has it.
type Turn struct {
	Speaker string `json:"speaker"`
	DiaID   string `json:"dia_id"`
	Text    string `json:"text"`
	Caption string `json:"blip_caption"`
}

// Session is one dated session of a conversation.
type Session struct {
	N     int
	Date  string
	Turns []Turn
}

// QA is one question. Answer and Evidence are for scoring only.
type QA struct {
	Question string          `json:"question"`
	Answer   json.RawMessage `json:"answer"`
	Evidence []string        `json:"evidence"`
	Category int             `json:"category"`
}

// Conversation is one sample of the file.
type Conversation struct {
	SampleID string
	Speakers [2]string
	Sessions []Session
	QA       []QA
}

// Load reads a LoCoMo file. It keeps only the fields the benchmark may
// read (and the evidence, for scoring).
func Load(path string) ([]Conversation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw []struct {
		SampleID     string                     `json:"sample_id"`
		QA           []QA                       `json:"qa"`
		Conversation map[string]json.RawMessage `json:"conversation"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: LoCoMo file %s: %v", fs.ErrInvalid, path, err)
	}
	var out []Conversation
	for _, r := range raw {
		c := Conversation{SampleID: r.SampleID, QA: r.QA}
		json.Unmarshal(r.Conversation["speaker_a"], &c.Speakers[0])
		json.Unmarshal(r.Conversation["speaker_b"], &c.Speakers[1])
		for k, v := range r.Conversation {
			rest, ok := strings.CutPrefix(k, "session_")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(rest)
			if err != nil {
				continue // session_N_date_time
			}
			s := Session{N: n}
			if err := json.Unmarshal(v, &s.Turns); err != nil {
				return nil, fmt.Errorf("%w: %s %s: %v", fs.ErrInvalid, r.SampleID, k, err)
			}
			json.Unmarshal(r.Conversation[k+"_date_time"], &s.Date)
			c.Sessions = append(c.Sessions, s)
		}
		sort.Slice(c.Sessions, func(i, j int) bool { return c.Sessions[i].N < c.Sessions[j].N })
		if c.SampleID == "" {
			c.SampleID = "conv-" + strconv.Itoa(len(out)+1)
		}
		out = append(out, c)
	}
	return out, nil
}

// SessionName is the history session a conversation is written to.
func SessionName(sampleID string) string {
	var b strings.Builder
	for _, r := range "locomo-" + sampleID {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Ingest writes a conversation into fsys as one history file per session,
// /history/locomo-ID/sNN.md: a heading with the session's date, then one
// constructor.FormatTurn line per turn.
func Ingest(ctx context.Context, fsys fs.FS, c Conversation) error {
	dir := fs.MustParse("/history").Child(SessionName(c.SampleID))
	for _, s := range c.Sessions {
		var b bytes.Buffer
		fmt.Fprintf(&b, "# Session %d (%s)\n\n", s.N, s.Date)
		for _, t := range s.Turns {
			b.WriteString(constructor.FormatTurn(t.DiaID, t.Speaker, t.Text, t.Caption))
			b.WriteByte('\n')
		}
		p := dir.Child(fmt.Sprintf("s%02d.md", s.N))
		if _, err := fsys.Write(ctx, p, &b, fs.WriteOptions{}); err != nil {
			return err
		}
	}
	return nil
}

var reEvidence = regexp.MustCompile(`D\s*:?\s*(\d+)\s*:\s*(\d+)`)

// NormalizeEvidence splits and normalises evidence ids ("D8:6; D9:17" is
// two ids, "D30:05" is D30:5, "D:11:26" is D11:26). Pieces with no
// session and turn number are returned in bad.
func NormalizeEvidence(ev []string) (ids, bad []string) {
	for _, e := range ev {
		for _, part := range strings.FieldsFunc(e, func(r rune) bool { return r == ';' || r == ',' }) {
			part = strings.TrimSpace(part)
			ms := reEvidence.FindAllStringSubmatch(part, -1)
			if ms == nil {
				bad = append(bad, part)
				continue
			}
			for _, m := range ms {
				s, _ := strconv.Atoi(m[1])
				t, _ := strconv.Atoi(m[2])
				ids = append(ids, fmt.Sprintf("D%d:%d", s, t))
			}
		}
	}
	return ids, bad
}

// Options configure Run.
type Options struct {
	Budgets []int // default 512, 1024, 2048, 4096
	Detail  bool  // keep each question's context
	// Dir is the scratch directory of the store; "" makes a temporary one.
	Dir      string
	Counter  fs.TokenCounter
	Progress func(string)
}

// Row is one method at one budget.
type Row struct {
	Method     string  `json:"method"`
	Budget     int     `json:"budget"`
	Recall     float64 `json:"recall"`
	TokensMean float64 `json:"tokens_mean"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	// CPUp50ms and CPUp99ms are the build's CPU time on its thread: the
	// wall times above include waiting for a CPU on a loaded machine.
	CPUp50ms   float64            `json:"cpu_p50_ms"`
	CPUp99ms   float64            `json:"cpu_p99_ms"`
	ByCategory map[string]float64 `json:"by_category"`
	Questions  int                `json:"questions"`
	MaxTokens  int                `json:"max_tokens"`
}

// Question is one built context, with --detail.
type Question struct {
	SampleID string   `json:"sample_id"`
	QAIndex  int      `json:"qa_index"`
	Category int      `json:"category"`
	Method   string   `json:"method"`
	Budget   int      `json:"budget"`
	Evidence []string `json:"evidence"`
	Found    []string `json:"found"`
	Tokens   int      `json:"tokens"`
	Context  string   `json:"context"`
}

// Report is the benchmark's result.
type Report struct {
	Results       []Row      `json:"results"`
	Conversations int        `json:"conversations"`
	Turns         int        `json:"turns"`
	Scored        int        `json:"questions_scored"`
	NoEvidence    int        `json:"questions_without_matchable_evidence"`
	Unmatched     []string   `json:"unmatched_evidence"`
	Tokenizer     string     `json:"tokenizer"`
	Mode          string     `json:"mode"`
	Questions     []Question `json:"questions,omitempty"`
}

// Methods, in report order.
const (
	MethodCtxfs    = "ctxfs"
	MethodBaseline = "bm25-baseline"
)

type acc struct {
	sum, tokens float64
	n           int
	maxTok      int
	ms, cpu     []float64
	cat         map[int][2]float64
}

// Run runs the benchmark over conversations.
func Run(ctx context.Context, convs []Conversation, o Options) (*Report, error) {
	if len(o.Budgets) == 0 {
		o.Budgets = []int{512, 1024, 2048, 4096}
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "ctxfs-locomo")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{NoSync: true, Populate: true, Counter: o.Counter})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ctx = fs.WithPrincipal(ctx, fs.System)
	// One thread, so its CPU clock measures the builds.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b := constructor.New(st, constructor.Options{Counter: o.Counter})
	rep := &Report{Conversations: len(convs), Tokenizer: "cl100k_base",
		Mode: "store in a temporary bbolt file (NoSync, MAP_POPULATE); parsed files cached by version; builds are dry runs (no manifest write); one query at a time on one locked thread; cpu_* columns are that thread's CPU time"}
	if o.Counter != nil {
		rep.Tokenizer = "custom"
	}
	accs := map[string]*acc{}
	key := func(m string, budget int) string { return m + "@" + strconv.Itoa(budget) }
	for _, m := range []string{MethodCtxfs, MethodBaseline} {
		for _, bud := range o.Budgets {
			accs[key(m, bud)] = &acc{cat: map[int][2]float64{}}
		}
	}
	for ci, c := range convs {
		if err := Ingest(ctx, st, c); err != nil {
			return nil, err
		}
		turns := map[string]bool{}
		for _, s := range c.Sessions {
			for _, t := range s.Turns {
				turns[t.DiaID] = true
			}
		}
		rep.Turns += len(turns)
		src := []constructor.Source{{Session: SessionName(c.SampleID)}}
		// Warm the cache: the first build parses and measures the files.
		if _, err := b.Build(ctx, constructor.Request{Query: "warm up", Budget: 64, Sources: src, DryRun: true}); err != nil {
			return nil, err
		}
		for qi, qa := range c.QA {
			if qa.Category < 1 || qa.Category > 4 {
				continue
			}
			ids, bad := NormalizeEvidence(qa.Evidence)
			rep.Unmatched = append(rep.Unmatched, bad...)
			var ev []string
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					continue
				}
				seen[id] = true
				if turns[id] {
					ev = append(ev, id)
				} else {
					rep.Unmatched = append(rep.Unmatched, c.SampleID+":"+id)
				}
			}
			if len(ev) == 0 {
				rep.NoEvidence++
				continue
			}
			rep.Scored++
			for _, bud := range o.Budgets {
				for _, m := range []string{MethodCtxfs, MethodBaseline} {
					req := constructor.Request{Query: qa.Question, Budget: bud, Sources: src, DryRun: true}
					cpu0 := threadCPU()
					start := time.Now()
					var out *constructor.Context
					var err error
					if m == MethodCtxfs {
						out, err = b.Build(ctx, req)
					} else {
						out, err = b.Baseline(ctx, req)
					}
					el := time.Since(start)
					cpuEl := threadCPU() - cpu0
					if err != nil {
						return nil, fmt.Errorf("%s q%d: %w", c.SampleID, qi, err)
					}
					if out.Tokens > bud {
						return nil, fmt.Errorf("%s q%d: %s context of %d tokens over budget %d", c.SampleID, qi, m, out.Tokens, bud)
					}
					found := Contained(out.Manifest, ev)
					r := float64(len(found)) / float64(len(ev))
					a := accs[key(m, bud)]
					a.sum += r
					a.n++
					a.tokens += float64(out.Tokens)
					a.maxTok = max(a.maxTok, out.Tokens)
					a.ms = append(a.ms, float64(el.Microseconds())/1000)
					a.cpu = append(a.cpu, float64(cpuEl.Microseconds())/1000)
					cc := a.cat[qa.Category]
					a.cat[qa.Category] = [2]float64{cc[0] + r, cc[1] + 1}
					if o.Detail {
						rep.Questions = append(rep.Questions, Question{SampleID: c.SampleID, QAIndex: qi, Category: qa.Category,
							Method: m, Budget: bud, Evidence: ev, Found: found, Tokens: out.Tokens, Context: out.Prompt})
					}
				}
			}
		}
		if o.Progress != nil {
			o.Progress(fmt.Sprintf("conversation %d/%d (%s) done", ci+1, len(convs), c.SampleID))
		}
	}
	for _, m := range []string{MethodCtxfs, MethodBaseline} {
		for _, bud := range o.Budgets {
			a := accs[key(m, bud)]
			row := Row{Method: m, Budget: bud, ByCategory: map[string]float64{}, Questions: a.n, MaxTokens: a.maxTok}
			if a.n > 0 {
				row.Recall = round(a.sum / float64(a.n))
				row.TokensMean = round(a.tokens / float64(a.n))
				sort.Float64s(a.ms)
				row.P50ms = round(pct(a.ms, 0.50))
				row.P99ms = round(pct(a.ms, 0.99))
				sort.Float64s(a.cpu)
				row.CPUp50ms = round(pct(a.cpu, 0.50))
				row.CPUp99ms = round(pct(a.cpu, 0.99))
			}
			for k, v := range a.cat {
				row.ByCategory[strconv.Itoa(k)] = round(v[0] / v[1])
			}
			rep.Results = append(rep.Results, row)
		}
	}
	return rep, nil
}

// Contained returns the evidence turns the context contains: items that
// render the turn in full or compressed (every content word kept).
func Contained(m *constructor.Manifest, ev []string) []string {
	in := map[string]bool{}
	for _, it := range m.Items {
		if (it.Kind == constructor.KindTurn || it.Kind == constructor.KindJSONTurn) && (it.Size == constructor.SizeFull || it.Size == constructor.SizeCompressed) {
			in[it.Unit] = true
		}
	}
	out := []string{}
	for _, id := range ev {
		if in[id] {
			out = append(out, id)
		}
	}
	return out
}

// threadCPU is the CPU time (user + system) of the calling thread.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(p*float64(len(xs)-1) + 0.5)
	return xs[i]
}

func round(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
