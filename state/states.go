package state

import (
	"fmt"
	"slices"
	"strings"
)

// The lifecycle of jobs and executions (docs/spec.md section 4) is three state
// machines, each a type with one table of the transitions it allows:
// JobState (jobTransitions), ComputeState (computeTransitions) and
// DesiredState (desiredTransitions). The store refuses a write that makes
// a transition its table does not allow, with a *TransitionError;
// staying in a state (a new message) is always allowed.

// JobState is the state of a job, the value of JobStatus.State.
type JobState string

// Job states (docs/spec.md section 4).
const (
	// StatePending: a version was committed and waits for its rollout.
	StatePending JobState = "pending"
	// StateQueued: no node that an agent serves can take the version yet.
	StateQueued JobState = "queued"
	// StateDeploying: a rollout goes through its sets.
	StateDeploying JobState = "deploying"
	// StateRunning: a service or daemon runs every execution it should.
	StateRunning JobState = "running"
	// StateRolloutPaused: a canary rollout waits for 'muster promote'.
	StateRolloutPaused JobState = "rollout_paused"
	// StateRolloutFailed: a rollout broke its limits (and was rolled back,
	// unless no_auto_rollback).
	StateRolloutFailed JobState = "rollout_failed"
	// StateDegraded: a service or daemon runs fewer executions than it
	// should.
	StateDegraded JobState = "degraded"
	// StateCompleted: every execution of a batch or ops version completed.
	StateCompleted JobState = "completed"
	// StateFailed: the version failed with nothing to roll back to, or
	// muster could not drive it.
	StateFailed JobState = "failed"
	// StateStopped: 'muster stop' stopped the job.
	StateStopped JobState = "stopped"
	// StateDeleted: the job was deleted; applying it again starts over.
	StateDeleted JobState = "deleted"
)

// JobStates lists every job state, in the order of docs/spec.md section 4.
var JobStates = []JobState{
	StatePending, StateQueued, StateDeploying, StateRunning, StateRolloutPaused, StateRolloutFailed,
	StateDegraded, StateCompleted, StateFailed, StateStopped, StateDeleted,
}

// jobTransitions is the job machine: the states each state may become.
// Any state may become pending (a version is committed, or an ended job is
// applied again) and stopped ('muster stop'); a stopped job applied again
// rolls its version out at once (deploying, or queued without a node);
// failed is reachable from every state a rollout can be in (muster could
// not drive it); deleted only from a state where nothing runs.
var jobTransitions = map[JobState][]JobState{
	StatePending:       {StateQueued, StateDeploying, StateRolloutPaused, StateFailed, StateStopped},
	StateQueued:        {StatePending, StateDeploying, StateFailed, StateStopped},
	StateDeploying:     {StatePending, StateQueued, StateRunning, StateDegraded, StateCompleted, StateRolloutPaused, StateRolloutFailed, StateFailed, StateStopped},
	StateRolloutPaused: {StatePending, StateQueued, StateDeploying, StateFailed, StateStopped},
	StateRunning:       {StatePending, StateDeploying, StateDegraded, StateFailed, StateStopped},
	StateDegraded:      {StatePending, StateDeploying, StateRunning, StateFailed, StateStopped},
	StateRolloutFailed: {StatePending, StateQueued, StateDeploying, StateFailed, StateStopped, StateDeleted},
	StateCompleted:     {StatePending, StateStopped, StateDeleted},
	StateFailed:        {StatePending, StateStopped, StateDeleted},
	StateStopped:       {StatePending, StateQueued, StateDeploying, StateDeleted},
	StateDeleted:       {StatePending},
}

// Valid reports whether s is one of JobStates.
func (s JobState) Valid() bool { return slices.Contains(JobStates, s) }

// CanBecome reports whether the job machine allows s to become to:
// staying in s, or a transition of its table.
func (s JobState) CanBecome(to JobState) bool {
	return s == to || slices.Contains(jobTransitions[s], to)
}

// Next lists the states s may become, in the order of JobStates.
func (s JobState) Next() []JobState { return ordered(JobStates, jobTransitions[s]) }

