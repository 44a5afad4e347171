package state

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestMachineTables checks the tables themselves: every state is in its
// table's order, no state lists itself, the ended compute states and
// stopped desired state are final, and Active and Ended split the compute
// states in two.
func TestMachineTables(t *testing.T) {
	for from, tos := range jobTransitions {
		if !from.Valid() || slices.Contains(tos, from) {
			t.Errorf("job %s: %v", from, tos)
		}
		for _, to := range tos {
			if !to.Valid() {
				t.Errorf("job %s → %q: not a state", from, to)
			}
		}
	}
	for _, s := range JobStates {
		if _, ok := jobTransitions[s]; !ok {
			t.Errorf("job state %s has no row: a job could never leave it", s)
		}
		if !s.CanBecome(StatePending) && s != StatePending {
			t.Errorf("job state %s cannot become pending: it could never be applied again", s)
		}
	}
	for from, tos := range computeTransitions {
		if !from.Valid() || from.Ended() || slices.Contains(tos, from) {
			t.Errorf("compute %s: %v", from, tos)
		}
	}
	for _, s := range ComputeStates {
		if s.Active() == s.Ended() {
			t.Errorf("compute %s: active %v, ended %v", s, s.Active(), s.Ended())
		}
		if s.Ended() != (len(s.Next()) == 0) {
			t.Errorf("compute %s: ended %v but may become %v", s, s.Ended(), s.Next())
		}
	}
	if next := DesiredStopped.Next(); len(next) != 0 {
		t.Errorf("desired stopped may become %v", next)
	}
	if ComputeState("exploded").Active() {
		t.Error("an invalid compute state is active")
	}
}

// TestJobMachine writes every pair of job states through the store: a job
// committed in state from is updated to state to. UpdateStatus accepts the
// transitions of the table (and staying), and refuses every other with a
// *TransitionError that names both states and what from may become, and
// writes nothing.
func TestJobMachine(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	h := putSpecs(t, s, "m", 1)[0]
	allowed, refused := 0, 0
	for i, from := range JobStates {
		for j, to := range JobStates {
			name := fmt.Sprintf("j%d-%d", i, j)
			st, err := s.CommitVersion(ctx, "default", name, h, 0, from)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.UpdateStatus(ctx, "default", name, func(js *JobStatus) error {
				js.State, js.Message = to, "moved"
				return nil
			})
			if from.CanBecome(to) {
				allowed++
				if err != nil || got.State != to {
					t.Errorf("%s → %s: %v, %+v; the table allows it", from, to, err, got)
				}
				continue
			}
			refused++
			var te *TransitionError
			if !errors.As(err, &te) || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s → %s: %v, want a *TransitionError", from, to, err)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, "job default/"+name) || !strings.Contains(msg, fmt.Sprintf("job state %s cannot become %s", from, to)) {
				t.Errorf("%s → %s: unclear error %q", from, to, msg)
			}
			if now, _ := s.Job(ctx, "default", name); now != st {
				t.Errorf("%s → %s: refused, yet the status moved to %+v", from, to, now)
			}
		}
	}
	t.Logf("job machine: %d transitions allowed (staying included), %d refused", allowed, refused)
	// Committing the current hash is a change of state like any other.
	if _, err := s.CommitVersion(ctx, "default", "j0-0", h, mustJob(t, s, "j0-0").Revision, StateCompleted); !errors.Is(err, ErrInvalid) {
		t.Errorf("commit of the same hash from pending to completed: %v, want refused", err)
	}
}

func mustJob(t *testing.T, s *Store, name string) JobStatus {
	t.Helper()
	js, err := s.Job(ctxT(t), "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestExecutionMachine writes every pair of compute states, and every pair
// of desired states, through UpdateExecution: the tables decide, a refused
// write returns a *TransitionError naming the execution and writes nothing.
func TestExecutionMachine(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	for i, from := range ComputeStates {
		for j, to := range ComputeStates {
			x := newExecution(fmt.Sprintf("c%d-%d", i, j))
			x.Status = ExecutionStatus{ComputeState: from, DesiredState: DesiredRunning}
			x, err := s.CreateExecution(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			next := x
			next.Status.ComputeState = to
			got, err := s.UpdateExecution(ctx, next)
			if from.CanBecome(to) {
				if err != nil || got.Status.ComputeState != to {
					t.Errorf("compute %s → %s: %v; the table allows it", from, to, err)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), fmt.Sprintf("execution default/web/%s: compute state %s cannot become %s", x.ID, from, to)) {
				t.Errorf("compute %s → %s: %v, want a *TransitionError", from, to, err)
			}
			if now, _ := s.Execution(ctx, "default", "web", x.ID); now.Revision != x.Revision {
				t.Errorf("compute %s → %s: refused, yet written", from, to)
			}
		}
	}
	for i, from := range DesiredStates {
		for j, to := range DesiredStates {
			x := newExecution(fmt.Sprintf("d%d-%d", i, j))
			x.Status = ExecutionStatus{ComputeState: ComputeRunning, DesiredState: from}
			x, err := s.CreateExecution(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			next := x
			next.Status.DesiredState = to
			_, err = s.UpdateExecution(ctx, next)
			if from.CanBecome(to) != (err == nil) {
				t.Errorf("desired %s → %s: %v; allowed %v", from, to, err, from.CanBecome(to))
			}
			if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("desired state %s cannot become %s", from, to)) {
				t.Errorf("desired %s → %s: unclear error %v", from, to, err)
			}
		}
	}
}
