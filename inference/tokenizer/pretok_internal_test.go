package tokenizer

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func TestPreTokenizers(t *testing.T) {
	cases := []struct {
		pre, text string
		want      []string
	}{
		{"llama3", "Hello world's 12345 ab\n\n  x", []string{"Hello", " world", "'s", " ", "123", "45", " ab", "\n\n", " ", " x"}},
		{"llama3", "I'VE (ok)  \r\n", []string{"I", "'VE", " (", "ok", ")", "  \r\n"}},
		{"qwen2", "x12345", []string{"x", "1", "2", "3", "4", "5"}},
		{"gpt-2", "a  b", []string{"a", " ", " b"}},
		{"gpt-2", "a \tb", []string{"a", " ", "\t", "b"}},
		{"gpt-2", "it's 42!!", []string{"it", "'s", " 42", "!!"}},
		{"default", "a+b=3.1415", []string{"a", "+", "b", "=", "3", ".", "141", "5"}},
		{"starcoder", "x 123", []string{"x", " ", "1", "2", "3"}},
		{"falcon", "ab 12345", []string{"ab", " ", "123", "45"}},
		{"poro-chat", "Hello, world! (x|y)", []string{"Hello", ",", " world", "! (", "x", "|", "y", ")"}},
		{"viking", "ab12 c", []string{"ab", "1", "2", " c"}},
		{"deepseek-coder", "ab 12\ncd", []string{"ab", " ", "1", "2", "\n", "cd"}},
		{"deepseek-llm", "Hi 你好 42  ", []string{"Hi", " ", "你好", " ", "42", "  "}},
		{"gpt-2", "", nil},
		{"tekken", "Hello WORLD camelCase ÀBC 42 a/b\n", []string{"Hello", " WORLD", " camel", "Case", " À", "BC", " ", "4", "2", " a", "/b", "\n"}},
		{"tekken", "(ok) x.y//\n\nz", []string{"(ok", ")", " x", ".y", "//\n\n", "z"}},
	}
	for _, c := range cases {
		p, ok := preTokenizers[c.pre]
		if !ok {
			t.Fatalf("no pre-tokenizer %q", c.pre)
		}
		ends, _ := p.split(c.text, nil, nil)
		var got []string
		start := 0
		for _, e := range ends {
			got = append(got, c.text[start:e])
			start = e
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %q:\n got %q\nwant %q", c.pre, c.text, got, c.want)
		}
	}
}

// FuzzPreTokenizers checks that every pre-tokenizer cuts any input,
// valid UTF-8 or not, into non-empty pieces that cover it exactly, and
// never cuts inside a valid UTF-8 character.
func FuzzPreTokenizers(f *testing.F) {
	for _, s := range []string{"", "Hello world", "  \n\t x", "ÀBC déf 123 ½", "我想在apple工作1314151天～", "\xff\xfe a\xc3", "'s 'RE x'll"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, p := range preTokenizers {
			ends, _ := p.split(s, nil, nil)
			prev := 0
			for _, e := range ends {
				if e <= prev || e > len(s) {
					t.Fatalf("%s %q: bad cut %d after %d (%v)", name, s, e, prev, ends)
				}
				if e < len(s) && utf8.ValidString(s) && !utf8.RuneStart(s[e]) {
					t.Fatalf("%s %q: cut %d inside a character", name, s, e)
				}
				prev = e
			}
			if prev != len(s) {
				t.Fatalf("%s %q: pieces end at %d of %d", name, s, prev, len(s))
			}
		}
	})
}
