package quant

import "encoding/binary"

// K-quants: ggml's 256-element super-blocks. Only the two that Q4_K_M files mostly use
// are implemented, without SIMD yet: their products with Q8_0 activations run in
// portable Go (the 32-element sub-blocks line up with Q8_0 blocks, so the inner loops
// are integer sums).
//
//	Q4_K (144 bytes): d, dmin (half floats); 12 bytes packing eight 6-bit scales and
//	     eight 6-bit mins; 128 bytes of nibbles. Sub-block s (32 elements) is
//	     d*scale_s*q - dmin*min_s; bytes 32j..32j+31 hold sub-block 2j in their low
//	     nibbles and sub-block 2j+1 in their high nibbles.
//	Q6_K (210 bytes): 128 bytes of low nibbles (ql), 64 bytes of high 2-bit pairs (qh),
//	     16 int8 scales (one per 16 elements), then d. Element value d*scale*(q-32).
const (
	// KBlockLen is the number of elements in one K-quant super-block.
	KBlockLen = 256
	// Q4_KSize is the byte size of one Q4_K super-block.
	Q4_KSize = 144
	// Q6_KSize is the byte size of one Q6_K super-block.
	Q6_KSize = 210
)

// RowBytesQ4_K returns the byte size of a Q4_K row of n elements (n a multiple of 256).
func RowBytesQ4_K(n int) int { return n / KBlockLen * Q4_KSize }

// RowBytesQ6_K returns the byte size of a Q6_K row of n elements (n a multiple of 256).
func RowBytesQ6_K(n int) int { return n / KBlockLen * Q6_KSize }

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j from a Q4_K scales field.
func scaleMinK4(j int, s []byte) (sc, m uint8) {
	if j < 4 {
		return s[j] & 63, s[j+4] & 63
	}
	return s[j+4]&0x0f | (s[j-4]>>6)<<4, s[j+4]>>4 | (s[j]>>6)<<4
}

// DequantizeQ4_K expands Q4_K super-blocks from src into dst (len(dst) elements).
func DequantizeQ4_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/KBlockLen; b++ {
		blk := src[b*Q4_KSize : (b+1)*Q4_KSize]
		d := F16ToF32(binary.LittleEndian.Uint16(blk))
		dmin := F16ToF32(binary.LittleEndian.Uint16(blk[2:]))
		scales, qs := blk[4:16], blk[16:]
		out := dst[b*KBlockLen:]
		for j := 0; j < 4; j++ {
			sc0, m0 := scaleMinK4(2*j, scales)
			sc1, m1 := scaleMinK4(2*j+1, scales)
			d0, mm0 := d*float32(sc0), dmin*float32(m0)
			d1, mm1 := d*float32(sc1), dmin*float32(m1)
			q := qs[32*j : 32*j+32]
			for l := 0; l < 32; l++ {
				out[64*j+l] = d0*float32(q[l]&0x0f) - mm0
				out[64*j+32+l] = d1*float32(q[l]>>4) - mm1
			}
		}
	}
}

