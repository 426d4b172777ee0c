package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// vocabulary is the word list generated corpora draw from, Zipf-distributed
// so that some words are common and most are rare, as in real text.
var vocabulary = func() []string {
	syll := []string{"ka", "to", "ri", "mo", "sa", "ne", "lu", "pi", "da", "ve", "zo", "qui", "bra", "ch", "el", "or", "un", "ist", "ent", "ion"}
	rng := rand.New(rand.NewPCG(42, 42))
	seen := map[string]bool{}
	var words []string
	for len(words) < 20000 {
		n := 1 + rng.IntN(4)
		var b strings.Builder
		for range n {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		w := b.String()
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}()

// Corpus describes a generated set of text files.
type Corpus struct {
	Dir   string   // host directory holding the files
	Files []string // paths relative to Dir, slash-separated
	Bytes int64
}

// MakeCorpus writes n text files of 0.5 to 4 KiB of Zipf-distributed words,
// 100 to a directory, below dir, deterministically from seed.
func MakeCorpus(dir string, n int, seed uint64) (*Corpus, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(seed+1, seed)), 1.1, 1, uint64(len(vocabulary)-1))
	c := &Corpus{Dir: dir}
	var b strings.Builder
	for i := range n {
		rel := fmt.Sprintf("d%04d/doc%06d.txt", i/100, i)
		b.Reset()
		size := 512 + rng.IntN(3584)
		for b.Len() < size {
			b.WriteString(vocabulary[zipf.Uint64()])
			if rng.IntN(12) == 0 {
				b.WriteString(".\n")
			} else {
				b.WriteByte(' ')
			}
		}
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(full, []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		c.Files = append(c.Files, rel)
		c.Bytes += int64(b.Len())
	}
	return c, nil
}

// Queries returns n search queries over the corpus vocabulary: single words
// and pairs, drawn from the common-but-not-stop-word band, as users search.
func Queries(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	qs := make([]string, n)
	for i := range qs {
		w := vocabulary[20+rng.IntN(2000)]
		if i%2 == 1 {
			w += " " + vocabulary[20+rng.IntN(2000)]
		}
		qs[i] = w
	}
	return qs
}
