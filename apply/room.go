package apply

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/muster-dev/muster/metrics"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// Room on the nodes (docs/spec.md section 4, nodes and capacity). A node
// that advertises a capacity takes an execution only when its
// task.resources fit beside the load there: the executions placed on it
// and not yet ended, as the store records them (NodeLoad), and those the
// controller placed that are not recorded yet (reservations: a rollout or
// a slot records them a moment later, or a restart waits out its
// backoff). Placements are made one at a time (Controller.placing), so
// that two never give away the same room.
//
// What fits nowhere waits: a batch or service version with nothing placed
// is queued (retryQueued starts it), a service or daemon partly placed
// runs degraded (reconcile fills it), and a batch or ops rollout waits
// for room for the rest of its executions (Controller.more). Whenever
// room may have freed (an execution ended, a node joined or changed) the
// controller looks at all of them in priority order, highest first, then
// the longest waiting, then by name (placeWaiting).

// reservations count, per job and node, the executions placed there and
// not recorded yet, with what each holds. The zero value is ready.
type reservations struct {
	mu sync.Mutex
	m  map[string]*reservation // by job "namespace/name"
}

type reservation struct {
	need  plan.Resources
	nodes map[string]int
}

// add reserves room for perNode executions of j.
func (rs *reservations) add(j *schema.Job, perNode map[string]int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	ref := j.Namespace + "/" + j.Name
	if rs.m == nil {
		rs.m = map[string]*reservation{}
	}
	r := rs.m[ref]
	if r == nil {
		r = &reservation{nodes: map[string]int{}}
		rs.m[ref] = r
	}
	r.need = plan.TaskResources(j)
	for n, k := range perNode {
		r.nodes[n] += k
	}
}

// take uses one reservation of job on node (an execution was recorded, or
// a hold is given back).
func (rs *reservations) take(job, node string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.m[job]; r != nil && r.nodes[node] > 0 {
		r.nodes[node]--
	}
}

// drop forgets every reservation of job: its rollout ended or it stopped.
func (rs *reservations) drop(job string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	delete(rs.m, job)
}

// addTo adds the reservations to load.
func (rs *reservations) addTo(load Load) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for job, r := range rs.m {
		for n, k := range r.nodes {
			if k > 0 {
				load.add(n, job, r.need.Times(k))
			}
		}
	}
}

// liveNodes returns the nodes served now as placement sees them: with
// their capacity and, when any advertises one, the load on them (what is
// recorded, and what is reserved). Without a capacity anywhere nothing
// is read but the nodes.
func (c *Controller) liveNodes(ctx context.Context) ([]plan.Node, error) {
	nodes, err := c.nodesNow(ctx) // agents that joined since the last look get their runner

	if err != nil {
		return nil, err
	}
	var served []state.Node
	for _, n := range nodes {
		if c.Runners.Get(n.ID) != nil {
			served = append(served, n)
		}
	}
	var load Load
	if AnyCapacity(served) {
		// Reservations first: an execution recorded while the load is
		// read is counted twice at worst, never missed.
		load = Load{}
		c.reserved.addTo(load)
		stored, err := NodeLoad(ctx, c.store(), &c.specs)
		if err != nil {
			return nil, err
		}
		for n, jobs := range stored {
			for job, r := range jobs {
				load.add(n, job, r)
			}
		}
	}
	live := make([]plan.Node, len(served))
	for i, n := range served {
		live[i] = PlanNode(n, load)
	}
	return live, nil
}

// recorded: see roomKeeper.
func (c *Controller) recorded(job, node string) { c.reserved.take(job, node) }

// hold: see roomKeeper.
func (c *Controller) hold(j *schema.Job, node string) {
	c.reserved.add(j, map[string]int{node: 1})
}

// release: see roomKeeper.
func (c *Controller) release(job, node string) { c.reserved.take(job, node) }

// freed: see roomKeeper. Room may be free: the controller looks at what
// waits for it (a pass costs nothing when nothing waits).
func (c *Controller) freed() { c.slotGone() }

// waiter is a batch or ops rollout waiting for room for the executions
// its placement left unplaced (see more).
type waiter struct {
	job   *schema.Job
	n     int
	skip  func(node string) bool
	since time.Time
	got   chan plan.Placement
}

