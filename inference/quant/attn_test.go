package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAttentionKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, simd := range []bool{false, true} {
		withSIMD(t, simd, func() {
			for _, hd := range []int{8, 16, 24, 64, 128, 6} {
				for _, rows := range []int{1, 2, 3, 33} {
					stride := 2*hd + 5
					q := randVec(r, hd, 1)
					k := randVec(r, rows*stride, 1)
					w := randVec(r, rows, 1)
					out := make([]float32, rows)
					Dots(out, q, k, stride)
					acc := randVec(r, hd, 1)
					want := append([]float32(nil), acc...)
					Axpys(acc, w, k, stride)
					for i := 0; i < rows; i++ {
						d, _ := refDot(q, k[i*stride:i*stride+hd])
						if math.Abs(float64(out[i])-d) > 1e-4*math.Max(1, math.Abs(d)) {
							t.Fatalf("simd=%v hd=%d rows=%d: dot %d = %v want %v", simd, hd, rows, i, out[i], d)
						}
						for j := range want {
							want[j] += w[i] * k[i*stride+j]
						}
					}
					for j := range want {
						if math.Abs(float64(acc[j]-want[j])) > 1e-4*math.Max(1, math.Abs(float64(want[j]))) {
							t.Fatalf("simd=%v hd=%d rows=%d: axpy %d = %v want %v", simd, hd, rows, j, acc[j], want[j])
						}
					}
				}
			}
		})
	}
}
