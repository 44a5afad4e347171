package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// healthState counts the health checks of one slot (SPEC section 2,
// rollout.health_check): a check passes when the execution is running
// and, when the job has a probe, the probe passed.
type healthState struct {
	hc                schema.HealthCheck
	checks, failed    int
	successes, misses int // consecutive
	// since is when the current run of passing checks began: the
	// execution's start (its last write) without a probe, the first
	// passing probe with one; zero while checks do not pass.
	since time.Time
	// running says the last check found the execution running, whatever
	// its probe found; seen is the compute state it found.
	running bool
	seen    state.ComputeState
	// probeFailures counts the probes that failed in a row.
	probeFailures int
	// probed says a probe ran since the execution started; probeOK is
	// what the last one found, and probeChanged says the last probe was
	// the first or found otherwise than the one before.
	probed, probeOK, probeChanged bool
	// probeSaid is what the last failed probe found.
	probeSaid string
}

// check runs one health check of x (the zero Execution while the slot's
// execution is down) and says why the slot is unhealthy, or "" (setting
// *healthy once it became healthy). A read of the store that fails is
// retried (see readExecution); when it still fails the check is skipped,
// not counted: a store out of reach says nothing of the execution. A
// running execution of a job with a probe is probed through its node.
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
	now := r.clock().Now()
	if got.Status.ComputeState != state.ComputeRunning || h.hc.Probe == nil {
		return h.count(got.Status.ComputeState, got.UpdatedAt, nil, now, healthy)
	}
	res := r.probe(ctx, got)
	if ctx.Err() != nil {
		return "" // the slot stopped: the probe says nothing
	}
	why := h.count(state.ComputeRunning, got.UpdatedAt, &res, r.clock().Now(), healthy)
	r.reportProbe(got, res, h)
	return why
}

// count counts one health check that found the execution in compute
// state st, running since since (its last write), with probe's outcome
// when it was probed (nil: the job has no probe, or the execution does
// not run), at now. A check passes while the execution runs and its probe
// passes; one still pending or starting (its inputs, its image) is not a
// check yet. It returns why the slot is unhealthy, or "" (setting *healthy
// once it became ready, see ready).
func (h *healthState) count(st state.ComputeState, since time.Time, probe *runner.ProbeResult, now time.Time, healthy *bool) string {
	h.seen = st
	if st == state.ComputePending || st == state.ComputeStarting {
		h.since, h.running = time.Time{}, false
		return ""
	}
	h.running = st == state.ComputeRunning
	pass := h.running
	if probe != nil {
		pass = pass && probe.OK
		h.probeChanged = !h.probed || h.probeOK != probe.OK
		h.probed, h.probeOK = true, probe.OK
		if probe.OK {
			h.probeFailures = 0
		} else {
			h.probeFailures++
			h.probeSaid = probe.Message
		}
		// With a probe, healthy time counts from the first probe that
		// passed, not from the start.
		if pass && h.since.IsZero() {
			since = now
		} else if pass {
			since = h.since
		}
	}
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
	if !*healthy && h.ready(now) {
		*healthy = true
		return ""
	}
	if *healthy {
		return ""
	}
	return h.failing()
}

// ready reports whether the current execution passed success_threshold
// checks in a row and has done so for min_healthy_time.
func (h *healthState) ready(now time.Time) bool {
	return h.successes >= h.hc.SuccessThreshold && !h.since.IsZero() && now.Sub(h.since) >= time.Duration(h.hc.MinHealthyTime)
}

// up reports whether the last check passed: the execution runs and
// answers its probe. The job's running and degraded states count it.
func (h *healthState) up() bool { return !h.since.IsZero() && h.misses == 0 }

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
	if h.probeFailures > 0 {
		missed = append(missed, fmt.Sprintf("its last %d %s probe%s failed", h.probeFailures, h.hc.Probe.Kind(), plural(h.probeFailures)))
	}
	msg := fmt.Sprintf("not healthy within health_check.deadline %s", time.Duration(h.hc.Deadline))
	if len(missed) > 0 {
		msg += ": " + strings.Join(missed, "; ")
	}
	return msg
}

// ended counts an execution that ended as a failed check; the next one
// starts from nothing.
func (h *healthState) ended() {
	h.checks++
	h.since, h.running = time.Time{}, false
	h.failed++
	h.misses++
	h.successes = 0
	h.probeFailures, h.probed = 0, false
}

// failing says why the checks so far make the slot unhealthy, or "".
func (h *healthState) failing() string {
	what := "health checks"
	if h.hc.Probe != nil {
		what = "health checks (" + h.hc.Probe.Kind() + " probe)"
	}
	last := ""
	if h.probeFailures > 0 && h.probeSaid != "" {
		last = "; the last probe: " + h.probeSaid
	}
	if h.misses >= h.hc.FailureThreshold {
		return fmt.Sprintf("%d %s failed in a row (failure_threshold %d)%s", h.misses, what, h.hc.FailureThreshold, last)
	}
	if h.checks >= h.hc.FailureThreshold && float64(h.failed)/float64(h.checks) > h.hc.MaxErrorRate {
		return fmt.Sprintf("%d of %d %s failed, above max_error_rate %g%s", h.failed, h.checks, what, h.hc.MaxErrorRate, last)
	}
	return ""
}

// brokeThreshold reports whether failure_threshold checks failed in a
// row: a healthy execution that does this is stopped and restarted.
func (h *healthState) brokeThreshold() bool { return h.misses >= h.hc.FailureThreshold }
