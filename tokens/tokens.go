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

var (
	once    sync.Once
	counter fs.TokenCounter
	initErr error
)

// Default returns the cl100k_base counter. It is built once and is safe for
// concurrent use.
func Default() (fs.TokenCounter, error) {
	once.Do(func() {
		tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
		enc, err := tiktoken.GetEncoding(Encoding)
		if err != nil {
			initErr = fmt.Errorf("tokens: loading %s: %w", Encoding, err)
			return
		}
		counter = tiktokenCounter{enc}
	})
	return counter, initErr
}

type tiktokenCounter struct{ enc *tiktoken.Tiktoken }

func (c tiktokenCounter) CountTokens(text string) int {
	return len(c.enc.EncodeOrdinary(text))
}
