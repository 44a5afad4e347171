package cli

import (
	"testing"
	"time"

	"github.com/muster-dev/muster/state"
)

// TestRolloutVerdict is the table of the ends of a followed rollout and
// their exit status.
func TestRolloutVerdict(t *testing.T) {
	job := func(version int, st state.JobState) state.JobStatus {
		return state.JobStatus{Version: version, State: st}
	}
	rec := func(st state.JobState, outcome string) *state.Rollout {
		return &state.Rollout{Version: 2, State: st, Outcome: outcome}
	}
	old := rec(state.StateRunning, "")
	old.EndedAt = time.Now()
	superseded := rec(state.StateRolloutPaused, state.OutcomeSuperseded)
	superseded.SupersededBy = 3
	for _, c := range []struct {
		name       string
		js         state.JobStatus
		rec        *state.Rollout
		done       bool
		code, next int
	}{
		{"completed (batch)", job(2, state.StateCompleted), rec(state.StateCompleted, state.OutcomeCompleted), true, 0, 0},
		{"completed (service running)", job(2, state.StateRunning), rec(state.StateRunning, state.OutcomeCompleted), true, 0, 0},
		{"completed (service degraded)", job(2, state.StateDegraded), rec(state.StateDegraded, state.OutcomeCompleted), true, 0, 0},
		{"paused for promote", job(2, state.StateRolloutPaused), rec(state.StateRolloutPaused, ""), true, 0, 0},
		{"failed", job(2, state.StateRolloutFailed), rec(state.StateRolloutFailed, state.OutcomeFailed), true, 1, 0},
		{"rolled back", job(3, state.StateDeploying), rec(state.StateRolloutFailed, state.OutcomeRolledBack), true, 1, 0},
		{"stopped", job(2, state.StateStopped), rec(state.StateStopped, state.OutcomeStopped), true, 1, 0},
		{"superseded: follow the newer", job(3, state.StateDeploying), superseded, false, 0, 3},
		{"deploying", job(2, state.StateDeploying), rec(state.StateDeploying, ""), false, 0, 0},
		{"queued", job(2, state.StateQueued), rec(state.StateQueued, ""), false, 0, 0},
		{"pending, no record yet", job(2, state.StatePending), nil, false, 0, 0},
		{"no record, completed", job(2, state.StateCompleted), nil, true, 0, 0},
		{"no record, failed", job(2, state.StateFailed), nil, true, 1, 0},
		{"broken while deploying", job(2, state.StateFailed), rec(state.StateDeploying, ""), true, 1, 0},
		{"a record from before outcomes", job(2, state.StateRunning), old, true, 0, 0},
		{"moved on without a record", job(4, state.StateDeploying), nil, false, 0, 4},
	} {
		done, code, next := rolloutVerdict(c.js, 2, c.rec)
		if done != c.done || code != c.code || next != c.next {
			t.Errorf("%s: done %v, exit %d, next %d; want %v, %d, %d", c.name, done, code, next, c.done, c.code, c.next)
		}
	}
}

// TestOutcomeText is the table of how history and status name outcomes.
func TestOutcomeText(t *testing.T) {
	for _, c := range []struct {
		r    state.Rollout
		want string
	}{
		{state.Rollout{Outcome: state.OutcomeCompleted}, "completed"},
		{state.Rollout{Outcome: state.OutcomeCompleted, RolledBackFrom: 2}, "completed (rolled back from v2)"},
		{state.Rollout{Outcome: state.OutcomeFailed, State: state.StateFailed}, "failed"},
		{state.Rollout{Outcome: state.OutcomeRolledBack, State: state.StateRolloutFailed, RolledBackTo: 3}, "failed, rolled back to v3"},
		{state.Rollout{Outcome: state.OutcomeRolledBack, State: state.StateRunning, RolledBackTo: 3}, "rolled back to v3"},
		{state.Rollout{Outcome: state.OutcomeSuperseded, SupersededBy: 4}, "superseded by v4"},
		{state.Rollout{Outcome: state.OutcomeStopped}, "stopped"},
		{state.Rollout{State: state.StateRolloutPaused}, "paused for promote"},
		{state.Rollout{State: state.StateQueued}, "queued"},
		{state.Rollout{State: state.StateDeploying, Canary: []string{"a"}, Waves: [][]string{{"b"}}, WavesDone: 1}, "deploying (1 of 2 sets done)"},
		{state.Rollout{State: state.StateCompleted, EndedAt: time.Now()}, "completed"},
	} {
		if got := outcomeText(&c.r); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
