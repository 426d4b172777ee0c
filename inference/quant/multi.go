package quant

// The x4 kernels multiply one weight row with four activation rows that lie stride
// apart, so batched prefill reads and unpacks each weight block once per four tokens.
// Results equal four calls of the one-row kernels up to float rounding.

// DotF32x4 sets out[i] = DotF32(w, x[i*stride:]) for i < 4 (stride in elements).
func DotF32x4(out *[4]float32, w, x []float32, stride int) {
	n := len(w)
	_ = x[3*stride+n-1]
	if !useSIMD || n < 8 {
		for i := range out {
			out[i] = dotF32Go(w, x[i*stride:i*stride+n])
		}
		return
	}
	m := n &^ 7
	dotF32x4AVX(&w[0], &x[0], 4*stride, m, out)
	for i := range out {
		for j := m; j < n; j++ {
			out[i] += w[j] * x[i*stride+j]
		}
	}
}

// DotF16x4 sets out[i] = DotF16(w, x[i*stride:i*stride+n]) for i < 4, where n =
// len(w)/2 (stride in elements).
func DotF16x4(out *[4]float32, w []byte, x []float32, stride int) {
	n := len(w) / 2
	_ = x[3*stride+n-1]
	if !useSIMD || n%8 != 0 {
		for i := range out {
			out[i] = dotF16Go(w, x[i*stride:i*stride+n])
		}
		return
	}
	dotF16x4AVX(&w[0], &x[0], 4*stride, n, out)
}

// DotQ8_0x4 sets out[i] = DotQ8_0(w, x[i*stride:], n) for i < 4 (stride in bytes).
func DotQ8_0x4(out *[4]float32, w, x []byte, stride, n int) {
	nb := n / BlockLen
	_ = w[nb*Q8_0Size-1]
	_ = x[3*stride+nb*Q8_0Size-1]
	if !useSIMD {
		for i := range out {
			out[i] = dotQ8_0Go(w, x[i*stride:], n)
		}
		return
	}
	dotQ8_0x4AVX(&w[0], &x[0], stride, nb, out)
}

// DotQ4_0x4 sets out[i] = DotQ4_0(w, x[i*stride:], n) for i < 4 (stride in bytes).
func DotQ4_0x4(out *[4]float32, w, x []byte, stride, n int) {
	nb := n / BlockLen
	_ = w[nb*Q4_0Size-1]
	_ = x[3*stride+nb*Q8_0Size-1]
	if !useSIMD {
		for i := range out {
			out[i] = dotQ4_0Go(w, x[i*stride:], n)
		}
		return
	}
	dotQ4_0x4AVX(&w[0], &x[0], stride, nb, out)
}

// DotQ8_0Rows sets out[r] = DotQ8_0(w[r*stride:], x, n) for r < len(out): the
// products of consecutive Q8_0 weight rows (stride bytes apart) with one activation row.
func DotQ8_0Rows(out []float32, w []byte, stride int, x []byte, n int) {
	nb := n / BlockLen
	if len(out) == 0 || nb == 0 {
		clear(out)
		return
	}
	_ = w[(len(out)-1)*stride+nb*Q8_0Size-1]
	_ = x[nb*Q8_0Size-1]
	if !useSIMD {
		for r := range out {
			out[r] = dotQ8_0Go(w[r*stride:], x, n)
		}
		return
	}
	dotQ8_0RowsAVX(&w[0], stride, len(out), &x[0], nb, &out[0])
}

// DotQ4_0Rows sets out[r] = DotQ4_0(w[r*stride:], x, n) for r < len(out).
func DotQ4_0Rows(out []float32, w []byte, stride int, x []byte, n int) {
	nb := n / BlockLen
	if len(out) == 0 || nb == 0 {
		clear(out)
		return
	}
	_ = w[(len(out)-1)*stride+nb*Q4_0Size-1]
	_ = x[nb*Q8_0Size-1]
	if !useSIMD {
		for r := range out {
			out[r] = dotQ4_0Go(w[r*stride:], x, n)
		}
		return
	}
	dotQ4_0RowsAVX(&w[0], stride, len(out), &x[0], nb, &out[0])
}

// Q8Aux computes, for a Q8_0 row xq of n elements, what DotQ4_0RowsAux needs besides
// the quants: aux[2b] is block b's scale and aux[2b+1] is 8*scale*sum of its quants.
// aux must hold 2*n/32 values.
func Q8Aux(aux []float32, xq []byte, n int) {
	nb := n / BlockLen
	_ = aux[2*nb-1]
	for b := 0; b < nb; b++ {
		blk := xq[b*Q8_0Size : (b+1)*Q8_0Size]
		d := f16Table[uint16(blk[0])|uint16(blk[1])<<8]
		var s int32
		for _, q := range blk[2:] {
			s += int32(int8(q))
		}
		aux[2*b], aux[2*b+1] = d, 8*d*float32(s)
	}
}

// DotQ4_0RowsAux is DotQ4_0Rows with the activation's Q8Aux precomputed, which lets the
// kernel skip the per-block sign handling; results agree up to float rounding.
func DotQ4_0RowsAux(out []float32, w []byte, stride int, x []byte, aux []float32, n int) {
	nb := n / BlockLen
	if len(out) == 0 || nb == 0 {
		clear(out)
		return
	}
	_ = w[(len(out)-1)*stride+nb*Q4_0Size-1]
	_ = x[nb*Q8_0Size-1]
	_ = aux[2*nb-1]
	if !useSIMD {
		for r := range out {
			out[r] = dotQ4_0Go(w[r*stride:], x, n)
		}
		return
	}
	dotQ4_0RowsAuxAVX(&w[0], stride, len(out), &x[0], &aux[0], nb, &out[0])
}
