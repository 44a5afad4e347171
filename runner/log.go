package runner

import (
	"log/slog"

	"github.com/muster-dev/muster/state"
)

// log is the agent's logger for execution e: the node, the job, its
// version and the execution as attributes. Without Agent.Log nothing is
// logged.
func (a *Agent) log(e state.Execution) *slog.Logger {
	l := a.Log
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("component", "runner", "node", a.NodeID, "job", e.JobID, "version", e.JobVersion, "execution", e.ID)
}