// more: see roomKeeper.
func (c *Controller) more(ctx context.Context, j *schema.Job, n int, skip func(node string) bool) (plan.Placement, error) {
	// The rollout's sets ran: what it reserved and did not record will
	// never be.
	c.reserved.drop(j.Namespace + "/" + j.Name)
	w := &waiter{job: j, n: n, skip: skip, since: clockOr(c.Clock).Now(), got: make(chan plan.Placement, 1)}
	c.mu.Lock()
	if c.waiters == nil {
		c.waiters = map[*waiter]bool{}
	}
	c.waiters[w] = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, w)
		c.mu.Unlock()
	}()
	c.slotGone() // look at once: room may be free already
	select {
	case pl := <-w.got:
		return pl, nil
	case <-ctx.Done():
		return plan.Placement{}, ctx.Err()
	}
}

var _ roomKeeper = (*Controller)(nil)

// waiting is one thing that waits for room or for a node, as
// placeWaiting orders them.
type waiting struct {
	job   *schema.Job
	since time.Time
	run   *jobRun     // a queued rollout
	dep   *Deployment // a deployed service or daemon that lacks executions
	w     *waiter     // a batch or ops rollout waiting for the rest
}

// placeWaiting looks at everything that waits for room or for a node, in
// priority order (highest first, then the longest waiting, then by name),
// and places what fits: queued rollouts start (or fail past their
// timeouts.queue), deployments get back what they lack (a daemon its
// execution on a node that joined; nodes is set when the nodes changed,
// which every daemon looks at), and batch and ops rollouts get room for
// the rest. Each placement counts the room the ones before it took.
func (c *Controller) placeWaiting(ctx context.Context, nodes bool) {
	c.placeWaitingFrom(ctx, nodes, math.MinInt, "")
}

// placeWaitingFrom is placeWaiting of what waits at priority min or above,
// but for the job except: a new rollout lets what waited for room before
// it at its priority or above go first.
func (c *Controller) placeWaitingFrom(ctx context.Context, nodes bool, min int, except string) {
	c.mu.Lock()
	var all []waiting
	for _, run := range c.jobs {
		if !run.queued.IsZero() {
			all = append(all, waiting{job: run.job, since: run.queued, run: run})
		}
		d := run.dep
		if d == nil || d.ctx.Err() != nil || !d.isSteady() || !run.ended() {
			continue // none, or still rolling out
		}
		short, since := d.waits()
		if short || nodes || d.r.job.Type == schema.Service && d.size() < d.r.job.Count {
			all = append(all, waiting{job: d.r.job, since: since, dep: d})
		}
	}
	for w := range c.waiters {
		all = append(all, waiting{job: w.job, since: w.since, w: w})
	}
	c.mu.Unlock()
	all = slices.DeleteFunc(all, func(w waiting) bool {
		return w.job.Priority < min || w.job.Namespace+"/"+w.job.Name == except
	})
	slices.SortStableFunc(all, func(a, b waiting) int {
		if a.job.Priority != b.job.Priority {
			return cmp.Compare(b.job.Priority, a.job.Priority)
		}
		if !a.since.Equal(b.since) {
			return a.since.Compare(b.since)
		}
		return cmp.Compare(a.job.Namespace+"/"+a.job.Name, b.job.Namespace+"/"+b.job.Name)
	})
	for _, w := range all {
		if ctx.Err() != nil {
			return
		}
		switch {
		case w.run != nil:
			c.retryQueued(ctx, w.run)
		case w.dep != nil:
			c.reconcile(ctx, w.dep)
		default:
			c.placeRest(ctx, w.w)
		}
	}
}

// placeRest places what it can of the rest of a batch or ops rollout that
// waits for room, and hands it over; nothing is handed over while nothing
// fits, unless nothing is left to place.
func (c *Controller) placeRest(ctx context.Context, w *waiter) {
	c.placing.Lock()
	defer c.placing.Unlock()
	began := time.Now()
	nodes, err := c.liveNodes(ctx)
	if err != nil {
		c.log().Warn("cannot place what waits for room", "job", w.job.Namespace+"/"+w.job.Name, "err", err)
		return
	}
	pl, _ := plan.PlaceMore(w.job, nodes, w.n, w.skip)
	metrics.ObservePlacement(began)
	if len(targets(pl)) == 0 && pl.Unplaced > 0 {
		return
	}
	select {
	case w.got <- pl:
		c.reserved.add(w.job, perNode(pl))
	default: // handed over already
	}
}

// roomNote says why pl places nothing of a batch or service job: no node
// matches, or none has room.
func roomNote(pl plan.Placement) string {
	if len(pl.MatchedNodes) == 0 || pl.UnplacedReason == "" {
		return "no node to run on"
	}
	return fmt.Sprintf("no room: %s cannot be placed: %s", count(pl.Unplaced, "execution"), pl.UnplacedReason)
}
