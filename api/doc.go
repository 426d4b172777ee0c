// Package api is ctxfs's HTTP door: a JSON REST API over any [fs.FS]
// ([NewHandler]), a Go client that is itself an fs.FS over that API
// ([Client]), and the data directory's unix socket ([ServeUnix],
// [DialSocket]).
//
// # Endpoints
//
// Paths in URLs are ctxfs paths without the leading slash, each element
// percent-escaped ("/notes/a b.md" is /v1/fs/notes/a%20b.md; the root is
// /v1/fs/).
//
//	GET    /healthz                       "ok"
//	GET    /v1/openapi.json               the OpenAPI 3 description (no credential needed)
//	GET    /v1/fs/{path}                  file bytes (Range supported; ETag: "VERSION";
//	                                      X-Ctxfs-Stat: the stat object); a directory
//	                                      gives its listing (X-Ctxfs-Kind: dir)
//	GET    /v1/fs/{path}?version=N        version N of the file
//	PUT    /v1/fs/{path}                  write the body; If-Match: "N" (stale → 412),
//	                                      If-Match: * (must exist), If-None-Match: *
//	                                      (create only); metadata from ?meta=KEY=VALUE
//	                                      (repeatable, case kept; a lone ?meta= clears it)
//	                                      or X-Ctxfs-Meta-KEY headers (KEY lower-cased);
//	                                      none of either keeps the previous metadata;
//	                                      answers the stat object
//	DELETE /v1/fs/{path}[?recursive=true] remove (204)
//	POST   /v1/fs/{path}?move=DEST        rename to the ctxfs path DEST; answers DEST's stat
//	POST   /v1/fs/{path}?mkdir=1          create the directory and its parents; its stat
//	GET    /v1/stat/{path}                the stat object
//	GET    /v1/list/{path}                a directory's entries: array of stat objects
//	GET    /v1/log/{path}                 versions, newest first (fs.Versioner)
//	PATCH  /v1/meta/{path}                JSON {"key":"value","gone":null}: set or delete
//	                                      user metadata (fs.MetaSetter); the new stat
//	GET    /v1/search?q=&under=&limit=    search hits (fs.Searcher)
//	GET    /v1/changes?since=&limit=&wait= change log events after since (fs.Watcher):
//	                                      {"events":[...],"last":SEQ}; limit defaults to
//	                                      1000 (0 just reports last); wait=S long-polls up
//	                                      to S seconds (at most Options.MaxWait) for an event
//	GET    /v1/events[?since=N]           server-sent events (text/event-stream): each
//	                                      change as "id: SEQ", "event: change", "data:
//	                                      EVENT"; resumes from since or Last-Event-ID,
//	                                      else starts with new changes; ": keep-alive"
//	                                      comments every 15 s; the file system filters
//	                                      what the principal may not read
//
// JSON objects (field names shared with the command line's --json output):
//
//	stat   {"path","kind":"file"|"dir","size","version","tokens","created",
//	        "modified","author","meta":{...}}   (RFC 3339 times; "readonly":true
//	        on read-only providers)
//	log    {"version","time","size","author","tokens"}
//	hit    {"path","score","snippet","version"}
//	event  {"seq","op","path","dest","kind","version","time","author"}
//
// Capabilities the file system lacks answer 501 with code "not_supported".
//
// # Errors
//
// Every error answer has the body {"error":{"code","message","op","path"}}.
// One table maps the fs sentinels to statuses and codes, and the client maps
// the codes back to the same sentinels, so errors.Is works across the wire:
//
//	400 invalid            fs.ErrInvalid (bad paths, parameters, bodies)
//	401 unauthenticated    fs.ErrUnauthenticated (missing or wrong credential)
//	403 permission_denied  fs.ErrPermission
//	403 read_only          fs.ErrReadOnly
//	404 not_found          fs.ErrNotExist (also unknown endpoints)
//	409 exists             fs.ErrExist
//	409 not_empty          fs.ErrNotEmpty
//	409 not_dir            fs.ErrNotDir
//	409 is_dir             fs.ErrIsDir
//	412 conflict           fs.ErrConflict (stale If-Match)
//	413 too_large          fs.ErrTooLarge (body over Options.MaxBody, default 64 MiB)
//	501 not_supported      fs.ErrNotSupported
//	503 closed             fs.ErrClosed
//	500 internal           anything else
//
// # Principals
//
// Options.Authenticate maps each request to an fs.Principal, which the
// handler puts in the request's context for the file system (the namespace)
// to check. Over the unix socket, [PeerFrom] gives the kernel-reported
// credentials of the connecting process, and [LocalOwner] is the hook for
// it: the socket owner acts as admin, or as the principal named by the
// X-Ctxfs-As header ([Client.As]), which only this hook honours.
//
// # Serving
//
// The handler sets no timeouts of its own; the server that mounts it
// should set ReadHeaderTimeout and IdleTimeout, and may set a WriteTimeout:
// long polls and event streams lift it for their own requests. Call
// [DrainOnShutdown] on the http.Server so that Shutdown ends long polls and
// event streams at once rather than waiting for them. [ServeUnix] does both.
// [Metrics] (Options.Metrics) counts requests by route and status with a
// latency histogram, and serves them in the Prometheus text format.
//
// # Load testing
//
// [BenchServe] is the engine of `ctxfs bench serve`: it writes a corpus
// ([Populate]), then runs the same mix of reads, writes and searches from
// concurrent clients ([Load]) against the API over a file system and
// against [BareHandler], a plain net/http server answering the same
// requests from memory, in the same run, and reports requests/s, p50, p99
// and errors for each.
//
// # The local socket
//
// A server that owns a data directory serves the API on
// [SocketPath](dataDir) with [ServeUnix]. The command line calls
// [DialSocket](ctx, dataDir): a *Client when a server answers, an error
// wrapping [ErrNoServer] when none does (then it opens the store itself).
package api
