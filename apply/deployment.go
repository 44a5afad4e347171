package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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
// (those served now), saying why: a daemon's on every matched node that
// has none, a service's up to its count, per pl.Executions. It returns how
// many it started.
func (d *Deployment) fill(pl plan.Placement, why string) int {
	started := 0
	switch d.r.job.Type {
	case schema.Daemon:
		for _, node := range pl.MatchedNodes {
			if d.count(node) == 0 {
				d.r.emit(Event{Kind: ExecutionEvent, Node: node, Message: why})
				d.add(node, 0, nil)
				started++
			}
		}
	case schema.Service:
		missing := d.r.job.Count - d.size()
		for _, node := range targets(pl) {
			for k := d.count(node); k < pl.Executions[node] && missing > 0; k++ {
				d.r.emit(Event{Kind: ExecutionEvent, Node: node, Message: why})
				d.add(node, 0, nil)
				missing--
				started++
			}
		}
	}
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
// is not running, and the nodes where one runs.
type tally struct{ total, down, nodes int }

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
	return t
}

// jobState is the job's state and message for a tally: running when every
// execution it should have runs (a service: its count; a daemon: one per
// node it has a slot on), degraded otherwise, counting only those that run.
func (d *Deployment) jobState(t tally) (state.JobState, string) {
	running, want := t.total-t.down, t.total
	if d.r.job.Type == schema.Service {
		// Slots whose node went away are gone: the count says what is
		// missing.
		want = max(want, d.r.job.Count)
	}
	if running < want {
		return state.StateDegraded, fmt.Sprintf("version %d degraded: %d of %d executions running (on %d node%s), %d not running",
			d.Version, running, want, t.nodes, plural(t.nodes), want-running)
	}
	return state.StateRunning, fmt.Sprintf("version %d running: %d execution%s on %d node%s", d.Version, running, plural(running), t.nodes, plural(t.nodes))
}

// recovered is an execution an earlier control plane started, which the
// slot re-attaches to through its node before anything else.
type recovered struct {
	x     state.Execution
	done  chan runResult
	start func(ctx context.Context)
	// retiring: it belongs to an older version, so it is not restarted.
	retiring bool
}

type runResult struct {
	x    state.Execution
	err  error
	ok   bool // the task ended successfully
	lost bool // there was nothing to re-attach to
}

// slot keeps one long-running execution alive on one node: it starts it,
// restarts it per restart_policy with backoff, and checks its health every
// health_check.interval.
type slot struct {
	d      *Deployment
	node   string
	wave   int
	ctx    context.Context
	cancel context.CancelFunc
	// runCtx is the context of the execution on its node: cancelled with
	// ctx, unless the slot was detached first (see Deployment.Detach).
	runCtx   context.Context
	detached atomic.Bool
	done     chan struct{}
	// health receives "" once the execution is healthy, or why it is not.
	health chan string
	// judged is set once a rollout took the health verdict; d.mu guards it.
	judged bool

	mu sync.Mutex
	// running is set while a health check last saw the execution running:
	// an execution still waiting for its node, or being prepared, is not
	// counted as running.
	running bool
	cur     string // the execution running now
}

func (s *slot) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *slot) setCurrent(id string) {
	s.mu.Lock()
	s.cur = id
	s.mu.Unlock()
}

func (s *slot) isRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

func (s *slot) setRunning(v bool) {
	s.mu.Lock()
	changed := s.running != v
	s.running = v
	s.mu.Unlock()
	if changed {
		s.d.changed()
	}
}

// report sends the first health verdict; later ones are dropped.
func (s *slot) report(why string) {
	select {
	case s.health <- why:
	default:
	}
}

