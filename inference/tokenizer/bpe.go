package tokenizer

import (
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
)

// BPEOptions configure NewBPE.
type BPEOptions struct {
	// Pre names the pre-tokenizer (tokenizer.ggml.pre); "" means
	// "default".
	Pre string
	// BOS and EOS are the special token ids, or -1.
	BOS, EOS int32
	// AddBOS records whether the model expects BOS at the start of a
	// prompt (see DefaultAddBOS); Encode adds it only when asked.
	AddBOS bool
}

// BPE is a byte-level BPE tokenizer (tokenizer.ggml.model "gpt2", and
// cl100k_base): text is split into words by a pre-tokenizer, and the bytes
// of each word are merged pairwise, lowest merge rank first. It reproduces
// llama.cpp's llm_tokenizer_bpe (and tiktoken for CL100K).
//
// A BPE is immutable and safe for concurrent use.
type BPE struct {
	*vocab
	pre          *preTokenizer
	ignoreMerges bool // look whole words up before merging
	// rankMode ranks a pair by the rank of its concatenation, as tiktoken
	// does, instead of by an explicit merge list.
	rankMode bool

	rawToID   map[string]int32    // token bytes -> id (later duplicates win)
	pieceID   map[string]int32    // interned byte strings that take part in merges
	merges    map[uint64]mergeRes // (left piece, right piece) -> rank and result
	bytePiece [256]int32          // piece id of each single byte, or -1
	byteTok   [256]int32          // token id of each single byte, or -1
	// pairs holds the merge of every two single bytes (rank -1 if none),
	// the most frequent lookup, without hashing.
	pairs    []mergeRes
	pieceTok []int32  // token id of each interned piece, or -1
	rawTexts []string // bytes of each token id as BPE produces it ("" if none)
	seed     maphash.Seed
	scratch  sync.Pool // *bpeScratch
}

var _ Tokenizer = (*BPE)(nil)

type mergeRes struct {
	rank   int32
	result int32 // piece id of the merged bytes (merge-list mode)
	tok    int32 // token id of the merged bytes, or -1
}

