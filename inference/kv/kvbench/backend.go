package kvbench

import (
	"github.com/ctxfs/ctxfs/inference/kv"
	"github.com/ctxfs/ctxfs/inference/llama"
)

// Backend returns a CPU backend whose sessions compress their KV cache with the
// policy cfg describes, after every Forward. It is how a request or the
// configuration (kv.policy, kv.budget) chooses a policy for the local engine:
// inference.EngineOptions{Backend: kvbench.Backend(cfg)}.
//
// Its sessions observe attention whatever the policy, so that a request may choose
// another one (Session.SetKV, called by the engine with inference.Request.KV).
// A compressed session's Rewind keeps the kept slots before the rewind point (so
// a prompt that shares a prefix with the previous one continues from the
// compressed prefix) and forgets the attention the policy had observed.
func Backend(cfg kv.Config) llama.Backend { return backend{cfg} }

type backend struct{ cfg kv.Config }

func (b backend) Name() string { return "cpu+" + b.cfg.Policy }

func (b backend) NewSession(m *llama.Model, o llama.SessionOptions) (llama.Session, error) {
	capacity := o.Context
	if capacity <= 0 {
		capacity = m.Context
	}
	return newSession(m, b.cfg, capacity, o, true)
}

// Rewind implements llama.Session.
func (s *Session) Rewind(pos int) error {
	if err := s.CPUSession.Rewind(pos); err != nil {
		return err
	}
	s.Policy.Reset()
	return nil
}