// run is the slot's loop: one execution after another until the slot is
// stopped, or the restart policy says the last one stays ended. It returns
// errNodeGone when it ended because no agent serves its node.
func (s *slot) run(adopt *recovered) error {
	r := s.d.r
	hc := r.job.Rollout.HealthCheck
	clk := r.clock()
	backoff := newBackoff(r.Backoff)
	h := &healthState{hc: hc}
	var deadlineC <-chan time.Time // nil: no deadline
	if hc.Deadline > 0 {
		deadline := clk.NewTimer(time.Duration(hc.Deadline))
		defer deadline.Stop()
		deadlineC = deadline.Chan()
	}
	interval := time.Duration(hc.Interval)
	if interval <= 0 {
		interval = time.Duration(schema.DefaultInterval)
	}
	tick := clk.NewTicker(interval)
	defer tick.Stop()
	var prev *state.Execution
	healthy := false
	for {
		var cur state.Execution
		var done chan runResult
		retiring := false
		if adopt != nil {
			cur, done, retiring = adopt.x, adopt.done, adopt.retiring
			s.setCurrent(cur.ID)
			go adopt.start(s.runCtx)
			adopt = nil
		} else {
			var err error
			cur, done, err = s.start(prev)
			if err != nil {
				s.setRunning(false)
				s.report(err.Error())
				r.emit(Event{Kind: ExecutionEvent, Wave: s.wave, Node: s.node, Execution: cur.ID, State: string(cur.Status.ComputeState), Message: err.Error()})
				if errors.Is(err, errNodeGone) {
					return errNodeGone
				}
				return nil
			}
		}
		var res runResult
		ended := false
		for !ended {
			select {
			case <-s.ctx.Done():
				// The run's context follows the slot's: the node stops it,
				// unless the slot was detached (it then runs on).
				if !s.detached.Load() {
					<-done
				}
				s.setRunning(false)
				return nil
			case res = <-done:
				ended = true
			case <-tick.Chan():
				why := h.check(s.ctx, r, cur, &healthy)
				r.reportHealth(s, cur.ID, h, healthy)
				s.setRunning(!h.since.IsZero())
				if why != "" {
					s.report(why)
				} else if healthy {
					s.report("")
				}
			case <-deadlineC:
				if !healthy {
					s.report(h.notHealthy(clk.Now()))
				}
			}
		}
		s.setRunning(false)
		if res.lost {
			// Nothing to re-attach to: record it lost and replace it at once.
			if err := r.recordLost(s.ctx, cur, fmt.Sprintf("node %s had nothing to re-attach to after a control plane restart", s.node)); err != nil {
				s.report(err.Error())
				return nil
			}
			if retiring {
				return nil
			}
			if r.Runners.Get(s.node) == nil {
				// Its node is gone too: placed again where nodes serve.
				return errNodeGone
			}
			continue
		}
		if res.err != nil {
			s.report(res.err.Error())
			r.emit(Event{Kind: ExecutionEvent, Wave: s.wave, Node: s.node, Execution: cur.ID, State: string(state.ComputeFailed), Message: res.err.Error()})
			return nil
		}
		x := res.x
		r.emit(Event{Kind: ExecutionEvent, Wave: s.wave, Node: s.node, Execution: x.ID, State: string(x.Status.ComputeState), Message: x.Status.Message})
		h.ended()
		if retiring {
			return nil
		}
		if r.job.RestartPolicy == schema.Never || r.job.RestartPolicy == schema.OnFailure && res.ok {
			if !healthy {
				s.report(fmt.Sprintf("execution %s ended (%s) and restart_policy %s does not restart it", x.ID, x.Status.ComputeState, r.job.RestartPolicy))
			}
			return nil
		}
		if why := h.failing(); why != "" && !healthy {
			s.report(why)
		}
		// A run that stayed up past min_healthy_time earns a fresh backoff.
		if clk.Since(x.CreatedAt) > time.Duration(hc.MinHealthyTime) && healthy {
			backoff.reset()
		}
		delay := backoff.wait()
		r.emit(Event{Kind: ExecutionEvent, Wave: s.wave, Node: s.node, Execution: x.ID, State: string(x.Status.ComputeState),
			Message: fmt.Sprintf("restarting in %s (restart_policy %s)", delay, r.job.RestartPolicy)})
		wait := clk.NewTimer(delay)
		for waiting := true; waiting; {
			select {
			case <-s.ctx.Done():
				wait.Stop()
				return nil
			case <-wait.Chan():
				waiting = false
			case <-tick.Chan():
				// Checks go on while the execution is down: they fail.
				if why := h.check(s.ctx, r, state.Execution{}, &healthy); why != "" {
					s.report(why)
				}
			case <-deadlineC:
				if !healthy {
					s.report(h.notHealthy(clk.Now()))
				}
			}
		}
		prev = &x
	}
}

// start records a new execution (linked to prev) and starts it on the
// node; the result arrives on the channel when it ends.
func (s *slot) start(prev *state.Execution) (state.Execution, chan runResult, error) {
	r := s.d.r
	x, err := r.newExecution(s.ctx, s.node, prev)
	if err != nil {
		return x, nil, err
	}
	run, x, err := r.runnerFor(s.ctx, x)
	if err != nil {
		return x, nil, err
	}
	if err := s.ctx.Err(); err != nil {
		// The slot ended (a stop, or a shutdown that detached it) before
		// the execution went to its node: it never runs.
		x.Status.ComputeState, x.Status.Message = state.ComputeStopped, "stopped before it started"
		got, werr := r.Store.UpdateExecution(context.WithoutCancel(s.ctx), x)
		if werr != nil {
			r.log().Error("recording an execution stopped before it started", "node", x.NodeID, "execution", x.ID, "err", werr)
			return x, nil, errors.Join(err, fmt.Errorf("recording execution %s stopped: %w", x.ID, werr))
		}
		return got, nil, err
	}
	s.setCurrent(x.ID)
	r.emit(Event{Kind: ExecutionEvent, Wave: s.wave, Node: s.node, Execution: x.ID, State: string(state.ComputeStarting)})
	done := make(chan runResult, 1)
	go func() {
		got, res, err := run.Run(r.withSecrets(s.runCtx), x, r.job)
		done <- runResult{x: got, err: err, ok: err == nil && got.Status.ComputeState == state.ComputeComplete && res.Succeeded()}
	}()
	return x, done, nil
}

