package kv

import "fmt"

// keepHeads compacts the layer so that KV head h keeps the slots lists[h] (each
// strictly increasing, all of one length): the new slot j holds, in head h's part of
// the row (head_dim values from h*headDim), the key and value head h had in slot
// lists[h][j]. Heads may keep different positions; slot j's recorded position is the
// latest of them, which keeps positions increasing and below every later query, the
// only two things the causal mask and Append rely on once the slots are compacted.
// Keys are stored after RoPE, so a moved key needs no recomputation.
func (l *Layer) keepHeads(lists [][]int, headDim int) error {
	if len(lists)*headDim != l.kvDim {
		return fmt.Errorf("kv: %d head lists of %d for rows of %d", len(lists), headDim, l.kvDim)
	}
	n := len(lists[0])
	for _, list := range lists {
		if len(list) != n {
			return fmt.Errorf("kv: heads keep %d and %d slots", n, len(list))
		}
		prev := -1
		for _, s := range list {
			if s <= prev || s >= len(l.pos) {
				return fmt.Errorf("kv: keep slot %d after %d of %d: slots must increase and exist", s, prev, len(l.pos))
			}
			prev = s
		}
	}
	for h, list := range lists {
		off := h * headDim
		for j, s := range list {
			if j != s {
				copy(l.k[j*l.kvDim+off:j*l.kvDim+off+headDim], l.k[s*l.kvDim+off:s*l.kvDim+off+headDim])
				copy(l.v[j*l.kvDim+off:j*l.kvDim+off+headDim], l.v[s*l.kvDim+off:s*l.kvDim+off+headDim])
			}
		}
	}
	// latest[j] >= j and increases with j, so reading l.pos[latest] ahead of the
	// writes is safe.
	for j := 0; j < n; j++ {
		latest := lists[0][j]
		for _, list := range lists[1:] {
			latest = max(latest, list[j])
		}
		l.pos[j] = l.pos[latest]
	}
	l.pos = l.pos[:n]
	return nil
}

// Shrink reallocates every layer to hold capacity slots, releasing the memory of the
// slots a policy evicted (compaction alone only moves rows). capacity must be at least
// the largest layer's slot count. Rows returned earlier by Key, Keys and the like no
// longer alias the cache.
func (c *Cache) Shrink(capacity int) error {
	for i := range c.layers {
		if n := c.layers[i].Len(); n > capacity {
			return fmt.Errorf("kv: shrink to %d slots, layer %d holds %d: %w", capacity, i, n, ErrFull)
		}
	}
	for i := range c.layers {
		l := &c.layers[i]
		n := l.Len()
		k := make([]float32, capacity*c.kvDim)
		v := make([]float32, capacity*c.kvDim)
		pos := make([]int32, n, capacity)
		copy(k, l.k[:n*c.kvDim])
		copy(v, l.v[:n*c.kvDim])
		copy(pos, l.pos)
		l.k, l.v, l.pos = k, v, pos
	}
	c.capacity = capacity
	return nil
}

// UsedBytes returns the bytes of the keys and values of the slots in use, summed
// over the layers.
func (c *Cache) UsedBytes() int64 {
	var n int64
	for i := range c.layers {
		n += int64(c.layers[i].Len()) * int64(c.kvDim) * 8
	}
	return n
}

// Clone returns a copy of the cache, with its capacity.
func (c *Cache) Clone() *Cache {
	d := &Cache{layers: make([]Layer, len(c.layers)), kvDim: c.kvDim, capacity: c.capacity}
	d.CopyFrom(c)
	return d
}

// CopyFrom makes c a copy of src (layers, row width and slots), reallocating
// when the capacities differ. Benchmarks use it to return to a saved state.
func (c *Cache) CopyFrom(src *Cache) {
	c.kvDim, c.capacity = src.kvDim, src.capacity
	if len(c.layers) != len(src.layers) {
		c.layers = make([]Layer, len(src.layers))
	}
	for i := range src.layers {
		s, l := &src.layers[i], &c.layers[i]
		if len(l.k) != len(s.k) || cap(l.pos) != cap(s.pos) {
			l.k = make([]float32, len(s.k))
			l.v = make([]float32, len(s.v))
			l.pos = make([]int32, 0, cap(s.pos))
		}
		n := s.Len()
		copy(l.k, s.k[:n*s.kvDim])
		copy(l.v, s.v[:n*s.kvDim])
		l.pos = append(l.pos[:0], s.pos...)
		l.kvDim = s.kvDim
	}
}
