package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// DeployOptions is what a long-running rollout needs from the control
// plane that keeps its executions.
type DeployOptions struct {
	// Life bounds the new executions: they run until it is done or the
	// Deployment is stopped. Required.
	Life context.Context
	// Prev holds the executions of the version being replaced; Deploy
	// stops them node by node as the new ones become healthy, and the rest
	// at the end. Nil when there are none.
	Prev *Deployment
	// Promote is closed (or sent to) by 'muster promote'; a canary rollout
	// without auto_promote waits for it after its canary set. Nil with
	// Promoted means no wait.
	Promote <-chan struct{}
	// Promoted skips the canary pause.
	Promoted bool
	// Paused is called when the rollout pauses for promotion.
	Paused func()
	// Resume is set when a control plane takes over the version from an
	// earlier one (it restarted): a rollout that ended is not rolled out
	// again, its executions are kept as they run; one under way goes on
	// where it stopped (see startFrom).
	Resume bool
}

// Deploy rolls out version of a long-running job (service or daemon): in
// each set of nodes (the canary, then the waves) it starts the executions,
// waits until each is healthy per rollout.health_check and then stops the
// previous version's executions on those nodes. A service's canary runs
// beside the previous version, whose executions keep running until the
// canary is promoted. It returns when the rollout ended: Outcome.State is
// running or degraded with the Deployment that keeps the executions going,
// or a failed state (rolled back per no_auto_rollback) with the Deployment
// of the previous version, which keeps running (nil if none). When ctx is
// cancelled (a newer version, a stop, a shutdown) it returns ctx's error
// with the Deployment of what it started, which the caller stops or leaves
// running; its Replaced holds the previous version's. ctx bounds the
// rollout, not the executions (see DeployOptions.Life).
func (e *Engine) Deploy(ctx context.Context, j *schema.Job, version int, pl plan.Placement, o DeployOptions) (Outcome, *Deployment, error) {
	ref := j.Namespace + "/" + j.Name
	if !j.Type.LongRunning() {
		return Outcome{}, nil, fmt.Errorf("%s is a %s job: it runs to completion, use Rollout", ref, j.Type)
	}
	ctx, cancel := totalTimeout(ctx, j)
	defer cancel()
	r, err := e.prepare(ctx, j, version, pl, o.Resume)
	if err != nil {
		return Outcome{}, nil, err
	}
	if r.start.steady {
		return r.keep(ctx, o)
	}
	if out, ok := r.queue(ctx); ok {
		return out, nil, nil
	}
	pause := r.pauses(o.Promoted)
	if err := r.begin(ctx, pause); err != nil {
		return Outcome{}, nil, err
	}
	d := newDeployment(o.Life, r)
	if pl.Unplaced > 0 {
		// Partly placed: what fits rolls out, the rest waits for room (or
		// for more nodes) and the job runs degraded meanwhile.
		d.setUnplaced(pl, r.clock().Now())
		r.emit(Event{Kind: Queued, Message: fmt.Sprintf("%s of %d cannot be placed yet: %s; the others roll out",
			count(pl.Unplaced, "execution"), placedCount(pl)+pl.Unplaced, pl.UnplacedReason)})
	}
	prev, err := r.adopt(ctx, d, o.Prev)
	d.Replaced = prev
	if err != nil {
		d.Stop()
		return Outcome{}, prev, err
	}
	// broken ends the rollout on an error of muster's own.
	broken := func(err error) (Outcome, *Deployment, error) {
		d.Stop()
		return Outcome{}, prev, err
	}
	all := append([][]string{pl.Canary}, pl.Waves...)
	// Executions taken over in sets that finished before a restart are
	// not judged again.
	for i := 0; i < r.start.set && i < len(all); i++ {
		for _, node := range all[i] {
			d.judge(node, pl.Want(i, node))
			// The set finished, but the control plane may have stopped
			// before it stopped the previous version there.
			if (i > 0 || pl.CanaryExecutions == nil) && d.count(node) > 0 {
				prev.StopNode(node)
			}
		}
	}
	ds := &deploySets{r: r, d: d, prev: prev, o: o}
	end, err := r.runSets(ctx, pause, ds)
	switch {
	case err != nil && ctx.Err() != nil && ds.pausing:
		// Interrupted at the canary pause.
		return ds.paused, d, err
	case errors.Is(err, context.Canceled):
		// Stopped, superseded or shut down: not a failure of this
		// version, and the set did not finish; the caller says what
		// happens to its executions.
		return Outcome{}, d, err
	case err != nil:
		return broken(err)
	case end.failed != "":
		d.Stop()
		out, err := r.fail(ctx, end.failed)
		return out, prev, err
	}
	// Nodes the new version no longer targets.
	prev.Stop()
	d.Replaced = nil
	st, msg := d.settle()
	if end.failedNodes > 0 {
		msg += fmt.Sprintf("; %d nodes failed, within the rollout's limits", end.failedNodes)
	}
	if err := r.ended(ctx, st, state.OutcomeCompleted, msg); err != nil {
		return Outcome{}, d, err
	}
	r.emit(Event{Kind: Deployed, State: string(st), Message: msg})
	return Outcome{State: st, Message: msg}, d, r.setState(ctx, st, msg)
}

