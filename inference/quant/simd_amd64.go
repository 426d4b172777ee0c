//go:build !purego

package quant

import "golang.org/x/sys/cpu"

// useSIMD selects the assembly kernels; tests flip it to compare both paths.
var useSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// HasSIMD reports whether the AVX2/FMA/F16C kernels are in use.
func HasSIMD() bool { return useSIMD }

//go:noescape
func dotF32AVX(a, b *float32, n int) float32

//go:noescape
func dotF16AVX(w *byte, x *float32, n int) float32

//go:noescape
func dotQ8_0AVX(w, x *byte, nb int) float32

//go:noescape
func dotQ4_0AVX(w, x *byte, nb int) float32

func dotF32SIMD(a, b []float32) float32 {
	n := len(a) &^ 7
	b = b[:len(a)]
	s := dotF32AVX(&a[0], &b[0], n)
	for i := n; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

func dotF16SIMD(w []byte, x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	w = w[:2*len(x)]
	return dotF16AVX(&w[0], &x[0], len(x))
}

func dotQ8_0SIMD(w, x []byte, n int) float32 {
	nb := n / BlockLen
	if nb == 0 {
		return 0
	}
	_ = w[nb*Q8_0Size-1]
	_ = x[nb*Q8_0Size-1]
	return dotQ8_0AVX(&w[0], &x[0], nb)
}

func dotQ4_0SIMD(w, x []byte, n int) float32 {
	nb := n / BlockLen
	if nb == 0 {
		return 0
	}
	_ = w[nb*Q4_0Size-1]
	_ = x[nb*Q8_0Size-1]
	return dotQ4_0AVX(&w[0], &x[0], nb)
}

//go:noescape
func dotF32x4AVX(w, x *float32, stride, n int, out *[4]float32)

//go:noescape
func dotF16x4AVX(w *byte, x *float32, stride, n int, out *[4]float32)

//go:noescape
func dotQ8_0x4AVX(w, x *byte, stride, nb int, out *[4]float32)

//go:noescape
func dotQ4_0x4AVX(w, x *byte, stride, nb int, out *[4]float32)

//go:noescape
func dotQ8_0RowsAVX(w *byte, stride, rows int, x *byte, nb int, out *float32)

//go:noescape
func dotQ4_0RowsAVX(w *byte, stride, rows int, x *byte, nb int, out *float32)

//go:noescape
func dotsF32AVX(q, k *float32, stride, rows, hd int, out *float32)

//go:noescape
func axpysF32AVX(out, w, v *float32, stride, rows, hd int)

//go:noescape
func dotQ4_0RowsAuxAVX(w *byte, stride, rows int, x *byte, aux *float32, nb int, out *float32)
