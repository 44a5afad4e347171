package apply

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/state"
)

func TestWhenUnchanged(t *testing.T) {
	for _, tc := range []struct {
		state                state.JobState
		longRunning, driving bool
		want                 Unchanged
	}{
		{state.StateStopped, false, true, Restart},
		{state.StateStopped, true, false, Restart},
		{state.StateDeploying, false, true, Resume},
		{state.StatePending, false, true, Resume},
		{state.StateDeploying, false, false, Nothing}, // a control plane resumes its own
		{state.StateDeploying, true, true, Nothing},   // long-running: needs a control plane
		{state.StateCompleted, false, true, Nothing},
		{state.StateRunning, true, false, Nothing},
	} {
		js := state.JobStatus{Namespace: "default", Name: "web", Version: 3, State: tc.state}
		got, note := WhenUnchanged(js, tc.longRunning, tc.driving)
		if got != tc.want || (got == Nothing) != (note == "") {
			t.Errorf("WhenUnchanged(%s, long=%v, driving=%v) = %v %q, want %v", tc.state, tc.longRunning, tc.driving, got, note, tc.want)
		}
	}
}

func TestRollbackTarget(t *testing.T) {
	versions := []state.Version{{Version: 1, Hash: "a"}, {Version: 2, Hash: "b"}, {Version: 3, Hash: "b"}, {Version: 4, Hash: "c"}}
	cur := state.JobStatus{Namespace: "default", Name: "web", Version: 4, Hash: "c"}
	for _, tc := range []struct {
		name    string
		js      state.JobStatus
		to      int
		want    int
		wantErr string
	}{
		{"the version before", cur, 0, 3, ""},
		{"an explicit one", cur, 1, 1, ""},
		{"skips the current spec", state.JobStatus{Namespace: "default", Name: "web", Version: 3, Hash: "b"}, 0, 1, ""},
		{"the current spec", state.JobStatus{Namespace: "default", Name: "web", Version: 3, Hash: "b"}, 2, 0, "nothing to roll back"},
		{"no such version", cur, 9, 0, "has no version 9"},
		{"nothing earlier", state.JobStatus{Namespace: "default", Name: "web", Version: 1, Hash: "a"}, 0, 0, "no earlier version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RollbackTarget(versions, tc.js, tc.to)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("RollbackTarget = %+v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Version != tc.want {
				t.Fatalf("RollbackTarget = %+v, %v; want version %d", got, err, tc.want)
			}
		})
	}
}

func TestCanPromote(t *testing.T) {
	if err := CanPromote(state.JobStatus{State: state.StateRolloutPaused}); err != nil {
		t.Errorf("a paused rollout: %v", err)
	}
	if err := CanPromote(state.JobStatus{Namespace: "default", Name: "web", State: state.StateRunning}); err == nil || !strings.Contains(err.Error(), "not waiting for promotion") {
		t.Errorf("a running job: %v", err)
	}
}
