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

// StoreTerm is a Term during which the controller reads and writes
// through a store of its own: a view of the Controller's store whose
// writes are fenced (see state.Lease.Fenced), so that once another control
// plane took the lead nothing this one still writes is stored, even
// before it learns that it lost.
type StoreTerm interface {
	Term
	// Store is what the controller and its engines use during the term.
	Store() Store
}

// ControllerLease is the name of the lease the leading control plane
// holds in the store.
const ControllerLease = "controller"

// Leases is what a LeaseLeadership needs of the store.
type Leases interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (*state.Lease, error)
	WatchLease(ctx context.Context, name string) (<-chan state.LeaseEvent, error)
}

var _ Leases = (*state.Store)(nil)

// LeaseLeadership leads while it holds a lease in the store (see
// state.Lease), which the NATS server expires after its TTL: it takes the
// lease as soon as the server removed it (it watches it, and tries again
// every TTL besides), fences the store (its term's writes go through
// state.Lease.Fenced), renews the lease every third of its TTL, and counts
// it lost when a renewal finds it gone or taken over, or when renewals
// failed for longer than the TTL (the server expired it by then).
type LeaseLeadership struct {
	Store Leases
	// Name is the lease; ControllerLease when empty.
	Name string
	// Holder names this control plane to the others ("addr (pid N)").
	Holder string
	// TTL is how long the lead outlives its holder's silence: at least
	// state.MinLeaseTTL, counted by the NATS server in whole seconds.
	TTL time.Duration
	// Standby is called when another control plane leads (once per
	// holder), with that holder's name. Nil: not told.
	Standby func(holder string)
	// Log receives the lease's steps; nil: dropped.
	Log *slog.Logger
	// Clock paces the renewals and the retries; nil: the real clock.
	Clock clockwork.Clock
}

// Lead waits until the lease is this control plane's: it tries to take it
// whenever the server removes it (released, or expired), and at least
// every TTL.
func (l *LeaseLeadership) Lead(ctx context.Context) (Term, error) {
	if l.TTL < state.MinLeaseTTL || l.Holder == "" {
		return nil, fmt.Errorf("a lease leadership needs a holder and a TTL of at least %s", state.MinLeaseTTL)
	}
	clk := clockOr(l.Clock)
	name := l.name()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var watch <-chan state.LeaseEvent
	said := ""
	for {
		if watch == nil {
			watch = l.watch(wctx, name)
		}
		t, held, err := l.take(ctx, name, clk)
		if t != nil {
			return t, nil
		}
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if held != nil && held.Holder != said {
			said = held.Holder
			l.log().Info("standing by", "lease", name, "leader", held.Holder)
			if l.Standby != nil {
				l.Standby(held.Holder)
			}
		}
		var closed bool
		if closed, err = l.waitFree(ctx, watch, clk); err != nil {
			return nil, err
		}
		if closed {
			watch = nil
		}
	}
}

func (l *LeaseLeadership) name() string {
	if l.Name == "" {
		return ControllerLease
	}
	return l.Name
}

// watch watches the lease; nil (never delivers) when it cannot: the
// retries every TTL remain.
func (l *LeaseLeadership) watch(ctx context.Context, name string) <-chan state.LeaseEvent {
	ch, err := l.Store.WatchLease(ctx, name)
	if err != nil {
		l.log().Warn("cannot watch the lease; trying to take it every TTL", "lease", name, "err", err)
		return nil
	}
	return ch
}

// take tries to take the lease and fence the store: a term, or who holds
// the lease, or why neither.
func (l *LeaseLeadership) take(ctx context.Context, name string, clk clockwork.Clock) (Term, *state.LeaseHeldError, error) {
	lease, err := l.Store.AcquireLease(ctx, name, l.Holder, l.TTL)
	var held *state.LeaseHeldError
	if errors.As(err, &held) {
		return nil, held, err
	}
	if err != nil {
		// The store is out of reach for now: try again.
		l.log().Warn("cannot reach the lease", "lease", name, "err", err)
		return nil, nil, err
	}
	fenced, err := lease.Fenced(ctx)
	if err != nil {
		l.log().Warn("took the lease but could not fence the store; giving it up", "lease", name, "err", err)
		lease.Release(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	l.log().Info("leading", "lease", name, "holder", l.Holder, "ttl", l.TTL, "term", lease.Term())
	return l.keep(ctx, lease, fenced, clk), nil, nil
}

// waitFree waits until the watch says nobody holds the lease, the watch
// ends (closed), the TTL passed, or ctx ends (its error).
func (l *LeaseLeadership) waitFree(ctx context.Context, watch <-chan state.LeaseEvent, clk clockwork.Clock) (closed bool, err error) {
	t := clk.NewTimer(l.TTL)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.Chan():
			return false, nil
		case ev, ok := <-watch:
			if !ok {
				return true, nil
			}
			if ev.Holder == "" {
				return false, nil
			}
		}
	}
}

func (l *LeaseLeadership) log() *slog.Logger { return loggerOr(l.Log).With("component", "lease") }

// leaseTerm is a held lease kept alive in the background.
type leaseTerm struct {
	lease  *state.Lease
	store  *state.Store // fenced by the lease
	lost   chan struct{}
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// keep renews lease every third of the TTL until the term ends.
func (l *LeaseLeadership) keep(ctx context.Context, lease *state.Lease, fenced *state.Store, clk clockwork.Clock) *leaseTerm {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t := &leaseTerm{lease: lease, store: fenced, lost: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
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
			// A renewal lost with a NATS server is given up in time for
			// the next, through the server the connection moves to.
			rctx, cancelRenew := context.WithTimeout(ctx, l.TTL/3)
			err := lease.Renew(rctx)
			cancelRenew()
			if err == nil {
				last = clk.Now()
				continue
			}
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, state.ErrLeaseLost) || clk.Since(last) > l.TTL {
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

// Store is the store fenced by the term's lease.
func (t *leaseTerm) Store() Store { return t.store }

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
