package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/muster-dev/muster/schema"
	"github.com/nats-io/nats.go/jetstream"
)

// MinPrefix is the shortest hex prefix ResolveSpec accepts (docs/spec.md section 3).
const MinPrefix = 12

// hexLen is the length of a hex SHA-256.
const hexLen = 64

// PutSpec stores canonical spec bytes under their hash and returns the hash
// ("sha256:<hex>", as schema.HashBytes). It is idempotent: storing bytes that
// are already there succeeds, after checking that the stored bytes are equal.
func (s *Store) PutSpec(ctx context.Context, canonical []byte) (string, error) {
	if len(canonical) == 0 {
		return "", errors.New("put spec: empty spec")
	}
	hash := schema.HashBytes(canonical)
	key := strings.TrimPrefix(hash, schema.HashPrefix)
	kv, err := s.kv(ctx, bucketSpecs)
	if err != nil {
		return "", err
	}
	_, err = kv.Create(ctx, key, canonical)
	if err == nil {
		return hash, nil
	}
	if !isCASFailure(err) {
		return "", fmt.Errorf("put spec %s: %w", hash, err)
	}
	e, err := kvGet(ctx, kv, key)
	if err != nil {
		return "", fmt.Errorf("put spec %s: read back: %w", hash, err)
	}
	if !bytes.Equal(e.Value(), canonical) {
		return "", damagedf("put spec %s: the stored bytes differ from the given ones", hash)
	}
	return hash, nil
}

// Spec returns the canonical bytes stored under hash ("sha256:<hex>" or the
// bare 64-character hex). It fails with ErrNotFound if there are none.
func (s *Store) Spec(ctx context.Context, hash string) ([]byte, error) {
	key := strings.TrimPrefix(hash, schema.HashPrefix)
	if len(key) != hexLen || !isHex(key) {
		return nil, fmt.Errorf("invalid spec hash %q: want sha256: and 64 lowercase hex digits", hash)
	}
	kv, err := s.kv(ctx, bucketSpecs)
	if err != nil {
		return nil, err
	}
	e, err := kvGet(ctx, kv, key)
	if isNotFound(err) {
		return nil, notFound("spec %s%s", schema.HashPrefix, key)
	}
	if err != nil {
		return nil, fmt.Errorf("read spec %s: %w", hash, err)
	}
	return checkSpecBytes(key, e.Value())
}

// checkSpecBytes returns b, the stored bytes of spec key (bare hex), when
// they hash to key, and an error matching ErrDamaged when they do not: a
// spec is content addressed, so bytes that do not match were changed behind
// muster's back and must never run.
func checkSpecBytes(key string, b []byte) ([]byte, error) {
	if got := schema.HashBytes(b); got != schema.HashPrefix+key {
		return nil, damagedf("spec %s%s: its stored bytes hash to %s", schema.HashPrefix, key, got)
	}
	return b, nil
}

// ResolveSpec expands a unique hex prefix of at least MinPrefix characters
// (with or without "sha256:") to the full hash of a stored spec. It fails
// when the prefix is too short, matches nothing (ErrNotFound) or matches
// several specs (the error lists them).
func (s *Store) ResolveSpec(ctx context.Context, prefix string) (string, error) {
	p := strings.ToLower(strings.TrimPrefix(prefix, schema.HashPrefix))
	if !isHex(p) || len(p) > hexLen {
		return "", invalidf("invalid spec hash %q: want hex digits, optionally after sha256:", prefix)
	}
	if len(p) < MinPrefix {
		return "", invalidf("spec hash prefix %q is too short: give at least %d hex digits", prefix, MinPrefix)
	}
	if len(p) == hexLen {
		if _, err := s.Spec(ctx, p); err != nil {
			return "", err
		}
		return schema.HashPrefix + p, nil
	}
	kv, err := s.kv(ctx, bucketSpecs)
	if err != nil {
		return "", err
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return "", fmt.Errorf("list specs: %w", err)
	}
	var found []string
	if lister != nil {
		for k := range lister.Keys() {
			if strings.HasPrefix(k, p) && !slices.Contains(found, schema.HashPrefix+k) {
				found = append(found, schema.HashPrefix+k)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", notFound("spec %s%s…", schema.HashPrefix, p)
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	return "", invalidf("spec hash prefix %s matches %d specs, give more digits: %s", p, len(found), strings.Join(found, ", "))
}
