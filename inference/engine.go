package inference

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/sample"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// EngineOptions configures an Engine. The zero value uses every core, the model's
// context length, and the chat template named by the model's metadata.
type EngineOptions struct {
	// Name is the model name reported to clients (default: general.name, else "local").
	Name string
	// Backend runs the model (nil: llama.CPU).
	Backend llama.Backend
	// Session configures the backend session (threads, context, batch).
	Session llama.SessionOptions
	// Template overrides the chat template chosen from the metadata.
	Template *ChatTemplate
}

// Engine is the local Generator: one model, one session, and its tokenizer. Requests
// are served one at a time; the KV cache is reused across requests that share a prompt
// prefix. Engine is safe for concurrent use.
type Engine struct {
	model    *llama.Model
	tok      tokenizer.Tokenizer
	template ChatTemplate
	name     string
	stopIDs  map[int32]bool
	file     *gguf.File // closed by Close when the engine opened it

	// mu serializes generations and guards the session, its cached tokens and logits.
	mu      sync.Mutex
	sess    llama.Session
	history []int32
	logits  []float32
}

var _ Generator = (*Engine)(nil)

// NewEngine returns an engine for m. meta, if not nil, is the model's GGUF file, read for
// the model name and chat template.
func NewEngine(m *llama.Model, tok tokenizer.Tokenizer, meta *gguf.File, opts EngineOptions) (*Engine, error) {
	be := opts.Backend
	if be == nil {
		be = llama.CPU
	}
	sess, err := be.NewSession(m, opts.Session)
	if err != nil {
		return nil, err
	}
	e := &Engine{model: m, tok: tok, sess: sess, logits: make([]float32, m.Vocab), name: opts.Name, stopIDs: map[int32]bool{}}
	var chatTpl string
	if meta != nil {
		chatTpl, _ = meta.String("tokenizer.chat_template")
		if e.name == "" {
			e.name, _ = meta.String("general.name")
		}
	}
	if e.name == "" {
		e.name = "local"
	}
	e.template = TemplateFor(chatTpl, m.Arch)
	if opts.Template != nil {
		e.template = *opts.Template
	}
	e.stopIDs[tok.EOS()] = true
	for _, s := range e.template.Stops {
		if ids := tok.Encode(s, tokenizer.EncodeOptions{ParseSpecial: true}); len(ids) == 1 {
			e.stopIDs[ids[0]] = true
		}
	}
	return e, nil
}

// Name returns the model name.
func (e *Engine) Name() string { return e.name }

// Model returns the model.
func (e *Engine) Model() *llama.Model { return e.model }

// Tokenizer returns the model's tokenizer.
func (e *Engine) Tokenizer() tokenizer.Tokenizer { return e.tok }

// Template returns the chat template in use.
func (e *Engine) Template() ChatTemplate { return e.template }

// Close releases the session.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.sess.Close()
	if e.file != nil {
		if cerr := e.file.Close(); err == nil {
			err = cerr
		}
		e.file = nil
	}
	return err
}

// PromptIDs returns the token ids a request's prompt encodes to.
func (e *Engine) PromptIDs(req Request) ([]int32, error) {
	switch {
	case req.Prompt != "" && len(req.Messages) > 0:
		return nil, fmt.Errorf("both a prompt and messages: %w", ErrInvalid)
	case len(req.Messages) > 0:
		return e.tok.Encode(e.template.Render(req.Messages), tokenizer.EncodeOptions{AddBOS: true, ParseSpecial: true}), nil
	}
	return e.tok.Encode(req.Prompt, tokenizer.EncodeOptions{AddBOS: true}), nil
}

