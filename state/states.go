package state

import (
	"slices"
	"strings"
)

// Job states (docs/spec.md section 4), the values of JobStatus.State.
const (
	StatePending       = "pending"
	StateQueued        = "queued"
	StateDeploying     = "deploying"
	StateRunning       = "running"
	StateRolloutPaused = "rollout_paused"
	StateRolloutFailed = "rollout_failed"
	StateDegraded      = "degraded"
	StateCompleted     = "completed"
	StateFailed        = "failed"
	StateStopped       = "stopped"
	StateDeleted       = "deleted"
)

// JobStates lists every job state, in the order of docs/spec.md section 4.
var JobStates = []string{
	StatePending, StateQueued, StateDeploying, StateRunning, StateRolloutPaused, StateRolloutFailed,
	StateDegraded, StateCompleted, StateFailed, StateStopped, StateDeleted,
}

// Execution compute states (docs/spec.md section 4), the values of
// ExecutionStatus.ComputeState.
const (
	ComputePending  = "pending"
	ComputeStarting = "starting"
	ComputeRunning  = "running"
	ComputeDegraded = "degraded"
	ComputeComplete = "complete"
	ComputeFailed   = "failed"
	ComputeLost     = "lost"
	ComputeStopping = "stopping"
	ComputeStopped  = "stopped"
)

// Ended reports whether compute state s is final: complete, failed, lost
// or stopped. An execution in any other state may still change.
func Ended(s string) bool {
	switch s {
	case ComputeComplete, ComputeFailed, ComputeLost, ComputeStopped:
		return true
	}
	return false
}

// ComputeStates lists every execution compute state.
var ComputeStates = []string{
	ComputePending, ComputeStarting, ComputeRunning, ComputeDegraded, ComputeComplete,
	ComputeFailed, ComputeLost, ComputeStopping, ComputeStopped,
}

// Execution desired states (docs/spec.md section 4), the values of
// ExecutionStatus.DesiredState.
const (
	DesiredPending = "pending"
	DesiredRunning = "running"
	DesiredStopped = "stopped"
)

// DesiredStates lists every execution desired state.
var DesiredStates = []string{DesiredPending, DesiredRunning, DesiredStopped}

// checkState reports a clear error when s is not one of valid.
func checkState(what, s string, valid []string) error {
	if slices.Contains(valid, s) {
		return nil
	}
	return invalidf("invalid %s %q: want one of %s", what, s, strings.Join(valid, ", "))
}

// settleDesired makes the desired state of an execution that ended
// stopped: an ended execution never runs again (a restart is a new
// execution), so "running" would not be true of it.
func settleDesired(s *ExecutionStatus) {
	if Ended(s.ComputeState) {
		s.DesiredState = DesiredStopped
	}
}
