package llama

import "unsafe"

// unsafeF32s views b as float32s. GGUF aligns tensor data to at least 32 bytes, and the
// loader checks alignment before calling it.
func unsafeF32s(b []byte) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

func aligned4(b []byte) bool { return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%4 == 0 }
