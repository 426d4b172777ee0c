// Package mcp is ctxfs's Model Context Protocol door: an MCP server
// (github.com/mark3labs/mcp-go) over any [fs.FS] — the local namespace or
// the API client of a remote `ctxfs serve` — for agent hosts.
//
// # Transports
//
// [Server.ServeStdio] serves one session over newline-delimited JSON-RPC
// (`ctxfs mcp`); its calls act as Options.Principal. The Server is also an
// http.Handler for the streamable HTTP transport (`ctxfs serve` mounts it at
// /mcp): each request is authenticated by Options.Authenticate (normally the
// bearer token) before any MCP message is read; a missing or bad credential
// answers 401, an HTTP session opened by one principal answers 403 to
// another, and a body over Options.MaxBody answers 413. Every tool call, resource read and subscription runs with the
// caller's principal in its context (fs.WithPrincipal), so the namespace's
// access rules apply exactly as on every other door.
//
// # Tools
//
// Arguments use the AFS protocol's names:
//
//	ctx_list     path="/", maxDepth=1       JSON array of entries
//	ctx_read     path, startLine, endLine,   file text (lines 1-based,
//	             version                     inclusive; endLine -1 = end)
//	ctx_write    path, content, mode,        JSON entry of the new version
//	             patches
//	ctx_delete   path, recursive=false       "Deleted PATH"
//	ctx_move     path, newPath               "Moved A to B"
//	ctx_search   query, path="/", limit=10   JSON array of hits
//	ctx_stat     path                        JSON entry
//	ctx_history  path, version               JSON array of versions, or the
//	                                         text of one version
//
// Entries, hits and versions use the fs package's JSON forms (the same as
// the HTTP API and the CLI's --json). Write modes are those of AFS:
// replace, append, prepend (both create a missing file), create (fails on
// an existing file), update (fails on a missing one) and patch, whose
// patches {op, target, content} (op str_replace, insert_before,
// insert_after or delete) apply in order, each target occurring exactly
// once. append, prepend and patch read the file and write with
// fs.WriteOptions.IfVersion, retrying when another writer got in between,
// so concurrent writers lose nothing.
//
// Options.Tools exposes a subset. [Server.AddTool] is the extension point
// for later tool families (memory_*, workspace_*, context_*, ask): a tool is
// an mcp-go tool definition and a [ToolFunc] that gets typed [Args] and
// returns text.
//
// # Errors
//
// A refused or failed call is an error result (isError true), never a
// protocol error or a crash: its text is "CODE: message", where CODE comes
// from one table ([ErrorCode]): not_found, permission_denied,
// unauthenticated, read_only, exists, conflict, not_empty, not_dir, is_dir,
// too_large, not_supported, invalid, closed, internal. Unknown tools and
// malformed JSON-RPC get JSON-RPC errors from mcp-go, as the protocol says.
//
// # Resources
//
// Every file is a resource ctxfs:///PATH (elements percent-escaped, see
// [URI]) through the resource template ctxfs://{+path}; resources/list walks
// the files the caller may read in path order, Options.ResourcePage at a
// time. Subscriptions (resources/subscribe, or subscriptions/listen on
// protocol 2026-07-28) are checked against the caller's read access when
// made and fed from the file system's change log ([fs.Watcher]): a write,
// removal or rename of the file, or the removal or rename of a directory
// above it, sends notifications/resources/updated with its URI.
package mcp
