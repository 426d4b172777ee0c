// Package evaluator checks built contexts and the answers given from them,
// records every evaluation in the session's history, queues weak results
// for a person to review, and writes finished exchanges back to persona
// memory, the session's workspace and its history.
//
// # Checks
//
// A context check replays the manifest from its recorded versions and
// reports whether the prompt is identical and within its budget, and for
// each item whether it is still readable at its version, allowed to the
// principal of the request, stale (a newer version exists) or gone.
//
// An answer check splits the answer into sentences and counts a sentence
// as supported when most of its content terms occur in the context; it
// checks that bracketed citations ("[D3:5]", "[/notes/a.md]") name items
// of the manifest, and, given a JSON schema, that the answer is JSON that
// satisfies it (types, required, properties, additionalProperties, items,
// enum, minimum/maximum, minLength/maxLength).
//
// # Files
//
//	/history/SESSION/evaluations/ID.json   every evaluation
//	/review/pending/ID.json                weak ones, waiting for a person
//	/review/approved/ID.json, /review/rejected/ID.json   decided ones
//	/history/SESSION/turns.jsonl           exchanges written back
//
// An Evaluator is safe for concurrent use.
package evaluator
