package state

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
)

// MaxSensitivePaths bounds the sensitive paths recorded for one spec.
const MaxSensitivePaths = 4096

// AddSensitivePaths records that the values at paths of the spec stored
// under hash came from sensitive variables, adding them to those recorded
// before, and returns them all (sorted, see sensitive.Union). A record only
// grows: a value once recorded sensitive stays hidden in every plan, diff
// and history that shows that spec, whoever applies it again without the
// mark. The spec must be stored (else ErrNotFound) and every path must name
// a value of it (else ErrInvalid).
func (s *Store) AddSensitivePaths(ctx context.Context, hash string, paths []string) ([]string, error) {
	if err := CheckHash("spec", hash); err != nil {
		return nil, err
	}
	if len(paths) > MaxSensitivePaths {
		return nil, invalidf("%d sensitive paths: at most %d are recorded for a spec", len(paths), MaxSensitivePaths)
	}
	spec, err := s.Spec(ctx, hash)
	if err != nil {
		return nil, err
	}
	if err := sensitive.Check(spec, paths); err != nil {
		return nil, invalidf("spec %s: %v", hash, err)
	}
	key := strings.TrimPrefix(hash, schema.HashPrefix)
	kv, err := s.kv(ctx, bucketSensitive)
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt < maxPutAttempts; attempt++ {
		e, err := kvGet(ctx, kv, key)
		var had []string
		switch {
		case isNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("read the sensitive paths of spec %s: %w", hash, err)
		default:
			if had, err = decodePaths(hash, e.Value()); err != nil {
				return nil, err
			}
		}
		all := sensitive.Union(had, paths)
		if e != nil && slices.Equal(all, had) {
			return all, nil
		}
		if len(all) == 0 {
			return all, nil
		}
		val, err := json.Marshal(all)
		if err != nil {
			return nil, err
		}
		if e == nil {
			_, err = s.kvCreate(ctx, kv, key, val)
		} else {
			_, err = s.kvUpdate(ctx, kv, key, val, e.Revision())
		}
		if err == nil {
			return all, nil
		}
		if !isCASFailure(err) {
			return nil, fmt.Errorf("record the sensitive paths of spec %s: %w", hash, err)
		}
	}
	return nil, &ConflictError{What: "the sensitive paths of spec " + hash, Reason: fmt.Sprintf("gave up after %d attempts", maxPutAttempts)}
}

// SensitivePaths returns the paths of the values of the spec stored under
// hash that are recorded as sensitive (AddSensitivePaths), sorted; none,
// and no error, when none are recorded, whether or not the spec is stored.
func (s *Store) SensitivePaths(ctx context.Context, hash string) ([]string, error) {
	if err := CheckHash("spec", hash); err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketSensitive)
	if err != nil {
		return nil, err
	}
	e, err := kvGet(ctx, kv, strings.TrimPrefix(hash, schema.HashPrefix))
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the sensitive paths of spec %s: %w", hash, err)
	}
	return decodePaths(hash, e.Value())
}

func decodePaths(hash string, b []byte) ([]string, error) {
	var paths []string
	if err := json.Unmarshal(b, &paths); err != nil {
		return nil, fmt.Errorf("decode the sensitive paths of spec %s: %w", hash, err)
	}
	return paths, nil
}
