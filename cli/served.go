package cli

import (
	"context"
	"sync/atomic"

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
	leading *atomic.Bool
}

// newControlPlane serves ctl, relaying through the store's connection
// while it does not lead.
func newControlPlane(ctl *apply.Controller, st *state.Store, info api.Info) *controlPlane {
	return &controlPlane{ctl: ctl, relay: api.Relay{NC: st.Conn()}, store: st, info: info, leading: &atomic.Bool{}}
}

// control is what carries an operation out now.
func (c *controlPlane) control() interface {
	Rollout(ctx context.Context, ns, name string, version int, promote bool) error
	Promote(ctx context.Context, ns, name string) error
	Stop(ctx context.Context, ns, name string) (int, error)
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
func (c *controlPlane) Events(ctx context.Context, ns, name string) (<-chan api.Event, error) {
	if !c.leading.Load() {
		in, err := c.store.FollowEvents(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		return mapEvents(ctx, in, api.EventFromState), nil
	}
	in, err := c.ctl.Events(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return mapEvents(ctx, in, wireEvent), nil
}
