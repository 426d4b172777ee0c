package fs

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestInfoJSON(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	in := &Info{Path: "/a/b.md", Kind: KindFile, Size: 3, Version: 2, Tokens: 1, Created: now, Modified: now, Author: "alice", Meta: map[string]string{"k": "v"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"path":"/a/b.md"`, `"kind":"file"`, `"created":"2026-11-29T12:00:00Z"`, `"meta":{"k":"v"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var out Info
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, &out) {
		t.Fatalf("round trip: %+v != %+v", out, in)
	}
	if err := json.Unmarshal([]byte(`{"path":"../x","kind":"file"}`), &out); err == nil {
		t.Fatal("bad path accepted")
	}
	dir, _ := json.Marshal(&Info{Path: "/d", Kind: KindDir})
	if !strings.Contains(string(dir), `"meta":{}`) || strings.Contains(string(dir), "created") {
		t.Errorf("dir JSON %s", dir)
	}
}
