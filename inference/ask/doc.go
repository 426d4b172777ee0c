// Package ask answers a question from a ctxfs store end to end: the context
// constructor builds a budgeted context (its manifest saved in history), a
// Generator answers from it in one generation or by Parallel-Distill-Refine
// (package pdr), the evaluator checks the context and the answer and records
// the evaluation in history, and the exchange is written back to the session's
// history, the user's persona memory and the workspace. It backs `ctxfs ask`;
// an MCP tool or HTTP endpoint calls Run the same way.
//
// Run is safe for concurrent use when its Generator and fs.FS are.
package ask
