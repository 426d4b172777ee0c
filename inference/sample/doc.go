// Package sample picks the next token from a model's logits (greedy, temperature,
// top-k, top-p, min-p, repetition penalty, with a seeded generator) and finds stop
// strings in streamed text.
//
// With only a temperature and top-p set, the sampler follows llama2.c's order and random
// number generator exactly (divide by the temperature, softmax, draw one number, nucleus
// over the stably sorted probabilities), so a llama2.c run with the same seed is
// reproduced token for token (see TestLlama2cSample).
package sample
