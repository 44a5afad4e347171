package state

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

func TestLease(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.AcquireLease(ctx, "controller", "a", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var held *LeaseHeldError
	if _, err := st.AcquireLease(ctx, "controller", "b", time.Second); !errors.As(err, &held) || held.Holder != "a" {
		t.Fatalf("b while a holds: %v", err)
	}
	renewed := time.Now()
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("renew: %v", err)
	}
	// a stops renewing: b takes over once the TTL ran out, not before, and
	// a learns it lost.
	b, _ := wait.For(t, 10*time.Second, "b to take over a's expired lease", func() (*Lease, bool) {
		b, err := st.AcquireLease(ctx, "controller", "b", time.Second)
		return b, err == nil
	})
	if d := time.Since(renewed); d < 300*time.Millisecond {
		t.Errorf("b took over %s after a renewed a lease of 300ms", d)
	}
	if err := a.Renew(ctx); err == nil {
		t.Fatal("a renewed a lease b took over")
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcquireLease(ctx, "controller", "c", time.Second); err != nil {
		t.Fatalf("c after b released: %v", err)
	}
}
