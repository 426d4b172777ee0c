package kvbench

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/llama"
)

// The local engine with a compressing backend: a budget above the context gives the
// plain engine's tokens; a small one still generates past the budget.
func TestEngineBackend(t *testing.T) {
	path := testmodel.Path(t, testmodel.Stories260K)
	gen := func(be llama.Backend) []int32 {
		t.Helper()
		e, err := inference.Open(path, true, inference.EngineOptions{Backend: be, Session: llama.SessionOptions{Threads: 2}})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		var out []int32
		for _, p := range []string{"Once upon a time", "Once upon a time, there was a dog"} {
			r, err := e.Generate(context.Background(), inference.Request{Prompt: p, MaxTokens: 150})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.Tokens...)
		}
		return out
	}
	want := gen(nil)
	for _, p := range kv.Policies {
		if got := gen(Backend(kv.Config{Policy: p, Budget: 512})); !slices.Equal(got, want) {
			t.Errorf("%s at budget 512: tokens differ from the full cache", p)
		}
		if got := gen(Backend(kv.Config{Policy: p, Budget: 48})); len(got) < 200 {
			t.Errorf("%s at budget 48: %d tokens", p, len(got))
		}
	}
}

// recorder keeps the sessions a backend creates.
type recorder struct {
	llama.Backend
	sessions []*Session
}

func (r *recorder) NewSession(m *llama.Model, o llama.SessionOptions) (llama.Session, error) {
	s, err := r.Backend.NewSession(m, o)
	if err == nil {
		r.sessions = append(r.sessions, s.(*Session))
	}
	return s, err
}

// A request chooses its own policy (inference.Request.KV) on an engine configured
// with the full cache.
func TestPerRequestPolicy(t *testing.T) {
	path := testmodel.Path(t, testmodel.Stories260K)
	rec := &recorder{Backend: Backend(kv.Config{})}
	e, err := inference.Open(path, true, inference.EngineOptions{Backend: rec, Session: llama.SessionOptions{Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	plain, err := inference.Open(path, true, inference.EngineOptions{Session: llama.SessionOptions{Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	req := inference.Request{Prompt: "Once upon a time", MaxTokens: 120}
	want, err := plain.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	s := rec.sessions[0]
	for _, c := range []struct {
		kv       *kv.Config
		policy   string
		maxSlots int
	}{
		{nil, kv.PolicyFull, 512},
		{&kv.Config{Policy: kv.PolicySnapKV, Budget: 32}, kv.PolicySnapKV, 32},
		{&kv.Config{Policy: kv.PolicyH2O, Budget: 40}, kv.PolicyH2O, 40},
		{&kv.Config{Policy: kv.PolicyPyramidKV, Budget: 512}, kv.PolicyPyramidKV, 512},
		{nil, kv.PolicyFull, 512},
	} {
		r := req
		r.KV = c.kv
		got, err := e.Generate(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if s.Policy.Name() != c.policy || s.Cache().Layer(0).Len() > c.maxSlots {
			t.Fatalf("request with %+v: policy %s, %d slots", c.kv, s.Policy.Name(), s.Cache().Layer(0).Len())
		}
		if c.maxSlots == 512 && !slices.Equal(got.Tokens, want.Tokens) {
			t.Fatalf("request with %+v: tokens differ from the plain engine's", c.kv)
		}
	}
	bad := req
	bad.KV = &kv.Config{Policy: "lru"}
	if _, err := e.Generate(context.Background(), bad); !errors.Is(err, inference.ErrInvalid) {
		t.Fatalf("unknown policy: %v", err)
	}
	bad.KV = &kv.Config{Policy: kv.PolicySnapKV, Budget: 8}
	if _, err := plain.Generate(context.Background(), bad); !errors.Is(err, inference.ErrInvalid) {
		t.Fatalf("policy on the plain engine: %v", err)
	}
}
