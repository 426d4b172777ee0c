package quant

import (
	"encoding/binary"
	"math"
)

// Block geometry of the quantized formats.
const (
	// BlockLen is the number of elements in one Q8_0 or Q4_0 block.
	BlockLen = 32
	// Q8_0Size is the byte size of one Q8_0 block.
	Q8_0Size = 2 + BlockLen
	// Q4_0Size is the byte size of one Q4_0 block.
	Q4_0Size = 2 + BlockLen/2
)

// RowBytesQ8_0 returns the byte size of a Q8_0 row of n elements (n a multiple of 32).
func RowBytesQ8_0(n int) int { return n / BlockLen * Q8_0Size }

// RowBytesQ4_0 returns the byte size of a Q4_0 row of n elements (n a multiple of 32).
func RowBytesQ4_0(n int) int { return n / BlockLen * Q4_0Size }

// f16Table maps every half-float bit pattern to its float32 value; the portable kernels
// use it because a table read is faster than decoding the bits.
var f16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = f16ToF32Bits(uint16(i))
	}
	return &t
}()

// F16ToF32 converts an IEEE 754 half float to float32 exactly.
func F16ToF32(h uint16) float32 { return f16Table[h] }

func f16ToF32Bits(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: value is mant * 2^-24.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// F32ToF16 converts a float32 to the nearest IEEE 754 half float (ties to even), as the
// F16C instruction VCVTPS2PH does with its default rounding.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		// Subnormal half: shift the mantissa (with its implicit 1) into place.
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is still correct (up to Inf)
	}
	return sign | uint16(half)
}

