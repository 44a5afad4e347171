package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/muster-dev/muster/schema"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// uploadPrefix names the temporary objects PutDocument streams into before
// it knows the hash.
const uploadPrefix = "upload."

// PutDocument stores the bytes of r in the document store under their hash
// and returns the hash ("sha256:<hex>") and the size. It streams: the bytes
// go into a temporary object while being hashed, which is then renamed to
// the hash, or dropped if that document is already stored (idempotent).
func (s *Store) PutDocument(ctx context.Context, r io.Reader) (string, int64, error) {
	obs, err := s.documents(ctx)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	tmp := uploadPrefix + nuid.Next()
	info, err := obs.Put(ctx, jetstream.ObjectMeta{Name: tmp}, io.TeeReader(r, h))
	if err != nil {
		_ = obs.Delete(context.WithoutCancel(ctx), tmp)
		return "", 0, fmt.Errorf("put document: %w", err)
	}
	name := hex.EncodeToString(h.Sum(nil))
	hash := schema.HashPrefix + name
	size := int64(info.Size)
	if have, err := s.hasDocument(ctx, obs, name); err == nil && have {
		_ = obs.Delete(ctx, tmp)
		return hash, size, nil
	}
	err = obs.UpdateMeta(ctx, tmp, jetstream.ObjectMeta{Name: name})
	if errors.Is(err, jetstream.ErrObjectAlreadyExists) {
		// Stored concurrently by someone else: same bytes.
		err = obs.Delete(ctx, tmp)
	}
	if err != nil {
		_ = obs.Delete(context.WithoutCancel(ctx), tmp)
		return "", 0, fmt.Errorf("put document %s: %w", hash, err)
	}
	return hash, size, nil
}

// documentName checks a document hash ("sha256:<hex>" or bare hex) and
// returns its object name, the hex.
func documentName(hash string) (string, error) {
	if err := CheckHash("document", hash); err != nil {
		return "", err
	}
	return strings.TrimPrefix(hash, schema.HashPrefix), nil
}

// Document opens the document stored under hash for reading, or fails with
// an error matching ErrNotFound. Close the reader when done; reading fails
// if the content does not match its digest.
func (s *Store) Document(ctx context.Context, hash string) (io.ReadCloser, error) {
	name, err := documentName(hash)
	if err != nil {
		return nil, err
	}
	obs, err := s.documents(ctx)
	if err != nil {
		return nil, err
	}
	rc, err := obs.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, notFound("document %s%s", schema.HashPrefix, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read document %s: %w", hash, err)
	}
	return rc, nil
}

// HasDocument reports whether a document is stored under hash.
func (s *Store) HasDocument(ctx context.Context, hash string) (bool, error) {
	name, err := documentName(hash)
	if err != nil {
		return false, err
	}
	obs, err := s.documents(ctx)
	if err != nil {
		return false, err
	}
	return s.hasDocument(ctx, obs, name)
}

func (s *Store) hasDocument(ctx context.Context, obs jetstream.ObjectStore, name string) (bool, error) {
	_, err := obs.GetInfo(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up document %s%s: %w", schema.HashPrefix, name, err)
	}
	return true, nil
}
