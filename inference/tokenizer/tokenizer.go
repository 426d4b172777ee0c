package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ctxfs/ctxfs/inference/gguf"
)

// Tokenizer turns text into token ids and back.
//
// Implementations in this package are immutable after construction and
// safe for concurrent use by multiple goroutines.
type Tokenizer interface {
	// Encode returns the token ids of text.
	Encode(text string, opts EncodeOptions) []int32
	// Decode returns the text of ids. Control tokens (BOS, EOS, ...) are
	// left out; byte tokens are reassembled into UTF-8.
	Decode(ids []int32) string
	// Piece returns the bytes a token stands for: the decoded text of a
	// normal token, a single byte for a byte token, and the literal text
	// of a control token. It may be an incomplete UTF-8 sequence; use a
	// StreamDecoder to print tokens as they are generated.
	Piece(id int32) string
	// BOS and EOS return the begin- and end-of-sequence token ids, or -1.
	BOS() int32
	EOS() int32
	// VocabSize returns the number of token ids.
	VocabSize() int
	// Count returns len(Encode(text, EncodeOptions{})) without building
	// the slice.
	Count(text string) int
}

// EncodeOptions control Encode. The zero value encodes plain text: no BOS,
// and text that looks like a control token (such as "<s>") is encoded as
// text.
type EncodeOptions struct {
	// AddBOS prepends the BOS token (if the vocabulary has one).
	AddBOS bool
	// ParseSpecial turns the literal text of control tokens into those
	// tokens. User-defined tokens are always recognized, as llama.cpp does.
	ParseSpecial bool
}

// Errors returned by FromGGUF wrap one of these.
var (
	// ErrNoVocab means the file has no usable tokenizer metadata.
	ErrNoVocab = errors.New("tokenizer: no vocabulary")
	// ErrUnsupported means the vocabulary uses a tokenizer model or
	// pre-tokenizer this package does not implement.
	ErrUnsupported = errors.New("tokenizer: unsupported")
)

// TokenType is the type of a token, as in tokenizer.ggml.token_type.
type TokenType int32

// Token types, numbered as llama.cpp numbers them.
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3
	TypeUserDefined TokenType = 4
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6
)

// vocab holds what both tokenizer models share: token texts and types,
// special tokens and their partitioning, and decoding.
type vocab struct {
	texts  []string    // token text as stored in the file
	types  []TokenType // per token
	pieces []string    // decoded bytes per token (see Tokenizer.Piece)
	bos    int32
	eos    int32
	addBOS bool
	// spacePrefix strips the space that encoding prepends (SPM's
	// add_space_prefix) from the first decoded piece.
	spacePrefix bool

	// userDefined are the user-defined tokens (always partitioned out of
	// the text) and special all control, user-defined and unknown ones
	// (partitioned out when ParseSpecial is set), both longest first.
	userDefined []int32
	special     []int32
}

// fragmentEncoder encodes a span of text that holds no special tokens.
// afterSpecial reports that the span begins the text or follows a special
// token (SPM prepends a space there).
type fragmentEncoder interface {
	encodeFragment(text string, afterSpecial bool, out []int32) []int32
}

func newVocab(texts []string, types []TokenType) *vocab {
	v := &vocab{texts: texts, types: types, bos: -1, eos: -1}
	for id, t := range types {
		if texts[id] == "" {
			continue
		}
		switch t {
		case TypeUserDefined:
			v.userDefined = append(v.userDefined, int32(id))
			v.special = append(v.special, int32(id))
		case TypeControl, TypeUnknown:
			v.special = append(v.special, int32(id))
		}
	}
	byLen := func(a, b int32) int { return len(texts[b]) - len(texts[a]) }
	slices.SortStableFunc(v.userDefined, byLen)
	slices.SortStableFunc(v.special, byLen)
	return v
}

func (v *vocab) BOS() int32     { return v.bos }
func (v *vocab) EOS() int32     { return v.eos }
func (v *vocab) VocabSize() int { return len(v.texts) }

func (v *vocab) Piece(id int32) string {
	if id < 0 || int(id) >= len(v.pieces) {
		return ""
	}
	if v.types[id] == TypeControl {
		return v.texts[id]
	}
	return v.pieces[id]
}

// fragment is a span of raw text (tok < 0) or a special token.
type fragment struct {
	tok        int32
	start, end int
}

