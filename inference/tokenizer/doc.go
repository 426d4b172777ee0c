// Package tokenizer turns text into the token ids of a language model and
// back, offline and fast.
//
// # Vocabularies
//
// FromGGUF builds the tokenizer that a GGUF model file describes in its
// tokenizer.ggml.* metadata:
//
//   - "llama": SentencePiece-style (SPM). Spaces become "▁", a space is
//     prepended to the text (add_space_prefix), adjacent pieces merge by
//     highest score, and characters without a token fall back to <0xXX>
//     byte tokens.
//   - "gpt2": byte-level BPE. A pre-tokenizer chosen by tokenizer.ggml.pre
//     splits text into words (gpt-2, llama3/llama-bpe, deepseek-llm,
//     deepseek-coder, falcon, mpt, starcoder, refact, command-r, qwen2,
//     olmo, dbrx, smaug, poro, chatglm, viking, jais, stablelm2, tekken,
//     ...), and each word's bytes merge pairwise by merge rank.
//   - "bert": WordPiece (lower-cased, accents stripped, greedy longest
//     match). Its decoding is lossy by design.
//
// All reproduce llama.cpp token for token, including its quirks:
// user-defined tokens are always split out of the text, control tokens
// only with EncodeOptions.ParseSpecial, and SPM adds the space prefix again
// after each special token. The reference vectors in shared/testdata are
// the tests; pre-tokenizers without reference vectors there (llama3 aside,
// which cl100k_base shares and tiktoken checks) are tested against
// hand-derived splits only. Unigram ("t5") and RWKV vocabularies are not
// implemented and yield ErrUnsupported.
//
// CL100K and O200K return OpenAI's cl100k_base (GPT-3.5/GPT-4) and
// o200k_base (GPT-4o/GPT-4.1) encodings, built on first use from ranks
// embedded in the binary; their ids are identical to tiktoken's (tested
// and fuzzed against tiktoken-go).
//
// # Encoding and decoding
//
// Encode never adds BOS unless asked (EncodeOptions.AddBOS;
// DefaultAddBOS tells whether the model expects it). Count returns the
// number of tokens Encode would return, without allocating the slice.
// Decode leaves control tokens out and reassembles byte tokens into UTF-8;
// for valid UTF-8 input that the vocabulary can represent, Decode(Encode(s))
// == s. Piece returns one token's bytes, which may be part of a UTF-8
// character; StreamDecoder turns a stream of generated tokens into text
// without splitting characters.
//
// # Pre-tokenizers
//
// The reference pre-tokenizers are regular expressions with Unicode classes
// and lookahead, which Go's regexp lacks. Each is written out here as a
// small matcher over runes (see pretok.go), applying llama.cpp's sequence
// of expressions with the same piece boundaries.
//
// # Concurrency
//
// The Tokenizer values returned by FromGGUF, NewSPM, NewBPE, NewWPM, CL100K and O200K are
// immutable and safe for concurrent use; per-call scratch space comes from
// sync.Pools. A StreamDecoder belongs to one goroutine.
package tokenizer
