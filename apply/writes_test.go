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
