package kv

import (
	"errors"
	"slices"
	"testing"
)

func row(dim int, v float32) []float32 {
	r := make([]float32, dim)
	for i := range r {
		r[i] = v
	}
	return r
}

func TestAppendKeepVisible(t *testing.T) {
	const dim = 4
	c := New(2, dim, 5)
	l := c.Layer(1)
	k := append(row(dim, 0), row(dim, 1)...)
	k = append(k, row(dim, 2)...)
	if s, err := l.Append(0, k, k); err != nil || s != 0 {
		t.Fatalf("Append = %d, %v", s, err)
	}
	if s, err := l.Append(3, row(dim, 3), row(dim, 3)); err != nil || s != 3 {
		t.Fatalf("Append = %d, %v", s, err)
	}
	if got := l.Positions(); !slices.Equal(got, []int32{0, 1, 2, 3}) {
		t.Fatalf("Positions = %v", got)
	}
	if _, err := l.Append(3, row(dim, 3), row(dim, 3)); err == nil {
		t.Fatal("Append at a repeated position succeeded")
	}
	if err := l.Keep([]int{0, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := l.Positions(); !slices.Equal(got, []int32{0, 2, 3}) {
		t.Fatalf("Positions after Keep = %v", got)
	}
	if l.Key(1)[0] != 2 || l.Value(2)[0] != 3 {
		t.Fatalf("rows not compacted: %v %v", l.Key(1), l.Value(2))
	}
	for _, c := range []struct {
		pos  int32
		want int
	}{{-1, 0}, {0, 1}, {1, 1}, {2, 2}, {3, 3}, {9, 3}} {
		if got := l.Visible(c.pos); got != c.want {
			t.Errorf("Visible(%d) = %d, want %d", c.pos, got, c.want)
		}
	}
	if err := l.Keep([]int{1, 1}); err == nil {
		t.Fatal("Keep with repeated slots succeeded")
	}
	_, err := l.Append(10, append(row(dim, 4), row(dim, 5)...), append(row(dim, 4), row(dim, 5)...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(20, row(dim, 6), row(dim, 6)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append into a full layer: %v", err)
	}
	l.Truncate(3)
	if got := l.Positions(); !slices.Equal(got, []int32{0, 2}) {
		t.Fatalf("Positions after Truncate = %v", got)
	}
	if c.Layer(0).Len() != 0 {
		t.Fatal("layers are not independent")
	}
	c.Reset()
	if l.Len() != 0 {
		t.Fatal("Reset left slots")
	}
}
