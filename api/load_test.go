package api_test

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
)

var (
	loadDuration = flag.Duration("load", 0, "run TestBenchServe for this long with 64 clients and print the figures")
	loadMix      = flag.String("load-mix", "8:1:1", "reads:writes:searches weights for -load")
)

// TestBenchServe runs the serve benchmark briefly (or as long as -load
// says) over a store with its index behind a namespace, and checks that
// every request succeeded.
func TestBenchServe(t *testing.T) {
	opts := api.LoadOptions{Clients: 4, Duration: time.Second, Files: 50}
	if *loadDuration > 0 {
		opts = api.LoadOptions{Duration: *loadDuration}
		if _, err := fmt.Sscanf(*loadMix, "%d:%d:%d", &opts.Reads, &opts.Writes, &opts.Searches); err != nil {
			t.Fatalf("-load-mix %q: %v", *loadMix, err)
		}
	}
	s := newStore(t)
	x, err := index.Open(t.TempDir(), s, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go x.Follow(ctx)
	ns := fs.NewNamespace(s, fs.NamespaceOptions{Searcher: x})
	got, bare, err := api.BenchServe(ctx, ns, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("api:\n%s", got)
	t.Logf("bare net/http baseline:\n%s", bare)
	for name, r := range map[string]*api.LoadResult{"api": got, "bare": bare} {
		if r.Total.Errors != 0 {
			t.Errorf("%s: %d errors, first: %s", name, r.Total.Errors, r.FirstError)
		}
		for op := range r.Ops {
			if r.Ops[op].Requests == 0 {
				t.Errorf("%s: no %s requests", name, op)
			}
		}
	}
	if bare.Ops["read"].PerSec > 0 {
		t.Logf("read throughput ratio api/bare = %.2f", got.Ops["read"].PerSec/bare.Ops["read"].PerSec)
	}
}
