// Package epbench measures episodic workspaces on EpBench (Huet et al.,
// "Episodic Memories Generation and Evaluation Benchmark for Large
// Language Models"): a synthetic book of chapters and questions about its
// events. The book is observed into a workspace one chapter at a time;
// each question's text (and nothing else of it) is given to the
// workspace query at several token budgets, and the context is scored by
// the share of the question's answer chapters it cites and the share of
// its answers it contains. A BM25 paragraph-retrieval baseline is
// measured on the same questions at the same budgets and at twice them.
package epbench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/workspace"
)

// Question is one EpBench question. Only Question is ever given to the
// query; the other fields score the answer.
type Question struct {
	Question       string   `json:"question"`
	Answers        []string `json:"correct_answer"`
	AnswerChapters []int    `json:"correct_answer_chapters"`
}

// Book maps "Chapter N" to its text.
type Book map[string]string

// ReadBook reads a book file.
func ReadBook(file string) (Book, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var b Book
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", file, fs.ErrInvalid, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: %w: no chapters", file, fs.ErrInvalid)
	}
	return b, nil
}

// ReadQuestions reads a questions file (a JSON array).
func ReadQuestions(file string) ([]Question, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var qs []Question
	if err := json.Unmarshal(data, &qs); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", file, fs.ErrInvalid, err)
	}
	return qs, nil
}

