package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names.
const (
	bucketSpecs      = "specs"
	bucketJobs       = "jobs"
	bucketNodes      = "nodes"
	bucketExecutions = "executions"
	bucketDocuments  = "documents"
	bucketLeases     = "leases"
	bucketSensitive  = "sensitive"
)

// kvConfigs holds each KV bucket's configuration. History is small: every
// value is whole, older revisions only help debugging. Executions keep
// only their latest revision: there are many of them (a million
// executions written four times each kept 2.1 GB with a history of 5, and
// the server's memory grew with it), and each write holds the whole
// execution. A bucket made with another history keeps it.
var kvConfigs = map[string]jetstream.KeyValueConfig{
	bucketSpecs:      {Bucket: bucketSpecs, Description: "muster canonical job specs by sha256", History: 1, Storage: jetstream.FileStorage},
	bucketJobs:       {Bucket: bucketJobs, Description: "muster job status and versions", History: 5, Storage: jetstream.FileStorage},
	bucketNodes:      {Bucket: bucketNodes, Description: "muster nodes", History: 1, Storage: jetstream.FileStorage},
	bucketExecutions: {Bucket: bucketExecutions, Description: "muster executions", History: 1, Storage: jetstream.FileStorage},
	bucketLeases:     {Bucket: bucketLeases, Description: "muster leases: which process leads", History: 1, Storage: jetstream.FileStorage, LimitMarkerTTL: leaseMarkerTTL},
	bucketSensitive:  {Bucket: bucketSensitive, Description: "muster sensitive paths of specs by sha256", History: 1, Storage: jetstream.FileStorage},
	bucketTokens:     {Bucket: bucketTokens, Description: "muster API tokens by id: scope and secret hash", History: 1, Storage: jetstream.FileStorage},
	bucketSecrets:    {Bucket: bucketSecrets, Description: "muster secrets by namespace.name, encrypted", History: 1, Storage: jetstream.FileStorage},
}

// kv returns the bucket, creating it on first use with the store's
// replicas. Creating is idempotent: the same configuration from several
// processes at once is fine. A bucket that exists is used as it is, with
// its replicas (UseReplicas raises them).
func (s *Store) kv(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	if s.base != nil {
		return s.base.kv(ctx, bucket) // a fenced view shares its store's buckets
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if kv := s.kvs[bucket]; kv != nil {
		return kv, nil
	}
	cfg := kvConfigs[bucket]
	cfg.Bucket = s.prefix + bucket
	cfg.Replicas = s.replicas
	kv, err := opening(ctx, func(ctx context.Context) (jetstream.KeyValue, error) {
		// Looked up first: a node's credentials may read a bucket, never
		// create or change one.
		kv, err := s.js.KeyValue(ctx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = s.js.CreateKeyValue(ctx, cfg)
		}
		if errors.Is(err, jetstream.ErrBucketExists) {
			// Made by another process, or another version with another
			// configuration: use it as it is.
			kv, err = s.js.KeyValue(ctx, cfg.Bucket)
		}
		return kv, err
	})
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", bucket, err)
	}
	s.kvs[bucket] = kv
	return kv, nil
}

// documents returns the document Object Store, creating it on first use.
func (s *Store) documents(ctx context.Context) (jetstream.ObjectStore, error) {
	if s.base != nil {
		return s.base.documents(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs != nil {
		return s.docs, nil
	}
	cfg := jetstream.ObjectStoreConfig{Bucket: s.prefix + bucketDocuments, Description: "muster documents by sha256", Storage: jetstream.FileStorage, Replicas: s.replicas}
	obs, err := opening(ctx, func(ctx context.Context) (jetstream.ObjectStore, error) {
		obs, err := s.js.ObjectStore(ctx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			obs, err = s.js.CreateObjectStore(ctx, cfg)
		}
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			obs, err = s.js.ObjectStore(ctx, cfg.Bucket)
		}
		return obs, err
	})
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", bucketDocuments, err)
	}
	s.docs = obs
	return obs, nil
}

// isCASFailure reports whether err is a lost compare-and-set: Create on an
// existing key or Update on a moved revision.
func isCASFailure(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// isNotFound reports whether err says a KV key is absent or deleted.
func isNotFound(err error) bool {
	return errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}

// watchValues returns the latest entry of every key that matches one of the
// filters (deleted keys are left out), in one round of a KV watch.
func watchValues(ctx context.Context, kv jetstream.KeyValue, filters ...string) ([]jetstream.KeyValueEntry, error) {
	began := time.Now()
	entries, err := patientRead(ctx, func() ([]jetstream.KeyValueEntry, error) {
		actx, cancel := context.WithTimeout(ctx, listAttemptTimeout)
		defer cancel()
		return watchValuesOnce(actx, kv, filters...)
	})
	observe(OpList, began, err)
	return entries, err
}

// watchValuesOnce is one try of watchValues.
func watchValuesOnce(ctx context.Context, kv jetstream.KeyValue, filters ...string) ([]jetstream.KeyValueEntry, error) {
	// WatchFiltered writes the bucket's prefix into the slice it is
	// given: a try after a failed one must not hand it the prefixed keys.
	w, err := kv.WatchFiltered(ctx, slices.Clone(filters), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	var out []jetstream.KeyValueEntry
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("watch %s %v: stopped early", kv.Bucket(), filters)
			}
			if e == nil {
				return out, nil
			}
			if !isFenceKey(e.Key()) {
				out = append(out, e)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// OpenBuckets creates every bucket nodes read that does not exist yet: a
// node's credentials may not create one (see NodePermissions), so a
// control plane that nodes join makes them first.
func (s *Store) OpenBuckets(ctx context.Context) error {
	for _, b := range []string{bucketExecutions, bucketNodes, bucketSpecs, bucketSensitive, bucketJobs} {
		if _, err := s.kv(ctx, b); err != nil {
			return err
		}
	}
	_, err := s.documents(ctx)
	return err
}

// listAttemptTimeout bounds one try of a listing, which reads a whole
// bucket's matching keys.
const listAttemptTimeout = 15 * time.Second

// openTries and openTimeout bound opening a bucket or stream: each try
// waits openTimeout at most, and a try that went unanswered is made again
// from a fresh look-up. JetStream has left a create unanswered that raced
// another process creating or updating the same stream.
const (
	openTries   = 4
	openTimeout = 5 * time.Second
)

// opening calls open, each time under its own openTimeout, until it
// answers other than with a timeout or unavailable, ctx ends, or openTries
// tries were made.
func opening[T any](ctx context.Context, open func(context.Context) (T, error)) (T, error) {
	var v T
	var err error
	for try := 1; try <= openTries; try++ {
		tctx, cancel := context.WithTimeout(ctx, openTimeout)
		v, err = open(tctx)
		cancel()
		again := Unavailable(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
		if err == nil || !again || ctx.Err() != nil {
			return v, err
		}
	}
	return v, err
}
