package state

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Unavailable reports whether err says that JetStream could not take the
// request at all for now, so that nothing was read or written and the
// same request may simply be sent again: the cluster is electing a leader
// or a healed server is catching up (JetStream's 503), or no server
// answered for the stream (no responders). A timeout is not one of them:
// a write that timed out may have been stored.
func Unavailable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code == http.StatusServiceUnavailable {
		return true
	}
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return true
	}
	// A 503 status message (to a watch's consumer, a direct get) reaches
	// the caller as the server's description in a plain error.
	return err != nil && strings.Contains(err.Error(), "JetStream system temporarily unavailable")
}

// patience is how long a read asks again what JetStream answered
// unavailable: a NATS cluster that lost a server elects new stream
// leaders within seconds.
const patience = 20 * time.Second

// patiently calls f until it answers other than unavailable, ctx ends, or
// patience runs out (see AskAgain). For writes: one JetStream did not
// take may be sent again.
func patiently[T any](ctx context.Context, f func() (T, error)) (T, error) {
	return AskAgain(ctx, patience, Unavailable, f)
}

// patientRead is patiently for a read, which may also be asked again when
// it timed out: a request that reaches JetStream while it elects a stream
// leader gets no answer at all.
func patientRead[T any](ctx context.Context, f func() (T, error)) (T, error) {
	return AskAgain(ctx, patience, func(err error) bool { return Unavailable(err) || timedOut(ctx, err) }, f)
}

// timedOut reports whether err is a request that got no answer in time
// while ctx goes on: a request that reaches JetStream while it elects a
// stream leader gets none.
func timedOut(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout))
}

// AskAgain calls f until it succeeds, again says no of its error, ctx
// ends, or budget ran out, waiting 100ms and twice as long, up to 1s,
// between calls. It returns f's last answer. The store, the rollout
// engine and a node's agent ride out NATS outages with it.
func AskAgain[T any](ctx context.Context, budget time.Duration, again func(error) bool, f func() (T, error)) (T, error) {
	began, wait := time.Now(), 100*time.Millisecond
	for {
		v, err := f()
		if err == nil || !again(err) || time.Since(began) > budget {
			return v, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// kvGet reads key, riding out a stream leader election (see patiently).
func kvGet(ctx context.Context, kv jetstream.KeyValue, key string) (jetstream.KeyValueEntry, error) {
	began := time.Now()
	e, err := patientRead(ctx, func() (jetstream.KeyValueEntry, error) {
		actx, cancel := readAttempt(ctx)
		defer cancel()
		return kv.Get(actx, key)
	})
	observe(OpGet, began, err)
	return e, err
}

// readAttemptTimeout bounds one try of a read: a read sent while a stream
// elects its leader goes unanswered, and the next try should not wait for
// the whole of the caller's deadline.
const readAttemptTimeout = 5 * time.Second

// readAttempt is the context of one try of a read under ctx.
func readAttempt(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, readAttemptTimeout)
}
