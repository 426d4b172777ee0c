package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMultiRowKernels checks each x4 kernel, in both implementations, against four
// calls of the portable one-row kernel.
func TestMultiRowKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, simd := range []bool{false, true} {
		withSIMD(t, simd, func() {
			for _, n := range []int{32, 64, 96, 768, 800} {
				w := randVec(r, n, 0.1)
				stride := n + 13
				x := randVec(r, 3*stride+n, 1)
				var out [4]float32
				close := func(kind string, i int, got, want float32) {
					if math.Abs(float64(got-want)) > 1e-4*math.Max(1, math.Abs(float64(want))) {
						t.Fatalf("simd=%v %s n=%d row %d: %v want %v", simd, kind, n, i, got, want)
					}
				}
				DotF32x4(&out, w, x, stride)
				for i := range out {
					close("f32", i, out[i], dotF32Go(w, x[i*stride:i*stride+n]))
				}
				// An odd length exercises the scalar tail.
				DotF32x4(&out, w[:n-3], x, stride)
				for i := range out {
					close("f32 tail", i, out[i], dotF32Go(w[:n-3], x[i*stride:i*stride+n-3]))
				}
				wh := make([]byte, 2*n)
				for i, v := range w {
					h := F32ToF16(v)
					wh[2*i], wh[2*i+1] = byte(h), byte(h>>8)
				}
				DotF16x4(&out, wh, x, stride)
				for i := range out {
					close("f16", i, out[i], dotF16Go(wh, x[i*stride:i*stride+n]))
				}
				rb := RowBytesQ8_0(n)
				qstride := rb + 7
				xq := make([]byte, 3*qstride+rb)
				for i := 0; i < 4; i++ {
					QuantizeQ8_0(xq[i*qstride:i*qstride+rb], x[i*stride:i*stride+n])
				}
				w8 := make([]byte, rb)
				QuantizeQ8_0(w8, w)
				DotQ8_0x4(&out, w8, xq, qstride, n)
				for i := range out {
					close("q8_0", i, out[i], dotQ8_0Go(w8, xq[i*qstride:], n))
				}
				w4 := make([]byte, RowBytesQ4_0(n))
				QuantizeQ4_0(w4, w)
				DotQ4_0x4(&out, w4, xq, qstride, n)
				for i := range out {
					close("q4_0", i, out[i], dotQ4_0Go(w4, xq[i*qstride:], n))
				}
			}
		})
	}
}

// TestRowKernels checks the row-loop kernels against the one-row portable kernels.
func TestRowKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, simd := range []bool{false, true} {
		withSIMD(t, simd, func() {
			for _, n := range []int{32, 64, 96, 768} {
				for _, rows := range []int{1, 2, 3, 17} {
					x := randVec(r, n, 1)
					xq := make([]byte, RowBytesQ8_0(n))
					QuantizeQ8_0(xq, x)
					w := randVec(r, rows*n, 0.1)
					s8, s4 := RowBytesQ8_0(n), RowBytesQ4_0(n)
					w8 := make([]byte, rows*s8)
					w4 := make([]byte, rows*s4)
					for i := 0; i < rows; i++ {
						QuantizeQ8_0(w8[i*s8:(i+1)*s8], w[i*n:(i+1)*n])
						QuantizeQ4_0(w4[i*s4:(i+1)*s4], w[i*n:(i+1)*n])
					}
					o8 := make([]float32, rows)
					o4 := make([]float32, rows)
					DotQ8_0Rows(o8, w8, s8, xq, n)
					DotQ4_0Rows(o4, w4, s4, xq, n)
					aux := make([]float32, 2*n/32)
					Q8Aux(aux, xq, n)
					oa := make([]float32, rows)
					DotQ4_0RowsAux(oa, w4, s4, xq, aux, n)
					for i := range oa {
						if want := dotQ4_0Go(w4[i*s4:], xq, n); math.Abs(float64(oa[i]-want)) > 1e-4*math.Max(1, math.Abs(float64(want))) {
							t.Fatalf("simd=%v n=%d rows=%d row %d: aux %v want %v", simd, n, rows, i, oa[i], want)
						}
					}
					for i := 0; i < rows; i++ {
						want8, want4 := dotQ8_0Go(w8[i*s8:], xq, n), dotQ4_0Go(w4[i*s4:], xq, n)
						if math.Abs(float64(o8[i]-want8)) > 1e-4*math.Max(1, math.Abs(float64(want8))) ||
							math.Abs(float64(o4[i]-want4)) > 1e-4*math.Max(1, math.Abs(float64(want4))) {
							t.Fatalf("simd=%v n=%d rows=%d row %d: q8 %v/%v q4 %v/%v", simd, n, rows, i, o8[i], want8, o4[i], want4)
						}
					}
				}
			}
		})
	}
}

func BenchmarkRows(b *testing.B) {
	const n, rows = 768, 2048
	r := rand.New(rand.NewPCG(1, 1))
	w := randVec(r, n, 1)
	x := randVec(r, n, 1)
	xq := make([]byte, RowBytesQ8_0(n))
	QuantizeQ8_0(xq, x)
	s4 := RowBytesQ4_0(n)
	w4 := make([]byte, rows*s4)
	for i := 0; i < rows; i++ {
		QuantizeQ4_0(w4[i*s4:(i+1)*s4], w)
	}
	out := make([]float32, rows)
	b.Run("q4_0/per-row", func(b *testing.B) {
		for b.Loop() {
			for i := range out {
				out[i] = DotQ4_0(w4[i*s4:(i+1)*s4], xq, n)
			}
		}
	})
	b.Run("q4_0/rows", func(b *testing.B) {
		for b.Loop() {
			DotQ4_0Rows(out, w4, s4, xq, n)
		}
	})
	aux := make([]float32, 2*n/32)
	Q8Aux(aux, xq, n)
	b.Run("q4_0/rows-aux", func(b *testing.B) {
		for b.Loop() {
			DotQ4_0RowsAux(out, w4, s4, xq, aux, n)
		}
	})
}
