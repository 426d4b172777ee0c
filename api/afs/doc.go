// Package afs is ctxfs's AFS door: the HTTP RPC protocol of AIGNE's Agentic
// File System (the shared AFS-PROTOCOL.md), served over any [fs.FS] —
// normally the ctxfs namespace — by [NewHandler], mounted at /afs/rpc.
//
// # Transport
//
// Each call is a POST with the JSON body {"method","params"}. The answer
// is always a JSON envelope: {"success":true,"data":RESULT} or
// {"success":false,"error":{"code","message"}}. A dispatched call answers
// HTTP 200, errors included. Faults of the request itself answer 400 (bad
// JSON, data after the object, a missing or unknown method, params that
// are not an object, a parameter of the wrong type, an invalid path or
// option), 405 (not POST, with Allow: POST), 413 (a body over
// Options.MaxBody, 10 MB by default) and 401 with code 6 (a missing or
// wrong bearer token, as Options.Authenticate decides). A failed call
// changes nothing.
//
// # Methods
//
//	read     {path, options:{startLine,endLine}}     data.data: entry with content;
//	         lines are 1-based and inclusive, endLine -1 or absent is the end,
//	         meta.lineRange {startLine,endLine,totalLines}; a directory gives its
//	         entry without content; content that is not UTF-8 is base64 with
//	         meta.contentEncoding "base64"; at most 64 MiB per read
//	list     {path, options:{limit=1000,offset=0,maxDepth=1,pattern,maxChildren}}
//	         data.data: entries breadth-first (never the directory itself),
//	         data.total: matches before paging; pattern globs base names, or
//	         relative paths when it has a slash ("**" spans elements);
//	         maxChildren cuts each directory's children (data.truncated);
//	         a file lists as []; a missing path is code 1
//	stat     {path}                                   data.data: entry, no content
//	write    {path, content:{content,meta,patches}, options:{mode}}
//	         modes replace (default), append, prepend, create (exists: 3),
//	         update (missing: 1), patch (patches [{op,target,content}] with op
//	         str_replace, insert_before, insert_after, delete, in order, each
//	         target exactly once); parents are created; data.data: the written
//	         entry with its content. A bare string is accepted as content.
//	delete   {path, options:{recursive}}              data.message "Deleted: PATH"
//	rename   {path|oldPath, newPath, options:{overwrite}}
//	         data.message "Renamed SRC to DST"; destination parents are
//	         created; an existing destination without overwrite is code 3;
//	         both paths must be in one mount
//	search   {path, query, options:{limit=100,caseSensitive}}
//	         data.data: one entry per file below path whose content contains
//	         query, summary = the first matching line; [] when none or when
//	         path does not exist
//	explain  {path, options:{format:markdown|text}}   data: {format, content}
//	exec     {path:"NODE/.actions/NAME", args}        data: the action result
//	         {success, data?, error?:{code,message}}
//	changes  {options:{since,limit=1000}}             ctxfs extension, below
//
// # Entries
//
// A ctxfs Info becomes {id, path, content?, summary?, meta, actions?,
// createdAt?, updatedAt?}: id is the AFS path (a mount point's id is its
// name), times are RFC 3339 in UTC (host files have no creation time).
// meta holds kind ("fs:file" or "fs:directory"), size (files), childrenCount
// (directories: counted by read, stat and expanded list levels, else -1),
// mimeType (by extension), version and author (the store's versions),
// tokens, readOnly (read-only providers), and the file's user metadata
// (fs.Info.Meta) as top-level string keys; user keys never hide the
// computed ones. A write's content.meta sets user metadata, merged into the
// current keys: strings as they are, numbers and booleans as their JSON
// text, null deletes; computed keys are ignored. Stat and read list the
// node's actions.
//
// # Mounts and the root
//
// The AFS namespace is the file system below Options.Root (--afs-root):
// AFS "/x" is Root+"/x". Its mounts are the mount points of the namespace's
// mount table (Options.Mounts, e.g. host directories added with `ctxfs
// mounts add NAME DIR --rw --at /NAME`) below Root, named by their last
// element; the store serves every other path, so it is the provider at "/"
// and the spec's unknown mount prefix is an ordinary missing path (code 1
// for read, stat, list and explain; [] for search). The namespace routes
// by longest prefix; list "/" shows the mounts beside the store's
// top-level directories with id = name, a summary, meta.description and
// meta.childrenCount -1; stat "/" counts the root's children. A rename
// across mounts is refused (code 5). Read-only mounts refuse write, delete,
// rename and exec with code 2. Access control is the namespace's: every
// call carries the principal that Options.Authenticate returned.
//
// # Actions and the exec policy
//
// Every node has actions, the root and mount roots included: checksum on
// files (args algorithm md5|sha1|sha256|sha512, default sha256 →
// {hash, algorithm, size, path}) and archive on directories (args format
// tar.gz|zip, default tar.gz, pattern as in list, outputPath → {outputPath,
// size, fileCount, format}). args.path, when given, names the target
// relative to the node; result paths are relative to the target's mount.
// An archive goes into the namespace at args.outputPath when given (a
// write the caller must be allowed), else to a new file in
// Options.ArchiveDir on the server. Unknown args are ignored. A failure of
// the action itself (bad args, a missing or wrong target) is an envelope
// success carrying {success:false, error}.
//
// Both actions have severity boundary. Options.Exec is the guard, run
// before dispatch in the spec's order: a name in Blocked is refused ("...
// is blocked"), a name in Allowed passes, else the severity must fit the
// policy — safe (ambient only), standard (ambient and boundary; the
// default) or full — or the call is refused ("Action 'checksum' severity
// 'boundary' exceeds policy 'safe'"). Refusals are code 5. ExecPolicy.Mounts
// overrides the policy per AFS mount. Exec also needs the x permission
// (fs.PermExec) on the node when the file system has an access policy (an
// *fs.Namespace): admins pass, others need an acl grant. The archive reads
// only what the caller may read.
//
// # Change propagation
//
// Every call works on the live file system: a write or delete shows in the
// next stat, list and search at once (search reads the files; only a tree
// of more than Options.SearchScanFiles files falls back to the file
// system's index, fs.Searcher, checking each hit against the current
// content). The changes method (a ctxfs extension; AFS defines no HTTP
// event transport) reads the change log of a file system that is an
// fs.Watcher: {since} returns up to limit events {type: write|mkdir|
// delete|rename, path, source (the AFS mount), timestamp, data:{seq,
// version, kind, author, newPath}} after since, that the principal may
// read and that lie below Root, and "last", the since of the next call;
// without since it returns no events and the current position. Host
// directories keep no change log, so their changes do not appear there.
//
// # Concurrency
//
// Writes that read the current content (append, prepend, patch, and
// metadata updates) hold a per-path lock within the handler and write with
// fs.WriteOptions.IfVersion, reading again and retrying when another
// writer got in between (code 3 after 32 tries), so concurrent writers
// through any door lose no update; on providers without versions (host
// directories) the per-path lock alone serializes the handler's writers.
//
// # Not implemented
//
// The AUP WebSocket (§7, optional), batch calls (code 4 is never sent) and
// the reference's .meta/.capabilities nodes.
package afs
