package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/muster-dev/muster/state"
)

// controllerLease is the lease the leading control plane holds over a
// shared NATS server.
const controllerLease = "controller"

// lead waits until this control plane holds the controller lease, saying
// once that it stands by while another leads.
func lead(ctx context.Context, w io.Writer, st *state.Store, holder string, ttl time.Duration, mode string) (*state.Lease, error) {
	said := ""
	for {
		l, err := st.AcquireLease(ctx, controllerLease, holder, ttl)
		if err == nil {
			if said != "" {
				fmt.Fprintf(w, "muster %s: now leading\n", mode)
			}
			return l, nil
		}
		var held *state.LeaseHeldError
		if !errors.As(err, &held) {
			return nil, err
		}
		if held.Holder != said {
			fmt.Fprintf(w, "muster %s: standing by: the control plane at %s leads\n", mode, held.Holder)
			said = held.Holder
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(ttl / 3):
		}
	}
}

// keepLease renews l every third of its TTL until ctx is done; when a
// renewal fails for longer than the TTL (the lease may be another's by
// then) it reports on lost and returns.
func keepLease(ctx context.Context, l *state.Lease, ttl time.Duration, lost chan<- error) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := l.Renew(ctx)
		if err == nil {
			last = time.Now()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		var held *state.LeaseHeldError
		if errors.As(err, &held) || time.Since(last) > ttl {
			lost <- fmt.Errorf("lost the lead: %w", err)
			return
		}
	}
}
