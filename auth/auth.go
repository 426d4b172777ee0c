// Package auth keeps the principals (users and agents) of a data directory,
// their bearer tokens and the access rules, in the store's system area.
//
// Tokens are 32 random bytes, shown once when a principal is added and
// stored only as their SHA-256 hash: a token carries 256 bits of entropy,
// so a fast hash is as safe as a slow one and keeps authentication cheap.
// The hash is the key of the token record, so authentication is one
// lookup, and comparing hashes leaks nothing useful about the token.
//
// A Registry is safe for concurrent use. It caches nothing: every call
// reads the store, so changes made by any process are seen at once.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/store"
)

// KV is the part of the store the registry uses.
type KV interface {
	SysGet(ctx context.Context, bucket, key string) ([]byte, error)
	SysPut(ctx context.Context, bucket, key string, value []byte) error
	SysDelete(ctx context.Context, bucket, key string) error
	SysList(ctx context.Context, bucket string) ([]store.KV, error)
}

const (
	bucketPrincipals = "principals" // name -> principal record
	bucketTokens     = "tokens"     // hex sha256(token) -> name
	bucketRules      = "rules"      // id -> rule
	tokenPrefix      = "ctxfs_"
)

// Principal is a registered principal, without its token.
type Principal struct {
	Name    string    `json:"name"`
	Admin   bool      `json:"admin"`
	Created time.Time `json:"created"`
}

type principalRecord struct {
	Principal
	TokenHash string `json:"token_sha256"`
}

// Rule is a stored access rule with its id.
type Rule struct {
	ID string `json:"id"`
	fs.Rule
	PermString string `json:"perms_text"`
}

// Registry manages principals, tokens and rules.
type Registry struct {
	kv KV
}

// New returns a registry over kv.
func New(kv KV) *Registry { return &Registry{kv: kv} }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Add registers a principal and returns its token, which is not stored and
// cannot be shown again. An existing name is ErrExist.
func (r *Registry) Add(ctx context.Context, name string, admin bool) (string, error) {
	if err := fs.ValidPrincipalName(name); err != nil {
		return "", err
	}
	if _, err := r.kv.SysGet(ctx, bucketPrincipals, name); err == nil {
		return "", fmt.Errorf("principal %q: %w", name, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	rec := principalRecord{Principal: Principal{Name: name, Admin: admin, Created: time.Now().UTC()}, TokenHash: hashToken(token)}
	b, _ := json.Marshal(rec)
	// The token record first: a principal record without a token record
	// would be a principal nobody can act as, which is harmless; the other
	// order could leave a token that names no principal.
	if err := r.kv.SysPut(ctx, bucketTokens, rec.TokenHash, []byte(name)); err != nil {
		return "", err
	}
	if err := r.kv.SysPut(ctx, bucketPrincipals, name, b); err != nil {
		return "", err
	}
	return token, nil
}

// List returns the principals, sorted by name.
func (r *Registry) List(ctx context.Context) ([]Principal, error) {
	kvs, err := r.kv.SysList(ctx, bucketPrincipals)
	if err != nil {
		return nil, err
	}
	out := make([]Principal, 0, len(kvs))
	for _, kv := range kvs {
		var rec principalRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return nil, fmt.Errorf("principal record %q: %w: %v", kv.Key, fs.ErrInvalid, err)
		}
		out = append(out, rec.Principal)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes a principal and revokes its token. Its rules stay until
// removed (a principal of the same name added later would get them).
func (r *Registry) Remove(ctx context.Context, name string) error {
	b, err := r.kv.SysGet(ctx, bucketPrincipals, name)
	if err != nil {
		return fmt.Errorf("principal %q: %w", name, fs.ErrNotExist)
	}
	var rec principalRecord
	if err := json.Unmarshal(b, &rec); err == nil && rec.TokenHash != "" {
		if err := r.kv.SysDelete(ctx, bucketTokens, rec.TokenHash); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return r.kv.SysDelete(ctx, bucketPrincipals, name)
}

// Authenticate returns the principal a bearer token belongs to, or an error
// wrapping fs.ErrUnauthenticated.
func (r *Registry) Authenticate(ctx context.Context, token string) (fs.Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return fs.Principal{}, fmt.Errorf("%w: malformed token", fs.ErrUnauthenticated)
	}
	name, err := r.kv.SysGet(ctx, bucketTokens, hashToken(token))
	if err != nil {
		return fs.Principal{}, fmt.Errorf("%w: unknown token", fs.ErrUnauthenticated)
	}
	b, err := r.kv.SysGet(ctx, bucketPrincipals, string(name))
	if err != nil {
		return fs.Principal{}, fmt.Errorf("%w: token of a removed principal", fs.ErrUnauthenticated)
	}
	var rec principalRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return fs.Principal{}, fmt.Errorf("%w: unreadable principal record", fs.ErrUnauthenticated)
	}
	return fs.Principal{Name: rec.Name, Admin: rec.Admin}, nil
}

// AddRule stores a rule granting perms on pattern to principal ("*" for
// everyone) and returns it with its id.
func (r *Registry) AddRule(ctx context.Context, principal, pattern, perms string) (Rule, error) {
	if principal != "*" {
		if err := fs.ValidPrincipalName(principal); err != nil {
			return Rule{}, err
		}
	}
	if err := fs.ValidatePattern(pattern); err != nil {
		return Rule{}, err
	}
	p, err := fs.ParsePerm(perms)
	if err != nil {
		return Rule{}, err
	}
	var raw [6]byte
	rand.Read(raw[:])
	rule := Rule{ID: hex.EncodeToString(raw[:]), Rule: fs.Rule{Principal: principal, Pattern: pattern, Perms: p}, PermString: p.String()}
	b, _ := json.Marshal(rule)
	if err := r.kv.SysPut(ctx, bucketRules, rule.ID, b); err != nil {
		return Rule{}, err
	}
	return rule, nil
}

// Rules returns the stored rules, sorted by principal then pattern.
func (r *Registry) Rules(ctx context.Context) ([]Rule, error) {
	kvs, err := r.kv.SysList(ctx, bucketRules)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(kvs))
	for _, kv := range kvs {
		var rule Rule
		if err := json.Unmarshal(kv.Value, &rule); err != nil {
			return nil, fmt.Errorf("rule record %q: %w: %v", kv.Key, fs.ErrInvalid, err)
		}
		out = append(out, rule)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Principal != out[j].Principal {
			return out[i].Principal < out[j].Principal
		}
		return out[i].Pattern < out[j].Pattern
	})
	return out, nil
}

// RemoveRule deletes the rule with id.
func (r *Registry) RemoveRule(ctx context.Context, id string) error {
	if _, err := r.kv.SysGet(ctx, bucketRules, id); err != nil {
		return fmt.Errorf("rule %q: %w", id, fs.ErrNotExist)
	}
	return r.kv.SysDelete(ctx, bucketRules, id)
}

// Policy returns the access policy made of the stored rules.
func (r *Registry) Policy(ctx context.Context) (*fs.Policy, error) {
	rules, err := r.Rules(ctx)
	if err != nil {
		return nil, err
	}
	pol := &fs.Policy{}
	for _, rule := range rules {
		pol.Rules = append(pol.Rules, rule.Rule)
	}
	return pol, nil
}
