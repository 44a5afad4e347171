package apply

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go"
)

// TestRetryRidesOutUnavailable: a write JetStream did not take at all (a
// stream leader election) is tried beyond writeAttempts, for a while; any
// other failure stops at writeAttempts.
func TestRetryRidesOutUnavailable(t *testing.T) {
	for _, c := range []struct {
		name      string
		err       error
		failures  int
		wantCalls int
		wantErr   bool
	}{
		{"unavailable for a while", nats.ErrNoResponders, 8, 9, false},
		{"other failures", errors.New("disk on fire"), 8, writeAttempts, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := clockwork.NewFakeClock()
			moved := make(chan struct{})
			defer close(moved)
			go advancing(clk, time.Second, moved)
			calls := 0
			err := retry(context.Background(), clk, loggerOr(nil), "a write", func(context.Context) error {
				if calls++; calls <= c.failures {
					return c.err
				}
				return nil
			})
			if calls != c.wantCalls || (err != nil) != c.wantErr {
				t.Errorf("%d calls, %v; want %d calls, error %v", calls, err, c.wantCalls, c.wantErr)
			}
		})
	}
}

// TestPatientStore: what the store answers unavailable is asked again
// until it answers; other errors come back at once.
func TestPatientStore(t *testing.T) {
	calls := 0
	v, err := patiently(context.Background(), func() (int, error) {
		if calls++; calls < 3 {
			return 0, nats.ErrNoResponders
		}
		return 42, nil
	})
	if v != 42 || err != nil || calls != 3 {
		t.Errorf("%d, %v after %d calls; want 42 after 3", v, err, calls)
	}
	calls = 0
	if _, err := patiently(context.Background(), func() (int, error) { calls++; return 0, errors.New("broken") }); err == nil || calls != 1 {
		t.Errorf("%v after %d calls; want the error after 1", err, calls)
	}
}