// healthState counts the health checks of one slot (SPEC section 2,
// rollout.health_check): a check passes when the execution is running.
type healthState struct {
	hc                schema.HealthCheck
	checks, failed    int
	successes, misses int // consecutive
	// since is when the execution was last seen start running; zero while
	// it is not running.
	since time.Time
}

// check runs one health check of x (the zero Execution while the slot's
// execution is down) and says why the slot is unhealthy, or "" (setting
// *healthy once it became healthy). A read of the store that fails is
// retried (see readExecution); when it still fails the check is skipped,
// not counted: a store out of reach says nothing of the execution.
func (h *healthState) check(ctx context.Context, r *rollout, x state.Execution, healthy *bool) string {
	var got state.Execution
	if x.ID != "" {
		var err error
		got, err = r.readExecution(ctx, x)
		switch {
		case errors.Is(err, state.ErrNotFound):
			got = state.Execution{} // gone: the check fails
		case err != nil:
			if ctx.Err() == nil {
				r.log().Warn("health check skipped: the execution cannot be read", "node", x.NodeID, "execution", x.ID, "err", err)
			}
			return ""
		}
	}
	return h.observe(got.Status.ComputeState, got.UpdatedAt, r.clock().Now(), healthy)
}

// observe counts one health check that found the execution in compute
// state st, running since since (its last write), at now; st is "" when
// there is no execution. A check passes while the execution runs; one
// still pending or starting (its inputs, its image) is not a check yet.
// It returns why the slot is unhealthy, or "" (setting *healthy once
// success_threshold checks passed in a row and it ran min_healthy_time).
func (h *healthState) observe(st state.ComputeState, since, now time.Time, healthy *bool) string {
	if st == state.ComputePending || st == state.ComputeStarting {
		h.since = time.Time{}
		return ""
	}
	pass := st == state.ComputeRunning
	if !pass {
		since = time.Time{}
	}
	h.checks++
	h.since = since
	if pass {
		h.successes++
		h.misses = 0
	} else {
		h.failed++
		h.misses++
		h.successes = 0
	}
	if !*healthy && pass && h.successes >= h.hc.SuccessThreshold && now.Sub(since) >= time.Duration(h.hc.MinHealthyTime) {
		*healthy = true
		return ""
	}
	if *healthy {
		return ""
	}
	return h.failing()
}

// notHealthy says why an execution was not healthy when the deadline
// passed: which thresholds it had not met, and by how much.
func (h *healthState) notHealthy(now time.Time) string {
	var missed []string
	if h.successes < h.hc.SuccessThreshold {
		missed = append(missed, fmt.Sprintf("%d of the success_threshold %d checks passed in a row (one every %s)",
			h.successes, h.hc.SuccessThreshold, time.Duration(h.hc.Interval)))
	}
	ran := time.Duration(0)
	if !h.since.IsZero() {
		ran = now.Sub(h.since)
	}
	if need := time.Duration(h.hc.MinHealthyTime); ran < need {
		missed = append(missed, fmt.Sprintf("it had run %s of min_healthy_time %s, %s short", ran.Round(time.Second), need, (need-ran).Round(time.Second)))
	}
	msg := fmt.Sprintf("not healthy within health_check.deadline %s", time.Duration(h.hc.Deadline))
	if len(missed) > 0 {
		msg += ": " + strings.Join(missed, "; ")
	}
	return msg
}

// ended counts an execution that ended as a failed check.
func (h *healthState) ended() {
	h.checks++
	h.since = time.Time{}
	h.failed++
	h.misses++
	h.successes = 0
}

// failing says why the checks so far make the slot unhealthy, or "".
func (h *healthState) failing() string {
	if h.misses >= h.hc.FailureThreshold {
		return fmt.Sprintf("%d health checks failed in a row (failure_threshold %d)", h.misses, h.hc.FailureThreshold)
	}
	if h.checks >= h.hc.FailureThreshold && float64(h.failed)/float64(h.checks) > h.hc.MaxErrorRate {
		return fmt.Sprintf("%d of %d health checks failed, above max_error_rate %g", h.failed, h.checks, h.hc.MaxErrorRate)
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
