package inference

import (
	"context"
	"errors"

	"github.com/ctxfs/ctxfs/inference/kv"
)

// Generator produces text from a prompt. Implementations are safe for concurrent use
// (the local engine serializes requests; the OpenAI client issues them in parallel).
//
// Generate returns ctx's error if ctx is done before generation finishes, an error
// wrapping ErrInvalid for a malformed request (both Prompt and Messages, neither, or a
// prompt longer than the context window), and the error returned by OnToken, if any,
// which stops generation.
type Generator interface {
	Generate(ctx context.Context, req Request) (*Response, error)
}

// ErrInvalid marks a request that cannot be served as given.
var ErrInvalid = errors.New("inference: invalid request")

// Message is one turn of a chat.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Request is one generation request. The zero value of every sampling field means
// "off": greedy decoding with no top-k/top-p/min-p filtering.
type Request struct {
	// Prompt is raw text to continue; Messages is a chat. Exactly one must be set.
	Prompt   string
	Messages []Message
	// MaxTokens bounds the generated tokens (0: DefaultMaxTokens).
	MaxTokens int
	// Temperature 0 is greedy decoding.
	Temperature float32
	TopP        float32
	TopK        int
	MinP        float32
	// RepeatPenalty > 1 penalizes recent tokens (0 or 1: off).
	RepeatPenalty float32
	// Seed makes sampling reproducible; 0 picks a random seed.
	Seed uint64
	// Stop ends generation before the first occurrence of any of these strings.
	Stop []string
	// KV, if set, chooses the KV-cache compression policy of this request on a
	// local engine whose backend compresses (kvbench.Backend); nil keeps the
	// engine's configured policy. Remote servers ignore it.
	KV *kv.Config
	// OnToken, if set, is called with the text of each new token as it is produced
	// (possibly empty while text is held back near a stop string or inside a UTF-8
	// sequence). An error stops generation and is returned by Generate.
	OnToken func(Token) error
}

// DefaultMaxTokens is the generation limit when Request.MaxTokens is 0.
const DefaultMaxTokens = 256

// Token is one streamed token.
type Token struct {
	ID   int32  // -1 when the backend does not report ids (remote servers)
	Text string // the text this token added
}

// Finish reasons, as in the OpenAI API.
const (
	FinishStop   = "stop"   // end-of-sequence token or a stop string
	FinishLength = "length" // MaxTokens or the context window reached
)

// Response is the result of a generation.
type Response struct {
	Text string
	// Tokens and PromptTokens are the generated and prompt token ids, when known (the
	// local engine always knows them; remote servers do not report them).
	Tokens       []int32
	PromptTokens []int32
	// Usage counts tokens even when their ids are unknown.
	Usage        Usage
	FinishReason string
}

// Usage counts the tokens of a request.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}
