package state

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestUnavailable(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"cluster not available", fmt.Errorf("list nodes: %w", &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}), true},
		{"503 status message", fmt.Errorf("list nodes: %w", errors.New("nats: JetStream system temporarily unavailable")), true},
		{"no responders", fmt.Errorf("read: %w", nats.ErrNoResponders), true},
		{"no stream response", jetstream.ErrNoStreamResponse, true},
		{"wrong last sequence", &jetstream.APIError{Code: 400, ErrorCode: 10071}, false},
		{"timeout", context.DeadlineExceeded, false},
		{"not found", ErrNotFound, false},
	} {
		if got := Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPatiently(t *testing.T) {
	calls := 0
	v, err := patiently(context.Background(), func() (int, error) {
		if calls++; calls < 3 {
			return 0, nats.ErrNoResponders
		}
		return 7, nil
	})
	if v != 7 || err != nil || calls != 3 {
		t.Errorf("%d, %v after %d calls; want 7 after 3", v, err, calls)
	}
	calls = 0
	if _, err := patiently(context.Background(), func() (int, error) { calls++; return 0, ErrNotFound }); err != ErrNotFound || calls != 1 {
		t.Errorf("%v after %d calls; want not found after 1", err, calls)
	}
}

func TestPatientReadAsksAgainAfterATimeout(t *testing.T) {
	calls := 0
	v, err := patientRead(context.Background(), func() (int, error) {
		if calls++; calls < 2 {
			return 0, context.DeadlineExceeded // JetStream's own request timeout
		}
		return 9, nil
	})
	if v != 9 || err != nil || calls != 2 {
		t.Errorf("%d, %v after %d calls; want 9 after 2", v, err, calls)
	}
	calls = 0
	if _, err := patiently(context.Background(), func() (int, error) { calls++; return 0, context.DeadlineExceeded }); err == nil || calls != 1 {
		t.Errorf("a write that timed out: %v after %d calls; want it returned after 1 (it may have been stored)", err, calls)
	}
}

// TestWatchValuesCanBeTriedAgain lists a bucket twice with one filter
// slice, as a read tried again after an unavailable answer does: the
// second listing must find the same keys (the NATS client writes the
// bucket's prefix into the slice it is given; after a NATS server healed,
// a node listing failed with "invalid key" so).
func TestWatchValuesCanBeTriedAgain(t *testing.T) {
	st := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	kv, err := st.kv(ctx, bucketNodes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "n1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	filters := []string{">"}
	for try := 1; try <= 2; try++ {
		entries, err := watchValuesOnce(ctx, kv, filters...)
		if err != nil || len(entries) != 1 {
			t.Fatalf("try %d: %d entries, %v; want 1", try, len(entries), err)
		}
	}
}
