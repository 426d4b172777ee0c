package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/ctxfs/ctxfs/fs"
)

// The system key/value area keeps small records of other layers (the
// mount table, principals, access rules, the index's applied sequence) in
// the same file and the same transactions as the files, under named
// buckets of their own. It is not part of the namespace and not logged.

// KV is one entry of a system bucket.
type KV struct {
	Key   string
	Value []byte
}

func checkSysName(bucket, key string) error {
	if bucket == "" {
		return fmt.Errorf("%w: empty system bucket name", fs.ErrInvalid)
	}
	return nil
}

// SysGet returns a copy of the value of key in bucket, or an error wrapping
// fs.ErrNotExist.
func (s *Store) SysGet(ctx context.Context, bucket, key string) ([]byte, error) {
	if err := checkSysName(bucket, key); err != nil {
		return nil, err
	}
	var out []byte
	err := s.view(func(t *txn) error {
		b := t.bucket(&t.sys, bktSys).Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("%w: system key %s/%s", fs.ErrNotExist, bucket, key)
		}
		v := b.Get([]byte(key))
		if v == nil {
			return fmt.Errorf("%w: system key %s/%s", fs.ErrNotExist, bucket, key)
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// SysPut sets key in bucket to a copy of value, creating the bucket.
func (s *Store) SysPut(ctx context.Context, bucket, key string, value []byte) error {
	if err := checkSysName(bucket, key); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("%w: empty system key", fs.ErrInvalid)
	}
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	return s.update(ctx, func(t *txn) error {
		// Creating the bucket is a change; it cannot fail on its own once
		// the name is non-empty, so the check-first rule holds.
		b, err := t.bucket(&t.sys, bktSys).CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			t.err = err
			return err
		}
		return t.put(b, []byte(key), v)
	})
}

// SysDelete deletes key from bucket; a missing key is not an error.
func (s *Store) SysDelete(ctx context.Context, bucket, key string) error {
	if err := checkSysName(bucket, key); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		b := t.bucket(&t.sys, bktSys).Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return t.del(b, []byte(key))
	})
}

// SysList returns copies of the entries of bucket in key order; a missing
// bucket is empty.
func (s *Store) SysList(ctx context.Context, bucket string) ([]KV, error) {
	if err := checkSysName(bucket, ""); err != nil {
		return nil, err
	}
	var out []KV
	err := s.view(func(t *txn) error {
		b := t.bucket(&t.sys, bktSys).Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out = append(out, KV{Key: string(k), Value: bytes.Clone(v)})
			return nil
		})
	})
	return out, err
}
