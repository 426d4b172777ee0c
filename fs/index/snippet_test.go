package index

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarkSnippet(t *testing.T) {
	text := "alpha beta\tgamma\n\ndelta beta"
	spans := []span{{6, 10}, {24, 28}}
	start, end := bestWindow(spans, 200, int64(len(text)))
	got := markSnippet([]byte(text[start:end]), start, spans, start > 0, end < int64(len(text)))
	if want := "alpha «beta» gamma delta «beta»"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// The window goes to the densest cluster.
	long := strings.Repeat("x ", 100) + "one " + strings.Repeat("y ", 200) + "two two two " + strings.Repeat("z ", 100)
	var sp []span
	for _, w := range []string{"one", "two"} {
		for i := 0; ; {
			j := strings.Index(long[i:], w)
			if j < 0 {
				break
			}
			sp = append(sp, span{int64(i + j), int64(i + j + len(w))})
			i += j + len(w)
		}
	}
	start, end = bestWindow(sp, 60, int64(len(long)))
	got = markSnippet([]byte(long[start:end]), start, sp, start > 0, end < int64(len(long)))
	if strings.Count(got, "«two»") != 3 || strings.Contains(got, "one") {
		t.Errorf("window %d-%d: %q", start, end, got)
	}
}

func FuzzSnippet(f *testing.F) {
	f.Add("hello world, hello", int64(0), int64(5), int64(13), int64(18), 10)
	f.Add("日本語のテキスト", int64(3), int64(6), int64(1), int64(2), 4)
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2 int64, width int) {
		if width <= 0 || width > 1000 {
			return
		}
		size := int64(len(text))
		var spans []span
		for _, s := range []span{{s1, e1}, {s2, e2}} {
			if s.start >= 0 && s.start < s.end && s.end <= size {
				spans = append(spans, s)
			}
		}
		start, end := bestWindow(spans, int64(width), size)
		if start < 0 || end > size || start > end {
			t.Fatalf("window %d-%d of %d", start, end, size)
		}
		got := markSnippet([]byte(text[start:end]), start, spans, start > 0, end < size)
		if !utf8.ValidString(got) {
			if utf8.ValidString(text) {
				t.Fatalf("invalid UTF-8 snippet %q of valid text", got)
			}
		}
		if len(got) > int(end-start)+2*len(spans)*len(MarkStart+MarkEnd)+2*len("…") {
			t.Fatalf("snippet %q longer than its window %d-%d", got, start, end)
		}
	})
}
