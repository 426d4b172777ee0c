package fs

import (
	"encoding/json"
	"fmt"
	"time"
)

// The JSON forms below are the wire format of every door (CLI --json, HTTP
// API, MCP results): one definition, so the doors cannot drift apart.

type infoJSON struct {
	Path     Path              `json:"path"`
	Kind     string            `json:"kind"`
	Size     int64             `json:"size"`
	Version  int64             `json:"version"`
	Tokens   int               `json:"tokens"`
	Created  *time.Time        `json:"created,omitempty"`
	Modified *time.Time        `json:"modified,omitempty"`
	Author   string            `json:"author"`
	Meta     map[string]string `json:"meta"`
	ReadOnly bool              `json:"readonly,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// MarshalJSON encodes i as {"path","kind":"file"|"dir","size","version",
// "tokens","created","modified","author","meta"} with RFC 3339 times.
func (i *Info) MarshalJSON() ([]byte, error) {
	meta := i.Meta
	if meta == nil {
		meta = map[string]string{}
	}
	return json.Marshal(infoJSON{
		Path: i.Path, Kind: i.Kind.String(), Size: i.Size, Version: i.Version, Tokens: i.Tokens,
		Created: timePtr(i.Created), Modified: timePtr(i.Modified), Author: i.Author, Meta: meta, ReadOnly: i.ReadOnly,
	})
}

// UnmarshalJSON decodes the form MarshalJSON writes, validating the path.
func (i *Info) UnmarshalJSON(b []byte) error {
	var j infoJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	p, err := Parse(string(j.Path))
	if err != nil {
		return err
	}
	var k Kind
	switch j.Kind {
	case "file":
		k = KindFile
	case "dir":
		k = KindDir
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, j.Kind)
	}
	*i = Info{Path: p, Kind: k, Size: j.Size, Version: j.Version, Tokens: j.Tokens, Author: j.Author, Meta: j.Meta, ReadOnly: j.ReadOnly}
	if j.Created != nil {
		i.Created = *j.Created
	}
	if j.Modified != nil {
		i.Modified = *j.Modified
	}
	return nil
}

// UnmarshalJSON parses a path string, validating it.
func (p *Path) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	q, err := Parse(s)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

type versionJSON struct {
	Version int64     `json:"version"`
	Time    time.Time `json:"time"`
	Size    int64     `json:"size"`
	Author  string    `json:"author"`
	Tokens  int       `json:"tokens"`
}

// MarshalJSON encodes v as {"version","time","size","author","tokens"}.
func (v Version) MarshalJSON() ([]byte, error) {
	return json.Marshal(versionJSON{v.Version, v.Time.UTC(), v.Size, v.Author, v.Tokens})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (v *Version) UnmarshalJSON(b []byte) error {
	var j versionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = Version{j.Version, j.Time, j.Size, j.Author, j.Tokens}
	return nil
}

type hitJSON struct {
	Path    Path    `json:"path"`
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
	Version int64   `json:"version"`
}

// MarshalJSON encodes h as {"path","score","snippet","version"}.
func (h Hit) MarshalJSON() ([]byte, error) {
	return json.Marshal(hitJSON{h.Path, h.Score, h.Snippet, h.Version})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (h *Hit) UnmarshalJSON(b []byte) error {
	var j hitJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = Hit{j.Path, j.Score, j.Version, j.Snippet}
	return nil
}
