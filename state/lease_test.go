package state

import (
	"context"
	"errors"
	"testing"
	"time"
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
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("renew: %v", err)
	}
	// a stops renewing: b takes over after the TTL, and a learns it lost.
	time.Sleep(400 * time.Millisecond)
	b, err := st.AcquireLease(ctx, "controller", "b", time.Second)
	if err != nil {
		t.Fatalf("b after a expired: %v", err)
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