// deploySets runs the sets of a service or daemon rollout: it starts each
// set's executions, waits until each is healthy, then stops the previous
// version's on the set's nodes (a service's canary runs beside them).
type deploySets struct {
	r    *rollout
	d    *Deployment
	prev *Deployment
	o    DeployOptions
	// pausing is set while the rollout waits at its canary pause, and
	// paused is the outcome it recorded there.
	pausing bool
	paused  Outcome
}

// pause waits at the canary pause for promote (unless a promote came
// first), then goes on.
func (ds *deploySets) pause(ctx context.Context) (Outcome, bool, error) {
	r := ds.r
	if !promotedAlready(ds.o.Promote) {
		ds.pausing = true
		out, err := r.pauseForPromote(ctx, ds.o)
		ds.paused = out
		if err != nil {
			return Outcome{}, false, err
		}
		ds.pausing = false
	}
	r.emit(Event{Kind: Promoted, Message: "promoted: rolling out the remaining waves"})
	return Outcome{}, false, r.setState(ctx, state.StateDeploying, fmt.Sprintf("rolling out version %d after promotion", r.version))
}

func (ds *deploySets) run(ctx context.Context, i int, nodes []string) (setResult, error) {
	r := ds.r
	if i >= 1 {
		r.retireCanaryNodes(ds.prev)
	}
	res := r.deployWave(ctx, ds.d, i, nodes)
	if ctx.Err() == nil && (i > 0 || r.pl.CanaryExecutions == nil) {
		// A service's canary runs beside the previous version.
		for _, node := range nodes {
			if !res.failed[node] {
				ds.prev.StopNode(node)
			}
		}
	}
	return res, nil
}

// pauseForPromote records the rollout paused after its canary and waits
// for promote; when ctx ends first it returns the paused outcome with
// ctx's error.
func (r *rollout) pauseForPromote(ctx context.Context, o DeployOptions) (Outcome, error) {
	pl := r.pl
	msg := fmt.Sprintf("canary healthy on %s; run 'muster promote %s' to continue", join(pl.Canary), r.ref)
	if pl.CanaryExecutions != nil {
		n := 0
		for _, c := range pl.CanaryExecutions {
			n += c
		}
		msg = fmt.Sprintf("canary healthy (%d execution%s on %s, beside the previous version's); run 'muster promote %s' to continue", n, plural(n), join(pl.Canary), r.ref)
	}
	// Ready for a promote before anyone can see the pause.
	if o.Paused != nil {
		o.Paused()
	}
	if err := r.setState(ctx, state.StateRolloutPaused, msg); err != nil {
		return Outcome{}, err
	}
	if err := r.update(ctx, func(rec *state.Rollout) { rec.State, rec.Message = state.StateRolloutPaused, msg }); err != nil {
		return Outcome{}, err
	}
	r.emit(Event{Kind: CanaryPaused, State: string(state.StateRolloutPaused), Message: msg})
	select {
	case <-o.Promote:
		return Outcome{}, nil
	case <-ctx.Done():
		return Outcome{State: state.StateRolloutPaused, Message: msg}, ctx.Err()
	}
}

