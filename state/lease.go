package state

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Lease is an exclusive, expiring claim on a name, held by one process at a
// time: control planes sharing an external NATS server take the
// "controller" lease so that only one drives rollouts. It is kept by
// renewing it before it expires; a holder that stops renewing (it crashed,
// or was paused) loses it after its TTL. The NATS server expires it (a
// per-key TTL in the leases bucket): no process compares its clock with
// another's. A holder acts on its lease only through a fenced view of the
// store (Fenced), so that once another holder took the lease over, what
// the first one still writes is refused.
type Lease struct {
	s      *Store
	name   string
	holder string
	ttl    time.Duration
	// term is the KV revision the lease was taken at: it names this spell
	// of holding it, and grows with every new one.
	term uint64
	rev  uint64 // the KV revision of the last write
}

// MinLeaseTTL is the shortest lease TTL the NATS server accepts. It
// counts TTLs in whole seconds, dropping fractions: a TTL of 1.5s expires
// after 1s to 2s.
const MinLeaseTTL = time.Second

// leaseMarkerTTL is how long the leases bucket keeps the marker the server
// leaves where an expired lease was: long enough for every watcher to see
// it.
const leaseMarkerTTL = time.Minute

// ErrLeaseLost is matched (errors.Is) by the error of Renew once the
// lease expired or another holder took it: the holder must stop acting on
// it.
var ErrLeaseLost = errors.New("lease lost")

// LeaseHeldError says that another holder has the lease.
type LeaseHeldError struct {
	Name, Holder string
	// TTL is how long the lease outlives its holder's last renewal; 0
	// when unknown.
	TTL time.Duration
}

// Error names the holder.
func (e *LeaseHeldError) Error() string {
	msg := fmt.Sprintf("lease %s is held by %s", e.Name, e.Holder)
	if e.TTL > 0 {
		msg += fmt.Sprintf(" (for up to %s after its last renewal)", e.TTL)
	}
	return msg
}

type leaseRecord struct {
	Holder string `json:"holder"`
	// TTLSeconds is the lease's TTL, for the others to tell.
	TTLSeconds float64 `json:"ttl_seconds,omitempty"`
}

func checkLeaseTTL(ttl time.Duration) error {
	if ttl < MinLeaseTTL {
		return invalidf("lease TTL %s: the NATS server expires leases after at least %s", ttl, MinLeaseTTL)
	}
	return nil
}

// AcquireLease takes the lease name for holder for ttl (at least
// MinLeaseTTL) when nobody holds it: never held, released, or
// expired on the server. Otherwise it fails with a *LeaseHeldError, even
// for the same holder: a holder keeps a lease by renewing it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (*Lease, error) {
	if err := checkToken("lease name", name); err != nil {
		return nil, err
	}
	if holder == "" {
		return nil, errors.New("state: a lease needs a holder")
	}
	if err := checkLeaseTTL(ttl); err != nil {
		return nil, err
	}
	kv, err := s.leases(ctx)
	if err != nil {
		return nil, err
	}
	l := &Lease{s: s, name: name, holder: holder, ttl: ttl}
	l.rev, err = kv.Create(ctx, name, l.record(), jetstream.KeyTTL(ttl))
	if isCASFailure(err) {
		return nil, s.leaseHeld(ctx, kv, name)
	}
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	l.term = l.rev
	s.log().Info("took a lease", "lease", name, "holder", holder, "ttl", ttl, "term", l.term)
	return l, nil
}

// leases returns the leases bucket, with the server-side per-key TTLs it
// needs turned on (a bucket made by an older muster has none).
func (s *Store) leases(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := s.kv(ctx, bucketLeases)
	if err != nil {
		return nil, err
	}
	err = s.enableStream(ctx, "KV_"+s.prefix+bucketLeases, func(c *jetstream.StreamConfig) bool {
		if c.AllowMsgTTL && c.SubjectDeleteMarkerTTL > 0 {
			return false
		}
		c.AllowMsgTTL = true
		if c.SubjectDeleteMarkerTTL == 0 {
			c.SubjectDeleteMarkerTTL = leaseMarkerTTL
		}
		return true
	})
	return kv, err
}

func (s *Store) leaseHeld(ctx context.Context, kv jetstream.KeyValue, name string) error {
	held := &LeaseHeldError{Name: name, Holder: "another process"}
	if e, err := kv.Get(ctx, name); err == nil {
		var cur leaseRecord
		if json.Unmarshal(e.Value(), &cur) == nil {
			held.Holder = cur.Holder
			held.TTL = time.Duration(cur.TTLSeconds * float64(time.Second))
		}
	}
	return held
}

func (l *Lease) record() []byte {
	b, _ := json.Marshal(leaseRecord{Holder: l.holder, TTLSeconds: l.ttl.Seconds()})
	return b
}

// Name is the lease's name.
func (l *Lease) Name() string { return l.name }

// Holder is who holds the lease.
func (l *Lease) Holder() string { return l.holder }

// Term is the revision the lease was taken at: it grows with every new
// holding of the lease, whoever the holder.
func (l *Lease) Term() uint64 { return l.term }

// Renew makes the lease last its TTL again, counted by the server from
// now. It fails with an error matching ErrLeaseLost when the lease expired
// or another holder took it over: the holder must stop acting on it.
func (l *Lease) Renew(ctx context.Context) error {
	kv, err := l.s.leases(ctx)
	if err != nil {
		return err
	}
	m := nats.NewMsg(l.s.leaseSubject(l.name))
	m.Data = l.record()
	ack, err := l.s.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(l.rev), jetstream.WithMsgTTL(l.ttl))
	if isWrongLastSequence(err) {
		if rev, ok := l.stillMine(ctx, kv); ok {
			// An earlier renewal whose answer was lost did land.
			l.rev = rev
			return nil
		}
		err := fmt.Errorf("lease %s was lost: %w: %w", l.name, ErrLeaseLost, l.s.leaseHeldOrFree(ctx, kv, l.name))
		l.s.log().Warn("lost a lease", "lease", l.name, "holder", l.holder, "err", err)
		return err
	}
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", l.name, err)
	}
	l.rev = ack.Sequence
	return nil
}

// leaseHeldOrFree says who holds lease name now, or that it expired.
func (s *Store) leaseHeldOrFree(ctx context.Context, kv jetstream.KeyValue, name string) error {
	if _, err := kv.Get(ctx, name); isNotFound(err) {
		return errors.New("it expired")
	}
	return s.leaseHeld(ctx, kv, name)
}

func (s *Store) leaseSubject(name string) string {
	return "$KV." + s.prefix + bucketLeases + "." + name
}

// isWrongLastSequence reports whether a publish was refused because its
// subject moved past the expected sequence (10071, or 10164 on replicated
// streams).
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// Release gives the lease up at once, if it is still held.
func (l *Lease) Release(ctx context.Context) error {
	kv, err := l.s.leases(ctx)
	if err != nil {
		return err
	}
	err = kv.Delete(ctx, l.name, jetstream.LastRevision(l.rev))
	if err != nil && !isCASFailure(err) && !isNotFound(err) {
		return fmt.Errorf("release lease %s: %w", l.name, err)
	}
	return nil
}

// LeaseEvent is one message of WatchLease.
type LeaseEvent struct {
	// Holder holds the lease now; "" when nobody does (it was released,
	// or it expired).
	Holder string
}

// WatchLease sends who holds lease name now, then every change: a new
// holder, a release, an expiry (the server removes the key), until ctx
// is done or the connection closes, when it closes the channel.
// Renewals are not sent.
func (s *Store) WatchLease(ctx context.Context, name string) (<-chan LeaseEvent, error) {
	if err := checkToken("lease name", name); err != nil {
		return nil, err
	}
	kv, err := s.leases(ctx)
	if err != nil {
		return nil, err
	}
	w, err := kv.Watch(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("watch lease %s: %w", name, err)
	}
	last, first := "", true
	return forward(ctx, w, 4, func(e jetstream.KeyValueEntry) (LeaseEvent, bool) {
		var ev LeaseEvent
		switch {
		case e == nil && !first:
			return ev, false
		case e != nil && e.Operation() == jetstream.KeyValuePut:
			var rec leaseRecord
			_ = json.Unmarshal(e.Value(), &rec)
			ev.Holder = cmp.Or(rec.Holder, "another process")
		}
		if !first && ev.Holder == last {
			return ev, false
		}
		first, last = false, ev.Holder
		return ev, true
	}), nil
}

// stillMine reports whether the lease's key holds this holder's record
// (holder names are unique to a process), and at which revision: a
// renewal whose answer was lost (it timed out while a NATS server went
// away) may have been stored all the same.
func (l *Lease) stillMine(ctx context.Context, kv jetstream.KeyValue) (uint64, bool) {
	e, err := kv.Get(ctx, l.name)
	if err != nil {
		return 0, false
	}
	var cur leaseRecord
	if json.Unmarshal(e.Value(), &cur) != nil || cur.Holder != l.holder {
		return 0, false
	}
	return e.Revision(), true
}
