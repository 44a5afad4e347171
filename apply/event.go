package apply

import "github.com/muster-dev/muster/state"

// Event is one step of a rollout, for progress views, `-o json` and the
// store, which keeps the newest of each job (state.Store.JobEvents).
type Event = state.Event

// The kinds of Event.
const (
	RolloutStarted = "rollout_started"
	WaveStarted    = "wave_started"
	ExecutionEvent = "execution"
	CanaryPaused   = "canary_paused"
	RolloutFailed  = "rollout_failed"
	RolledBack     = "rolled_back"
	Completed      = "completed"
	// Queued: no node can take the version yet.
	Queued = "queued"
	// Promoted: a paused canary rollout goes on.
	Promoted = "promoted"
	// Deployed: every wave of a long-running job is healthy.
	Deployed = "deployed"
	// Health: a deployed long-running job became running or degraded.
	Health = "health"
	// NodeEvent: a node's agent joined or went silent (Job is empty).
	NodeEvent = "node"
	// Finished is the last event of a rollout in a long-lived control
	// plane; State is where it left the job.
	Finished = "finished"
)
