package state

import (
	"errors"
	"testing"
	"time"
)

func TestRolloutRecords(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	if _, err := s.Rollout(ctx, "default", "web", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Rollout of a version without a record: %v", err)
	}
	r := Rollout{Namespace: "default", Name: "web", Version: 2, Strategy: "canary", Canary: []string{"a"},
		CanaryExecutions: map[string]int{"a": 1}, Waves: [][]string{{"a", "b"}}, State: StateRolloutPaused, StartedAt: time.Now().UTC()}
	if err := s.PutRollout(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Rollout(ctx, "default", "web", 2)
	if err != nil || got.State != StateRolloutPaused || got.CanaryExecutions["a"] != 1 || got.Ended() {
		t.Fatalf("Rollout = %+v, %v", got, err)
	}
	r.Outcome, r.RolledBackTo = "exploded", 3
	if err := s.PutRollout(ctx, r); !errors.Is(err, ErrInvalid) {
		t.Errorf("an unknown outcome: %v", err)
	}
	r.Outcome = OutcomeRolledBack
	if err := s.PutRollout(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Rollout(ctx, "default", "web", 2); !got.Ended() || got.RolledBackTo != 3 {
		t.Errorf("after the outcome: %+v", got)
	}
}

// TestRolloutSets is the table of where a rollout stands in its sets.
func TestRolloutSets(t *testing.T) {
	canary := []string{"a"}
	for _, c := range []struct {
		canary          []string
		wave, wavesDone int
		before          int // SetsBefore(wave)
		done            bool
	}{
		{canary, 0, 0, 0, false},
		{canary, 0, 1, 0, true},
		{canary, 2, 2, 2, false},
		{canary, 2, 3, 2, true},
		{nil, 1, 0, 0, false},
		{nil, 1, 1, 0, true},
		{nil, 3, 2, 2, false},
	} {
		r := Rollout{Canary: c.canary, Wave: c.wave, WavesDone: c.wavesDone}
		if got := r.SetsBefore(c.wave); got != c.before {
			t.Errorf("%+v: SetsBefore = %d, want %d", c, got, c.before)
		}
		if got := r.SetDone(); got != c.done {
			t.Errorf("%+v: SetDone = %v, want %v", c, got, c.done)
		}
	}
}

// TestEndedExecutionIsNotDesiredRunning: whoever writes an execution that
// ended, its desired state is stopped.
func TestEndedExecutionIsNotDesiredRunning(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	for i, compute := range ComputeStates {
		x := newExecution("e" + string(rune('a'+i)))
		x.Status = ExecutionStatus{ComputeState: compute, DesiredState: DesiredRunning}
		x, err := s.CreateExecution(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		want := DesiredRunning
		if compute.Ended() {
			want = DesiredStopped
		}
		if x.Status.DesiredState != want {
			t.Errorf("created %s: desired %s, want %s", compute, x.Status.DesiredState, want)
		}
		if !compute.CanBecome(ComputeComplete) {
			continue // the execution machine refuses it (TestExecutionMachine)
		}
		x.Status.ComputeState = ComputeComplete
		x.Status.DesiredState = DesiredRunning
		if x, err = s.UpdateExecution(ctx, x); err != nil || x.Status.DesiredState != DesiredStopped {
			t.Errorf("updated to complete: desired %s, %v", x.Status.DesiredState, err)
		}
		got, _ := s.Execution(ctx, "default", "web", x.ID)
		if got.Status.DesiredState != DesiredStopped {
			t.Errorf("stored complete: desired %s", got.Status.DesiredState)
		}
	}
}