// DequantizeQ6_K expands Q6_K super-blocks from src into dst (len(dst) elements).
func DequantizeQ6_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/KBlockLen; b++ {
		blk := src[b*Q6_KSize : (b+1)*Q6_KSize]
		d := F16ToF32(binary.LittleEndian.Uint16(blk[208:]))
		out := dst[b*KBlockLen:]
		for n := 0; n < 2; n++ {
			ql, qh, sc := blk[64*n:], blk[128+32*n:], blk[192+8*n:]
			for l := 0; l < 32; l++ {
				is := l / 16
				q1 := int(ql[l]&0x0f|(qh[l]>>0&3)<<4) - 32
				q2 := int(ql[l+32]&0x0f|(qh[l]>>2&3)<<4) - 32
				q3 := int(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				q4 := int(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				out[128*n+l] = d * float32(int8(sc[is])) * float32(q1)
				out[128*n+32+l] = d * float32(int8(sc[is+2])) * float32(q2)
				out[128*n+64+l] = d * float32(int8(sc[is+4])) * float32(q3)
				out[128*n+96+l] = d * float32(int8(sc[is+6])) * float32(q4)
			}
		}
	}
}

// DotQ4_K returns the dot product of a Q4_K row w and a Q8_0 row x of n elements.
func DotQ4_K(w, x []byte, n int) float32 {
	nb := n / KBlockLen
	w = w[:nb*Q4_KSize]
	x = x[:nb*8*Q8_0Size]
	var sum float32
	for b := 0; b < nb; b++ {
		blk := w[b*Q4_KSize : (b+1)*Q4_KSize]
		d := f16Table[binary.LittleEndian.Uint16(blk)]
		dmin := f16Table[binary.LittleEndian.Uint16(blk[2:])]
		scales, qs := blk[4:16], blk[16:]
		xs := x[b*8*Q8_0Size:]
		for j := 0; j < 4; j++ {
			q := qs[32*j : 32*j+32]
			x0 := xs[(2*j)*Q8_0Size : (2*j+1)*Q8_0Size]
			x1 := xs[(2*j+1)*Q8_0Size : (2*j+2)*Q8_0Size]
			var s0, s1, t0, t1 int32
			for l := 0; l < 32; l++ {
				a, c := int32(int8(x0[2+l])), int32(int8(x1[2+l]))
				s0 += int32(q[l]&0x0f) * a
				s1 += int32(q[l]>>4) * c
				t0 += a
				t1 += c
			}
			sc0, m0 := scaleMinK4(2*j, scales)
			sc1, m1 := scaleMinK4(2*j+1, scales)
			dx0 := f16Table[binary.LittleEndian.Uint16(x0)]
			dx1 := f16Table[binary.LittleEndian.Uint16(x1)]
			sum += dx0*(d*float32(sc0)*float32(s0)-dmin*float32(m0)*float32(t0)) +
				dx1*(d*float32(sc1)*float32(s1)-dmin*float32(m1)*float32(t1))
		}
	}
	return sum
}

// DotQ6_K returns the dot product of a Q6_K row w and a Q8_0 row x of n elements.
func DotQ6_K(w, x []byte, n int) float32 {
	nb := n / KBlockLen
	w = w[:nb*Q6_KSize]
	x = x[:nb*8*Q8_0Size]
	var sum float32
	for b := 0; b < nb; b++ {
		blk := w[b*Q6_KSize : (b+1)*Q6_KSize]
		d := f16Table[binary.LittleEndian.Uint16(blk[208:])]
		xs := x[b*8*Q8_0Size:]
		var acc float32
		for n := 0; n < 2; n++ {
			ql, qh, sc := blk[64*n:], blk[128+32*n:], blk[192+8*n:]
			// Q8_0 blocks 4n..4n+3 hold the elements of q1..q4 below.
			xb := [4][]byte{}
			for k := range xb {
				xb[k] = xs[(4*n+k)*Q8_0Size : (4*n+k+1)*Q8_0Size]
			}
			var is [4][2]int32 // [k][half] integer sums
			for l := 0; l < 32; l++ {
				h := l / 16
				is[0][h] += (int32(ql[l]&0x0f|(qh[l]&3)<<4) - 32) * int32(int8(xb[0][2+l]))
				is[1][h] += (int32(ql[l+32]&0x0f|(qh[l]>>2&3)<<4) - 32) * int32(int8(xb[1][2+l]))
				is[2][h] += (int32(ql[l]>>4|(qh[l]>>4&3)<<4) - 32) * int32(int8(xb[2][2+l]))
				is[3][h] += (int32(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32) * int32(int8(xb[3][2+l]))
			}
			for k := 0; k < 4; k++ {
				dx := f16Table[binary.LittleEndian.Uint16(xb[k])]
				acc += dx * float32(int32(int8(sc[2*k]))*is[k][0]+int32(int8(sc[2*k+1]))*is[k][1])
			}
		}
		sum += d * acc
	}
	return sum
}

// QuantizeQ4_K quantizes src (a multiple of 256 long) into dst (RowBytesQ4_K bytes)
// with a simple min/max fit per sub-block. It is not ggml's iterative search, so its
// error is somewhat larger than llama-quantize's, but the blocks are standard Q4_K.
func QuantizeQ4_K(dst []byte, src []float32) {
	for b := 0; b < len(src)/KBlockLen; b++ {
		x := src[b*KBlockLen : (b+1)*KBlockLen]
		blk := dst[b*Q4_KSize : (b+1)*Q4_KSize]
		var scale, minv [8]float32
		var maxScale, maxMin float32
		for s := 0; s < 8; s++ {
			lo, hi := float32(0), x[32*s]
			for _, v := range x[32*s : 32*s+32] {
				lo, hi = min(lo, v), max(hi, v)
			}
			scale[s], minv[s] = (hi-lo)/15, -lo
			maxScale, maxMin = max(maxScale, scale[s]), max(maxMin, minv[s])
		}
		hd, hm := F32ToF16(maxScale/63), F32ToF16(maxMin/63)
		binary.LittleEndian.PutUint16(blk, hd)
		binary.LittleEndian.PutUint16(blk[2:], hm)
		d, dmin := F16ToF32(hd), F16ToF32(hm)
		var sc, m [8]uint8
		for s := 0; s < 8; s++ {
			if d > 0 {
				sc[s] = uint8(min(63, roundAway(scale[s]/d)))
			}
			if dmin > 0 {
				m[s] = uint8(min(63, roundAway(minv[s]/dmin)))
			}
		}
		scales := blk[4:16]
		clear(scales)
		for j := 0; j < 4; j++ {
			scales[j] = sc[j] & 63
			scales[j+4] = m[j] & 63
		}
		for j := 4; j < 8; j++ {
			scales[j+4] = sc[j]&0x0f | (m[j]&0x0f)<<4
			scales[j-4] |= (sc[j] >> 4) << 6
			scales[j] |= (m[j] >> 4) << 6
		}
		qs := blk[16:]
		for s := 0; s < 8; s++ {
			ed, em := d*float32(sc[s]), dmin*float32(m[s])
			for l := 0; l < 32; l++ {
				var q uint8
				if ed > 0 {
					q = uint8(max(0, min(15, roundAway((x[32*s+l]+em)/ed))))
				}
				if s%2 == 0 {
					qs[32*(s/2)+l] = q
				} else {
					qs[32*(s/2)+l] |= q << 4
				}
			}
		}
	}
}

// QuantizeQ6_K quantizes src (a multiple of 256 long) into dst (RowBytesQ6_K bytes)
// with a symmetric max fit per 16-element sub-block (not ggml's search).
func QuantizeQ6_K(dst []byte, src []float32) {
	for b := 0; b < len(src)/KBlockLen; b++ {
		x := src[b*KBlockLen : (b+1)*KBlockLen]
		blk := dst[b*Q6_KSize : (b+1)*Q6_KSize]
		var scale [16]float32
		var maxScale float32
		for s := 0; s < 16; s++ {
			var amax float32
			for _, v := range x[16*s : 16*s+16] {
				amax = max(amax, abs32(v))
			}
			scale[s] = amax / 31
			maxScale = max(maxScale, scale[s])
		}
		hd := F32ToF16(maxScale / 127)
		binary.LittleEndian.PutUint16(blk[208:], hd)
		d := F16ToF32(hd)
		var L [KBlockLen]uint8
		for s := 0; s < 16; s++ {
			var sc int8
			if d > 0 {
				sc = int8(min(127, roundAway(scale[s]/d)))
			}
			blk[192+s] = byte(sc)
			e := d * float32(sc)
			for l := 0; l < 16; l++ {
				q := float32(0)
				if e > 0 {
					q = max(-32, min(31, roundAway(x[16*s+l]/e)))
				}
				L[16*s+l] = uint8(int(q) + 32)
			}
		}
		for n := 0; n < 2; n++ {
			ql, qh, y := blk[64*n:], blk[128+32*n:], L[128*n:]
			for l := 0; l < 32; l++ {
				ql[l] = y[l]&0x0f | (y[64+l]&0x0f)<<4
				ql[l+32] = y[32+l]&0x0f | (y[96+l]&0x0f)<<4
				qh[l] = y[l]>>4 | (y[32+l]>>4)<<2 | (y[64+l]>>4)<<4 | (y[96+l]>>4)<<6
			}
		}
	}
}
