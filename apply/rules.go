package apply

import (
	"fmt"

	"github.com/muster-dev/muster/state"
)

// Unchanged is what applying a job whose spec did not change does.
type Unchanged int

// What applying an unchanged job does (see WhenUnchanged).
const (
	// Nothing: the job stands as it is.
	Nothing Unchanged = iota
	// Restart: the job was stopped; its version starts again.
	Restart
	// Resume: a batch or ops rollout that an earlier process left
	// unfinished goes on; what completed is not run again.
	Resume
)

// WhenUnchanged decides what applying job status js does when the applied
// spec is the stored one: a stopped job starts again; a rollout left
// unfinished (its process was killed) resumes, when this process drives
// rollouts (driving: no long-lived control plane, which resumes its own)
// and the job runs to completion (longRunning jobs need a control plane).
// The note says it in words, "" for Nothing.
func WhenUnchanged(js state.JobStatus, longRunning, driving bool) (Unchanged, string) {
	switch {
	case js.State == state.StateStopped:
		return Restart, fmt.Sprintf("the job is stopped: applying starts version %d again", js.Version)
	case !js.State.RollingOut() || !driving || longRunning:
		return Nothing, ""
	}
	return Resume, fmt.Sprintf("the rollout of version %d was left %s: applying resumes it", js.Version, js.State)
}

// RollbackTarget returns the version a rollback of job status js records
// again: version to when it is not 0, else the newest earlier version
// whose spec differs from the current one. It refuses a version that does
// not exist and one whose spec is the current one.
func RollbackTarget(versions []state.Version, js state.JobStatus, to int) (state.Version, error) {
	ref := js.Namespace + "/" + js.Name
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if to != 0 && v.Version != to || to == 0 && (v.Version >= js.Version || v.Hash == js.Hash) {
			continue
		}
		if v.Hash == js.Hash {
			return v, fmt.Errorf("version %d has the spec of the current version %d: nothing to roll back", v.Version, js.Version)
		}
		return v, nil
	}
	if to != 0 {
		return state.Version{}, fmt.Errorf("%s has no version %d (see 'muster history %s')", ref, to, ref)
	}
	return state.Version{}, fmt.Errorf("%s has no earlier version with another spec to roll back to", ref)
}

// CanPromote refuses to promote a job that is not paused for promotion.
func CanPromote(js state.JobStatus) error {
	if js.State != state.StateRolloutPaused {
		return fmt.Errorf("%s/%s is %s, not waiting for promotion (rollout_paused)", js.Namespace, js.Name, js.State)
	}
	return nil
}
