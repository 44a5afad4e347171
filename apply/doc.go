// Package apply is the rollout engine: it drives a recorded job version
// through its placement — the canary set, then the waves — starting
// executions on nodes through a runner.Agent, counting failures against the
// rollout's limits, pausing for promotion, and rolling back to the last
// stable version when a rollout fails, unless the job says not to.
//
// Every step is recorded in the store: the job status, the executions and
// the version's rollout record (state.Rollout: the set under way, the sets
// done, and at the end the outcome). A control plane that takes over from
// an earlier one reads the record and goes on where it was (see startFrom):
// a rollout that ended keeps its running executions, a paused canary
// pauses again, an interrupted rollout resumes at its set, and executions
// that already completed or still run are not run again.
package apply
