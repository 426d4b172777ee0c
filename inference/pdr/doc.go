// Package pdr runs Parallel-Distill-Refine (PDR) over any inference.Generator: in
// each round r = 1..R, M_r drafts are written in parallel from the task and the
// current workspace; unless it is the last round, the drafts are distilled into a new
// workspace of at most Kappa tokens (a summary the model writes, or the best drafts
// extractively), which the next round reads. The last round writes one draft, the
// answer. Sequential Refinement is the M = 1 case.
//
// # Budgets
//
// A run reports its sequential budget (tokens generated on the critical path: per
// round the longest draft plus the distillation) and its total budget (every token
// generated), the two quantities PDR trades against each other.
//
// # Shared prefix
//
// Every prompt starts with the task, so a generator that reuses a cached prompt
// prefix (the local inference.Engine does) prefills the task once: the drafts of a
// round differ only after the workspace.
package pdr
