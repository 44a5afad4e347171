package ui

import (
	"strconv"

	"github.com/muster-dev/muster/state"
)

// rolloutView is the newest rollout of a job: its sets (the canary, then
// the waves), each node in them with its executions of the rollout's
// version.
type rolloutView struct {
	state.Rollout
	Sets []setView
}

// setView is one set of a rollout.
type setView struct {
	Name string
	// Status is done, current, waiting (for promote) or pending; or not
	// run, for a set the rollout ended before.
	Status string
	Nodes  []nodeExecutions
}

// nodeExecutions is a node of a set with its executions of the version.
type nodeExecutions struct {
	Node       string
	Executions []state.Execution
}

// newRolloutView places execs of r's version on r's sets.
func newRolloutView(r state.Rollout, execs []state.Execution) *rolloutView {
	byNode := map[string][]state.Execution{}
	for _, e := range execs {
		if e.JobVersion == r.Version {
			byNode[e.NodeID] = append(byNode[e.NodeID], e)
		}
	}
	v := &rolloutView{Rollout: r}
	if len(r.Canary) > 0 {
		v.Sets = append(v.Sets, newSet(&r, 0, "canary", r.Canary, byNode))
	}
	for i, nodes := range r.Waves {
		v.Sets = append(v.Sets, newSet(&r, i+1, "wave "+strconv.Itoa(i+1), nodes, byNode))
	}
	return v
}

// newSet returns set i of r, named name, of nodes.
func newSet(r *state.Rollout, i int, name string, nodes []string, byNode map[string][]state.Execution) setView {
	s := setView{Name: name, Status: setStatus(r, i)}
	for _, n := range nodes {
		s.Nodes = append(s.Nodes, nodeExecutions{Node: n, Executions: byNode[n]})
	}
	return s
}

// setStatus says where r is with its set i.
func setStatus(r *state.Rollout, i int) string {
	switch {
	case r.WavesDone > r.SetsBefore(i):
		return "done"
	case r.Ended():
		return "not run"
	case r.State == state.StateRolloutPaused && r.WavesDone == r.SetsBefore(i):
		return "waiting"
	case i == r.Wave:
		return "current"
	}
	return "pending"
}
