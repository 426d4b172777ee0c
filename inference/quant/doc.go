// Package quant holds the weight formats of the CPU engine and their dot products:
// IEEE half floats (F16) and ggml's Q8_0 and Q4_0 block quantizations, and the Q4_K and
// Q6_K super-block formats (kquant.go), with the exact block layouts llama.cpp writes,
// so files made by either tool read the same.
//
// # Block layouts
//
// Both quantized formats group 32 consecutive elements of a row into a block that starts
// with its scale d as an IEEE half float (little endian):
//
//	Q8_0: d, then 32 int8 values q;  x = q*d               (34 bytes per block)
//	Q4_0: d, then 16 bytes of nibbles; byte j holds element j in its low nibble and
//	      element j+16 in its high nibble; x = (q-8)*d     (18 bytes per block)
//
// # Dot products and tolerance
//
// As in ggml, a quantized weight row is multiplied by activations that were themselves
// quantized to Q8_0 ([QuantizeQ8_0]), so the inner loop is an integer multiply-add.
// Quantizing the activations adds a relative error per block of at most 1/254 of the
// block's largest magnitude per element; the tests bound the dot product error against
// a float64 reference of the dequantized weights by 1% of sum|w*x| (see quant_test.go).
//
// F32 and F16 weights are multiplied by float32 activations directly.
//
// Every kernel has a portable Go version; on amd64 with AVX2, FMA and F16C an assembly
// version is used instead (see [HasSIMD]). The tests check both against each other, and
// building with -tags purego leaves the assembly out entirely.
//
// The kernels are safe for concurrent use; they write only to their dst arguments.
package quant
