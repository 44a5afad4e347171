package apply

import "github.com/muster-dev/muster/state"

// Event is one step of a rollout, for progress views, `-o json` and the
// store, which keeps the newest of each job (state.Store.JobEvents).
type Event = state.Event

// The kinds of Event (see state.EventKind).
const (
	RolloutStarted = state.EventRolloutStarted
	WaveStarted    = state.EventWaveStarted
	ExecutionEvent = state.EventExecution
	CanaryPaused   = state.EventCanaryPaused
	RolloutFailed  = state.EventRolloutFailed
	RolledBack     = state.EventRolledBack
	Completed      = state.EventCompleted
	Queued         = state.EventQueued
	Promoted       = state.EventPromoted
	Deployed       = state.EventDeployed
	Health         = state.EventHealth
	NodeEvent      = state.EventNode
	LeaderEvent    = state.EventLeader
	Finished       = state.EventFinished
	ProbeEvent     = state.EventProbe
	LaunchEvent    = state.EventLaunch
)
