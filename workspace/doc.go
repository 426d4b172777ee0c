// Package workspace keeps episodic workspaces after the Generative Semantic
// Workspace (GSW): observations become actors, roles, states and events
// with time and place, reconciled into files a person can read and edit.
//
// # Layout
//
// A workspace is a directory, /workspace/<name>/, written through any
// fs.FS (normally the namespace, so versions, search and access control
// apply):
//
//	observations/000001.md   raw observations, append-only, with a header of hints
//	entities/<slug>.md       one file per actor: kind, aliases, roles, states, events
//	timeline.md              every event in time order
//	conflicts.md             incoherences: a person in two places on one day, states that contradict
//
// Events are written one per line in both timeline.md and the entity files:
//
//   - WHEN | PLACE | OCCASION | WHAT | who: A, B | obs 000015
//
// # Operator
//
// An Operator turns an Observation into a Structure. Rules, the default,
// needs no model: capitalized phrases become people, places and
// organizations by their head words ("Park", "Bridge", "Inc"), dates are
// read in their common written forms, occasions by their head nouns
// ("festival", "workshop"), and every sentence that names a person becomes
// an event of that person. LLM asks an inference.Generator for the same
// structure as strict JSON.
//
// # Reconciler
//
// Workspace.Observe appends the observation, resolves each actor to an
// existing entity (case, possessives, aliases, a first or last name that
// is unique among people), merges roles, states and events into the
// entity files, merges the events into the timeline and records
// conflicts. Every file is updated by read, merge and a write conditional
// on the version read (fs.WriteOptions.IfVersion), retried on conflict,
// so concurrent observers lose nothing.
//
// # Query
//
// Snapshot.Query turns a question into cues (known actors, places, dates,
// occasions), ranks observations by the cues their events match, and
// answers with one summary line per matching observation (when, where,
// occasion, who) in rank order while the token budget allows, then their
// events; every line cites its observation.
package workspace
