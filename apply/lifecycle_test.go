package apply

// The lifecycle over fakes: a service's job becomes degraded when an
// execution crashes and running again when its replacement runs; an
// execution left stopping by an earlier control plane is stopped by the
// next one.

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// holdRunner runs long-running executions without processes: each runs
// until it is stopped (it goes through stopping to stopped) or the test
// crashes it (failed). Recover finds the ones it holds.
type holdRunner struct {
	st   *fakeStore
	mu   sync.Mutex
	held map[string]*held
	// answers, when set, is what a probe of a held execution finds:
	// the probe passes while it returns true.
	answers func(id string) bool
	probes  int
}

func (h *holdRunner) Probe(_ context.Context, id string) (runner.ProbeResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.probes++
	if h.held[id] == nil {
		return runner.ProbeResult{Kind: "http", NotRunning: true, Message: "not running"}, nil
	}
	if h.answers != nil && !h.answers(id) {
		return runner.ProbeResult{Kind: "http", Message: "GET /: 500 Internal Server Error"}, nil
	}
	return runner.ProbeResult{Kind: "http", OK: true, Message: "GET /: 200 OK"}, nil
}

type held struct {
	crash chan struct{}
	done  chan struct{}
	x     state.Execution
	res   runner.Result
}

func newHoldRunner(st *fakeStore) *holdRunner { return &holdRunner{st: st, held: map[string]*held{}} }

func (h *holdRunner) write(x *state.Execution, to state.ComputeState, msg string) {
	x.Status.ComputeState, x.Status.Message = to, msg
	if got, err := h.st.UpdateExecution(context.Background(), *x); err == nil {
		*x = got
	}
}

func (h *holdRunner) Run(ctx context.Context, x state.Execution, _ *schema.Job) (state.Execution, runner.Result, error) {
	h.write(&x, state.ComputeStarting, "")
	// Held (and so probed) before it is recorded running, as an agent
	// does.
	e := &held{crash: make(chan struct{}), done: make(chan struct{}), x: x}
	h.mu.Lock()
	h.held[x.ID] = e
	h.mu.Unlock()
	h.write(&x, state.ComputeRunning, "running")
	h.mu.Lock()
	if x.Revision > e.x.Revision { // unless a Recover took a newer one
		e.x = x
	}
	h.mu.Unlock()
	return h.wait(ctx, e)
}

func (h *holdRunner) wait(ctx context.Context, e *held) (state.Execution, runner.Result, error) {
	select {
	case <-e.done:
		return e.x, e.res, nil
	case <-ctx.Done():
		h.write(&e.x, state.ComputeStopping, "stopping")
		h.write(&e.x, state.ComputeStopped, "stopped")
		e.res = runner.Result{ExitCode: -1, Message: "stopped"}
	case <-e.crash:
		h.write(&e.x, state.ComputeFailed, "exited with code 1")
		e.res = runner.Result{ExitCode: 1, Message: "exited with code 1"}
	}
	h.mu.Lock()
	delete(h.held, e.x.ID)
	h.mu.Unlock()
	close(e.done)
	return e.x, e.res, nil
}

func (h *holdRunner) Recover(ctx context.Context, x state.Execution, _ *schema.Job) (state.Execution, runner.Result, bool, error) {
	h.mu.Lock()
	e := h.held[x.ID]
	if e != nil {
		e.x = x // as the store has it now
	}
	h.mu.Unlock()
	if e == nil {
		return x, runner.Result{}, false, nil
	}
	got, res, err := h.wait(ctx, e)
	return got, res, true, err
}

func (h *holdRunner) ReadLog(context.Context, string, string, int64) ([]byte, error) { return nil, nil }

// crashOne crashes one execution it holds and returns its id.
func (h *holdRunner) crashOne() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, e := range h.held {
		close(e.crash)
		delete(h.held, id)
		return id
	}
	return ""
}

func (h *holdRunner) holding() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.held)
}

// heldService's health deadline is far: the fake clock runs as fast as
// the loop of advancing turns, so a near deadline would pass before the
// goroutines of the slots ran.
const heldService = `name: web
type: service
count: 2
task: {engine: exec, cmd: [serve]}
rollout: {health_check: {min_healthy_time: 1s, interval: 1s, deadline: 1000h}}
`

