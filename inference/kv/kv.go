package kv

import (
	"errors"
	"fmt"
)

// ErrFull is returned when a layer has no free slot left.
var ErrFull = errors.New("kv: cache full")

// Cache is the key/value cache of one session.
type Cache struct {
	layers   []Layer
	kvDim    int
	capacity int
}

// Layer is the cache of one transformer layer.
type Layer struct {
	k, v  []float32 // capacity*kvDim each; slot i is [i*kvDim, (i+1)*kvDim)
	pos   []int32   // position of each used slot; len(pos) is the slot count
	kvDim int
}

// New returns a cache of the given number of layers, row width (n_kv_heads*head_dim)
// and slot capacity per layer. All memory is allocated up front.
func New(layers, kvDim, capacity int) *Cache {
	c := &Cache{layers: make([]Layer, layers), kvDim: kvDim, capacity: capacity}
	for i := range c.layers {
		c.layers[i] = Layer{
			k:     make([]float32, capacity*kvDim),
			v:     make([]float32, capacity*kvDim),
			pos:   make([]int32, 0, capacity),
			kvDim: kvDim,
		}
	}
	return c
}

// Layers returns the number of layers.
func (c *Cache) Layers() int { return len(c.layers) }

// Capacity returns the number of slots per layer.
func (c *Cache) Capacity() int { return c.capacity }

// Dim returns the width of one key or value row.
func (c *Cache) Dim() int { return c.kvDim }

// Layer returns layer l's cache.
func (c *Cache) Layer(l int) *Layer { return &c.layers[l] }

// Reset empties every layer, keeping the memory.
func (c *Cache) Reset() {
	for i := range c.layers {
		c.layers[i].pos = c.layers[i].pos[:0]
	}
}

// Bytes returns the memory held by the cache.
func (c *Cache) Bytes() int64 { return int64(len(c.layers)) * int64(c.capacity) * int64(c.kvDim) * 8 }

// Len returns the number of used slots.
func (l *Layer) Len() int { return len(l.pos) }

// Free returns the number of free slots.
func (l *Layer) Free() int { return cap(l.pos) - len(l.pos) }

// Append stores the keys and values of n consecutive positions starting at pos; k and v
// hold n rows each. It returns the first slot used.
func (l *Layer) Append(pos int32, k, v []float32) (int, error) {
	n := len(k) / l.kvDim
	if len(k) != n*l.kvDim || len(v) != len(k) {
		return 0, fmt.Errorf("kv: append of %d keys and %d values, rows of %d", len(k), len(v), l.kvDim)
	}
	if n > l.Free() {
		return 0, fmt.Errorf("kv: %d positions into %d free slots: %w", n, l.Free(), ErrFull)
	}
	if len(l.pos) > 0 && l.pos[len(l.pos)-1] >= pos {
		return 0, fmt.Errorf("kv: position %d after %d: positions must increase", pos, l.pos[len(l.pos)-1])
	}
	s := len(l.pos)
	copy(l.k[s*l.kvDim:], k)
	copy(l.v[s*l.kvDim:], v)
	for i := 0; i < n; i++ {
		l.pos = append(l.pos, pos+int32(i))
	}
	return s, nil
}

// Key returns slot i's key row. The slice aliases the cache: it is valid until the next
// Append, Keep or Reset and must not be modified.
func (l *Layer) Key(i int) []float32 { return l.k[i*l.kvDim : (i+1)*l.kvDim : (i+1)*l.kvDim] }

// Value returns slot i's value row, under the same rules as Key.
func (l *Layer) Value(i int) []float32 { return l.v[i*l.kvDim : (i+1)*l.kvDim : (i+1)*l.kvDim] }

// Keys returns the key rows of all used slots, one after another, under the same
// rules as Key.
func (l *Layer) Keys() []float32 { return l.k[: len(l.pos)*l.kvDim : len(l.pos)*l.kvDim] }

// Values returns the value rows of all used slots, under the same rules as Key.
func (l *Layer) Values() []float32 { return l.v[: len(l.pos)*l.kvDim : len(l.pos)*l.kvDim] }

// Positions returns the position of each used slot, in slot order. The slice aliases
// the cache under the same rules as Key.
func (l *Layer) Positions() []int32 { return l.pos[:len(l.pos):len(l.pos)] }

// Visible returns how many leading slots a query at position pos may attend to: those
// at positions <= pos (slots are in increasing position order).
func (l *Layer) Visible(pos int32) int {
	lo, hi := 0, len(l.pos)
	for lo < hi {
		m := (lo + hi) / 2
		if l.pos[m] <= pos {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Keep compacts the layer to the given slots, which must be strictly increasing; it is
// how eviction policies drop positions. Memory is reused.
func (l *Layer) Keep(slots []int) error {
	prev := -1
	for _, s := range slots {
		if s <= prev || s >= len(l.pos) {
			return fmt.Errorf("kv: keep slot %d after %d of %d: slots must increase and exist", s, prev, len(l.pos))
		}
		prev = s
	}
	for j, s := range slots {
		if j != s {
			copy(l.k[j*l.kvDim:(j+1)*l.kvDim], l.k[s*l.kvDim:(s+1)*l.kvDim])
			copy(l.v[j*l.kvDim:(j+1)*l.kvDim], l.v[s*l.kvDim:(s+1)*l.kvDim])
			l.pos[j] = l.pos[s]
		}
	}
	l.pos = l.pos[:len(slots)]
	return nil
}

// Truncate drops every slot at a position >= pos, which is how a session rewinds to a
// shared prefix.
func (l *Layer) Truncate(pos int32) { l.pos = l.pos[:l.Visible(pos-1)] }
