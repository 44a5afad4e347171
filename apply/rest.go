package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/state"
)

// runRest runs, as room frees for them, the executions of a batch or ops
// rollout that its placement left unplaced (no node had room): while none
// fits the job waits queued, saying why; each time the control plane
// places some of them (Engine.rooms, in priority order with all that
// waits), they run as one more set, counted against the rollout's failure
// limits as any set. It returns when every execution ran, the failure
// limits broke (end.failed), or timeouts.queue passed while waiting
// (end.expired). Without a roomKeeper the rest never runs: the rollout
// ends, saying so.
func (r *rollout) runRest(ctx context.Context, end *setsEnd) error {
	j := r.job
	why := r.pl.UnplacedReason
	set := len(r.pl.Waves) + 1 // the next set, after the canary and the waves
	if r.start.rest {
		set = max(set, r.start.set)
	}
	reached := map[string]bool{}
	for _, n := range targets(r.pl) {
		reached[n] = true
	}
	for {
		ran, ranOn, err := r.ran(ctx)
		if err != nil {
			return err
		}
		n := 0
		if j.Type.HasCount() {
			if n = j.Count - ran; n <= 0 {
				return nil
			}
		}
		if r.rooms == nil {
			end.expired = fmt.Sprintf("%s could not be placed: %s; nothing here waits for room (a control plane, 'muster dev' or 'muster server', runs them as it frees)",
				count(max(n, r.pl.Unplaced), "execution"), why)
			return nil
		}
		left := count(n, "execution")
		if n == 0 {
			left = "the executions of the matching nodes without room"
		}
		msg := fmt.Sprintf("version %d waits for room: %s ran; %s cannot be placed yet: %s", r.version, count(ran, "execution"), left, why)
		if err := r.setState(ctx, state.StateQueued, msg); err != nil {
			return err
		}
		if err := r.update(ctx, func(rec *state.Rollout) { rec.State, rec.Message = state.StateQueued, msg }); err != nil {
			return err
		}
		r.emit(Event{Kind: Queued, State: string(state.StateQueued), Message: msg})
		wait, cancel := ctx, context.CancelFunc(func() {})
		if q := time.Duration(j.Timeouts.Queue); q > 0 {
			wait, cancel = context.WithTimeout(ctx, q)
		}
		var skip func(string) bool
		if !j.Type.HasCount() {
			skip = func(node string) bool { return ranOn[node] } // once per node
		}
		pl, err := r.rooms.more(wait, j, n, skip)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			end.expired = fmt.Sprintf("%s waited longer than timeouts.queue %s for room: %s", left, j.Timeouts.Queue, why)
			return nil
		}
		if err != nil {
			return err
		}
		nodes := planTargets(pl)
		if len(nodes) == 0 {
			return nil // nothing is left to place (an ops job's nodes went)
		}
		if pl.UnplacedReason != "" {
			why = pl.UnplacedReason
		}
		if err := r.setState(ctx, state.StateDeploying, fmt.Sprintf("rolling out version %d: room freed for %s more", r.version, count(placedCount(pl), "execution"))); err != nil {
			return err
		}
		if err := r.update(ctx, func(rec *state.Rollout) {
			for len(rec.Waves)+1 < set {
				rec.Waves = append(rec.Waves, nil)
			}
			rec.Waves = append(rec.Waves[:set-1], nodes)
		}); err != nil {
			return err
		}
		if err := r.setStarted(ctx, set); err != nil {
			return err
		}
		r.emit(Event{Kind: WaveStarted, Wave: set, Message: join(nodes) + " (placed as room freed)"})
		res, err := r.wave(ctx, set, nodes, func(node string) int { return pl.Want(1, node) }, map[string]int{})
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		if err := r.setDone(ctx, set, res.good, res.bad); err != nil {
			return err
		}
		for _, n := range nodes {
			reached[n] = true
		}
		end.failedNodes += len(res.failed)
		if end.failed = failureLimit(j.Rollout, end.failedNodes, len(reached)); end.failed != "" {
			if res.first != "" {
				end.failed += " (" + res.first + ")"
			}
			return nil
		}
		set++
	}
}

// ran counts the executions of this version that ran or run (the latest
// of each restart chain, lost ones included, as the sets count them) and
// the nodes they ran on.
func (r *rollout) ran(ctx context.Context) (int, map[string]bool, error) {
	execs, err := r.Store.Executions(ctx, r.job.Namespace, r.job.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return 0, nil, err
	}
	n, on := 0, map[string]bool{}
	for _, x := range execs {
		if x.JobVersion == r.version && x.NextExecutionID == "" {
			n++
			on[x.NodeID] = true
		}
	}
	return n, on, nil
}

// expire ends a rollout whose executions waited for room longer than
// timeouts.queue: the version failed (nothing of it broke, so nothing is
// rolled back), as a queued version that waits too long does.
func (r *rollout) expire(ctx context.Context, why string) (Outcome, error) {
	ctx = context.WithoutCancel(ctx)
	msg := fmt.Sprintf("version %d failed: %s", r.version, why)
	r.emit(Event{Kind: RolloutFailed, State: string(state.StateFailed), Message: msg})
	if err := r.ended(ctx, state.StateFailed, state.OutcomeFailed, msg); err != nil {
		return Outcome{}, err
	}
	return Outcome{State: state.StateFailed, Message: msg}, r.setState(ctx, state.StateFailed, msg)
}

// freed tells the control plane that an execution ended.
func (r *rollout) freed() {
	if r.rooms != nil {
		r.rooms.freed()
	}
}

// hold keeps room on node for the execution that replaces one that ended.
func (r *rollout) hold(node string) {
	if r.rooms != nil {
		r.rooms.hold(r.job, node)
	}
}

// release gives back a hold that will not be used.
func (r *rollout) release(node string) {
	if r.rooms != nil {
		r.rooms.release(r.ref, node)
	}
}

// planTargets lists the nodes of pl's sets, sorted.
func planTargets(pl plan.Placement) []string {
	out := targets(pl)
	slices.Sort(out)
	return out
}

// placedCount counts the executions pl places: its Executions, or one per
// target node of an ops or daemon job.
func placedCount(pl plan.Placement) int {
	if pl.Executions == nil {
		return len(targets(pl))
	}
	n := 0
	for _, c := range pl.Executions {
		n += c
	}
	return n
}

// perNode is what pl places on each node: its Executions, or one per
// target node of an ops or daemon job.
func perNode(pl plan.Placement) map[string]int {
	if pl.Executions != nil {
		return pl.Executions
	}
	out := map[string]int{}
	for _, n := range targets(pl) {
		out[n] = 1
	}
	return out
}

// count says "1 execution", "3 executions".
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
