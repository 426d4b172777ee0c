//go:build !amd64 || purego

package quant

var useSIMD = false // a variable so that tests can flip it as on amd64

// HasSIMD reports whether the AVX2/FMA/F16C kernels are in use.
func HasSIMD() bool { return false }

func dotF32SIMD(a, b []float32) float32        { return dotF32Go(a, b) }
func dotF16SIMD(w []byte, x []float32) float32 { return dotF16Go(w, x) }
func dotQ8_0SIMD(w, x []byte, n int) float32   { return dotQ8_0Go(w, x, n) }
func dotQ4_0SIMD(w, x []byte, n int) float32   { return dotQ4_0Go(w, x, n) }

func dotF32x4AVX(w, x *float32, stride, n int, out *[4]float32) { panic("unreachable") }
func dotF16x4AVX(w *byte, x *float32, stride, n int, out *[4]float32) {
	panic("unreachable")
}
func dotQ8_0x4AVX(w, x *byte, stride, nb int, out *[4]float32) { panic("unreachable") }
func dotQ4_0x4AVX(w, x *byte, stride, nb int, out *[4]float32) { panic("unreachable") }

func dotQ8_0RowsAVX(w *byte, stride, rows int, x *byte, nb int, out *float32) {
	panic("unreachable")
}
func dotQ4_0RowsAVX(w *byte, stride, rows int, x *byte, nb int, out *float32) {
	panic("unreachable")
}

func dotsF32AVX(q, k *float32, stride, rows, hd int, out *float32) { panic("unreachable") }
func axpysF32AVX(out, w, v *float32, stride, rows, hd int)         { panic("unreachable") }

func dotQ4_0RowsAuxAVX(w *byte, stride, rows int, x *byte, aux *float32, nb int, out *float32) {
	panic("unreachable")
}
