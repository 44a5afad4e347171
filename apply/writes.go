package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/state"
)

// Writes of the engine and the controller that no caller waits for (a
// job's steady state, an event, a node marked down) are never dropped: a
// failure is tried again (retry), logged, and when it still fails, either
// returned to whoever can act on it or recorded on the job (see
// eventLosses).

// writeAttempts bounds how often retry tries a write.
const writeAttempts = 4

// unavailableFor is how long retry goes on trying a write that JetStream
// did not take at all (state.Unavailable: a stream leader election, a
// server catching up), beyond writeAttempts: a NATS cluster that lost a
// server elects new stream leaders within seconds.
const unavailableFor = 30 * time.Second

// retry calls write until it succeeds, returns an error that trying again
// cannot change (errSkip, a conflict, a refused transition, a missing
// record), ctx ends, or writeAttempts tries failed (those JetStream did
// not take at all go on for unavailableFor); it waits 100ms, then twice as
// long up to 2s, between tries, logging each failure. It returns the last
// error, with what in front.
func retry(ctx context.Context, clk clockwork.Clock, log *slog.Logger, what string, write func(context.Context) error) error {
	delay := 100 * time.Millisecond
	began := clk.Now()
	for attempt := 1; ; attempt++ {
		err := write(ctx)
		if err == nil || errors.Is(err, errSkip) {
			return err
		}
		// A fenced write (this control plane no longer leads) fails the
		// same way every time: no point in trying again.
		spent := attempt >= writeAttempts && (!state.Unavailable(err) || clk.Since(began) > unavailableFor)
		if errors.Is(err, state.ErrConflict) || errors.Is(err, state.ErrInvalid) || errors.Is(err, state.ErrNotFound) ||
			errors.Is(err, state.ErrFenced) || spent || ctx.Err() != nil {
			log.Error("a write to the store failed", "what", what, "attempts", attempt, "err", err)
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Warn("a write to the store failed; trying again", "what", what, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
		case <-clk.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// eventLosses counts the events of a rollout the store did not take, so
// that the job's message says so (see rollout.setState).
type eventLosses struct {
	mu    sync.Mutex
	n     int
	first error
}

func (l *eventLosses) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		l.first = err
	}
	l.n++
}

// note is what the job's message adds about lost events, "" when none
// was lost.
func (l *eventLosses) note() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d of this rollout's events could not be stored: %v)", l.n, l.first)
}
