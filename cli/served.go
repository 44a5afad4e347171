package cli

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/state"
)

// controlPlane is the Control a long-lived control plane serves through
// its API. While it leads, its own Controller carries the operations out;
// while another leads, they are relayed to that one over NATS, and event
// follows read the events the leader stores, so that every control plane
// serves the whole API.
type controlPlane struct {
	ctl     *apply.Controller
	relay   api.Relay
	store   *state.Store
	info    api.Info
	leading atomic.Bool

	mu sync.Mutex
	// deposed is closed when this control plane stops leading, and
	// replaced when it leads again.
	deposed chan struct{}
}

// newControlPlane serves ctl, relaying through the store's connection
// while it does not lead.
func newControlPlane(ctl *apply.Controller, st *state.Store, info api.Info) *controlPlane {
	return &controlPlane{ctl: ctl, relay: api.Relay{NC: st.Conn()}, store: st, info: info, deposed: make(chan struct{})}
}

// setLeading records whether this control plane leads now.
func (c *controlPlane) setLeading(leading bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leading.Swap(leading) == leading {
		return
	}
	if leading {
		c.deposed = make(chan struct{})
	} else {
		close(c.deposed)
	}
}

// lead says whether this control plane leads now and, when it does,
// gives the channel closed when it stops.
func (c *controlPlane) lead() (bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leading.Load(), c.deposed
}

// control is what carries an operation out now.
func (c *controlPlane) control() interface {
	Rollout(ctx context.Context, ns, name string, version int, promote bool) error
	Promote(ctx context.Context, ns, name string) error
	Stop(ctx context.Context, ns, name string) (int, error)
	Launch(ctx context.Context, ns, name string) (state.Launch, error)
	ReadLog(ctx context.Context, ns, name, id, stream string, offset int64) ([]byte, error)
} {
	if c.leading.Load() {
		return c.ctl
	}
	return c.relay
}

// Info describes the control plane.
func (c *controlPlane) Info(context.Context) (api.Info, error) { return c.info, nil }

// Rollout starts a rollout, here or at the leader.
func (c *controlPlane) Rollout(ctx context.Context, ns, name string, version int, promote bool) error {
	return c.control().Rollout(ctx, ns, name, version, promote)
}

// Promote promotes a paused canary rollout, here or at the leader.
func (c *controlPlane) Promote(ctx context.Context, ns, name string) error {
	return c.control().Promote(ctx, ns, name)
}

// Launch launches a job now, here or at the leader.
func (c *controlPlane) Launch(ctx context.Context, ns, name string) (state.Launch, error) {
	return c.control().Launch(ctx, ns, name)
}

// Stop stops a job, here or at the leader.
func (c *controlPlane) Stop(ctx context.Context, ns, name string) (int, error) {
	return c.control().Stop(ctx, ns, name)
}

// ReadLog reads an execution's log through its node, here or at the
// leader.
func (c *controlPlane) ReadLog(ctx context.Context, ns, name, id, stream string, offset int64) ([]byte, error) {
	return c.control().ReadLog(ctx, ns, name, id, stream, offset)
}

// Events sends the events of job ns/name (of every job when name is "")
// in the API's form, until ctx is done: the controller's own while it
// leads (node events included), else those the leader stores. The API has
// its own event type and does not import the rollout engine.
//
// A follow of the controller's events that outlives its lead goes on with
// the stored ones, after an EventResumed event: the rollouts it followed
// go on at the control plane that leads now, and a client checks their
// state, since events in between may be missing.
func (c *controlPlane) Events(ctx context.Context, ns, name string) (<-chan api.Event, error) {
	leading, deposed := c.lead()
	if !leading {
		return c.storedEvents(ctx, ns, name)
	}
	hctx, leave := context.WithCancel(ctx)
	in, err := c.ctl.Events(hctx, ns, name)
	if err != nil {
		leave()
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-deposed:
		}
		leave()
	}()
	return c.handOver(ctx, mapEvents(hctx, in, wireEvent), deposed, ns, name), nil
}

// handOver sends the events of own until it ends, and then, when this
// control plane stopped leading meanwhile (deposed is closed), an
// EventResumed event and the stored events.
func (c *controlPlane) handOver(ctx context.Context, own <-chan api.Event, deposed <-chan struct{}, ns, name string) <-chan api.Event {
	out := make(chan api.Event)
	go func() {
		defer close(out)
		for ev := range own {
			if !sendEvent(ctx, out, ev) {
				return
			}
		}
		select {
		case <-deposed:
		default:
			return
		}
		stored, err := c.storedEvents(ctx, ns, name)
		if err != nil {
			return
		}
		note := api.Event{Time: time.Now().UTC(), Kind: api.EventResumed,
			Message: "this control plane stopped leading; following the events of the one that leads now (events in between may be missing)"}
		if !sendEvent(ctx, out, note) {
			return
		}
		for ev := range stored {
			if !sendEvent(ctx, out, ev) {
				return
			}
		}
	}()
	return out
}

// storedEvents follows the events the leading control plane stores.
func (c *controlPlane) storedEvents(ctx context.Context, ns, name string) (<-chan api.Event, error) {
	in, err := c.store.FollowEvents(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return mapEvents(ctx, in, api.EventFromState), nil
}

// sendEvent sends ev on out unless ctx ends first.
func sendEvent(ctx context.Context, out chan<- api.Event, ev api.Event) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