// promotedAlready reports whether promote was closed (a promote that came
// before the rollout reached its pause).
func promotedAlready(promote <-chan struct{}) bool {
	select {
	case <-promote:
		return true
	default:
		return false
	}
}

// keep takes over the executions of a version whose rollout ended, as an
// earlier control plane left them running: nothing is restarted; what the
// version lacks (executions that ended with that control plane, or whose
// node is gone) is started again, and those of other versions stop.
func (r *rollout) keep(ctx context.Context, o DeployOptions) (Outcome, *Deployment, error) {
	d := newDeployment(o.Life, r)
	prev, err := r.adopt(ctx, d, o.Prev)
	prev.Stop()
	if err != nil {
		d.Stop()
		return Outcome{}, nil, err
	}
	d.fill(r.pl, "starting an execution the version lacks after a control plane restart")
	st, msg := d.settle()
	r.emit(Event{Kind: Health, State: string(st), Message: "taken over after a control plane restart: " + msg})
	return Outcome{State: st, Message: msg}, d, r.setState(ctx, st, msg)
}

// retireCanaryNodes stops, once a service's canary is promoted, the
// previous version's executions on the canary nodes that no wave reaches
// (the canary holds all of their new executions).
func (r *rollout) retireCanaryNodes(prev *Deployment) {
	if r.pl.CanaryExecutions == nil || prev == nil {
		return
	}
	inWave := map[string]bool{}
	for _, w := range r.pl.Waves {
		for _, n := range w {
			inWave[n] = true
		}
	}
	for _, n := range r.pl.Canary {
		if !inWave[n] {
			prev.StopNode(n)
		}
	}
}

// deployWave starts the executions of one set of nodes and waits for each
// to be healthy; it returns the nodes where one was not, and how many
// executions were healthy and unhealthy.
func (r *rollout) deployWave(ctx context.Context, d *Deployment, wave int, nodes []string) setResult {
	type verdict struct {
		node, execution string
		why             string
	}
	for _, node := range nodes {
		for k := d.count(node); k < r.pl.Want(wave, node); k++ {
			d.add(node, wave, nil)
		}
	}
	// The new slots, and those adopted on these nodes after a restart.
	slots := d.unjudged(nodes)
	results := make(chan verdict, len(slots))
	for _, s := range slots {
		go func() {
			select {
			case why := <-s.health:
				results <- verdict{s.node, s.current(), why}
			case <-ctx.Done():
				results <- verdict{s.node, s.current(), "the rollout ended first"}
			}
		}()
	}
	res := setResult{failed: map[string]bool{}}
	for range slots {
		v := <-results
		if v.why != "" {
			res.failed[v.node] = true
			res.bad++
			if res.first == "" {
				res.first = "node " + v.node + ": " + v.why
			}
			r.emit(Event{Kind: ExecutionEvent, Wave: wave, Node: v.node, Execution: v.execution, State: "unhealthy", Message: v.why})
		} else {
			res.good++
			r.emit(Event{Kind: ExecutionEvent, Wave: wave, Node: v.node, Execution: v.execution, State: "healthy"})
		}
	}
	return res
}

// adopt takes over the executions an earlier control plane left behind
// (it was killed or restarted). Those of this version become slots of d:
// the node re-attaches to them when its driver can (docker), otherwise they
// are recorded lost and the slot starts a replacement. Those of other
// versions are gathered into a Deployment returned as the one to replace,
// so that they are stopped like any previous version's. It returns the
// adopted slots per node.
func (r *rollout) adopt(ctx context.Context, d *Deployment, prev *Deployment) (*Deployment, error) {
	execs, err := r.Store.Executions(ctx, r.job.Namespace, r.job.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return prev, err
	}
	known := map[string]bool{}
	for _, dep := range []*Deployment{prev, d} {
		for _, id := range dep.executionIDs() {
			known[id] = true
		}
	}
	var legacy *Deployment
	for _, x := range execs {
		if known[x.ID] || x.NextExecutionID != "" {
			continue
		}
		if !x.Status.ComputeState.Active() {
			continue
		}
		// A pending one may have reached its node just before the
		// earlier control plane went: the node says.
		run := r.Runners.Get(x.NodeID)
		if x.Status.ComputeState == state.ComputeStopping || x.Status.DesiredState == state.DesiredStopped {
			// It was being stopped: the stop goes on.
			r.finishStop(ctx, run, x)
			continue
		}
		if run == nil {
			if err := r.recordLost(ctx, x, "no agent serves node "+x.NodeID+" since the control plane that ran it stopped"); err != nil {
				return prev, err
			}
			continue
		}
		target := d
		if x.JobVersion != r.version {
			if legacy == nil {
				legacy = newDeployment(d.ctx, &rollout{Engine: r.Engine, job: r.job, ref: r.ref, version: x.JobVersion, pl: r.pl})
			}
			target = legacy
		}
		target.add(x.NodeID, 0, r.recoverer(run, x, target != d))
	}
	if legacy != nil {
		if prev != nil {
			// Both: stop the leftovers at once, keep prev to replace.
			go legacy.Stop()
			return prev, nil
		}
		return legacy, nil
	}
	return prev, nil
}

