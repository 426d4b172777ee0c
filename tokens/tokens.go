// Package tokens provides the token counters ctxfs records and budgets
// with. The default is OpenAI's cl100k_base encoding, available offline;
// the constructor uses a model's own tokenizer when one is configured.
package tokens

import (
	"fmt"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"

	"github.com/ctxfs/ctxfs/fs"
)

// Encoding names the default offline encoding.
const Encoding = "cl100k_base"

var load = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	enc, err := tiktoken.GetEncoding(Encoding)
	if err != nil {
		return nil, fmt.Errorf("tokens: loading %s: %w", Encoding, err)
	}
	return enc, nil
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
	enc, err := load()
	if err != nil {
		return 0
	}
	return len(enc.EncodeOrdinary(text))
}

// Load loads the default vocabulary now, reporting any error.
func Load() error {
	_, err := load()
	return err
}
