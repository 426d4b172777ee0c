// Package services opens ctxfs's services to agents and programs: persona
// memory (package memory), episodic workspaces (package workspace), the
// context constructor (package constructor) and the evaluator (package
// evaluator), as MCP tools (RegisterMCP) and as JSON HTTP endpoints
// (Handler).
//
// Both doors call the same operations, each with the caller's principal in
// the context (fs.WithPrincipal), so the namespace's access rules apply
// exactly as they do to the file API: alice may observe and recall
// /memory/alice, not bob's. Input is checked before anything is written:
// malformed JSON, wrong types, missing fields and bad names are refused
// with an fs.ErrInvalid error (HTTP 400, MCP error result "invalid: ...")
// and change nothing.
//
// MCP tools: memory_observe, memory_recall, memory_show, workspace_observe,
// workspace_query, context_build, context_evaluate, and ask when
// Options.Generator is set (POST /v1/ask answers 501 without one).
//
// HTTP routes (see Routes):
//
//	POST /v1/memory/{user}/observe        {"turns":[{"role","content","time"}]}
//	GET  /v1/memory/{user}?q=&budget=     recall; without q, the persona file
//	POST /v1/workspace/{name}/observe     {"text","time","place","source"}
//	GET  /v1/workspace/{name}/query?q=&budget=
//	POST /v1/workspace/{name}/query       {"question","budget"}
//	POST /v1/context                      constructor.Request
//	POST /v1/evaluate                     evaluator.Request
//	POST /v1/ask                          AskRequest (needs Options.Generator)
//
// Errors are JSON {"error":{"code","message"}} with the status
// api.StatusCode gives the error.
package services
