// Package gguf reads and writes GGUF files, the model format of llama.cpp
// and ggml.
//
// # Reading
//
// Open memory-maps a file and parses its header, metadata and tensor
// infos; tensor data stays in the mapping and is reached, without copying,
// through TensorInfo.Data. OpenFile with Options{InMemory: true} reads the
// whole file into RAM instead, and OpenBytes parses a buffer the caller
// already holds.
//
//	f, err := gguf.Open("model.gguf")
//	if err != nil { ... }
//	defer f.Close()
//	layers, _ := f.Uint("llama.block_count")
//	t, ok := f.Tensor("token_embd.weight")
//	w := t.Data() // t.Size bytes of t.Type, valid until f.Close
//
// GGUF versions 2 and 3 are supported, little-endian only. Metadata values
// are held as plain Go values: uint8 ... float64, bool and string for
// scalars, typed slices ([]int32, []string, ...) for arrays, and []Array
// for arrays of arrays. The accessors String, Uint, Int, Float, Bool,
// Strings, Float32s and Int32s convert between compatible types and report
// false when a key is absent or of another type.
//
// # Untrusted input
//
// The reader treats every file as untrusted. Every count, length, offset
// and size is checked against the bytes that remain before anything is
// allocated, so memory use is bounded by a small multiple of the file size
// and a corrupt file yields an error, never a panic. Errors wrap ErrCorrupt
// (malformed file) or ErrUnsupported (a well-formed feature this package
// does not handle, such as GGUF v1, a big-endian file or an unknown tensor
// type); test for them with errors.Is. The parser is fuzzed (FuzzOpen).
//
// # Writing
//
// Writer assembles metadata and tensors and writes a file with correctly
// aligned tensor data. It is used by tests and to produce synthetic models.
//
// # Tensor types
//
// Type enumerates the GGML tensor types with their block size and block
// byte size, so that the byte size of a row (Type.RowSize) can be computed
// for plain, legacy-quantized (Q4_0 ... Q8_1), K-quantized and IQ types.
//
// # Concurrency
//
// A File may be read by many goroutines at once. Close must not be called
// concurrently with other use, and slices from TensorInfo.Data must not be
// used after Close. A Writer is for use by one goroutine.
package gguf
