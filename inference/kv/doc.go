// Package kv holds the key/value cache of a transformer session: per layer, the keys and
// values of the positions the session has attended to so far.
//
// Each layer keeps its own list of slots; slot i holds one key row, one value row and the
// token position they were computed at. Positions are explicit because a compression
// policy (StreamingLLM, H2O, SnapKV) evicts slots: after eviction slot i no longer holds
// position i, and the causal mask and any positional bookkeeping must use
// [Layer.Positions]. Keys are stored after RoPE, so evicting a slot never requires
// recomputing the others. Slots stay in increasing position order.
//
// A Cache is not safe for concurrent mutation; the session that owns it serializes
// Append and Keep. Concurrent readers of one layer's rows (the attention workers) are
// fine while no one mutates it.
package kv
