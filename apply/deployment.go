package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// Deployment is the set of long-running executions (service and daemon
// jobs) of one job version, each kept alive by a slot that restarts it per
// restart_policy with backoff and checks its health. Its zero value is not
// usable; Deploy makes one.
type Deployment struct {
	// Version is the job version the executions run.
	Version int
	// Replaced is the Deployment of the previous version while this one's
	// rollout goes on (Deploy stops it as it goes), nil after.
	Replaced *Deployment

	r      *rollout
	ctx    context.Context // the executions run until it is done
	cancel context.CancelFunc

	mu    sync.Mutex
	slots map[string][]*slot // by node id
	shown tally              // the counts last reported
	wg    sync.WaitGroup
	// steady is set once the rollout ended: from then on the slots report
	// the job's running and degraded states.
	steady bool
	// unplaced counts the executions the last placement could not place
	// (no room, a static port taken on every node), and why says why;
	// they wait, and the job's message says so. waiting is since when.
	unplaced int
	why      string
	waiting  time.Time
}

// setUnplaced records what pl could not place (none: the deployment has
// all it should), and says so in the job's state once the rollout ended.
func (d *Deployment) setUnplaced(pl plan.Placement, now time.Time) {
	d.mu.Lock()
	if pl.Unplaced > 0 && d.unplaced == 0 {
		d.waiting = now
	}
	d.unplaced, d.why = pl.Unplaced, pl.UnplacedReason
	if d.unplaced == 0 {
		d.waiting = time.Time{}
	}
	d.mu.Unlock()
	d.changed()
}

// waits reports whether the deployment lacks executions that its
// placement could not place, and since when.
func (d *Deployment) waits() (bool, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.unplaced > 0, d.waiting
}

func newDeployment(parent context.Context, r *rollout) *Deployment {
	ctx, cancel := context.WithCancel(parent)
	return &Deployment{Version: r.version, r: r, ctx: ctx, cancel: cancel, slots: map[string][]*slot{}}
}

// Nodes returns the ids of the nodes the deployment runs executions on.
func (d *Deployment) Nodes() []string {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]string, 0, len(d.slots))
	for id, s := range d.slots {
		if len(s) > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// executionIDs lists the executions the slots run now.
func (d *Deployment) executionIDs() []string {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for _, ss := range d.slots {
		for _, s := range ss {
			if id := s.current(); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// StopNode stops the deployment's executions on node and waits for them to
// end.
func (d *Deployment) StopNode(node string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	slots := d.slots[node]
	delete(d.slots, node)
	d.mu.Unlock()
	for _, s := range slots {
		s.cancel()
	}
	for _, s := range slots {
		<-s.done
	}
}

// Stop stops every execution of the deployment and waits for them to end.
func (d *Deployment) Stop() {
	if d == nil {
		return
	}
	d.cancel()
	d.wg.Wait()
}

// Detach ends the deployment as its control plane shuts down: the
// executions on the nodes keep reports true of (those of node agents,
// which outlive a control plane) go on running untouched, for the next
// control plane to take over; the others are stopped. It returns how many
// executions it left running and how many it stopped, and waits for the
// stopped ones to end.
func (d *Deployment) Detach(keep func(node string) bool) (kept, stopped int) {
	if d == nil {
		return 0, 0
	}
	d.mu.Lock()
	slots := map[string][]*slot{}
	for node, ss := range d.slots {
		slots[node] = append([]*slot(nil), ss...)
	}
	d.mu.Unlock()
	for node, ss := range slots {
		k := keep(node)
		for _, s := range ss {
			if k {
				s.detached.Store(true)
				kept++
			} else {
				stopped++
			}
		}
	}
	d.Stop()
	return kept, stopped
}

// unjudged returns the slots on nodes whose health verdict nobody took
// yet, and marks them taken.
func (d *Deployment) unjudged(nodes []string) []*slot {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*slot
	for _, node := range nodes {
		for _, s := range d.slots[node] {
			if !s.judged {
				s.judged = true
				out = append(out, s)
			}
		}
	}
	return out
}

// judge marks up to n slots on node as judged: their set finished.
func (d *Deployment) judge(node string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.slots[node] {
		if n <= 0 {
			return
		}
		s.judged = true
		n--
	}
}

// fill starts the executions the deployment lacks on the nodes of pl
// (those served now, with room), saying why: a daemon's on every target
// node that has none, a service's up to its count, per pl.Executions. It
// returns how many it started on each node, and records what pl could
// not place.
func (d *Deployment) fill(pl plan.Placement, why string) map[string]int {
	started := map[string]int{}
	switch d.r.job.Type {
	case schema.Daemon:
		for _, node := range targets(pl) {
			if d.count(node) == 0 {
				d.r.emit(Event{Kind: ExecutionEvent, Node: node, Message: why})
				d.add(node, 0, nil)
				started[node]++
			}
		}
	case schema.Service:
		missing := d.r.job.Count - d.size()
		for _, node := range targets(pl) {
			for k := d.count(node); k < pl.Executions[node] && missing > 0; k++ {
				d.r.emit(Event{Kind: ExecutionEvent, Node: node, Message: why})
				d.add(node, 0, nil)
				missing--
				started[node]++
			}
		}
	}
	d.setUnplaced(pl, d.r.clock().Now())
	return started
}

// add starts a slot on node; adopt, when set, is an execution already
// running there (re-attached after a restart) that the slot watches first.
func (d *Deployment) add(node string, wave int, adopt *recovered) *slot {
	ctx, cancel := context.WithCancel(d.ctx)
	s := &slot{d: d, node: node, wave: wave, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		health: make(chan string, 1)}
	// The execution stops with the slot, unless the slot was detached.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	s.runCtx = runCtx
	context.AfterFunc(ctx, func() {
		if !s.detached.Load() {
			stopRun()
		}
	})
	// An execution taken over from an earlier control plane counts as what
	// the store says it is until its first health check.
	s.running = adopt != nil && adopt.x.Status.ComputeState == state.ComputeRunning
	d.mu.Lock()
	d.slots[node] = append(d.slots[node], s)
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(s.done)
		defer func() {
			if !s.detached.Load() {
				stopRun()
			}
		}()
		if s.run(adopt) == errNodeGone {
			// No agent serves the node any more: the slot goes, so that
			// the controller places its execution again (elsewhere, or
			// here when the node comes back).
			d.remove(s)
		}
		// Its execution ended: the room it held is free.
		d.r.freed()
	}()
	return s
}

// remove forgets slot s, which ended.
func (d *Deployment) remove(s *slot) {
	d.mu.Lock()
	ss := d.slots[s.node]
	for i, x := range ss {
		if x == s {
			ss = append(ss[:i:i], ss[i+1:]...)
			break
		}
	}
	if len(ss) == 0 {
		delete(d.slots, s.node)
	} else {
		d.slots[s.node] = ss
	}
	d.mu.Unlock()
	d.changed()
	if d.r.slotGone != nil {
		d.r.slotGone()
	}
}

// size returns how many slots the deployment has.
func (d *Deployment) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, ss := range d.slots {
		n += len(ss)
	}
	return n
}

// errNodeGone ends a slot whose node no agent serves.
var errNodeGone = errors.New("no agent serves the node")

// nodeGoneError says which node is gone; it matches errNodeGone.
type nodeGoneError struct{ msg string }

func (e nodeGoneError) Error() string        { return e.msg }
func (e nodeGoneError) Is(target error) bool { return target == errNodeGone }

// count returns how many slots run on node.
func (d *Deployment) count(node string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.slots[node])
}

// changed recomputes how many slots run and, once the rollout ended,
// records the job as running or degraded when the counts changed.
func (d *Deployment) changed() {
	d.mu.Lock()
	t := d.tally()
	report := d.steady && t != d.shown
	d.shown = t
	d.mu.Unlock()
	if report && d.ctx.Err() == nil {
		st, msg := d.jobState(t)
		// Logged by setSteadyState; the next change writes the state
		// again.
		_ = d.r.setSteadyState(d.ctx, st, msg)
	}
}

// isSteady reports whether the rollout of the deployment ended (settle).
func (d *Deployment) isSteady() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.steady
}

