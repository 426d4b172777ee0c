package tokenizer

import (
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"unsafe"
)

// SPMOptions configure NewSPM.
type SPMOptions struct {
	BOS, EOS, UNK int32
	// AddBOS records whether the model expects BOS at the start of a
	// prompt (see DefaultAddBOS); Encode adds it only when asked.
	AddBOS bool
	// AddSpacePrefix prepends a space to the text (and after each special
	// token), as SentencePiece's add_dummy_prefix does.
	AddSpacePrefix bool
}

// SPM is a SentencePiece-style tokenizer (tokenizer.ggml.model "llama"):
// spaces become "▁", adjacent pieces are merged by highest score, and
// characters with no token fall back to <0xXX> byte tokens. It reproduces
// llama.cpp's llm_tokenizer_spm.
//
// An SPM is immutable and safe for concurrent use.
type SPM struct {
	*vocab
	toID      map[string]int32
	scores    []float32
	unk       int32
	byteToken [256]int32
	opts      SPMOptions
	wordSplit bool // no token contains "▁" after another character
	seed      maphash.Seed
	scratch   sync.Pool // *spmScratch
}

var _ Tokenizer = (*SPM)(nil)

// NewSPM builds an SPM tokenizer from token texts, scores and types
// (all the same length).
func NewSPM(texts []string, scores []float32, types []TokenType, opts SPMOptions) *SPM {
	t := &SPM{vocab: newVocab(texts, types), scores: scores, unk: opts.UNK, opts: opts}
	t.bos, t.eos, t.addBOS, t.spacePrefix = opts.BOS, opts.EOS, opts.AddBOS, opts.AddSpacePrefix
	t.seed = maphash.MakeSeed()
	t.wordSplit = true
	for _, s := range texts {
		if i := strings.Index(s, "▁"); i >= 0 && strings.TrimLeft(s, "▁") != "" && strings.Contains(strings.TrimLeft(s, "▁"), "▁") {
			t.wordSplit = false
		}
	}
	t.toID = make(map[string]int32, len(texts))
	for i, s := range texts {
		t.toID[s] = int32(i) // later duplicates win, as in llama.cpp
	}
	for b := range 256 {
		id, ok := t.toID[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id, ok = t.toID[string([]byte{byte(b)})]
		}
		if !ok {
			id = opts.UNK
		}
		t.byteToken[b] = id
	}
	t.pieces = make([]string, len(texts))
	for i, s := range texts {
		switch types[i] {
		case TypeByte:
			var b byte
			if _, err := fmt.Sscanf(s, "<0x%02X>", &b); err == nil {
				t.pieces[i] = string([]byte{b})
			}
		case TypeUnknown:
			t.pieces[i] = "\u2585"
		case TypeControl:
			t.pieces[i] = ""
		default:
			t.pieces[i] = strings.ReplaceAll(s, "▁", " ")
		}
	}
	t.scratch.New = func() any { return new(spmScratch) }
	return t
}

type spmSymbol struct {
	start, end int32 // byte span in the escaped text; end == start once merged away
	prev, next int32
}

type spmBigram struct {
	score       float32
	left, right int32
	size        int32
}

type spmScratch struct {
	cache [cacheSize]cacheEntry
	text  []byte
	syms  []spmSymbol
	queue []spmBigram
}