func TestServiceDegradedAndRecovered(t *testing.T) {
	f := newFakeStore()
	clk := clockwork.NewFakeClock()
	moved := make(chan struct{})
	defer close(moved)
	go advancing(clk, 100*time.Millisecond, moved)
	h := newHoldRunner(f)
	eng := &Engine{Store: f, Runners: NewRunners(map[string]Runner{"n1": h}), Clock: clk}
	j, js := fakeRecord(t, f, heldService)
	life, stop := context.WithCancel(context.Background())
	defer stop()
	pl := plan.Placement{MatchedNodes: []string{"n1"}, Waves: [][]string{{"n1"}}, Executions: map[string]int{"n1": 2}}
	out, d, err := eng.Deploy(context.Background(), j, js.Version, pl, DeployOptions{Life: life})
	if err != nil || out.State != state.StateRunning {
		t.Fatalf("%+v, %v", out, err)
	}
	crashed := h.crashOne()
	wait.Until(t, wait.Default, "the crashed execution replaced and the job running again", func() bool {
		states := f.jobStates("default", "web")
		i := slices.Index(states, state.StateDegraded)
		return i >= 0 && slices.Contains(states[i:], state.StateRunning) && h.holding() == 2
	})
	if states := f.jobStates("default", "web"); !slices.Equal(states, []state.JobState{state.StatePending, state.StateDeploying, state.StateRunning, state.StateDegraded, state.StateRunning}) {
		t.Errorf("job states %v", states)
	}
	x, _ := f.Execution(context.Background(), "default", "web", crashed)
	if x.Status.ComputeState != state.ComputeFailed || x.NextExecutionID == "" {
		t.Errorf("the crashed execution: %+v", x.Status)
	}
	d.Stop()
	execs, _ := f.Executions(context.Background(), "default", "web")
	for _, x := range execs {
		if x.Status.ComputeState.Active() {
			t.Errorf("%s still %s after the deployment stopped", x.ID, x.Status.ComputeState)
		}
	}
}

// TestStoppingIsFinished: executions that an earlier control plane left
// stopping are stopped by the one that takes the job over: through their
// node when it still runs them, or recorded stopped when nothing does.
func TestStoppingIsFinished(t *testing.T) {
	for _, stillRuns := range []bool{true, false} {
		f := newFakeStore()
		clk := clockwork.NewFakeClock()
		moved := make(chan struct{})
		h := newHoldRunner(f)
		eng := &Engine{Store: f, Runners: NewRunners(map[string]Runner{"n1": h}), Clock: clk}
		j, js := fakeRecord(t, f, heldService)
		pl := plan.Placement{MatchedNodes: []string{"n1"}, Waves: [][]string{{"n1"}}, Executions: map[string]int{"n1": 2}}
		// What an earlier control plane left: one execution running, one it
		// was stopping.
		var ids []string
		for i := 0; i < 2; i++ {
			x, _ := f.CreateExecution(context.Background(), state.Execution{ID: "x" + string(rune('1'+i)), JobID: "default/web", JobVersion: js.Version, NodeID: "n1"})
			if stillRuns {
				go h.Run(context.Background(), x, j)
			}
			ids = append(ids, x.ID)
		}
		if stillRuns {
			wait.Until(t, wait.Default, "both held", func() bool { return h.holding() == 2 })
		}
		for _, id := range ids {
			x, _ := f.Execution(context.Background(), "default", "web", id)
			if !stillRuns {
				x.Status.ComputeState = state.ComputeStarting
				x, _ = f.UpdateExecution(context.Background(), x)
				x.Status.ComputeState = state.ComputeRunning
				x, _ = f.UpdateExecution(context.Background(), x)
			}
			if id == ids[1] {
				x.Status.ComputeState, x.Status.DesiredState = state.ComputeStopping, state.DesiredStopped
				if _, err := f.UpdateExecution(context.Background(), x); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := f.UpdateStatus(context.Background(), "default", "web", func(s *state.JobStatus) error { s.State = state.StateDeploying; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.UpdateStatus(context.Background(), "default", "web", func(s *state.JobStatus) error { s.State = state.StateRunning; return nil }); err != nil {
			t.Fatal(err)
		}
		go advancing(clk, 100*time.Millisecond, moved)
		life, stop := context.WithCancel(context.Background())
		_, d, err := eng.Deploy(context.Background(), j, js.Version, pl, DeployOptions{Life: life, Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		wait.Until(t, wait.Default, "the stopping execution stopped", func() bool {
			x, _ := f.Execution(context.Background(), "default", "web", ids[1])
			return x.Status.ComputeState == state.ComputeStopped
		})
		x, _ := f.Execution(context.Background(), "default", "web", ids[1])
		if stillRuns != (x.Status.Message == "stopped") || !stillRuns && !strings.Contains(x.Status.Message, "no longer runs it") {
			t.Errorf("still runs %v: stopped with %q", stillRuns, x.Status.Message)
		}
		if x.NextExecutionID != "" {
			t.Errorf("still runs %v: the stopped execution was replaced by %s", stillRuns, x.NextExecutionID)
		}
		d.Stop()
		stop()
		close(moved)
	}
}