// settle marks the rollout over: from now on the slots report the job's
// state. It returns the state to record now.
func (d *Deployment) settle() (state.JobState, string) {
	d.mu.Lock()
	d.steady = true
	t := d.tally()
	d.shown = t
	d.mu.Unlock()
	return d.jobState(t)
}

// tally counts a deployment's slots: all of them, those whose execution
// is not running, and the nodes where one runs; and the executions its
// placement could not place.
type tally struct{ total, down, nodes, unplaced int }

// tally counts the slots; d.mu is held.
func (d *Deployment) tally() tally {
	var t tally
	for _, ss := range d.slots {
		up := false
		for _, s := range ss {
			t.total++
			if s.isRunning() {
				up = true
			} else {
				t.down++
			}
		}
		if up {
			t.nodes++
		}
	}
	t.unplaced = d.unplaced
	return t
}

// jobState is the job's state and message for a tally: running when every
// execution it should have runs (a service: its count; a daemon: one per
// node it has a slot on), degraded otherwise, counting only those that run.
func (d *Deployment) jobState(t tally) (state.JobState, string) {
	running, want := t.total-t.down, t.total
	switch d.r.job.Type {
	case schema.Service:
		// Slots whose node went away are gone: the count says what is
		// missing.
		want = max(want, d.r.job.Count)
	case schema.Daemon:
		// Matching nodes without room lack theirs.
		want += t.unplaced
	}
	if running < want {
		msg := fmt.Sprintf("version %d degraded: %d of %d executions running (on %d node%s), %d not running",
			d.Version, running, want, t.nodes, plural(t.nodes), want-running)
		d.mu.Lock()
		why := d.why
		d.mu.Unlock()
		if t.unplaced > 0 && why != "" {
			msg += fmt.Sprintf("; %s cannot be placed: %s", count(min(t.unplaced, want-running), "execution"), why)
		}
		return state.StateDegraded, msg
	}
	return state.StateRunning, fmt.Sprintf("version %d running: %d execution%s on %d node%s", d.Version, running, plural(running), t.nodes, plural(t.nodes))
}

// recovered is an execution an earlier control plane started, which the
// slot re-attaches to through its node before anything else.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
