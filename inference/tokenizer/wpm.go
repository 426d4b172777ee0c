package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// WPMOptions configure NewWPM.
type WPMOptions struct {
	// CLS and SEP are BERT's sequence tokens; Encode's AddBOS prepends CLS.
	CLS, SEP, UNK int32
}

// WPM is a WordPiece tokenizer (tokenizer.ggml.model "bert"), as llama.cpp
// implements it: text is lower-cased, accents are stripped (each code point
// is replaced by the first one of its NFD decomposition), punctuation and
// CJK characters become words of their own, and each word, prefixed with
// "▁", is split greedily into the longest tokens; a word that cannot be
// split becomes the unknown token. Decoding is lossy.
//
// A WPM is immutable and safe for concurrent use.
type WPM struct {
	*vocab
	toID   map[string]int32
	maxLen int
	unk    int32
}

var _ Tokenizer = (*WPM)(nil)

// NewWPM builds a WordPiece tokenizer from token texts (word-initial pieces
// carry a "▁" prefix, as llama.cpp's converter writes them) and types.
func NewWPM(texts []string, types []TokenType, opts WPMOptions) *WPM {
	t := &WPM{vocab: newVocab(texts, types), unk: opts.UNK}
	t.bos, t.eos, t.addBOS, t.spacePrefix = opts.CLS, opts.SEP, true, true
	t.toID = make(map[string]int32, len(texts))
	t.pieces = make([]string, len(texts))
	for i, s := range texts {
		t.toID[s] = int32(i)
		t.maxLen = max(t.maxLen, len(s))
		t.pieces[i] = strings.ReplaceAll(s, "▁", " ")
	}
	return t
}

func (t *WPM) Encode(text string, opts EncodeOptions) []int32 {
	return t.vocab.encode(t, text, opts, make([]int32, 0, len(text)/4+2))
}

func (t *WPM) Decode(ids []int32) string { return t.vocab.decode(ids) }

func (t *WPM) Count(text string) int { return t.vocab.count(t, text) }

func (t *WPM) encodeFragment(text string, _ bool, out []int32) []int32 {
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			out = t.word("▁"+word.String(), out)
			word.Reset()
		}
	}
	for _, r := range text {
		r = firstNFD(r)
		switch {
		case unicode.IsSpace(r):
			flush()
			continue
		case r == 0 || r == utf8.RuneError || unicode.Is(unicode.C, r):
			continue
		}
		lower := unicode.ToLower(r)
		if unicode.IsPunct(r) || (r < 0x7f && unicode.IsSymbol(r)) || isChinese(r) {
			flush()
			word.WriteRune(lower)
			flush()
			continue
		}
		word.WriteRune(lower)
	}
	flush()
	return out
}

// word splits one "▁"-prefixed word into the longest matching tokens.
func (t *WPM) word(w string, out []int32) []int32 {
	n0 := len(out)
	for i := 0; i < len(w); {
		j := min(len(w), i+t.maxLen)
		for ; j > i; j-- {
			if id, ok := t.toID[w[i:j]]; ok {
				out = append(out, id)
				break
			}
		}
		if j == i { // no token starts here: the whole word is unknown
			return append(out[:n0], t.unk)
		}
		i = j
	}
	return out
}

// firstNFD maps a code point to the first code point of its canonical
// decomposition, which strips accents the way llama.cpp's table does.
func firstNFD(r rune) rune {
	if r < 0xc0 {
		return r
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	if norm.NFD.IsNormal(buf[:n]) {
		return r
	}
	d, _ := utf8.DecodeRuneInString(norm.NFD.String(string(r)))
	return d
}

func isChinese(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}
