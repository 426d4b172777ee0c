package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randVec(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64()) * scale
	}
	return v
}

// withSIMD runs f with the assembly kernels switched on or off.
func withSIMD(t testing.TB, on bool, f func()) {
	t.Helper()
	if on && !HasSIMD() {
		t.Skip("CPU lacks AVX2/FMA/F16C")
	}
	old := useSIMD
	useSIMD = on
	defer func() { useSIMD = old }()
	f()
}

func TestF16RoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if f != f { // NaN
			if back := F32ToF16(f); F16ToF32(back) == F16ToF32(back) {
				t.Fatalf("NaN %#04x -> %#04x not NaN", h, back)
			}
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
	cases := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0},
		{5.960464477539063e-08, 0x0001}, {1.0009765625, 0x3c01},
		{1.00048828125, 0x3c00}, // tie, rounds to even
		{1.00146484375, 0x3c02}, // tie, rounds to even (up)
		{float32(math.Inf(-1)), 0xfc00},
	}
	for _, c := range cases {
		if got := F32ToF16(c.in); got != c.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

func TestQuantizeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randVec(r, 32*64, 1)
	q8 := make([]byte, RowBytesQ8_0(len(x)))
	q4 := make([]byte, RowBytesQ4_0(len(x)))
	QuantizeQ8_0(q8, x)
	QuantizeQ4_0(q4, x)
	d8 := make([]float32, len(x))
	d4 := make([]float32, len(x))
	DequantizeQ8_0(d8, q8)
	DequantizeQ4_0(d4, q4)
	for b := 0; b < len(x)/32; b++ {
		var amax float64
		for _, v := range x[b*32 : b*32+32] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		for j := b * 32; j < b*32+32; j++ {
			// Half a quantization step, plus the half-float rounding of the scale.
			if e := math.Abs(float64(d8[j] - x[j])); e > amax/127*0.5+amax*1e-3 {
				t.Fatalf("q8 element %d: %v vs %v", j, d8[j], x[j])
			}
			// Q4_0 clips +8 steps to 7, so the far side may be off by a whole step.
			if e := math.Abs(float64(d4[j] - x[j])); e > amax/8+amax*1e-2 {
				t.Fatalf("q4 element %d: %v vs %v", j, d4[j], x[j])
			}
		}
	}
	// The largest magnitude of a Q4_0 block maps to -8 exactly.
	blk := make([]float32, 32)
	blk[5] = -3
	QuantizeQ4_0(q4[:Q4_0Size], blk)
	if q4[2+5]&0x0f != 0 {
		t.Fatalf("max element nibble = %d, want 0", q4[2+5]&0x0f)
	}
}

func refDot(a, b []float32) (dot, mag float64) {
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		mag += math.Abs(float64(a[i]) * float64(b[i]))
	}
	return
}

// TestDotsAgainstReference checks every kernel, in both implementations, against a
// float64 dot product of the dequantized operands.
func TestDotsAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, simd := range []bool{false, true} {
		name := map[bool]string{false: "go", true: "simd"}[simd]
		t.Run(name, func(t *testing.T) {
			withSIMD(t, simd, func() {
				for _, n := range []int{32, 64, 96, 256, 288, 4096} {
					w := randVec(r, n, 0.05)
					x := randVec(r, n, 1)
					// F32, including lengths that are not multiples of 8.
					for _, m := range []int{n, n - 3} {
						want, mag := refDot(w[:m], x[:m])
						got := DotF32(w[:m], x[:m])
						if math.Abs(float64(got)-want) > 1e-5*mag+1e-6 {
							t.Errorf("DotF32 n=%d: %v want %v", m, got, want)
						}
					}
					// F16.
					wh := make([]byte, 2*n)
					wf := make([]float32, n)
					for i, v := range w {
						h := F32ToF16(v)
						wh[2*i], wh[2*i+1] = byte(h), byte(h>>8)
					}
					DequantizeF16(wf, wh)
					want, mag := refDot(wf, x)
					if got := DotF16(wh, x); math.Abs(float64(got)-want) > 1e-5*mag+1e-6 {
						t.Errorf("DotF16 n=%d: %v want %v", n, got, want)
					}
					// Q8_0 x Q8_0: exact integer sums, so only float rounding remains.
					wq := make([]byte, RowBytesQ8_0(n))
					xq := make([]byte, RowBytesQ8_0(n))
					QuantizeQ8_0(wq, w)
					QuantizeQ8_0(xq, x)
					wd := make([]float32, n)
					xd := make([]float32, n)
					DequantizeQ8_0(wd, wq)
					DequantizeQ8_0(xd, xq)
					want, mag = refDot(wd, xd)
					if got := DotQ8_0(wq, xq, n); math.Abs(float64(got)-want) > 1e-5*mag+1e-6 {
						t.Errorf("DotQ8_0 n=%d: %v want %v", n, got, want)
					}
					// Against the unquantized activations: the documented 1% tolerance.
					want, mag = refDot(wd, x)
					if got := DotQ8_0(wq, xq, n); math.Abs(float64(got)-want) > 1e-2*mag {
						t.Errorf("DotQ8_0 vs f32 activations n=%d: %v want %v", n, got, want)
					}
					// Q4_0 x Q8_0.
					w4 := make([]byte, RowBytesQ4_0(n))
					QuantizeQ4_0(w4, w)
					DequantizeQ4_0(wd, w4)
					want, mag = refDot(wd, xd)
					if got := DotQ4_0(w4, xq, n); math.Abs(float64(got)-want) > 1e-5*mag+1e-6 {
						t.Errorf("DotQ4_0 n=%d: %v want %v", n, got, want)
					}
					want, mag = refDot(wd, x)
					if got := DotQ4_0(w4, xq, n); math.Abs(float64(got)-want) > 1e-2*mag {
						t.Errorf("DotQ4_0 vs f32 activations n=%d: %v want %v", n, got, want)
					}
				}
			})
		})
	}
}

