package runner

import "time"

// ProbeResult is what one probe of a running execution found
// (rollout.health_check.probe).
type ProbeResult struct {
	// Kind is the probe's kind: "http", "tcp" or "exec".
	Kind string `json:"kind"`
	// OK says the probe passed: an accepted HTTP status, a TCP connection
	// that opened, a command that exited 0, all within the timeout.
	OK bool `json:"ok"`
	// Message says what the probe found, in words ("GET
	// http://127.0.0.1:20001/health: 500 Internal Server Error").
	Message string `json:"message"`
	// Took is how long the probe ran.
	Took time.Duration `json:"took"`
	// NotRunning says the node runs no such execution (it ended, or was
	// never started there); OK is false then.
	NotRunning bool `json:"not_running,omitempty"`
}
