// Package fs defines the core of ctxfs: the Path type and its parser, file
// information, the error sentinels every layer wraps, the small FS interface
// that every provider implements, its optional capabilities, principals and
// access rules, and the namespace that routes paths to providers.
//
// # Paths
//
// A [Path] is absolute, clean and valid UTF-8. It is produced only by [Parse],
// which rejects relative paths, empty elements, "." and "..", NUL bytes,
// elements longer than [MaxNameLen] and paths longer than [MaxPathLen]. Code
// that holds a Path never re-validates it.
//
// # Errors
//
// Every error that crosses a package boundary wraps one of the sentinels in
// errors.go and is usually a [*PathError]. Callers test with errors.Is; the
// doors (FUSE, HTTP, MCP, CLI) map sentinels to errno values, status codes
// and exit codes in one table each. Nobody matches error text.
//
// # Capabilities
//
// [FS] holds the operations every provider needs. Search, version history,
// change watching and metadata updates are separate interfaces ([Searcher],
// [Versioner], [Watcher], [MetaSetter]) found by type assertion, as io/fs does.
//
// # Access control
//
// A request carries a [Principal] in its context ([WithPrincipal]). The
// [Namespace] checks the [Policy] before any provider is called, so every door
// enforces the same rules.
package fs