// Active reports whether a job in state s has work under way that a
// control plane drives: a rollout that has not ended (pending, queued,
// deploying, rollout_paused) or long-running executions it keeps (running,
// degraded).
func (s JobState) Active() bool {
	switch s {
	case StatePending, StateQueued, StateDeploying, StateRolloutPaused, StateRunning, StateDegraded:
		return true
	}
	return false
}

// RollingOut reports whether a rollout of the job's version has not
// reached its first end yet: pending, queued or deploying. (A paused canary
// waits for promote; running and degraded are past the rollout.)
func (s JobState) RollingOut() bool {
	return s == StatePending || s == StateQueued || s == StateDeploying
}

// Steady reports whether s is where a finished rollout of a service or
// daemon leaves its job: running or degraded.
func (s JobState) Steady() bool { return s == StateRunning || s == StateDegraded }

// Failed reports whether s is how a failed rollout leaves its job.
func (s JobState) Failed() bool { return s == StateFailed || s == StateRolloutFailed }

// ComputeState is where an execution is, the value of
// ExecutionStatus.ComputeState.
type ComputeState string

// Execution compute states (docs/spec.md section 4).
const (
	ComputePending  ComputeState = "pending"
	ComputeStarting ComputeState = "starting"
	ComputeRunning  ComputeState = "running"
	ComputeDegraded ComputeState = "degraded"
	ComputeComplete ComputeState = "complete"
	ComputeFailed   ComputeState = "failed"
	ComputeLost     ComputeState = "lost"
	ComputeStopping ComputeState = "stopping"
	ComputeStopped  ComputeState = "stopped"
)

// ComputeStates lists every execution compute state.
var ComputeStates = []ComputeState{
	ComputePending, ComputeStarting, ComputeRunning, ComputeDegraded, ComputeComplete,
	ComputeFailed, ComputeLost, ComputeStopping, ComputeStopped,
}

// computeTransitions is the execution machine. The ended states
// (complete, failed, lost, stopped) become nothing: an execution that
// ended never runs again; a restart is a new execution. An execution that
// runs may be re-attached to (running again) after a control plane or
// agent restart, also while it stops.
var computeTransitions = map[ComputeState][]ComputeState{
	ComputePending:  {ComputeStarting, ComputeFailed, ComputeLost, ComputeStopped},
	ComputeStarting: {ComputeRunning, ComputeFailed, ComputeLost, ComputeStopping, ComputeStopped},
	ComputeRunning:  {ComputeDegraded, ComputeComplete, ComputeFailed, ComputeLost, ComputeStopping, ComputeStopped},
	ComputeDegraded: {ComputeRunning, ComputeComplete, ComputeFailed, ComputeLost, ComputeStopping, ComputeStopped},
	ComputeStopping: {ComputeRunning, ComputeComplete, ComputeFailed, ComputeLost, ComputeStopped},
}

// Valid reports whether s is one of ComputeStates.
func (s ComputeState) Valid() bool { return slices.Contains(ComputeStates, s) }

// CanBecome reports whether the execution machine allows s to become to.
func (s ComputeState) CanBecome(to ComputeState) bool {
	return s == to || slices.Contains(computeTransitions[s], to)
}

// Next lists the states s may become, in the order of ComputeStates.
func (s ComputeState) Next() []ComputeState {
	return ordered(ComputeStates, computeTransitions[s])
}

// Ended reports whether s is final: complete, failed, lost or stopped.
func (s ComputeState) Ended() bool {
	switch s {
	case ComputeComplete, ComputeFailed, ComputeLost, ComputeStopped:
		return true
	}
	return false
}

// Active reports whether an execution in state s may still run or change
// on its node: pending, starting, running, degraded or stopping (the
// states that are not Ended).
func (s ComputeState) Active() bool { return s.Valid() && !s.Ended() }

// Up reports whether the task of an execution in state s runs: running or
// degraded.
func (s ComputeState) Up() bool { return s == ComputeRunning || s == ComputeDegraded }

