package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/state"
)

// probeMargin is how long past the probe's own timeout the engine waits
// for the node's answer before it counts the probe failed.
const probeMargin = 3 * time.Second

// probe runs the job's probe against execution x on its node
// (rollout.health_check.probe). The node runs it, with the job it runs x
// for: it reaches the task's ports on its own loopback and runs exec
// probes inside the task's environment. A node that cannot be asked, or
// does not answer in time, fails the probe: nothing shows the service
// answers.
func (r *rollout) probe(ctx context.Context, x state.Execution) runner.ProbeResult {
	p := r.job.Rollout.HealthCheck.Probe
	run := r.Runners.Get(x.NodeID)
	if run == nil {
		return runner.ProbeResult{Kind: p.Kind(), Message: fmt.Sprintf("node %s has no agent to run the probe", x.NodeID)}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(p.Timeout)+probeMargin)
	defer cancel()
	start := time.Now()
	res, err := run.Probe(ctx, x.ID)
	if err != nil {
		return runner.ProbeResult{Kind: p.Kind(), Took: time.Since(start), Message: fmt.Sprintf("node %s did not run the probe: %v", x.NodeID, err)}
	}
	if res.Kind == "" {
		res.Kind = p.Kind()
	}
	return res
}

// reportProbe records what a probe of x found as a probe event: the
// first outcome of an execution, every failure, and the first pass after
// failures. Passes in a row after that are not events (a service probed
// every few seconds would push every other event out of the job's
// stored history); the job's state and the health progress show them.
func (r *rollout) reportProbe(x state.Execution, res runner.ProbeResult, h *healthState) {
	if res.OK && !h.probeChanged {
		return
	}
	r.emit(Event{
		Kind: ProbeEvent, Node: x.NodeID, Execution: x.ID, State: string(x.Status.ComputeState),
		Message: res.Message,
		Probe: &state.ProbeReport{
			Kind: res.Kind, OK: res.OK, Message: res.Message,
			Millis: float64(res.Took.Microseconds()) / 1000, Failures: h.probeFailures,
		},
	})
}
