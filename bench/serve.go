package bench

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/ctxfs/ctxfs/api"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/tokens"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	Clients  int           // concurrent clients; zero means 64
	Duration time.Duration // per phase; zero means 10 s
	Dir      string        // scratch directory; empty means a temporary one
	Progress func(phase string)
}

// ServePhase is one load mix measured against ctxfs and the bare server.
type ServePhase struct {
	Mix   string          `json:"mix"` // "read", "write" or "mixed" (8:1:1 read/write/search)
	Ctxfs *api.LoadResult `json:"ctxfs"`
	Bare  *api.LoadResult `json:"bare"`
	Ratio float64         `json:"ratio"` // ctxfs requests/s over the bare server's
}

// ServeReport is what Serve measured.
type ServeReport struct {
	Phases []ServePhase `json:"phases"`
	Mode   string       `json:"mode"`
}

// Serve runs the HTTP API of a fresh data directory (store, index
// follower, namespace) under load from concurrent clients over loopback
// TCP, and the same load against a bare net/http server that answers from
// memory, phase by phase: reads only, writes only, and a mix.
func Serve(ctx context.Context, o ServeOptions) (*ServeReport, error) {
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "ctxfs-bench-serve")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	counter, _ := tokens.Default()
	rep := &ServeReport{Mode: "loopback TCP, fsync on commit (group commit), index following the change log"}
	for _, mix := range []struct {
		name      string
		r, w, s   int
		subdirKey string
	}{{"read", 1, 0, 0, "r"}, {"write", 0, 1, 0, "w"}, {"mixed", 8, 1, 1, "m"}} {
		progress("load: " + mix.name)
		sys, err := local.Open(ctx, filepath.Join(dir, mix.subdirKey), local.Options{Counter: counter, Populate: true})
		if err != nil {
			return nil, err
		}
		fctx, stop := context.WithCancel(ctx)
		go sys.Follow(fctx)
		ours, bare, err := api.BenchServe(ctx, sys.NS, api.LoadOptions{
			Clients: o.Clients, Duration: o.Duration, Reads: mix.r, Writes: mix.w, Searches: mix.s, Seed: 1,
		})
		stop()
		sys.Close()
		if err != nil {
			return nil, err
		}
		ph := ServePhase{Mix: mix.name, Ctxfs: ours, Bare: bare}
		if bare.Total.PerSec > 0 {
			ph.Ratio = ours.Total.PerSec / bare.Total.PerSec
		}
		rep.Phases = append(rep.Phases, ph)
	}
	return rep, nil
}