// partition splits text around special tokens the way llama.cpp does:
// tokens are taken longest first, each splitting every raw fragment left
// so far at all of its occurrences.
func (v *vocab) partition(text string, parseSpecial bool) []fragment {
	cands := v.userDefined
	if parseSpecial {
		cands = v.special
	}
	frags := []fragment{{-1, 0, len(text)}}
	for _, id := range cands {
		tt := v.texts[id]
		if !strings.Contains(text, tt) {
			continue
		}
		next := make([]fragment, 0, len(frags)+2)
		for _, f := range frags {
			if f.tok >= 0 {
				next = append(next, f)
				continue
			}
			pos := f.start
			for {
				i := strings.Index(text[pos:f.end], tt)
				if i < 0 {
					break
				}
				if i > 0 {
					next = append(next, fragment{-1, pos, pos + i})
				}
				next = append(next, fragment{id, pos + i, pos + i + len(tt)})
				pos += i + len(tt)
			}
			if pos < f.end {
				next = append(next, fragment{-1, pos, f.end})
			}
		}
		frags = next
	}
	return frags
}

// encode runs the shared part of encoding: BOS, special tokens, then the
// model's fragment encoder on each stretch of plain text.
func (v *vocab) encode(fe fragmentEncoder, text string, opts EncodeOptions, out []int32) []int32 {
	if opts.AddBOS && v.bos >= 0 {
		out = append(out, v.bos)
	}
	if len(text) == 0 {
		return out
	}
	cands := v.userDefined
	if opts.ParseSpecial {
		cands = v.special
	}
	if len(cands) == 0 {
		return fe.encodeFragment(text, true, out)
	}
	afterSpecial := true
	for _, f := range v.partition(text, opts.ParseSpecial) {
		if f.tok >= 0 {
			out = append(out, f.tok)
			afterSpecial = true
			continue
		}
		out = fe.encodeFragment(text[f.start:f.end], afterSpecial, out)
		afterSpecial = false
	}
	return out
}

var idsPool = sync.Pool{New: func() any { return new([]int32) }}

// count encodes into a pooled buffer and returns the number of tokens.
func (v *vocab) count(fe fragmentEncoder, text string) int {
	buf := idsPool.Get().(*[]int32)
	*buf = v.encode(fe, text, EncodeOptions{}, (*buf)[:0])
	n := len(*buf)
	if cap(*buf) > 1<<20 {
		*buf = nil // do not keep huge buffers alive
	}
	idsPool.Put(buf)
	return n
}

func (v *vocab) decode(ids []int32) string {
	var b strings.Builder
	afterSpecial := true
	for _, id := range ids {
		var p string
		p, afterSpecial = v.decodePiece(id, afterSpecial)
		b.WriteString(p)
	}
	return b.String()
}

// decodePiece returns the text of one token in a decoded sequence. Encode
// prepends a space to text at the start and after each special token when
// the vocabulary adds a space prefix, so decoding removes it there.
func (v *vocab) decodePiece(id int32, afterSpecial bool) (piece string, nextAfterSpecial bool) {
	if id < 0 || int(id) >= len(v.pieces) {
		return "", afterSpecial
	}
	switch v.types[id] {
	case TypeControl:
		return "", true
	case TypeUserDefined:
		return v.pieces[id], true
	}
	p := v.pieces[id]
	if afterSpecial && v.spacePrefix {
		p = strings.TrimPrefix(p, " ")
	}
	return p, false
}

// StreamDecoder turns tokens into text as they are generated, holding back
// the bytes of an incomplete UTF-8 character until the tokens that complete
// it arrive. The concatenation of everything Add and Flush return equals
// Decode of all the tokens added. A StreamDecoder is not safe for
// concurrent use.
type StreamDecoder struct {
	t       Tokenizer
	pending []byte
	started bool
	// afterSpecial is set after a special token (see vocab.decodePiece).
	afterSpecial bool
}

// NewStreamDecoder returns a StreamDecoder for t.
func NewStreamDecoder(t Tokenizer) *StreamDecoder { return &StreamDecoder{t: t} }