// less orders the queue: highest score first, then leftmost.
func (a spmBigram) before(b spmBigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func (t *SPM) Encode(text string, opts EncodeOptions) []int32 {
	return t.vocab.encode(t, text, opts, make([]int32, 0, len(text)/3+2))
}

func (t *SPM) Decode(ids []int32) string { return t.vocab.decode(ids) }

func (t *SPM) Count(text string) int { return t.vocab.count(t, text) }

func (t *SPM) encodeFragment(text string, afterSpecial bool, out []int32) []int32 {
	sc := t.scratch.Get().(*spmScratch)
	out = t.run(text, afterSpecial, sc, out)
	t.scratch.Put(sc)
	return out
}

// run tokenizes one fragment, appending to out.
func (t *SPM) run(text string, afterSpecial bool, sc *spmScratch, out []int32) []int32 {
	buf := sc.text[:0]
	if t.opts.AddSpacePrefix && afterSpecial {
		buf = append(buf, "▁"...)
	}
	for i := 0; i < len(text); i++ {
		if text[i] == ' ' {
			buf = append(buf, "▁"...)
		} else {
			buf = append(buf, text[i])
		}
	}
	sc.text = buf
	if len(buf) == 0 {
		return out
	}
	// s aliases the scratch buffer: it is only used for map lookups and
	// never retained, which saves a copy per fragment.
	s := unsafe.String(&buf[0], len(buf))
	if !t.wordSplit {
		return t.segment(s, sc, out)
	}
	// Cut before every "▁" that follows another character: no token spans
	// such a cut (checked in NewSPM), so each word merges independently
	// with the same result, and short words are cheap and cacheable.
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] == 0xE2 && strings.HasPrefix(s[i:], "▁") && !strings.HasSuffix(s[:i], "▁") {
			out = t.word(s[start:i], sc, out)
			start = i
		}
	}
	return t.word(s[start:], sc, out)
}

func (t *SPM) word(w string, sc *spmScratch, out []int32) []int32 {
	h := maphash.String(t.seed, w)
	e := &sc.cache[h&(cacheSize-1)]
	if e.hash == h && e.n > 0 && t.spells(e, w) {
		return append(out, e.toks[:e.n]...)
	}
	n0 := len(out)
	out = t.segment(w, sc, out)
	if k := len(out) - n0; k <= len(e.toks) {
		e.hash, e.n = h, uint8(k)
		copy(e.toks[:], out[n0:])
	}
	return out
}

// spells reports whether the cached tokens' texts concatenate to w, so a
// hash collision can never return another word's tokens.
func (t *SPM) spells(e *cacheEntry, w string) bool {
	for _, id := range e.toks[:e.n] {
		r := t.texts[id]
		if len(r) > len(w) || w[:len(r)] != r {
			return false
		}
		w = w[len(r):]
	}
	return w == ""
}

// segment runs SentencePiece's merge on the escaped text s: start from
// characters, repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token (leftmost on ties), then emit each piece's token or
// its bytes.
func (t *SPM) segment(s string, sc *spmScratch, out []int32) []int32 {
	syms := sc.syms[:0]
	for off := 0; off < len(s); {
		n := utf8Len(s[off])
		if off+n > len(s) {
			n = len(s) - off
		}
		idx := int32(len(syms))
		next := idx + 1
		if off+n == len(s) {
			next = -1
		}
		syms = append(syms, spmSymbol{int32(off), int32(off + n), idx - 1, next})
		off += n
	}
	q := sc.queue[:0]
	push := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := syms[l], syms[r]
		id, ok := t.toID[s[a.start:b.end]]
		if !ok {
			return
		}
		q = heapPush(q, spmBigram{t.scores[id], l, r, b.end - a.start}, spmBigram.before)
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		push(i-1, i)
	}
	for len(q) > 0 {
		var bg spmBigram
		bg, q = heapPop(q, spmBigram.before)
		l, r := &syms[bg.left], &syms[bg.right]
		if l.end == l.start || r.end == r.start || (l.end-l.start)+(r.end-r.start) != bg.size {
			continue
		}
		l.end = r.end
		r.end = r.start
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = bg.left
		}
		push(l.prev, bg.left)
		push(bg.left, l.next)
	}
	for i := int32(0); i >= 0 && len(syms) > 0; i = syms[i].next {
		sym := syms[i]
		piece := s[sym.start:sym.end]
		if id, ok := t.toID[piece]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(piece); j++ {
			out = append(out, t.byteToken[piece[j]])
		}
	}
	sc.syms, sc.queue = syms, q
	return out
}

// utf8Len is the length of a UTF-8 sequence from its first byte, as
// llama.cpp computes it (continuation bytes count as 1).
func utf8Len(c byte) int {
	return [16]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4}[c>>4]
}

// heapPush and heapPop keep a binary heap ordered by before.
func heapPush[T any](h []T, x T, before func(a, b T) bool) []T {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop[T any](h []T, before func(a, b T) bool) (T, []T) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && before(h[r], h[l]) {
			m = r
		}
		if !before(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}