// TestSIMDMatchesGo compares the assembly and portable kernels on random blocks,
// including extreme int8 values.
func TestSIMDMatchesGo(t *testing.T) {
	if !HasSIMD() {
		t.Skip("CPU lacks AVX2/FMA/F16C")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 200; iter++ {
		nb := 1 + r.IntN(40)
		n := nb * 32
		w8 := make([]byte, nb*Q8_0Size)
		x8 := make([]byte, nb*Q8_0Size)
		w4 := make([]byte, nb*Q4_0Size)
		for b := 0; b < nb; b++ {
			h := F32ToF16(float32(r.NormFloat64()))
			w8[b*Q8_0Size], w8[b*Q8_0Size+1] = byte(h), byte(h>>8)
			h = F32ToF16(float32(r.NormFloat64()))
			x8[b*Q8_0Size], x8[b*Q8_0Size+1] = byte(h), byte(h>>8)
			h = F32ToF16(float32(r.NormFloat64()))
			w4[b*Q4_0Size], w4[b*Q4_0Size+1] = byte(h), byte(h>>8)
			for j := 0; j < 32; j++ {
				w8[b*Q8_0Size+2+j] = byte(r.IntN(255) - 127)
				x8[b*Q8_0Size+2+j] = byte(r.IntN(255) - 127)
			}
			for j := 0; j < 16; j++ {
				w4[b*Q4_0Size+2+j] = byte(r.IntN(256))
			}
		}
		tol := func(a, b float32) bool { return math.Abs(float64(a-b)) <= 1e-4*math.Max(1, math.Abs(float64(a))) }
		if a, b := dotQ8_0Go(w8, x8, n), dotQ8_0SIMD(w8, x8, n); !tol(a, b) {
			t.Fatalf("q8 nb=%d: go %v simd %v", nb, a, b)
		}
		if a, b := dotQ4_0Go(w4, x8, n), dotQ4_0SIMD(w4, x8, n); !tol(a, b) {
			t.Fatalf("q4 nb=%d: go %v simd %v", nb, a, b)
		}
		xf := randVec(r, n, 1)
		wf := randVec(r, n, 1)
		if a, b := dotF32Go(wf, xf), dotF32SIMD(wf, xf); !tol(a, b) {
			t.Fatalf("f32 n=%d: go %v simd %v", n, a, b)
		}
		wh := make([]byte, 2*n)
		for i, v := range wf {
			h := F32ToF16(v)
			wh[2*i], wh[2*i+1] = byte(h), byte(h>>8)
		}
		if a, b := dotF16Go(wh, xf), dotF16SIMD(wh, xf); !tol(a, b) {
			t.Fatalf("f16 n=%d: go %v simd %v", n, a, b)
		}
	}
}

func BenchmarkDot(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(7, 8))
	w := randVec(r, n, 1)
	x := randVec(r, n, 1)
	wh := make([]byte, 2*n)
	w8 := make([]byte, RowBytesQ8_0(n))
	w4 := make([]byte, RowBytesQ4_0(n))
	x8 := make([]byte, RowBytesQ8_0(n))
	QuantizeQ8_0(w8, w)
	QuantizeQ4_0(w4, w)
	QuantizeQ8_0(x8, x)
	var sink float32
	for _, simd := range []bool{false, true} {
		name := map[bool]string{false: "go", true: "simd"}[simd]
		withSIMD(b, simd, func() {
			b.Run("f32/"+name, func(b *testing.B) {
				for b.Loop() {
					sink += DotF32(w, x)
				}
			})
			b.Run("f16/"+name, func(b *testing.B) {
				for b.Loop() {
					sink += DotF16(wh, x)
				}
			})
			b.Run("q8_0/"+name, func(b *testing.B) {
				for b.Loop() {
					sink += DotQ8_0(w8, x8, n)
				}
			})
			b.Run("q4_0/"+name, func(b *testing.B) {
				for b.Loop() {
					sink += DotQ4_0(w4, x8, n)
				}
			})
		})
	}
	_ = sink
}
