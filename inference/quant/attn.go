package quant

// Attention kernels: rows of a KV cache lie stride elements apart, each holding a head's
// hd values at the start of the given slice.

// Dots sets out[i] = q · k[i*stride : i*stride+len(q)] for i < len(out).
func Dots(out, q, k []float32, stride int) {
	hd := len(q)
	if len(out) == 0 {
		return
	}
	_ = k[(len(out)-1)*stride+hd-1]
	if useSIMD && hd%8 == 0 && hd > 0 {
		dotsF32AVX(&q[0], &k[0], 4*stride, len(out), hd, &out[0])
		return
	}
	for i := range out {
		out[i] = dotF32Go(q, k[i*stride:i*stride+hd])
	}
}

// Axpys adds sum_i w[i] * v[i*stride : i*stride+len(out)] to out.
func Axpys(out, w, v []float32, stride int) {
	hd := len(out)
	if len(w) == 0 || hd == 0 {
		return
	}
	_ = v[(len(w)-1)*stride+hd-1]
	if useSIMD && hd%8 == 0 {
		axpysF32AVX(&out[0], &w[0], &v[0], 4*stride, len(w), hd)
		return
	}
	for i, a := range w {
		row := v[i*stride : i*stride+hd]
		for j := range out {
			out[j] += a * row[j]
		}
	}
}
