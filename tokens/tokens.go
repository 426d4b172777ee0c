// Package tokens provides the token counters ctxfs records and budgets
// with. The default is OpenAI's cl100k_base encoding, available offline
// and implemented by the project's own byte-level BPE tokenizer; the
// constructor uses a model's own tokenizer when one is configured.
package tokens

import (
	"fmt"
	"sync"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// Encoding names the default offline encoding.
const Encoding = "cl100k_base"

var load = sync.OnceValues(func() (tokenizer.Tokenizer, error) {
	tok, err := tokenizer.CL100K()
	if err != nil {
		return nil, fmt.Errorf("tokens: loading %s: %w", Encoding, err)
	}
	return tok, nil
})

// Default returns the cl100k_base counter. Its vocabulary is loaded on the
// first count, so commands that count nothing do not pay for it. It is
// safe for concurrent use.
func Default() (fs.TokenCounter, error) { return counter{}, nil }

type counter struct{}

// CountTokens counts the tokens of text. It returns 0 if the vocabulary
// could not be loaded, which cannot happen with the embedded data short of
// a broken build; Load reports that error.
func (counter) CountTokens(text string) int {
	tok, err := load()
	if err != nil {
		return 0
	}
	return tok.Count(text)
}

// Load loads the default vocabulary now, reporting any error.
func Load() error {
	_, err := load()
	return err
}

// ForTokenizer adapts a model's tokenizer to fs.TokenCounter.
func ForTokenizer(t tokenizer.Tokenizer) fs.TokenCounter { return modelCounter{t} }

type modelCounter struct{ t tokenizer.Tokenizer }

func (c modelCounter) CountTokens(text string) int { return c.t.Count(text) }