// finishStop ends the stop of x, which an earlier control plane began
// (x is stopping, or should stop): its node, re-attached to it, stops it
// and records how it ended, in the background; when no node runs it any
// more, it is recorded stopped now.
func (r *rollout) finishStop(ctx context.Context, run Runner, x state.Execution) {
	settle := func(ctx context.Context) {
		if err := r.recordLost(ctx, x, "it was stopping when the control plane that ran it stopped; its node no longer runs it"); err != nil {
			r.log().Error("recording a stopped execution", "node", x.NodeID, "execution", x.ID, "err", err)
		}
	}
	if run == nil {
		settle(ctx)
		return
	}
	stop, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cancel() // re-attached, it is stopped at once
	go func() {
		_, _, ok, err := run.Recover(stop, x, r.job)
		if err != nil || !ok {
			settle(context.WithoutCancel(ctx))
		}
	}()
}

// recoverer re-attaches to x through its node in the background.
func (r *rollout) recoverer(run Runner, x state.Execution, retiring bool) *recovered {
	rc := &recovered{x: x, done: make(chan runResult, 1), retiring: retiring}
	rc.start = func(ctx context.Context) {
		got, res, ok, err := run.Recover(ctx, x, r.job)
		rc.done <- runResult{x: got, err: err, lost: !ok && err == nil,
			ok: err == nil && got.Status.ComputeState == state.ComputeComplete && res.Succeeded()}
	}
	return rc
}

// recordLost records x, which nothing watches any more, as lost, saying
// why; one that was stopping is recorded stopped: nothing runs it.
func (r *rollout) recordLost(ctx context.Context, x state.Execution, why string) error {
	if cur, err := r.Store.Execution(ctx, r.job.Namespace, r.job.Name, x.ID); err == nil {
		x = cur
	}
	if !x.Status.ComputeState.Active() {
		return nil
	}
	to := state.ComputeLost
	if x.Status.ComputeState == state.ComputeStopping || x.Status.DesiredState == state.DesiredStopped {
		to = state.ComputeStopped
	}
	x.Status.ComputeState, x.Status.Message = to, why
	if _, err := r.Store.UpdateExecution(context.WithoutCancel(ctx), x); err != nil && !errors.Is(err, state.ErrConflict) {
		return err
	}
	r.emit(Event{Kind: ExecutionEvent, Node: x.NodeID, Execution: x.ID, State: string(to), Message: x.Status.Message})
	return nil
}

// setSteadyState records a running job as running or degraded, unless a
// newer version or another state (a rollout, a stop) took over. A failed
// write is tried again, then logged and returned.
func (r *rollout) setSteadyState(ctx context.Context, st state.JobState, msg string) error {
	msg = sensitive.Redact(msg+r.lost.note(), r.hidden)
	err := retry(context.WithoutCancel(ctx), r.clock(), r.log(), "record the job "+string(st), func(ctx context.Context) error {
		_, err := r.Store.UpdateStatus(ctx, r.job.Namespace, r.job.Name, func(js *state.JobStatus) error {
			if js.Version != r.version || !js.State.Steady() {
				return errSkip
			}
			js.State, js.Message = st, msg
			return nil
		})
		return err
	})
	r.emit(Event{Kind: Health, State: string(st), Message: msg})
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

var errSkip = errors.New("skip")
