// Package llama runs LLaMA-family models from GGUF files: RMSNorm, RoPE (interleaved
// pairs as llama's GGUF converter expects, or the NeoX halves layout), grouped-query
// attention, a SwiGLU feed-forward block and tied embeddings when output.weight is
// absent, for F32, F16, Q8_0 and Q4_0 weights, and Q4_K and Q6_K (the bulk of Q4_K_M
// files) with portable Go kernels.
//
// # Structure
//
// A [Model] is the configuration plus weight matrices that alias the GGUF file; it is
// read-only and shared. A [Session] is one sequence being decoded: its KV cache
// (package kv), position and scratch buffers. Sessions come from a [Backend]; [CPU] is
// the portable one, and a GPU backend would implement the same two interfaces.
//
// # CPU backend
//
// Each CPU session owns a [Pool] of persistent worker goroutines. Every step of the
// forward pass is a [Task] struct kept in the session and dispatched to the pool, so a
// decoded token allocates nothing (TestForwardAllocs). Prompts are processed in batches:
// each weight row is read once and multiplied with every token of the batch while it is
// in cache. Products with Q8_0 and Q4_0 weights first quantize the activations to Q8_0,
// as ggml does (see package quant for the error this adds).
package llama
