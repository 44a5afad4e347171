package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/state"
)

// Leadership decides when a Controller leads: drives rollouts, keeps
// long-running executions alive, places daemons on joining nodes. Control
// planes that share one store take turns through it; one alone leads from
// the start (a nil Controller.Leadership).
type Leadership interface {
	// Lead waits until this control plane leads, or ctx ends (its error
	// then). The Term it returns says when the lead is lost.
	Lead(ctx context.Context) (Term, error)
}

// Term is one spell of leading.
type Term interface {
	// Lost is closed when the lead was lost (another control plane took
	// it over); Err then says why.
	Lost() <-chan struct{}
	// Err says why the term ended, nil while it goes on.
	Err() error
	// End gives the lead up (this control plane stops), so that another
	// may take over at once.
	End(ctx context.Context)
}

// ControllerLease is the name of the lease the leading control plane
// holds in the store.
const ControllerLease = "controller"

// Leases is what a LeaseLeadership needs of the store.
type Leases interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (*state.Lease, error)
}

var _ Leases = (*state.Store)(nil)

// LeaseLeadership leads while it holds a lease in the store (see
// state.Lease): it takes the lease when nobody holds it or it expired,
// renews it every third of its TTL, and counts it lost when a renewal
// finds it taken over, or when renewals failed for longer than the TTL
// (another control plane may hold it by then).
type LeaseLeadership struct {
	Store Leases
	// Name is the lease; ControllerLease when empty.
	Name string
	// Holder names this control plane to the others ("addr (pid N)").
	Holder string
	// TTL is how long the lead outlives its holder's silence.
	TTL time.Duration
	// Standby is called when another control plane leads (once per
	// holder), with that holder's name. Nil: not told.
	Standby func(holder string)
	// Log receives the lease's steps; nil: dropped.
	Log *slog.Logger
	// Clock paces the renewals; nil: the real clock.
	Clock clockwork.Clock
}

// Lead waits until the lease is this control plane's, trying again when
// the holder's lease expires (and at least every third of the TTL).
func (l *LeaseLeadership) Lead(ctx context.Context) (Term, error) {
	if l.TTL <= 0 || l.Holder == "" {
		return nil, errors.New("a lease leadership needs a holder and a positive TTL")
	}
	clk := clockOr(l.Clock)
	name := l.Name
	if name == "" {
		name = ControllerLease
	}
	said := ""
	for {
		lease, err := l.Store.AcquireLease(ctx, name, l.Holder, l.TTL)
		if err == nil {
			l.log().Info("leading", "lease", name, "holder", l.Holder, "ttl", l.TTL)
			return l.keep(ctx, lease, clk), nil
		}
		var held *state.LeaseHeldError
		if !errors.As(err, &held) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// The store is out of reach for now: try again.
			l.log().Warn("cannot reach the lease", "lease", name, "err", err)
		} else if held.Holder != said {
			said = held.Holder
			l.log().Info("standing by", "lease", name, "leader", held.Holder, "until", held.Expires)
			if l.Standby != nil {
				l.Standby(held.Holder)
			}
		}
		wait := l.TTL / 3
		if held != nil {
			// No sooner than the holder's lease can expire.
			wait = min(wait, max(clk.Until(held.Expires), 10*time.Millisecond))
		}
		t := clk.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.Chan():
		}
	}
}

func (l *LeaseLeadership) log() *slog.Logger { return loggerOr(l.Log).With("component", "lease") }

// leaseTerm is a held lease kept alive in the background.
type leaseTerm struct {
	lease  *state.Lease
	lost   chan struct{}
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// keep renews lease every third of the TTL until the term ends.
func (l *LeaseLeadership) keep(ctx context.Context, lease *state.Lease, clk clockwork.Clock) *leaseTerm {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t := &leaseTerm{lease: lease, lost: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		tick := clk.NewTicker(l.TTL / 3)
		defer tick.Stop()
		last := clk.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.Chan():
			}
			err := lease.Renew(ctx)
			if err == nil {
				last = clk.Now()
				continue
			}
			if ctx.Err() != nil {
				return
			}
			var held *state.LeaseHeldError
			if errors.As(err, &held) || clk.Since(last) > l.TTL {
				t.err = fmt.Errorf("lost the lead: %w", err)
				l.log().Warn("lost the lead", "err", err)
				close(t.lost)
				return
			}
			l.log().Warn("lease renewal failed; trying again", "err", err, "since", clk.Since(last))
		}
	}()
	return t
}

func (t *leaseTerm) Lost() <-chan struct{} { return t.lost }

func (t *leaseTerm) Err() error {
	select {
	case <-t.lost:
		return t.err
	default:
		return nil
	}
}

// End stops renewing and releases the lease, unless it was lost.
func (t *leaseTerm) End(ctx context.Context) {
	t.cancel()
	<-t.done
	if t.Err() == nil {
		t.lease.Release(ctx)
	}
}

// alone is the leadership of a control plane that shares its store with
// no other: it leads from the start and never loses the lead.
type alone struct{}

func (alone) Lead(context.Context) (Term, error) { return aloneTerm{}, nil }

type aloneTerm struct{}

func (aloneTerm) Lost() <-chan struct{}   { return nil }
func (aloneTerm) Err() error              { return nil }
func (aloneTerm) End(ctx context.Context) {}
