package apply

import (
	"time"

	"github.com/muster-dev/muster/state"
)

// reportHealth tells the progress views (Engine.Events) how far execution
// id of slot s got toward healthy after a health check: an execution event
// with Health set. It is sent while the execution runs and is not healthy
// yet, and is not stored among the job's events: it is progress, one per
// check, not a step of the rollout.
func (r *rollout) reportHealth(s *slot, id string, h *healthState, healthy bool) {
	if healthy || h.since.IsZero() || id == "" || r.Events == nil {
		return
	}
	r.Events(Event{
		Time: r.clock().Now().UTC(), Job: r.ref, Version: r.version,
		Kind: ExecutionEvent, Wave: s.wave, Node: s.node, Execution: id, State: string(state.ComputeRunning),
		Health: &state.HealthProgress{
			Passed:            h.successes,
			SuccessThreshold:  h.hc.SuccessThreshold,
			RanSeconds:        r.clock().Since(h.since).Seconds(),
			MinHealthySeconds: time.Duration(h.hc.MinHealthyTime).Seconds(),
		},
	})
}
