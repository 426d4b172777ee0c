package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/fs"
)

// Event is the JSON form of fs.Event.
type Event struct {
	Seq     uint64    `json:"seq"`
	Op      string    `json:"op"` // write, mkdir, remove, rename, meta
	Path    string    `json:"path"`
	Dest    string    `json:"dest,omitempty"`
	Kind    string    `json:"kind"`
	Version int64     `json:"version,omitempty"`
	Time    time.Time `json:"time"`
	Author  string    `json:"author"`
}

// NewEvent converts e.
func NewEvent(e fs.Event) Event {
	return Event{
		Seq: e.Seq, Op: e.Op.String(), Path: string(e.Path), Dest: string(e.Dest),
		Kind: e.Kind.String(), Version: e.Version, Time: e.Time.UTC(), Author: e.Author,
	}
}

// event converts back, validating paths.
func (e Event) event() (fs.Event, error) {
	out := fs.Event{Seq: e.Seq, Version: e.Version, Time: e.Time, Author: e.Author}
	for op := fs.OpWrite; op <= fs.OpMeta; op++ {
		if op.String() == e.Op {
			out.Op = op
		}
	}
	switch e.Kind {
	case "file":
		out.Kind = fs.KindFile
	case "dir":
		out.Kind = fs.KindDir
	}
	var err error
	if out.Path, err = fs.Parse(e.Path); err != nil {
		return out, err
	}
	if e.Dest != "" {
		if out.Dest, err = fs.Parse(e.Dest); err != nil {
			return out, err
		}
	}
	return out, nil
}

// changesPage is the body of GET /v1/changes.
type changesPage struct {
	Events []Event `json:"events"`
	Last   uint64  `json:"last"` // the newest sequence number in the log
}

// asciiJSON encodes v as JSON with every non-ASCII character escaped, so it
// can travel in an HTTP header (X-Ctxfs-Stat).
func asciiJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return string(b)
	}
	var out []byte
	for _, r := range string(b) {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		if r > 0xFFFF {
			r -= 0x10000
			out = appendU(out, 0xD800+(r>>10))
			out = appendU(out, 0xDC00+(r&0x3FF))
			continue
		}
		out = appendU(out, r)
	}
	return string(out)
}

func appendU(b []byte, r rune) []byte {
	s := strconv.FormatInt(int64(r), 16)
	b = append(b, `\u`...)
	for range 4 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}
