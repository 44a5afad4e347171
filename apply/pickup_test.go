package apply

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/state"
)

// TestLeaderPicksUpRecordedVersion: a version recorded pending by any
// writer (a client through another control plane) is rolled out by the
// leader without being asked; asking afterwards does not start it again.
func TestLeaderPicksUpRecordedVersion(t *testing.T) {
	f := newFakeStore()
	clk := clockwork.NewFakeClock()
	moved := make(chan struct{})
	defer close(moved)
	go advancing(clk, 100*time.Millisecond, moved)
	h := newHoldRunner(f)
	if _, err := f.PutNode(context.Background(), state.Node{ID: "n1", LastSeen: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	c := &Controller{Store: f, Runners: NewRunners(map[string]Runner{"n1": h}), Clock: clk, NodeTTL: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-c.Ready()

	_, js := fakeRecord(t, f, heldService)
	wait.Until(t, wait.Default, "the recorded version running on n1", func() bool {
		cur, _ := f.Job(context.Background(), "default", "web")
		return cur.State == state.StateRunning && h.holding() == 2
	})
	if err := c.Rollout(context.Background(), "default", "web", js.Version, false); err != nil {
		t.Fatal(err)
	}
	execs, _ := f.Executions(context.Background(), "default", "web")
	if len(execs) != 2 {
		t.Errorf("%d executions after the rollout was also asked for, want the 2 it started", len(execs))
	}
	if states := f.jobStates("default", "web"); !slices.Equal(states, []state.JobState{state.StatePending, state.StateDeploying, state.StateRunning}) {
		t.Errorf("job states %v", states)
	}
}
