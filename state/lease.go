package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is an exclusive, expiring claim on a name, held by one process at a
// time: control planes sharing an external NATS server take the
// "controller" lease so that only one drives rollouts. It is kept by
// renewing it before it expires; a holder that stops renewing (it crashed)
// loses it after its TTL. Expiry compares wall clocks, so the holders'
// clocks must roughly agree (far less than the TTL apart).
type Lease struct {
	s      *Store
	name   string
	holder string
	ttl    time.Duration
	rev    uint64 // the KV revision of the last write
}

// LeaseHeldError says that another holder has the lease.
type LeaseHeldError struct {
	Name, Holder string
	Expires      time.Time
}

// Error names the holder.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("lease %s is held by %s until %s", e.Name, e.Holder, e.Expires.Format(time.RFC3339))
}

type leaseRecord struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

// AcquireLease takes the lease name for holder for ttl: when nobody holds
// it, it expired, or holder holds it already. Otherwise it fails with a
// *LeaseHeldError.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (*Lease, error) {
	if err := checkToken("lease name", name); err != nil {
		return nil, err
	}
	if holder == "" || ttl <= 0 {
		return nil, errors.New("state: a lease needs a holder and a positive TTL")
	}
	kv, err := s.kv(ctx, bucketLeases)
	if err != nil {
		return nil, err
	}
	l := &Lease{s: s, name: name, holder: holder, ttl: ttl}
	val := l.record()
	e, err := kv.Get(ctx, name)
	switch {
	case isNotFound(err):
		l.rev, err = kv.Create(ctx, name, val)
	case err != nil:
	default:
		var cur leaseRecord
		if json.Unmarshal(e.Value(), &cur) == nil && cur.Holder != holder && time.Now().Before(cur.Expires) {
			return nil, &LeaseHeldError{Name: name, Holder: cur.Holder, Expires: cur.Expires}
		}
		l.rev, err = kv.Update(ctx, name, val, e.Revision())
	}
	if isCASFailure(err) {
		// Another process took it between the read and the write.
		return nil, s.leaseHeld(ctx, kv, name)
	}
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	s.log().Info("took a lease", "lease", name, "holder", holder, "ttl", ttl)
	return l, nil
}

func (s *Store) leaseHeld(ctx context.Context, kv jetstream.KeyValue, name string) error {
	held := &LeaseHeldError{Name: name, Holder: "another process"}
	if e, err := kv.Get(ctx, name); err == nil {
		var cur leaseRecord
		if json.Unmarshal(e.Value(), &cur) == nil {
			held.Holder, held.Expires = cur.Holder, cur.Expires
		}
	}
	return held
}

func (l *Lease) record() []byte {
	b, _ := json.Marshal(leaseRecord{Holder: l.holder, Expires: time.Now().Add(l.ttl).UTC()})
	return b
}

// Renew extends the lease by its TTL from now. It fails when the lease was
// lost (taken over after it expired): the holder must stop acting on it.
func (l *Lease) Renew(ctx context.Context) error {
	kv, err := l.s.kv(ctx, bucketLeases)
	if err != nil {
		return err
	}
	rev, err := kv.Update(ctx, l.name, l.record(), l.rev)
	if isCASFailure(err) || isNotFound(err) {
		err := fmt.Errorf("lease %s was lost: %w", l.name, l.s.leaseHeld(ctx, kv, l.name))
		l.s.log().Warn("lost a lease", "lease", l.name, "holder", l.holder, "err", err)
		return err
	}
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", l.name, err)
	}
	l.rev = rev
	return nil
}

// Release gives the lease up at once, if it is still held.
func (l *Lease) Release(ctx context.Context) error {
	kv, err := l.s.kv(ctx, bucketLeases)
	if err != nil {
		return err
	}
	err = kv.Delete(ctx, l.name, jetstream.LastRevision(l.rev))
	if err != nil && !isCASFailure(err) && !isNotFound(err) {
		return fmt.Errorf("release lease %s: %w", l.name, err)
	}
	return nil
}
