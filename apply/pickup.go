package apply

import (
	"context"

	"github.com/muster-dev/muster/state"
)

// watchJobs watches the jobs' statuses for versions recorded through any
// control plane. It returns nil (a channel that never delivers) when the
// store cannot watch now; the next term watches again.
func (c *Controller) watchJobs(ctx context.Context) <-chan state.JobEvent {
	ch, err := c.Store.WatchJobs(ctx)
	if err != nil {
		c.log().Error("cannot watch the jobs; versions recorded elsewhere start when asked to", "err", err)
		return nil
	}
	return ch
}

// pickUp starts the rollout of a version recorded as pending (by a client
// through any control plane) that no rollout of this one drives yet: the
// leader learns of it from the store at once, whether or not the client's
// request to roll it out reaches it.
func (c *Controller) pickUp(ctx context.Context, ev state.JobEvent) {
	if ev.Err != nil {
		c.log().Warn("a job's status could not be read", "err", ev.Err)
		return
	}
	js := ev.Job
	if js.State != state.StatePending {
		return
	}
	c.mu.Lock()
	run := c.jobs[js.Namespace+"/"+js.Name]
	c.mu.Unlock()
	if run != nil && run.version == js.Version && !run.ended() {
		return
	}
	if run != nil && run.version == js.Version {
		// The event may be old news: its rollout ran here and ended since
		// (the watch delivers behind a rollout that took less time than
		// the events before it). Only a version still pending is started.
		cur, err := c.store().Job(ctx, js.Namespace, js.Name)
		if err != nil || cur.Version != js.Version || cur.State != state.StatePending {
			return
		}
	}
	j, err := c.spec(ctx, js.Hash)
	if err != nil {
		c.log().Warn("a recorded version could not be read", "job", js.Namespace+"/"+js.Name, "version", js.Version, "err", err)
		return
	}
	c.log().Info("picked up a recorded version", "job", js.Namespace+"/"+js.Name, "version", js.Version)
	if err := c.start(j, js.Version, false, false); err != nil {
		c.log().Warn("a recorded version could not be started", "job", js.Namespace+"/"+js.Name, "err", err)
	}
}

// pickUpAll picks up every pending version, after the jobs' watch broke.
func (c *Controller) pickUpAll(ctx context.Context) {
	jobs, err := c.Store.Jobs(ctx)
	if err != nil {
		c.log().Warn("cannot read the jobs", "err", err)
		return
	}
	for _, js := range jobs {
		c.pickUp(ctx, state.JobEvent{Job: js})
	}
}
