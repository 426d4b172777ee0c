package bench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/quant"
	"github.com/ctxfs/ctxfs/inference/sample"
)

// Options configures Run. The zero value needs only Model.
type Options struct {
	Model        string // GGUF path
	Threads      int    // 0: GOMAXPROCS
	PromptTokens int    // 0: 128
	GenTokens    int    // 0: 32
	// MMap maps the weights instead of reading them into memory. Reading them is the
	// default because this kind of VM evicts the page cache aggressively, which turns a
	// mapped decode into a disk benchmark.
	MMap bool
	// Batch is the prefill batch size (0: the session default).
	Batch int
	// SkipBandwidth skips the bandwidth measurement (BandwidthFraction is then 0).
	SkipBandwidth bool
	// Repeat runs the prefill and the decode this many times (0: once) and reports the
	// fastest run of each, which on a shared machine is the one least disturbed.
	Repeat int
}

// Result is one measurement. JSON names match `ctxfs bench inference --json`.
type Result struct {
	Model        string  `json:"model"`
	Type         string  `json:"type"`
	Mode         string  `json:"mode"` // "memory" or "mmap"
	Threads      int     `json:"threads"`
	SIMD         bool    `json:"simd"`
	PromptTokens int     `json:"prompt_tokens"`
	GenTokens    int     `json:"gen_tokens"`
	LoadSeconds  float64 `json:"load_seconds"`
	PrefillTPS   float64 `json:"prefill_tps"`
	DecodeTPS    float64 `json:"decode_tps"`
	// CPU-time rates: tokens per second of CPU time consumed by the process, times the
	// thread count. On a machine shared with other work (where wall-clock rates
	// measure the scheduler), they estimate the rate on idle cores; on idle cores
	// they are close to the wall-clock rates.
	PrefillCPUTPS float64 `json:"prefill_cpu_tps"`
	DecodeCPUTPS  float64 `json:"decode_cpu_tps"`
	// LoadAverage is the 1-minute load average when the run started.
	LoadAverage         float64 `json:"load_average"`
	PeakRSSBytes        int64   `json:"peak_rss_bytes"`
	WeightBytesPerToken int64   `json:"weight_bytes_per_token"`
	ReadBandwidth       float64 `json:"read_bandwidth_bytes_per_s"`
	CopyBandwidth       float64 `json:"copy_bandwidth_bytes_per_s"`
	BandwidthFraction   float64 `json:"bandwidth_fraction"`
}

// Run loads the model, prefills PromptTokens random tokens in batches, then decodes
// GenTokens tokens greedily, one at a time.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.PromptTokens <= 0 {
		o.PromptTokens = 128
	}
	if o.GenTokens <= 0 {
		o.GenTokens = 32
	}
	start := time.Now()
	f, err := gguf.OpenFile(o.Model, gguf.Options{InMemory: !o.MMap})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := llama.Load(f)
	if err != nil {
		return nil, err
	}
	if o.PromptTokens+o.GenTokens > m.Context {
		return nil, fmt.Errorf("bench: %d+%d tokens exceed the context of %d", o.PromptTokens, o.GenTokens, m.Context)
	}
	s, err := llama.NewCPUSession(m, llama.SessionOptions{Threads: o.Threads, Batch: o.Batch, Context: o.PromptTokens + o.GenTokens})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r := &Result{
		Model: o.Model, Type: m.Blocks[0].Q.Type.String(), Mode: "memory", Threads: s.Threads(),
		SIMD: quant.HasSIMD(), PromptTokens: o.PromptTokens, GenTokens: o.GenTokens,
		LoadSeconds: time.Since(start).Seconds(), WeightBytesPerToken: m.WeightBytes(),
	}
	if o.MMap {
		r.Mode = "mmap"
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int32, o.PromptTokens)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(m.Vocab))
	}
	logits := make([]float32, m.Vocab)
	r.LoadAverage = loadAverage()
	for rep := 0; rep < max(1, o.Repeat); rep++ {
		if err := s.Rewind(0); err != nil {
			return nil, err
		}
		t0, c0 := time.Now(), cpuTime()
		if err := s.Forward(prompt, logits); err != nil {
			return nil, err
		}
		r.PrefillTPS = max(r.PrefillTPS, float64(len(prompt))/time.Since(t0).Seconds())
		r.PrefillCPUTPS = max(r.PrefillCPUTPS, float64(len(prompt)*r.Threads)/(cpuTime()-c0))
		tok := []int32{sample.Argmax(logits)}
		t0, c0 = time.Now(), cpuTime()
		for i := 0; i < o.GenTokens; i++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := s.Forward(tok, logits); err != nil {
				return nil, err
			}
			tok[0] = sample.Argmax(logits)
		}
		r.DecodeTPS = max(r.DecodeTPS, float64(o.GenTokens)/time.Since(t0).Seconds())
		r.DecodeCPUTPS = max(r.DecodeCPUTPS, float64(o.GenTokens*r.Threads)/(cpuTime()-c0))
	}
	r.PeakRSSBytes = PeakRSS()
	if !o.SkipBandwidth {
		r.ReadBandwidth = ReadBandwidth(s.Threads())
		r.CopyBandwidth = CopyBandwidth()
		r.BandwidthFraction = r.DecodeTPS * float64(r.WeightBytesPerToken) / r.ReadBandwidth
	}
	return r, nil
}

const bwBytes = 256 << 20 // far larger than any cache

// CopyBandwidth measures single-threaded memory copy bandwidth in bytes per second,
// counting the bytes read and written (the STREAM "copy" convention), best of 5.
func CopyBandwidth() float64 {
	src := make([]byte, bwBytes)
	dst := make([]byte, bwBytes)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src)
	best := 0.0
	for i := 0; i < 5; i++ {
		t := time.Now()
		copy(dst, src)
		best = max(best, 2*bwBytes/time.Since(t).Seconds())
	}
	return best
}

// ReadBandwidth measures how fast threads goroutines together read memory, in bytes
// per second, with the same SIMD dot product the F32 decoder uses, best of 5. It is the
// bound a memory-bound decode approaches.
func ReadBandwidth(threads int) float64 {
	if threads <= 0 {
		threads = 1
	}
	buf := make([]float32, bwBytes/4)
	for i := range buf {
		buf[i] = 1
	}
	x := make([]float32, 4096)
	best := 0.0
	sink := make([]float32, threads)
	for i := 0; i < 5; i++ {
		var wg sync.WaitGroup
		t := time.Now()
		for p := 0; p < threads; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				lo, hi := len(buf)*p/threads, len(buf)*(p+1)/threads
				var s float32
				for j := lo; j+len(x) <= hi; j += len(x) {
					s += quant.DotF32(buf[j:j+len(x)], x)
				}
				sink[p] = s
			}(p)
		}
		wg.Wait()
		best = max(best, bwBytes/time.Since(t).Seconds())
	}
	return best
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes, or 0 where
// /proc is not available.
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cpuTime returns the user and system CPU seconds the process has used.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// loadAverage returns the 1-minute load average, or 0 where /proc is not available.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