// DesiredState is where an execution should go, the value of
// ExecutionStatus.DesiredState.
type DesiredState string

// Execution desired states (docs/spec.md section 4).
const (
	DesiredPending DesiredState = "pending"
	DesiredRunning DesiredState = "running"
	DesiredStopped DesiredState = "stopped"
)

// DesiredStates lists every execution desired state.
var DesiredStates = []DesiredState{DesiredPending, DesiredRunning, DesiredStopped}

// desiredTransitions is the machine of desired states: once an execution
// should stop, it never should run again.
var desiredTransitions = map[DesiredState][]DesiredState{
	DesiredPending: {DesiredRunning, DesiredStopped},
	DesiredRunning: {DesiredStopped},
}

// Valid reports whether s is one of DesiredStates.
func (s DesiredState) Valid() bool { return slices.Contains(DesiredStates, s) }

// CanBecome reports whether the desired machine allows s to become to.
func (s DesiredState) CanBecome(to DesiredState) bool {
	return s == to || slices.Contains(desiredTransitions[s], to)
}

// Next lists the states s may become, in the order of DesiredStates.
func (s DesiredState) Next() []DesiredState {
	return ordered(DesiredStates, desiredTransitions[s])
}

// lifecycle is one of the three state types.
type lifecycle interface {
	~string
	Valid() bool
}

// ordered returns the members of set in the order of all.
func ordered[S lifecycle](all, set []S) []S {
	var out []S
	for _, s := range all {
		if slices.Contains(set, s) {
			out = append(out, s)
		}
	}
	return out
}

// TransitionError says that a write would make a transition the machine
// does not allow. It matches ErrInvalid.
type TransitionError struct {
	// What is the record: "job default/web", "execution default/web/x1".
	What string
	// Machine is "job state", "compute state" or "desired state".
	Machine string
	From    string
	To      string
	// Allowed lists the states From may become.
	Allowed []string
}

// Error names the record, the transition and what From may become.
func (e *TransitionError) Error() string {
	next := "nothing: it is final"
	if len(e.Allowed) > 0 {
		next = strings.Join(e.Allowed, ", ")
	}
	return fmt.Sprintf("%s: %s %s cannot become %s (it may become %s)", e.What, e.Machine, e.From, e.To, next)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalid }

// transition checks from → to against the machine of S.
func transition[S interface {
	lifecycle
	CanBecome(S) bool
}](what, machine string, from, to S, next []S) error {
	if from.CanBecome(to) {
		return nil
	}
	e := &TransitionError{What: what, Machine: machine, From: string(from), To: string(to)}
	for _, s := range next {
		e.Allowed = append(e.Allowed, string(s))
	}
	return e
}

// CheckJobTransition returns a *TransitionError unless the job machine
// allows from to become to.
func CheckJobTransition(what string, from, to JobState) error {
	return transition(what, "job state", from, to, from.Next())
}

// CheckExecutionTransition returns a *TransitionError unless the
// execution machines allow status from to become to: its compute state,
// then its desired state.
func CheckExecutionTransition(what string, from, to ExecutionStatus) error {
	if err := transition(what, "compute state", from.ComputeState, to.ComputeState, from.ComputeState.Next()); err != nil {
		return err
	}
	return transition(what, "desired state", from.DesiredState, to.DesiredState, from.DesiredState.Next())
}

// checkState reports a clear error when s is not one of valid.
func checkState[S ~string](what string, s S, valid []S) error {
	if slices.Contains(valid, s) {
		return nil
	}
	names := make([]string, len(valid))
	for i, v := range valid {
		names[i] = string(v)
	}
	return invalidf("invalid %s %q: want one of %s", what, s, strings.Join(names, ", "))
}

// settleDesired makes the desired state of an execution that ended
// stopped: an ended execution never runs again (a restart is a new
// execution), so "running" would not be true of it.
func settleDesired(s *ExecutionStatus) {
	if s.ComputeState.Ended() {
		s.DesiredState = DesiredStopped
	}
}
