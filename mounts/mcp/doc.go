// Package mcp mounts an external MCP server — a command spoken to over
// stdio, or a streamable HTTP URL — as a read-only [fs.FS], so that what
// the server offers can be listed, read, searched by agents and mounted at
// /mnt/<name> like any other source. Import it as mcpmount next to
// ctxfs's own MCP server package.
//
// # Layout
//
//	/server.json                 the server's identity, capabilities and
//	                             instructions (JSON, from initialize)
//	/tools/                      one file per tool
//	/tools/<name>                the tool's definition as JSON: name, title,
//	                             description, inputSchema, annotations
//	/resources/                  one file per resource the server lists
//	/resources/<escaped uri>     the resource's content: text as is, blobs
//	                             decoded; the name is the URI escaped with
//	                             [ResourceName] ("/" becomes %2F), e.g.
//	                             /resources/demo:%2F%2Fresource%2Fstatic%2Fa.md
//
// Resources whose escaped URI is not a valid path element (longer than
// fs.MaxNameLen bytes) are left out.
//
// # Exec
//
// [*FS] implements [Executor]: Exec on /tools/<name> calls the tool with
// the given arguments and returns its text content (non-text items as
// JSON). A result the server marks isError returns a *[ToolError] holding
// the tool's text; transport failures and unknown tools wrap fs sentinels.
// Other doors find the capability by type assertion (fs.FS → Executor).
//
// # Caching
//
// The tool and resource lists are fetched on first use and kept for
// Options.CacheTTL; resource contents for the same time, so that Stat
// (which needs the size) and the Read that follows ask the server once.
// A list_changed notification from the server drops the cached list.
//
// Every mutation returns fs.ErrReadOnly.
package mcp
