// Package synth writes LLaMA-shaped GGUF models with random weights, for benchmarks and
// tests: realistic shapes (a 110M model, TinyLlama-1.1B) in F32, F16, Q8_0 or Q4_0 with
// the tokenizer of a real vocabulary file, and conversion of an existing model's weights
// to another type.
//
// Tensor data is generated while it is written, so a 4.4 GB F32 model needs only a few
// megabytes of memory (see [Write]).
package synth
