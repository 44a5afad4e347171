package apply

import "slices"

// phase is where a slot's execution is in its life. The phases and the
// moves between them are all here; the slot's machine (slot.go) makes
// each move with machine.to, which records it as an execution event
// carrying the phase.
//
//	new ──► starting ──► probing ──► healthy ──► unhealthy
//	           │            │           │            │
//	           └────────────┴─────┬─────┴────────────┘
//	                              ▼
//	       starting ◄──── restarting        retiring ──► ended
//
// Any phase but new may go to retiring (the deployment stops the slot)
// or ended (the restart policy keeps the execution ended, or it could not
// be started).
type phase string

// The phases of a slot.
const (
	// phaseNew: nothing started yet.
	phaseNew phase = "new"
	// phaseStarting: the execution is recorded and sent to its node, and
	// does not run yet (its inputs, its image).
	phaseStarting phase = "starting"
	// phaseProbing: it runs; health checks (and the job's probe) count
	// toward healthy.
	phaseProbing phase = "probing"
	// phaseHealthy: it passed success_threshold checks in a row and ran
	// min_healthy_time; checks go on.
	phaseHealthy phase = "healthy"
	// phaseUnhealthy: healthy before (or started after its rollout
	// ended), it failed failure_threshold checks in a row: it is stopped,
	// and the restart policy decides what follows.
	phaseUnhealthy phase = "unhealthy"
	// phaseRestarting: it ended; the slot waits out the backoff, then
	// starts the next execution.
	phaseRestarting phase = "restarting"
	// phaseRetiring: the deployment stops the slot; its execution is
	// stopped (or left running for the next control plane).
	phaseRetiring phase = "retiring"
	// phaseEnded: the slot runs nothing more.
	phaseEnded phase = "ended"
)

// phaseMoves lists, for each phase, the phases it may move to.
var phaseMoves = map[phase][]phase{
	phaseNew:        {phaseStarting, phaseProbing, phaseEnded},
	phaseStarting:   {phaseProbing, phaseHealthy, phaseRestarting, phaseStarting, phaseRetiring, phaseEnded},
	phaseProbing:    {phaseHealthy, phaseUnhealthy, phaseRestarting, phaseStarting, phaseRetiring, phaseEnded},
	phaseHealthy:    {phaseUnhealthy, phaseRestarting, phaseStarting, phaseRetiring, phaseEnded},
	phaseUnhealthy:  {phaseRestarting, phaseStarting, phaseRetiring, phaseEnded},
	phaseRestarting: {phaseStarting, phaseEnded},
	phaseRetiring:   {phaseEnded},
}

// canBecome reports whether a slot in phase p may move to next.
func (p phase) canBecome(next phase) bool { return slices.Contains(phaseMoves[p], next) }
