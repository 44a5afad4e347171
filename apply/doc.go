// Package apply is the rollout engine: it drives a recorded job version
// through its placement — the canary set, then the waves — starting
// executions on nodes through a runner.Agent, counting failures against the
// rollout's limits, pausing for promotion, and rolling back to the last
// stable version when a rollout fails, unless the job says not to.
//
// Every step is recorded in the store (job status and executions), so a
// rollout that was interrupted resumes where it stopped: executions of the
// version that already completed on a node are not run again.
package apply