// Add consumes one token and returns the text that is now complete.
func (d *StreamDecoder) Add(id int32) string {
	var piece string
	if v := vocabOf(d.t); v != nil {
		piece, d.afterSpecial = v.decodePiece(id, d.afterSpecial || !d.started)
	} else {
		piece = d.t.Decode([]int32{id})
	}
	d.started = true
	d.pending = append(d.pending, piece...)
	// Emit everything up to the start of a trailing incomplete character.
	n := len(d.pending)
	cut := n
	for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
		c := d.pending[i]
		if c < 0x80 {
			break
		}
		if c >= 0xC0 { // a lead byte: is its character complete?
			if !utf8.FullRune(d.pending[i:]) {
				cut = i
			}
			break
		}
	}
	out := string(d.pending[:cut])
	d.pending = append(d.pending[:0], d.pending[cut:]...)
	return out
}

// Flush returns any bytes still held back (an incomplete character at the
// end of generation).
func (d *StreamDecoder) Flush() string {
	out := string(d.pending)
	d.pending = d.pending[:0]
	return out
}

func vocabOf(t Tokenizer) *vocab {
	switch t := t.(type) {
	case *SPM:
		return t.vocab
	case *BPE:
		return t.vocab
	case *WPM:
		return t.vocab
	}
	return nil
}

// FromGGUF builds the tokenizer described by a GGUF file's tokenizer.ggml.*
// metadata: SentencePiece-style ("llama") or byte-level BPE ("gpt2").
func FromGGUF(f *gguf.File) (Tokenizer, error) {
	model, ok := f.String("tokenizer.ggml.model")
	if !ok {
		return nil, fmt.Errorf("tokenizer: tokenizer.ggml.model missing: %w", ErrNoVocab)
	}
	texts, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(texts) == 0 {
		return nil, fmt.Errorf("tokenizer: tokenizer.ggml.tokens missing: %w", ErrNoVocab)
	}
	if len(texts) > 1<<30 {
		return nil, fmt.Errorf("tokenizer: %d tokens: %w", len(texts), ErrUnsupported)
	}
	types := make([]TokenType, len(texts))
	for i := range types {
		types[i] = TypeNormal
	}
	if tt, ok := f.Int32s("tokenizer.ggml.token_type"); ok {
		if len(tt) != len(texts) {
			return nil, fmt.Errorf("tokenizer: %d token types for %d tokens: %w", len(tt), len(texts), ErrNoVocab)
		}
		for i, t := range tt {
			types[i] = TokenType(t)
		}
	}
	// id reads a special token id; out-of-range ids (and defaults that do
	// not fit a small vocabulary) become -1 rather than invalid tokens.
	id := func(key string, def int32) int32 {
		if u, ok := f.Uint("tokenizer.ggml." + key); ok && u < uint64(len(texts)) {
			return int32(u)
		}
		if int(def) >= len(texts) {
			return -1
		}
		return def
	}
	switch model {
	case "llama":
		scores, ok := f.Float32s("tokenizer.ggml.scores")
		if !ok {
			scores = make([]float32, len(texts))
		} else if len(scores) != len(texts) {
			return nil, fmt.Errorf("tokenizer: %d scores for %d tokens: %w", len(scores), len(texts), ErrNoVocab)
		}
		opts := SPMOptions{BOS: id("bos_token_id", 1), EOS: id("eos_token_id", 2), UNK: id("unknown_token_id", 0),
			AddBOS: true, AddSpacePrefix: true}
		if b, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok {
			opts.AddBOS = b
		}
		if b, ok := f.Bool("tokenizer.ggml.add_space_prefix"); ok {
			opts.AddSpacePrefix = b
		}
		return NewSPM(texts, scores, types, opts), nil
	case "gpt2":
		merges, ok := f.Strings("tokenizer.ggml.merges")
		if !ok {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.merges missing: %w", ErrNoVocab)
		}
		pre, _ := f.String("tokenizer.ggml.pre")
		if pre == "" {
			pre = "default"
		}
		opts := BPEOptions{Pre: pre, BOS: id("bos_token_id", 11), EOS: id("eos_token_id", 11)}
		if b, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok {
			opts.AddBOS = b
		}
		return NewBPE(texts, types, merges, opts)
	case "bert":
		opts := WPMOptions{CLS: id("cls_token_id", 101), SEP: id("seperator_token_id", 102), UNK: id("unknown_token_id", 100)}
		return NewWPM(texts, types, opts), nil
	}
	return nil, fmt.Errorf("tokenizer: tokenizer model %q: %w", model, ErrUnsupported)
}