// GPT-2's reversible mapping between bytes and printable code points, used
// for the token texts of byte-level vocabularies.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// unmapBytes decodes a byte-level token text into the bytes it stands for.
// It fails if a character is outside the byte alphabet.
func unmapBytes(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		c, ok := runeToByte[r]
		if !ok {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// decodeLenient is unmapBytes that keeps characters outside the alphabet
// as they are (llama.cpp's llama_decode_text).
func decodeLenient(s string) string {
	var b strings.Builder
	for _, r := range s {
		if c, ok := runeToByte[r]; ok {
			b.WriteByte(c)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NewBPE builds a byte-level BPE tokenizer from GGUF-style data: token
// texts in GPT-2's byte alphabet, token types, and merges ("A B", highest
// priority first).
func NewBPE(texts []string, types []TokenType, merges []string, opts BPEOptions) (*BPE, error) {
	if opts.Pre == "" {
		opts.Pre = "default"
	}
	pre, ok := preTokenizers[opts.Pre]
	if !ok {
		return nil, fmt.Errorf("tokenizer: pre-tokenizer %q: %w", opts.Pre, ErrUnsupported)
	}
	t := &BPE{vocab: newVocab(texts, types), pre: pre, ignoreMerges: ignoreMergesPre[opts.Pre]}
	t.bos, t.eos, t.addBOS = opts.BOS, opts.EOS, opts.AddBOS
	t.rawToID = make(map[string]int32, len(texts))
	t.pieces = make([]string, len(texts))
	for i, s := range texts {
		if raw, ok := unmapBytes(s); ok {
			t.rawToID[raw] = int32(i)
		}
		switch types[i] {
		case TypeUserDefined, TypeUnknown, TypeControl:
			t.pieces[i] = s
		default:
			t.pieces[i] = decodeLenient(s)
		}
	}
	t.pieceID = make(map[string]int32, len(merges)+256)
	t.merges = make(map[uint64]mergeRes, len(merges))
	intern := func(s string) int32 {
		if id, ok := t.pieceID[s]; ok {
			return id
		}
		id := int32(len(t.pieceID))
		t.pieceID[s] = id
		return id
	}
	for rank, m := range merges {
		sp := -1
		if len(m) > 1 {
			sp = strings.IndexByte(m[1:], ' ')
		}
		if sp < 0 {
			continue
		}
		a, okA := unmapBytes(m[:sp+1])
		b, okB := unmapBytes(m[sp+2:])
		if !okA || !okB || a == "" || b == "" {
			continue // can never match a word's bytes
		}
		key := pairKey(intern(a), intern(b))
		if _, dup := t.merges[key]; !dup { // the first rank wins
			tok, ok := t.rawToID[a+b]
			if !ok {
				tok = -1
			}
			t.merges[key] = mergeRes{int32(rank), intern(a + b), tok}
		}
	}
	t.initBytes()
	return t, nil
}

func (t *BPE) initBytes() {
	for b := range 256 {
		id, ok := t.pieceID[string([]byte{byte(b)})]
		if !ok {
			id = -1
		}
		t.bytePiece[b] = id
		if id, ok = t.rawToID[string([]byte{byte(b)})]; !ok {
			id = -1
		}
		t.byteTok[b] = id
	}
	t.seed = maphash.MakeSeed()
	t.rawTexts = make([]string, len(t.texts))
	for s, id := range t.rawToID {
		t.rawTexts[id] = s
	}
	t.pieceTok = make([]int32, len(t.pieceID))
	for s, p := range t.pieceID {
		id, ok := t.rawToID[s]
		if !ok {
			id = -1
		}
		t.pieceTok[p] = id
	}
	t.pairs = make([]mergeRes, 1<<16)
	for i := range t.pairs {
		a, b := byte(i>>8), byte(i)
		t.pairs[i] = t.lookupPair(string([]byte{a, b}), t.bytePiece[a], t.bytePiece[b])
	}
	t.scratch.New = func() any { return new(bpeScratch) }
}

// lookupPair returns the merge of two adjacent symbols with bytes ab and
// piece ids pa and pb; rank is -1 if they do not merge.
func (t *BPE) lookupPair(ab string, pa, pb int32) mergeRes {
	if t.rankMode {
		if id, ok := t.rawToID[ab]; ok {
			return mergeRes{id, -1, id}
		}
		return mergeRes{-1, -1, -1}
	}
	if pa < 0 || pb < 0 {
		return mergeRes{-1, -1, -1}
	}
	if res, ok := t.merges[pairKey(pa, pb)]; ok {
		return res
	}
	return mergeRes{-1, -1, -1}
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

type bpeSym struct {
	start, end int32 // byte span in the word; end == start once merged away
	prev, next int32
	piece      int32 // interned id of the span's bytes, or -1
	tok        int32 // token id of the span's bytes, or -1
}

type bpeItem struct {
	rank        int32
	left, right int32
	start, end  int32 // span of the merged pair when queued
	piece       int32
	tok         int32
}

func (a bpeItem) before(b bpeItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
}

type bpeScratch struct {
	cache [cacheSize]cacheEntry
	a, b  []int
	syms  []bpeSym
	queue []bpeItem
}

func (t *BPE) Encode(text string, opts EncodeOptions) []int32 {
	return t.vocab.encode(t, text, opts, make([]int32, 0, len(text)/4+2))
}

func (t *BPE) Decode(ids []int32) string { return t.vocab.decode(ids) }

func (t *BPE) Count(text string) int { return t.vocab.count(t, text) }

func (t *BPE) encodeFragment(text string, _ bool, out []int32) []int32 {
	sc := t.scratch.Get().(*bpeScratch)
	ends, spare := t.pre.split(text, sc.a, sc.b)
	start := 0
	for _, e := range ends {
		out = t.word(text[start:e], sc, out)
		start = e
	}
	sc.a, sc.b = ends, spare
	t.scratch.Put(sc)
	return out
}

// word appends the tokens of one pre-tokenized word.
func (t *BPE) word(w string, sc *bpeScratch, out []int32) []int32 {
	// A small per-scratch cache of recent words saves the hash-map
	// lookups, which dominate the cost. An entry is trusted only if its
	// tokens spell the word, so hash collisions cannot give wrong ids.
	h := maphash.String(t.seed, w)
	e := &sc.cache[h&(cacheSize-1)]
	if e.hash == h && e.n > 0 && t.spells(e, w) {
		return append(out, e.toks[:e.n]...)
	}
	n0 := len(out)
	out = t.wordUncached(w, sc, out)
	if k := len(out) - n0; k <= len(e.toks) {
		e.hash, e.n = h, uint8(k)
		copy(e.toks[:], out[n0:])
	}
	return out
}

const cacheSize = 4096

type cacheEntry struct {
	hash uint64
	n    uint8
	toks [5]int32
}

func (t *BPE) spells(e *cacheEntry, w string) bool {
	for _, id := range e.toks[:e.n] {
		r := t.rawTexts[id]
		if len(r) > len(w) || w[:len(r)] != r {
			return false
		}
		w = w[len(r):]
	}
	return w == ""
}

func (t *BPE) wordUncached(w string, sc *bpeScratch, out []int32) []int32 {
	if t.ignoreMerges || t.rankMode || len(w) == 1 {
		if id, ok := t.rawToID[w]; ok {
			return append(out, id)
		}
	}
	if len(w) <= smallWord {
		return t.wordSmall(w, out)
	}
	syms := sc.syms[:0]
	for i := 0; i < len(w); i++ {
		syms = append(syms, bpeSym{int32(i), int32(i + 1), int32(i - 1), int32(i + 1), t.bytePiece[w[i]], t.byteTok[w[i]]})
	}
	syms[len(syms)-1].next = -1
	q := sc.queue[:0]
	push := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := &syms[l], &syms[r]
		var res mergeRes
		if a.end-a.start == 1 && b.end-b.start == 1 {
			res = t.pairs[int(w[a.start])<<8|int(w[b.start])]
		} else {
			res = t.lookupPair(w[a.start:b.end], a.piece, b.piece)
		}
		if res.rank < 0 {
			return
		}
		q = heapPush(q, bpeItem{res.rank, l, r, a.start, b.end, res.result, res.tok}, bpeItem.before)
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		push(i-1, i)
	}
	for len(q) > 0 {
		var it bpeItem
		it, q = heapPop(q, bpeItem.before)
		l, r := &syms[it.left], &syms[it.right]
		// Skip pairs made stale by an earlier merge.
		if l.end == l.start || r.end == r.start || l.start != it.start || r.end != it.end || l.next != it.right {
			continue
		}
		l.end = r.end
		l.piece = it.piece
		l.tok = it.tok
		r.end = r.start
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = it.left
		}
		push(l.prev, it.left)
		push(it.left, l.next)
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		if syms[i].tok >= 0 {
			out = append(out, syms[i].tok)
			continue
		}
		out = t.fallback(w[syms[i].start:syms[i].end], out)
	}
	sc.syms, sc.queue = syms, q
	return out
}

// DefaultAddBOS reports whether the model behind t expects a BOS token at
// the start of a prompt (tokenizer.ggml.add_bos_token), for callers that
// build EncodeOptions from model metadata.
func DefaultAddBOS(t Tokenizer) bool {
	if v := vocabOf(t); v != nil {
		return v.addBOS && v.bos >= 0
	}
	return false
}

// smallWord is the longest word merged with the simple quadratic scan
// (tiktoken's algorithm) instead of a priority queue: for short words it
// does less work. Both pick the lowest rank, leftmost on ties.
const smallWord = 24

func (t *BPE) wordSmall(w string, out []int32) []int32 {
	var (
		start [smallWord + 1]int32 // symbol i spans start[i]:start[i+1]
		piece [smallWord]int32
		tok   [smallWord]int32
		rank  [smallWord]mergeRes // merge of symbols i and i+1
	)
	n := len(w)
	for i := 0; i < n; i++ {
		start[i] = int32(i)
		piece[i] = t.bytePiece[w[i]]
		tok[i] = t.byteTok[w[i]]
	}
	start[n] = int32(n)
	pair := func(i int) mergeRes {
		if start[i+1]-start[i] == 1 && start[i+2]-start[i+1] == 1 {
			return t.pairs[int(w[start[i]])<<8|int(w[start[i+1]])]
		}
		return t.lookupPair(w[start[i]:start[i+2]], piece[i], piece[i+1])
	}
	for i := 0; i+1 < n; i++ {
		rank[i] = pair(i)
	}
	for n > 1 {
		best := -1
		for i := 0; i+1 < n; i++ {
			if r := rank[i].rank; r >= 0 && (best < 0 || r < rank[best].rank) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		m := rank[best]
		piece[best], tok[best] = m.result, m.tok
		// Remove symbol best+1.
		copy(start[best+1:n], start[best+2:n+1])
		copy(piece[best+1:n-1], piece[best+2:n])
		copy(tok[best+1:n-1], tok[best+2:n])
		copy(rank[best+1:n-1], rank[best+2:n])
		n--
		if best+1 < n {
			rank[best] = pair(best)
		}
		if best > 0 {
			rank[best-1] = pair(best - 1)
		}
	}
	for i := 0; i < n; i++ {
		if tok[i] >= 0 {
			out = append(out, tok[i])
			continue
		}
		out = t.fallback(w[start[i]:start[i+1]], out)
	}
	return out
}

// fallback emits the tokens of bytes that no token covers as one piece:
// like llama.cpp, the tokens of single printable ASCII bytes, dropping
// the rest.
func (t *BPE) fallback(s string, out []int32) []int32 {
	if id, ok := t.rawToID[s]; ok {
		return append(out, id)
	}
	for j := 0; j < len(s); j++ {
		if c := s[j]; c >= '!' && c <= '~' {
			if id, ok := t.rawToID[s[j:j+1]]; ok {
				out = append(out, id)
			}
		}
	}
	return out
}
