package tokenizer_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"

	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

var tiktokenOnce = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	return tiktoken.GetEncoding("cl100k_base")
})

var tiktokenO200K = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktokenOnce() // sets the offline loader
	return tiktoken.GetEncoding("o200k_base")
})

// cl100kCorpus is a varied set of texts: prose, code, Unicode, numbers,
// white space runs, and random strings over a mixed alphabet.
func cl100kCorpus(tb testing.TB) []string {
	corpus := []string{
		"",
		"Hello world",
		"The quick brown fox jumps over the lazy dog. It's 3:45pm; we'll see—won't we? I'M SURE THEY'RE HERE.",
		"func main() {\n\tfmt.Println(\"hi\")\n\tfor i := 0; i < 10; i++ {\n\t\tx += i*2\n\t}\n}\n",
		"def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n\n\n",
		"1 12 123 1234 12345 123456 1234567 3.14159 -42 1,000,000 0xDEADBEEF 1e-9",
		"   leading and trailing   \n\n  \t\t  \r\n x  \u00a0\u3000 y\u2028z",
		"нещо на Български, 日本語のテキスト、中文文本。한국어 텍스트. Ελληνικά. עברית. العربية",
		"emoji 🚀🦙 😶‍🌫️ family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 ✅",
		"Führer Cửa Việt naïve café coöperate ﬁnance ½ ² Ⅻ ٣",
		"<|endoftext|> is special but encoded as text here",
		"'s 'S 'll 'LL 're 'Re 'd 've I've we'D x'y '''' ```",
		"https://example.com/path?q=1&r=two#frag user@example.org C:\\Windows\\System32",
		strings.Repeat(" ", 100) + "x" + strings.Repeat("\n", 50) + strings.Repeat("ab", 200),
		"\x00\x01\x7f control \t\v\f chars",
		"camelCase McDonald's iPhone XMLHttpRequest ÀBC ÀbC aÀB ǅungla İstanbul ΣΊΣΥΦΟΣ",
		"e\u0301te\u0301 n\u0303 नमस्ते दुनिया ภาษาไทย 한국어 \u0301x \u20dd",
		"path/to/file.go\n// comment /* x */ a//b\r\n",
	}
	// The llama.cpp test texts, a good mix of edge cases.
	if dir := findShared("tokenizers/llama.cpp-vocab"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "ggml-vocab-gpt-2.gguf.inp")); err == nil {
			corpus = append(corpus, strings.Split(string(data), "\n__ggml_vocab_test__\n")...)
		}
	}
	// This package's own source: real code.
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			corpus = append(corpus, string(data))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aeiouAEIOU bcdXYZ0123456789  \n\t.,;:'\"!?()[]{}<>-_=+*/\\|@#$%^&~`éüßñçøåЖжΩπλ中文字日本한국🚀🦙\u00a0\u2003\r\u0301\u0903ǅʰऄ")
	for range 300 {
		n := rng.IntN(80)
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		corpus = append(corpus, b.String())
	}
	return corpus
}

