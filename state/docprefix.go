package state

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/schema"
)

// ResolveDocument expands a document hash prefix ("sha256:" optional, at
// least MinPrefix hex digits) to the full hash of the one stored document
// it starts. A full hash is returned as it is when that document is
// stored. It fails with an error matching ErrNotFound when no document
// matches, and one matching ErrInvalid, listing them, when several do.
func (s *Store) ResolveDocument(ctx context.Context, prefix string) (string, error) {
	p := strings.ToLower(strings.TrimPrefix(prefix, schema.HashPrefix))
	if !isHex(p) || len(p) > hexLen {
		return "", invalidf("invalid document hash %q: want hex digits, optionally after sha256:", prefix)
	}
	if len(p) < MinPrefix {
		return "", invalidf("document hash prefix %q is too short: give at least %d hex digits", prefix, MinPrefix)
	}
	obs, err := s.documents(ctx)
	if err != nil {
		return "", err
	}
	if len(p) == hexLen {
		if ok, err := s.hasDocument(ctx, obs, p); err != nil || !ok {
			if err == nil {
				err = notFound("document %s%s", schema.HashPrefix, p)
			}
			return "", err
		}
		return schema.HashPrefix + p, nil
	}
	infos, err := obs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return "", fmt.Errorf("list documents: %w", err)
	}
	var found []string
	for _, info := range infos {
		if !info.Deleted && strings.HasPrefix(info.Name, p) {
			found = append(found, schema.HashPrefix+info.Name)
		}
	}
	switch len(found) {
	case 0:
		return "", notFound("document %s%s…", schema.HashPrefix, p)
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	return "", invalidf("document hash prefix %s matches %d documents, give more digits: %s", p, len(found), strings.Join(found, ", "))
}