// Generate implements Generator.
func (e *Engine) Generate(ctx context.Context, req Request) (*Response, error) {
	prompt, err := e.PromptIDs(req)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ctxLen := e.model.Context
	if c := e.sessionContext(); c > 0 {
		ctxLen = c
	}
	if len(prompt) == 0 {
		return nil, fmt.Errorf("empty prompt and the vocabulary has no BOS token: %w", ErrInvalid)
	}
	if len(prompt) >= ctxLen {
		return nil, fmt.Errorf("prompt of %d tokens for a context of %d: %w", len(prompt), ctxLen, ErrInvalid)
	}
	// A compressing session takes the request's policy; a prefix compressed under
	// another policy is recomputed rather than reused.
	if ks, ok := e.sess.(interface {
		SetKV(*kv.Config) (recompute bool, err error)
	}); ok {
		recompute, err := ks.SetKV(req.KV)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if recompute {
			e.history = e.history[:0]
		}
	} else if req.KV != nil && req.KV.Policy != "" && req.KV.Policy != kv.PolicyFull {
		return nil, fmt.Errorf("KV policy %q on a backend that does not compress (see kvbench.Backend): %w", req.KV.Policy, ErrInvalid)
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	// Reuse the cached prefix; at least one prompt token must run to get logits.
	common := 0
	for common < len(e.history) && common < len(prompt)-1 && e.history[common] == prompt[common] {
		common++
	}
	if err := e.sess.Rewind(common); err != nil {
		return nil, err
	}
	e.history = append(e.history[:common], prompt[common:]...)
	if err := e.sess.Forward(prompt[common:], e.logits); err != nil {
		e.history = e.history[:e.sess.Pos()]
		return nil, err
	}
	seed := req.Seed
	if seed == 0 && req.Temperature > 0 {
		var b [8]byte
		crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	sm := sample.New(sample.Options{
		Temperature: req.Temperature, TopK: req.TopK, TopP: req.TopP, MinP: req.MinP,
		RepeatPenalty: req.RepeatPenalty, Seed: seed,
	}, e.model.Vocab)
	stops := append(append([]string(nil), req.Stop...), e.template.Stops...)
	if len(req.Messages) == 0 {
		stops = req.Stop
	}
	stopper := sample.NewStopper(stops)
	resp := &Response{PromptTokens: prompt, FinishReason: FinishLength}
	var text strings.Builder
	dec := tokenizer.NewStreamDecoder(e.tok)
	for len(resp.Tokens) < maxTokens {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tok := sm.Sample(e.logits, e.history)
		if e.stopIDs[tok] {
			resp.FinishReason = FinishStop
			break
		}
		resp.Tokens = append(resp.Tokens, tok)
		emit, stopped := stopper.Push(dec.Add(tok))
		text.WriteString(emit)
		if req.OnToken != nil {
			if err := req.OnToken(Token{ID: tok, Text: emit}); err != nil {
				return nil, err
			}
		}
		if stopped {
			resp.FinishReason = FinishStop
			break
		}
		if len(resp.Tokens) == maxTokens || e.sess.Pos() >= ctxLen {
			break
		}
		e.history = append(e.history, tok)
		if err := e.sess.Forward([]int32{tok}, e.logits); err != nil {
			e.history = e.history[:e.sess.Pos()]
			return nil, err
		}
	}
	// Bytes of an unfinished character, and text held back near a stop string that
	// never completed, end the output (a Stopper that hit a stop returns nothing).
	tail, _ := stopper.Push(dec.Flush())
	if rest := tail + stopper.Flush(); rest != "" {
		text.WriteString(rest)
		if req.OnToken != nil {
			if err := req.OnToken(Token{ID: -1, Text: rest}); err != nil {
				return nil, err
			}
		}
	}
	resp.Text = text.String()
	resp.Usage = Usage{PromptTokens: len(prompt), CompletionTokens: len(resp.Tokens), TotalTokens: len(prompt) + len(resp.Tokens)}
	return resp, nil
}

func (e *Engine) sessionContext() int {
	if s, ok := e.sess.(interface{ Capacity() int }); ok {
		return s.Capacity()
	}
	return 0
}

// Open loads the GGUF model at path with its tokenizer and returns an engine over it.
// inMemory reads the weights into memory instead of mapping the file. Close releases
// the file too.
func Open(path string, inMemory bool, opts EngineOptions) (*Engine, error) {
	f, err := gguf.OpenFile(path, gguf.Options{InMemory: inMemory})
	if err != nil {
		return nil, err
	}
	m, err := llama.Load(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	e, err := NewEngine(m, tok, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	e.file = f
	return e, nil
}
