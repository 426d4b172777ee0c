package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randKBlocks fills K-quant super-blocks with random bytes and small, finite scales.
func randKBlocks(r *rand.Rand, nb, size int, scaleAt ...int) []byte {
	b := make([]byte, nb*size)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	for blk := 0; blk < nb; blk++ {
		for _, at := range scaleAt {
			h := F32ToF16(float32(r.NormFloat64()) * 0.01)
			b[blk*size+at], b[blk*size+at+1] = byte(h), byte(h>>8)
		}
	}
	return b
}

// TestKQuants checks the fused Q4_K and Q6_K products against a float64 dot of the
// dequantized rows (dequantization follows ggml's reference layout), and the layout
// against hand-built blocks.
func TestKQuants(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, nb := range []int{1, 2, 5} {
		n := nb * KBlockLen
		x := randVec(r, n, 1)
		xq := make([]byte, RowBytesQ8_0(n))
		QuantizeQ8_0(xq, x)
		xd := make([]float32, n)
		DequantizeQ8_0(xd, xq)
		wd := make([]float32, n)

		w4 := randKBlocks(r, nb, Q4_KSize, 0, 2)
		DequantizeQ4_K(wd, w4)
		want, mag := refDot(wd, xd)
		if got := DotQ4_K(w4, xq, n); math.Abs(float64(got)-want) > 1e-5*mag+1e-6 {
			t.Errorf("DotQ4_K nb=%d: %v want %v", nb, got, want)
		}
		w6 := randKBlocks(r, nb, Q6_KSize, 208)
		DequantizeQ6_K(wd, w6)
		want, mag = refDot(wd, xd)
		if got := DotQ6_K(w6, xq, n); math.Abs(float64(got)-want) > 1e-5*mag+1e-6 {
			t.Errorf("DotQ6_K nb=%d: %v want %v", nb, got, want)
		}
	}

	// Q4_K: d=1, dmin=0.5; sub-block 5 has scale 3 and min 2 (6-bit fields split
	// across bytes 1, 9 and 5 of the scales), and every nibble of byte 32*2+7 of qs
	// (sub-blocks 4 and 5, element 7) is set.
	blk := make([]byte, Q4_KSize)
	one, half := F32ToF16(1), F32ToF16(0.5)
	blk[0], blk[1], blk[2], blk[3] = byte(one), byte(one>>8), byte(half), byte(half>>8)
	sc := blk[4:16]
	sc[9] = 3 | 2<<4 // low 4 bits of scale 5 and of min 5
	sc[5] = 1 << 6   // high 2 bits of min 5 (from byte j=5): adds 16
	sc[1] = 0        // high 2 bits of scale 5 (from byte j-4=1)
	blk[16+64+7] = 0x5a
	out := make([]float32, KBlockLen)
	DequantizeQ4_K(out, blk)
	// Element 32*5+7 = 167: scale 3, min 2+16=18: 1*3*5 - 0.5*18 = 6.
	if out[167] != 6 {
		t.Fatalf("Q4_K element 167 = %v, want 6", out[167])
	}
	// Element 32*4+7 = 135: sub-block 4 has scale 0 and min 0 here.
	if out[135] != 0 {
		t.Fatalf("Q4_K element 135 = %v, want 0", out[135])
	}

	// Q6_K: d=2; element 128+64+3 (second half, q3 of l=3) with scale index 8+0+4=12.
	blk6 := make([]byte, Q6_KSize)
	two := F32ToF16(2)
	blk6[208], blk6[209] = byte(two), byte(two>>8)
	blk6[64+3] = 0x70       // high nibble 7: low 4 bits of q3
	blk6[128+32+3] = 2 << 4 // bits 4-5 of qh: high 2 bits of q3 = 2 -> q = 7+32-32 = 7
	neg3 := int8(-3)
	blk6[192+8+4] = byte(neg3)
	out6 := make([]float32, KBlockLen)
	DequantizeQ6_K(out6, blk6)
	if out6[128+64+3] != 2*-3*7 {
		t.Fatalf("Q6_K element 195 = %v, want -42", out6[128+64+3])
	}
	if out6[0] != 2*0*-32 {
		t.Fatalf("Q6_K element 0 = %v", out6[0])
	}
}

func TestQuantizeKRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := randVec(r, 4*KBlockLen, 1)
	got := make([]float32, len(x))
	for _, c := range []struct {
		name   string
		size   int
		q      func([]byte, []float32)
		dq     func([]float32, []byte)
		maxRel float64
	}{
		{"q4_k", Q4_KSize, QuantizeQ4_K, DequantizeQ4_K, 0.12},
		{"q6_k", Q6_KSize, QuantizeQ6_K, DequantizeQ6_K, 0.03},
	} {
		buf := make([]byte, len(x)/KBlockLen*c.size)
		c.q(buf, x)
		c.dq(got, buf)
		var num, den float64
		for i := range x {
			num += float64(got[i]-x[i]) * float64(got[i]-x[i])
			den += float64(x[i]) * float64(x[i])
		}
		rel := math.Sqrt(num / den)
		t.Logf("%s: relative RMS error %.3g", c.name, rel)
		if rel > c.maxRel {
			t.Errorf("%s: relative RMS error %.3g > %.3g", c.name, rel, c.maxRel)
		}
	}
}
