package mcp_test

import (
	"strings"
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/mcp"
)

// FuzzParseURI: a URI that parses names a valid path, and the path's own
// URI parses back to it.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"ctxfs:///a/b.md", "ctxfs:///a%20b", "ctxfs://host/x", "ctxfs:///../x", "ctxfs:///a%2Fb", "http://x/y", "ctxfs:/a", "ctxfs:///a?q=1", "ctxfs:///%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, err := mcp.ParseURI(uri)
		if err != nil {
			return
		}
		if _, err := fs.Parse(string(p)); err != nil {
			t.Fatalf("%q parsed to invalid path %q", uri, p)
		}
		q, err := mcp.ParseURI(mcp.URI(p))
		if err != nil || q != p {
			t.Fatalf("%q → %q → %q → %q, %v", uri, p, mcp.URI(p), q, err)
		}
	})
}

// FuzzApplyPatches: a single patch either fails or changes the text by
// exactly its edit at the target's one occurrence.
func FuzzApplyPatches(f *testing.F) {
	f.Add("hello world", "str_replace", "world", "earth")
	f.Add("aaa", "delete", "a", "")
	f.Add("x", "insert_after", "x", "y")
	f.Add("x", "insert_before", "", "y")
	f.Fuzz(func(t *testing.T, text, op, target, content string) {
		out, err := mcp.ApplyPatches(text, []mcp.Patch{{Op: op, Target: target, Content: &content}})
		if err != nil {
			return
		}
		if strings.Count(text, target) != 1 {
			t.Fatalf("patched a target that occurs %d times", strings.Count(text, target))
		}
		i := strings.Index(text, target)
		want := map[string]string{
			"str_replace":   text[:i] + content + text[i+len(target):],
			"delete":        text[:i] + text[i+len(target):],
			"insert_before": text[:i] + content + target + text[i+len(target):],
			"insert_after":  text[:i] + target + content + text[i+len(target):],
		}[op]
		if out != want {
			t.Fatalf("%s %q in %q: %q, want %q", op, target, text, out, want)
		}
	})
}
