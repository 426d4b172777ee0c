package afs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ctxfs/ctxfs/fs"
)

// Event is an AFS change event (§5), built from the file system's change
// log.
type Event struct {
	Type      string         `json:"type"` // write, mkdir, delete, rename
	Path      string         `json:"path"`
	Source    string         `json:"source"` // the AFS mount the change happened in
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

type changesParams struct {
	Options *struct {
		Since *uint64 `json:"since"`
		Limit *int    `json:"limit"`
	} `json:"options"`
}

const defaultChangesLimit = 1000

// changes is a ctxfs extension: the change-log events after options.since
// that the principal may read, in the AFS namespace, and the sequence to
// ask from next time ("last"). Without since it returns no events and the
// current position, so a client can start following from now.
func (h *handler) changes(ctx context.Context, raw json.RawMessage) (any, error) {
	var cp changesParams
	if err := decodeParams(raw, &cp); err != nil {
		return nil, err
	}
	w, ok := h.fsys.(fs.Watcher)
	if !ok {
		return nil, fmt.Errorf("%w: this file system keeps no change log", fs.ErrNotSupported)
	}
	limit := defaultChangesLimit
	var since *uint64
	if o := cp.Options; o != nil {
		since = o.Since
		if o.Limit != nil {
			if *o.Limit < 0 {
				return nil, badParams("invalid params: options.limit must not be negative")
			}
			if *o.Limit > 0 {
				limit = *o.Limit
			}
		}
	}
	last, err := w.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	events := []Event{}
	if since == nil {
		return map[string]any{"data": events, "last": last}, nil
	}
	cursor := *since
	err = w.Changes(ctx, *since, func(e fs.Event) error {
		if len(events) >= limit {
			return errStop
		}
		cursor = e.Seq
		if ev, ok := h.event(e); ok {
			events = append(events, ev)
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	if err == nil {
		cursor = max(cursor, last)
	}
	return map[string]any{"data": events, "last": cursor}, nil
}

// event converts a change-log event into the AFS namespace; events
// outside the AFS root are dropped.
func (h *handler) event(e fs.Event) (Event, bool) {
	p, ok := h.afs(e.Path)
	var dst fs.Path
	movedIn := false
	if e.Op == fs.OpRename && e.Dest != "" {
		d, dok := h.afs(e.Dest)
		if !ok && !dok {
			return Event{}, false
		}
		if !ok { // moved in from outside the root: a write of the new path
			p, ok, movedIn = d, true, true
		} else if dok {
			dst = d
		}
	}
	if !ok {
		return Event{}, false
	}
	typ := "write"
	switch e.Op {
	case fs.OpMkdir:
		typ = "mkdir"
	case fs.OpRemove:
		typ = "delete"
	case fs.OpRename:
		typ = "rename"
		if movedIn {
			typ = "write"
		} else if dst == "" {
			typ = "delete" // moved out of the root
		}
	}
	data := map[string]any{"seq": e.Seq}
	if e.Version > 0 {
		data["version"] = e.Version
	}
	if e.Author != "" {
		data["author"] = e.Author
	}
	if e.Kind == fs.KindDir {
		data["kind"] = KindDirectory
	} else if e.Kind == fs.KindFile {
		data["kind"] = KindFile
	}
	if dst != "" {
		data["newPath"] = string(dst)
	}
	return Event{Type: typ, Path: string(p), Source: string(h.mountOf(p)), Timestamp: isoTime(e.Time), Data: data}, true
}
