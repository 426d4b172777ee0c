// Package bench measures the local engine: prefill and decode tokens per second, peak
// memory, and decode speed as a fraction of the memory-bandwidth bound (the bytes of
// weights one token reads, over the read bandwidth measured on the same threads).
package bench
