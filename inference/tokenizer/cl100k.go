package tokenizer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync"

	"github.com/pkoukk/tiktoken-go-loader/assets"
)

// cl100k_base's special tokens and their ids.
var cl100kSpecial = map[string]int32{
	"<|endoftext|>":   100257,
	"<|fim_prefix|>":  100258,
	"<|fim_middle|>":  100259,
	"<|fim_suffix|>":  100260,
	"<|endofprompt|>": 100276,
}

var cl100k struct {
	once sync.Once
	tok  *BPE
	err  error
}

// CL100K returns OpenAI's cl100k_base tokenizer (GPT-3.5/GPT-4), built on
// first use from ranks embedded in the binary (no network) and shared
// afterwards. It is safe for concurrent use. Its ids equal tiktoken's;
// EOS is <|endoftext|> and there is no BOS.
func CL100K() (Tokenizer, error) {
	cl100k.once.Do(func() {
		cl100k.tok, cl100k.err = buildTiktoken("cl100k_base.tiktoken", 100277, cl100kSpecial, preTokenizers["llama3"])
	})
	return cl100k.tok, cl100k.err
}

// buildTiktoken builds a tiktoken encoding from an embedded rank file:
// size ids, the given special tokens, and a pre-tokenizer. Pairs merge by
// the rank of their concatenation, as tiktoken does.
func buildTiktoken(file string, size int, special map[string]int32, pre *preTokenizer) (*BPE, error) {
	data, err := assets.Assets.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", file, err)
	}
	texts := make([]string, size)
	types := make([]TokenType, size)
	for i := range types {
		types[i] = TypeUnused
	}
	rawToID := make(map[string]int32, size)
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("tokenizer: %s: bad line %q: %w", file, line, ErrNoVocab)
		}
		tok, err := base64.StdEncoding.AppendDecode(nil, line[:sp])
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", file, err)
		}
		rank, err := strconv.Atoi(string(line[sp+1:]))
		if err != nil || rank < 0 || rank >= size {
			return nil, fmt.Errorf("tokenizer: %s: bad rank in %q: %w", file, line, ErrNoVocab)
		}
		texts[rank] = string(tok)
		types[rank] = TypeNormal
		rawToID[texts[rank]] = int32(rank)
	}
	for s, id := range special {
		texts[id] = s
		types[id] = TypeControl
	}
	t := &BPE{vocab: newVocab(texts, types), pre: pre, rankMode: true, rawToID: rawToID}
	t.bos, t.eos = -1, special["<|endoftext|>"]
	t.pieces = texts
	t.pieceID = map[string]int32{}
	t.initBytes()
	return t, nil
}
