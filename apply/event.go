package apply

import "time"

// Event is one step of a rollout, for progress views and `-o json`.
type Event struct {
	Time    time.Time `json:"time"`
	Job     string    `json:"job"`
	Version int       `json:"version"`
	// Kind is rollout_started, wave_started, execution, canary_paused,
	// queued, promoted, rollout_failed, rolled_back, completed, deployed, health,
	// node or finished.
	Kind string `json:"kind"`
	// Wave is 0 for the canary set, 1.. for the waves.
	Wave      int    `json:"wave"`
	Node      string `json:"node,omitempty"`
	Execution string `json:"execution,omitempty"`
	// State is the execution's compute state or the job's state.
	State   string `json:"state,omitempty"`
	Message string `json:"message,omitempty"`
}

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
