//go:build unix

package tokenizer_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used. The
// benchmarks report throughput per CPU second next to the wall-clock
// figure because the shared build machine is often oversubscribed.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopCPU runs f in a b.Loop and reports cpu-MB/s for n bytes per call.
func loopCPU(b *testing.B, n int, f func()) {
	b.SetBytes(int64(n))
	start := cpuTime()
	iters := 0
	for b.Loop() {
		f()
		iters++
	}
	if cpu := cpuTime() - start; cpu > 0 && iters > 0 {
		b.ReportMetric(float64(n)*float64(iters)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}