// QuantizeQ8_0 quantizes src (a multiple of 32 long) into dst, which must hold
// RowBytesQ8_0(len(src)) bytes. It rounds like ggml's reference quantizer.
func QuantizeQ8_0(dst []byte, src []float32) {
	nb := len(src) / BlockLen
	_ = dst[nb*Q8_0Size-1]
	for b := 0; b < nb; b++ {
		x := src[b*BlockLen : (b+1)*BlockLen]
		var amax float32
		for _, v := range x {
			if a := abs32(v); a > amax {
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		blk := dst[b*Q8_0Size : (b+1)*Q8_0Size]
		binary.LittleEndian.PutUint16(blk, F32ToF16(d))
		for j, v := range x {
			blk[2+j] = byte(int8(roundAway(v * id)))
		}
	}
}

// QuantizeQ4_0 quantizes src (a multiple of 32 long) into dst, which must hold
// RowBytesQ4_0(len(src)) bytes, like ggml's reference quantizer: the element of largest
// magnitude maps to -8 exactly.
func QuantizeQ4_0(dst []byte, src []float32) {
	nb := len(src) / BlockLen
	_ = dst[nb*Q4_0Size-1]
	for b := 0; b < nb; b++ {
		x := src[b*BlockLen : (b+1)*BlockLen]
		var amax, max float32
		for _, v := range x {
			if a := abs32(v); a > amax {
				amax, max = a, v
			}
		}
		d := max / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		blk := dst[b*Q4_0Size : (b+1)*Q4_0Size]
		binary.LittleEndian.PutUint16(blk, F32ToF16(d))
		for j := 0; j < BlockLen/2; j++ {
			lo := min(15, int8(x[j]*id+8.5))
			hi := min(15, int8(x[j+16]*id+8.5))
			blk[2+j] = byte(lo) | byte(hi)<<4
		}
	}
}

// DequantizeQ8_0 expands Q8_0 blocks from src into dst (len(dst) elements).
func DequantizeQ8_0(dst []float32, src []byte) {
	nb := len(dst) / BlockLen
	for b := 0; b < nb; b++ {
		blk := src[b*Q8_0Size : (b+1)*Q8_0Size]
		d := F16ToF32(binary.LittleEndian.Uint16(blk))
		out := dst[b*BlockLen : (b+1)*BlockLen]
		for j := range out {
			out[j] = float32(int8(blk[2+j])) * d
		}
	}
}

// DequantizeQ4_0 expands Q4_0 blocks from src into dst (len(dst) elements).
func DequantizeQ4_0(dst []float32, src []byte) {
	nb := len(dst) / BlockLen
	for b := 0; b < nb; b++ {
		blk := src[b*Q4_0Size : (b+1)*Q4_0Size]
		d := F16ToF32(binary.LittleEndian.Uint16(blk))
		out := dst[b*BlockLen : (b+1)*BlockLen]
		for j := 0; j < BlockLen/2; j++ {
			out[j] = float32(int(blk[2+j]&0x0f)-8) * d
			out[j+16] = float32(int(blk[2+j]>>4)-8) * d
		}
	}
}

// DequantizeF16 expands little-endian half floats from src into dst.
func DequantizeF16(dst []float32, src []byte) {
	_ = src[2*len(dst)-1]
	for i := range dst {
		dst[i] = f16Table[binary.LittleEndian.Uint16(src[2*i:])]
	}
}

// DotF32 returns the dot product of a and b (len(b) >= len(a)).
func DotF32(a, b []float32) float32 {
	if useSIMD && len(a) >= 32 {
		return dotF32SIMD(a, b)
	}
	return dotF32Go(a, b)
}

// DotF16 returns the dot product of the half floats in w (2*len(x) bytes) and x.
func DotF16(w []byte, x []float32) float32 {
	if useSIMD && len(x)%16 == 0 {
		return dotF16SIMD(w, x)
	}
	return dotF16Go(w, x)
}

// DotQ8_0 returns the dot product of two Q8_0 rows of n elements.
func DotQ8_0(w, x []byte, n int) float32 {
	if useSIMD {
		return dotQ8_0SIMD(w, x, n)
	}
	return dotQ8_0Go(w, x, n)
}

// DotQ4_0 returns the dot product of a Q4_0 row w and a Q8_0 row x of n elements.
func DotQ4_0(w, x []byte, n int) float32 {
	if useSIMD {
		return dotQ4_0SIMD(w, x, n)
	}
	return dotQ4_0Go(w, x, n)
}

func dotF32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotF16Go(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += f16Table[uint16(w[2*i])|uint16(w[2*i+1])<<8] * x[i]
		s1 += f16Table[uint16(w[2*i+2])|uint16(w[2*i+3])<<8] * x[i+1]
	}
	for ; i < len(x); i++ {
		s0 += f16Table[uint16(w[2*i])|uint16(w[2*i+1])<<8] * x[i]
	}
	return s0 + s1
}

func dotQ8_0Go(w, x []byte, n int) float32 {
	nb := n / BlockLen
	w = w[:nb*Q8_0Size]
	x = x[:nb*Q8_0Size]
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*Q8_0Size : (b+1)*Q8_0Size]
		xb := x[b*Q8_0Size : (b+1)*Q8_0Size]
		var acc int32
		for j := 2; j < Q8_0Size; j++ {
			acc += int32(int8(wb[j])) * int32(int8(xb[j]))
		}
		d := f16Table[uint16(wb[0])|uint16(wb[1])<<8] * f16Table[uint16(xb[0])|uint16(xb[1])<<8]
		sum += float32(acc) * d
	}
	return sum
}

func dotQ4_0Go(w, x []byte, n int) float32 {
	nb := n / BlockLen
	w = w[:nb*Q4_0Size]
	x = x[:nb*Q8_0Size]
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*Q4_0Size : (b+1)*Q4_0Size]
		xb := x[b*Q8_0Size : (b+1)*Q8_0Size]
		var acc int32
		for j := 0; j < BlockLen/2; j++ {
			q := wb[2+j]
			acc += (int32(q&0x0f) - 8) * int32(int8(xb[2+j]))
			acc += (int32(q>>4) - 8) * int32(int8(xb[2+16+j]))
		}
		d := f16Table[uint16(wb[0])|uint16(wb[1])<<8] * f16Table[uint16(xb[0])|uint16(xb[1])<<8]
		sum += float32(acc) * d
	}
	return sum
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// roundAway rounds half away from zero, like C's roundf.
func roundAway(f float32) float32 { return float32(math.Round(float64(f))) }
