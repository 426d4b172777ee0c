// Package constructor assembles token-budgeted contexts for a model from
// the files of the namespace, and records a manifest for every build.
//
// # Candidates
//
// A Request names its sources: path globs, a user's persona memory
// (/memory/USER/), an episodic workspace (/workspace/NAME/, its timeline
// and entities), a history session (/history/SESSION/, its turns) and
// pinned files. Every file is split into units: conversation turns (lines
// of the form FormatTurn writes: "[D3:5] Caroline: text [image: caption]"),
// bullets, and paragraphs under their heading. Files are parsed once per
// version and cached.
//
// # Scoring
//
// Units are scored with BM25 over content terms (Porter stems, stopwords
// out). The query is expanded from the sources' own vocabulary: words
// sharing a long stem with a query word, each query word's closest
// companions (co-occurrence in the same or an adjacent unit), and one
// round of pseudo-relevance feedback that adds the top hits' most telling
// words. Units that say more (more distinct content words) get a small
// importance prior against BM25's length normalisation. Cues raise a
// unit's score: it is said by the person the
// question names, it contains the question's names, places or numbers, or
// it has a date or a relative time when the question asks when. A unit
// next to a strong hit gets a share of its score, since the question before
// an answer and the reply after a statement carry its meaning. No three
// near-copies of one fact go in.
//
// # Budget
//
// Each unit can be rendered full, as an excerpt (its first sentence),
// compressed (its content words, in order: every fact word stays) or as a
// one-line pointer. The solver is the greedy for the multiple-choice
// knapsack: it takes, by value per token, the steps on each unit's convex
// hull of (tokens, value) (value = score x the share of the unit a size
// keeps), paying for a file's section header with its first unit. The
// rendered prompt is then measured with the target tokenizer and the
// weakest units are shed until it fits, so the prompt never exceeds the
// budget. Relative dates are anchored to the file's date ("last Saturday
// (6 May 2023)").
//
// # Layout
//
// One section per file, headed by its path (the citation) and date; each
// line starts with its unit id. Sections are ordered best, third, fifth,
// ..., fourth, second, so the strongest material is at the start and the
// end rather than lost in the middle.
//
// # Manifests and replay
//
// Each build's manifest (query, budget, tokenizer, and for every item its
// path, version, byte range, size, tokens, score and why it was chosen) is
// saved at /history/SESSION/contexts/ID.json. Replay re-reads each item at
// its recorded version and byte range and rebuilds the identical prompt,
// checked against the recorded SHA-256, even after the files changed.
//
// The Builder is safe for concurrent use; see its doc comment.
package constructor