func findShared(rel string) string {
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, "shared", "testdata", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func TestTiktokenEncodings(t *testing.T) {
	corpus := cl100kCorpus(t)
	for _, enc := range []struct {
		name  string
		ours  func() (tokenizer.Tokenizer, error)
		ref   func() (*tiktoken.Tiktoken, error)
		size  int
		eos   int32
		extra string
	}{
		{"cl100k_base", tokenizer.CL100K, tiktokenOnce, 100277, 100257, "<|endoftext|>"},
		{"o200k_base", tokenizer.O200K, tiktokenO200K, 200019, 199999, "<|endofprompt|>"},
	} {
		t.Run(enc.name, func(t *testing.T) {
			ref, err := enc.ref()
			if err != nil {
				t.Fatal(err)
			}
			tok, err := enc.ours()
			if err != nil {
				t.Fatal(err)
			}
			pass := 0
			for i, text := range corpus {
				want := ref.EncodeOrdinary(text)
				got := tok.Encode(text, tokenizer.EncodeOptions{})
				if !slices.EqualFunc(got, want, func(a int32, b int) bool { return int(a) == b }) {
					t.Errorf("text %d %q:\n got %v\nwant %v", i, text, got, want)
					continue
				}
				if n := tok.Count(text); n != len(want) {
					t.Errorf("text %d: Count %d, want %d", i, n, len(want))
				}
				if dec := tok.Decode(got); dec != text {
					t.Errorf("text %d: Decode = %q", i, dec)
				}
				pass++
			}
			t.Logf("%s: %d/%d texts identical to tiktoken-go", enc.name, pass, len(corpus))
			if tok.VocabSize() != enc.size || tok.EOS() != enc.eos || tok.BOS() != -1 {
				t.Errorf("vocab %d eos %d bos %d", tok.VocabSize(), tok.EOS(), tok.BOS())
			}
			// Special tokens only when asked.
			text := "a" + enc.extra + "b"
			if got := tok.Encode(text, tokenizer.EncodeOptions{ParseSpecial: true}); len(got) != 3 || got[1] < int32(enc.size)-300 {
				t.Errorf("ParseSpecial: %v", got)
			}
			want := ref.EncodeOrdinary(text)
			if got := tok.Encode(text, tokenizer.EncodeOptions{}); len(got) != len(want) {
				t.Errorf("special token parsed without ParseSpecial: %v", got)
			}
		})
	}
}

func TestCL100KConcurrent(t *testing.T) {
	tok, err := tokenizer.CL100K()
	if err != nil {
		t.Fatal(err)
	}
	corpus := cl100kCorpus(t)[:40]
	want := make([][]int32, len(corpus))
	for i, s := range corpus {
		want[i] = tok.Encode(s, tokenizer.EncodeOptions{})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range corpus {
				j := (i + g) % len(corpus)
				if got := tok.Encode(corpus[j], tokenizer.EncodeOptions{}); !slices.Equal(got, want[j]) {
					errs <- fmt.Sprintf("goroutine %d text %d differs", g, j)
					return
				}
				if n := tok.Count(corpus[j]); n != len(want[j]) {
					errs <- fmt.Sprintf("goroutine %d text %d: count %d", g, j, n)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// benchText is about 64 KiB of mixed prose, code and Unicode.
func benchText(tb testing.TB) string {
	var b strings.Builder
	for _, s := range cl100kCorpus(tb) {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	s := b.String()
	for len(s) < 64<<10 {
		s += s
	}
	return s[:64<<10]
}

// proseText is English prose from shared/testdata (licenses, the
// stories260K notes and generations), or "" if absent.
func proseText() string {
	var text string
	for _, rel := range []string{
		"models/stories260K/stories260K.md", "models/stories260K/LICENSE.llama2.c",
		"tokenizers/llama.cpp-vocab/LICENSE.llama.cpp",
		"models/stories260K/expected/greedy_t0_n256.txt", "models/stories260K/expected/sample_t1_p0.9_seed133742_n256.txt",
	} {
		if p := findShared(rel); p != "" {
			if d, err := os.ReadFile(p); err == nil {
				text += string(d) + "\n"
			}
		}
	}
	return text
}

// BenchmarkCL100K compares this package's cl100k_base with tiktoken-go on
// the same texts in the same run: "mixed" is ~64 KiB of code, Unicode,
// numbers and random strings; "prose" is English.
func BenchmarkCL100K(b *testing.B) {
	tok, err := tokenizer.CL100K()
	if err != nil {
		b.Fatal(err)
	}
	ref, err := tiktokenOnce()
	if err != nil {
		b.Fatal(err)
	}
	for _, corpus := range []struct{ name, text string }{{"mixed", benchText(b)}, {"prose", proseText()}} {
		if corpus.text == "" {
			continue
		}
		text := corpus.text
		b.Run(corpus.name+"/ctxfs/Encode", func(b *testing.B) {
			loopCPU(b, len(text), func() { tok.Encode(text, tokenizer.EncodeOptions{}) })
		})
		b.Run(corpus.name+"/ctxfs/Count", func(b *testing.B) {
			loopCPU(b, len(text), func() { tok.Count(text) })
		})
		b.Run(corpus.name+"/tiktoken-go/EncodeOrdinary", func(b *testing.B) {
			loopCPU(b, len(text), func() { ref.EncodeOrdinary(text) })
		})
	}
}

// FuzzTiktoken compares cl100k_base and o200k_base with tiktoken-go on
// arbitrary valid UTF-8.
func FuzzTiktoken(f *testing.F) {
	for _, s := range []string{"Hello world", "camelCase ÀBC", "e\u0301 'S 1234", "  \n\n x/\r\n", "ǅungla नमस्ते"} {
		f.Add(s)
	}
	type pair struct {
		ours tokenizer.Tokenizer
		ref  *tiktoken.Tiktoken
	}
	var pairs []pair
	for _, p := range []struct {
		ours func() (tokenizer.Tokenizer, error)
		ref  func() (*tiktoken.Tiktoken, error)
	}{{tokenizer.CL100K, tiktokenOnce}, {tokenizer.O200K, tiktokenO200K}} {
		o, err1 := p.ours()
		r, err2 := p.ref()
		if err1 != nil || err2 != nil {
			f.Fatal(err1, err2)
		}
		pairs = append(pairs, pair{o, r})
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			t.Skip()
		}
		for _, p := range pairs {
			want := p.ref.EncodeOrdinary(text)
			got := p.ours.Encode(text, tokenizer.EncodeOptions{})
			if !slices.EqualFunc(got, want, func(a int32, b int) bool { return int(a) == b }) {
				t.Fatalf("%q:\n got %v\nwant %v", text, got, want)
			}
		}
	})
}
