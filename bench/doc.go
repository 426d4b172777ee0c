// Package bench holds the end-to-end benchmarks behind `ctxfs bench`. Each
// measures ctxfs beside a baseline run in the same process on the same
// data, and reports both with their ratio, because the machines it runs on
// are shared and noisy: absolute figures vary, ratios much less.
package bench
