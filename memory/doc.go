// Package memory keeps one bounded, human-readable persona memory per
// user, after PersonaMem-v2's agentic memory: /memory/<user>/persona.md.
//
// # The file
//
// The persona file is the only state. It has sections (Preferences,
// Facts, Goals, Relationships, Style, Superseded, and any a person adds)
// of bullets with compact provenance:
//
//	## Facts
//	- lives in Lyon {home | s1#161 | 2024-01-17}
//
//	## Superseded
//	- lives in Paris {home | s1#16 | 2024-01-02..2024-01-17}
//
// The braces hold the slot key (items with one key contradict each
// other), the turn that stated the item and the dates it held. Every
// update parses the file back, so a person's edit (a corrected value, a
// deleted item, a section of their own, a bullet without braces) is what
// the next update builds on.
//
// # Observe
//
// Memory.Observe extracts candidate items from new turns, reconciles them
// with the file (add a new slot, merge a restatement, supersede a
// contradicted item, which moves to Superseded with its dates) and writes
// a new version through the fs.FS it was given, so versioning, search and
// access control apply. The write is conditional on the version read and
// retried on conflict: concurrent observations never lose an update. Over
// budget (default 2,048 cl100k tokens) the file is compacted merge-first:
// duplicates and near-duplicates are merged, then Superseded items are
// dropped, then the least important (Goals, then Preferences, then the
// rest), oldest first.
//
// # Extractors
//
// Rules, the default, needs no model: first-person statements of likes,
// dislikes and preferences, facts (home, origin, job, name, age, pets),
// relationships, goals and style requests, with negation and change of
// mind. LLM asks an inference.Generator for the items as strict JSON
// (Schema) and refuses anything else.
//
// # Recall
//
// Memory.Recall returns the items relevant to a query within a token
// budget, most relevant first, each with its provenance.
package memory