// Chapters returns the chapter labels in reading order.
func (b Book) Chapters() []string {
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ni, nj := ChapterNumber(keys[i]), ChapterNumber(keys[j])
		if ni != nj {
			return ni < nj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// ChapterNumber is N of "Chapter N", or -1.
func ChapterNumber(label string) int {
	f := strings.Fields(label)
	if len(f) == 0 {
		return -1
	}
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		return -1
	}
	return n
}

// Ingest observes the book into w, one observation per chapter, in order.
func Ingest(ctx context.Context, w *workspace.Workspace, b Book, progress func(done, total int)) error {
	chs := b.Chapters()
	for i, ch := range chs {
		if _, err := w.Observe(ctx, workspace.Observation{Text: b[ch], Source: ch}); err != nil {
			return fmt.Errorf("%s: %w", ch, err)
		}
		if progress != nil {
			progress(i+1, len(chs))
		}
	}
	return nil
}

// Options configure Run.
type Options struct {
	Budgets []int // token budgets; nil means 256, 512, 1024, 2048
	Detail  bool  // keep every context in the report
	Counter fs.TokenCounter
}

// Row is one method at one budget.
type Row struct {
	Budget     int     `json:"budget"`
	Coverage   float64 `json:"chapter_coverage"` // mean share of answer chapters cited
	Answers    float64 `json:"answer_recall"`    // mean share of answers contained
	MeanTokens float64 `json:"mean_tokens"`
}

// Goal compares the workspace at a budget with BM25 at twice the budget.
type Goal struct {
	Budget            int     `json:"budget"`
	Workspace         float64 `json:"workspace_coverage"`
	BM25Double        float64 `json:"bm25_coverage_at_double"`
	Met               bool    `json:"met"`
	WorkspaceAnswers  float64 `json:"workspace_answers"`
	BM25DoubleAnswers float64 `json:"bm25_answers_at_double"`
}

// Detail is one context, for checking the figures independently.
type Detail struct {
	QIndex  int    `json:"q_index"`
	Budget  int    `json:"budget"`
	Tokens  int    `json:"tokens"`
	Context string `json:"context"`
}

// Report is the result of Run.
type Report struct {
	Chapters          int      `json:"chapters"`
	Paragraphs        int      `json:"paragraphs"`
	Questions         int      `json:"question_count"`
	Scored            int      `json:"scored_questions"` // with at least one answer chapter
	Workspace         []Row    `json:"workspace"`
	BM25              []Row    `json:"bm25"`
	Goals             []Goal   `json:"goals"`
	Details           []Detail `json:"questions,omitempty"`
	BaselineDetails   []Detail `json:"baseline_questions,omitempty"`
	Method            string   `json:"method"`
	BaselineMethod    string   `json:"baseline_method"`
	ChaptersByContext string   `json:"scoring"`
}

// Run scores the workspace snapshot s (the book already observed) and a
// BM25 baseline over the book's paragraphs on qs.
func Run(s *workspace.Snapshot, b Book, qs []Question, o Options) (*Report, error) {
	if len(o.Budgets) == 0 {
		o.Budgets = []int{256, 512, 1024, 2048}
	}
	for _, bu := range o.Budgets {
		if bu < 1 {
			return nil, fmt.Errorf("%w: budget %d", fs.ErrInvalid, bu)
		}
	}
	bm := newBM25(b, o.Counter)
	r := &Report{
		Chapters: len(b), Paragraphs: len(bm.paras), Questions: len(qs),
		Method:            "workspace query: question -> cues (entities, places, dates, occasions) -> ranked observations -> one summary line each, then their events",
		BaselineMethod:    "BM25 (k1 1.2, b 0.75, lowercase words, common stopwords removed) over the book's paragraphs; whole paragraphs in score order, the first that does not fit cut to fill the budget",
		ChaptersByContext: "a chapter counts as covered when a context line cites it (workspace) or a paragraph of it is in the context (BM25)",
	}
	for _, q := range qs {
		if len(q.AnswerChapters) > 0 {
			r.Scored++
		}
	}
	doubled := map[int]bool{}
	var bmBudgets []int
	for _, bu := range o.Budgets {
		for _, x := range []int{bu, 2 * bu} {
			if !doubled[x] {
				doubled[x] = true
				bmBudgets = append(bmBudgets, x)
			}
		}
	}
	sort.Ints(bmBudgets)
	bmRows := map[int]Row{}
	for _, bu := range bmBudgets {
		var acc scoreAcc
		for qi, q := range qs {
			text, chapters, tokens := bm.retrieve(q.Question, bu)
			acc.add(q, chapters, text, tokens)
			if o.Detail && contains(o.Budgets, bu) {
				r.BaselineDetails = append(r.BaselineDetails, Detail{QIndex: qi, Budget: bu, Tokens: tokens, Context: text})
			}
		}
		bmRows[bu] = acc.row(bu)
	}
	for _, bu := range o.Budgets {
		var acc scoreAcc
		for qi, q := range qs {
			c, err := s.Query(q.Question, bu)
			if err != nil {
				return nil, fmt.Errorf("question %d: %w", qi, err)
			}
			chapters := map[int]bool{}
			for _, ln := range c.Lines {
				if n := ChapterNumber(ln.Source); n >= 0 {
					chapters[n] = true
				}
			}
			acc.add(q, chapters, c.Text, c.Tokens)
			if o.Detail {
				r.Details = append(r.Details, Detail{QIndex: qi, Budget: bu, Tokens: c.Tokens, Context: c.Text})
			}
		}
		row := acc.row(bu)
		r.Workspace = append(r.Workspace, row)
		r.BM25 = append(r.BM25, bmRows[bu])
		d := bmRows[2*bu]
		r.Goals = append(r.Goals, Goal{Budget: bu, Workspace: row.Coverage, BM25Double: d.Coverage, Met: row.Coverage >= d.Coverage-1e-9,
			WorkspaceAnswers: row.Answers, BM25DoubleAnswers: d.Answers})
	}
	return r, nil
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

type scoreAcc struct {
	cov, ans, tok      float64
	nCov, nAns, nTotal int
}

func (a *scoreAcc) add(q Question, chapters map[int]bool, text string, tokens int) {
	a.nTotal++
	a.tok += float64(tokens)
	if len(q.AnswerChapters) > 0 {
		hit := 0
		for _, ch := range q.AnswerChapters {
			if chapters[ch] {
				hit++
			}
		}
		a.cov += float64(hit) / float64(len(q.AnswerChapters))
		a.nCov++
	}
	if len(q.Answers) > 0 {
		low := strings.ToLower(text)
		hit := 0
		for _, ans := range q.Answers {
			if strings.Contains(low, strings.ToLower(ans)) {
				hit++
			}
		}
		a.ans += float64(hit) / float64(len(q.Answers))
		a.nAns++
	}
}

func (a *scoreAcc) row(budget int) Row {
	r := Row{Budget: budget}
	if a.nCov > 0 {
		r.Coverage = round(a.cov / float64(a.nCov))
	}
	if a.nAns > 0 {
		r.Answers = round(a.ans / float64(a.nAns))
	}
	if a.nTotal > 0 {
		r.MeanTokens = math.Round(a.tok/float64(a.nTotal)*10) / 10
	}
	return r
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }
