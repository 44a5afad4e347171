package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLeaseExpiresOnTheServer: a lease nobody renews is removed by the
// NATS server after its TTL (a watcher sees it go); only then can another
// holder take it, and the first one's renewal then fails as lost.
func TestLeaseExpiresOnTheServer(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	watch, err := st.WatchLease(ctx, "controller")
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-watch; ev.Holder != "" {
		t.Fatalf("first event of an untaken lease: %+v", ev)
	}
	a, err := st.AcquireLease(ctx, "controller", "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-watch; ev.Holder != "a" {
		t.Fatalf("after a took it: %+v", ev)
	}
	var held *LeaseHeldError
	if _, err := st.AcquireLease(ctx, "controller", "b", time.Second); !errors.As(err, &held) || held.Holder != "a" || held.TTL != time.Second {
		t.Fatalf("b while a holds: %v", err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("renew: %v", err)
	}
	renewed := time.Now()
	// a stops renewing: the server removes the key after the TTL.
	select {
	case ev := <-watch:
		if ev.Holder != "" {
			t.Fatalf("watch after a stopped renewing: %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("the server never expired the lease")
	}
	if d := time.Since(renewed); d < 900*time.Millisecond {
		t.Errorf("the lease went %s after a renewal, before its TTL of 1s", d)
	}
	b, err := st.AcquireLease(ctx, "controller", "b", time.Second)
	if err != nil {
		t.Fatalf("b after the lease expired: %v", err)
	}
	if b.Term() <= a.Term() {
		t.Errorf("b's term %d is not after a's %d", b.Term(), a.Term())
	}
	if err := a.Renew(ctx); !errors.Is(err, ErrLeaseLost) || !errors.As(err, &held) || held.Holder != "b" {
		t.Fatalf("a renewed a lease b took over: %v", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcquireLease(ctx, "controller", "c", time.Second); err != nil {
		t.Fatalf("c after b released: %v", err)
	}
}

// TestLeaseRenewalKeepsIt: renewed every third of its TTL, a lease
// outlives its TTL many times over.
func TestLeaseRenewalKeepsIt(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	a, err := st.AcquireLease(ctx, "controller", "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Renewals paced as a holder paces them, for three TTLs.
	tick := time.NewTicker(time.Second / 3)
	defer tick.Stop()
	for start := time.Now(); time.Since(start) < 3*time.Second; <-tick.C {
		if err := a.Renew(ctx); err != nil {
			t.Fatalf("renew after %s: %v", time.Since(start), err)
		}
	}
	var held *LeaseHeldError
	if _, err := st.AcquireLease(ctx, "controller", "b", time.Second); !errors.As(err, &held) {
		t.Fatalf("b took a lease a kept renewing: %v", err)
	}
}

func TestLeaseTTLValidated(t *testing.T) {
	st := openT(t, t.TempDir(), Options{})
	for _, ttl := range []time.Duration{0, -time.Second, 999 * time.Millisecond} {
		if _, err := st.AcquireLease(context.Background(), "controller", "a", ttl); !errors.Is(err, ErrInvalid) {
			t.Errorf("TTL %s: %v, want ErrInvalid", ttl, err)
		}
	}
}
