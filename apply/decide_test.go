package apply

// Table tests of the engine's decisions over a fake store and a fake
// clock: no JetStream, no processes, no sleeps. (The tests over a real
// store and real processes are in engine_test.go, controller_test.go and
// restart_test.go.)

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
	"github.com/muster-dev/muster/validate"
)

// compile compiles the YAML job src.
func compile(t testing.TB, src string) *schema.Job {
	t.Helper()
	trees, diags := yaml.Parse("job.yaml", []byte(src), lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	j, diags := validate.Job(trees[0])
	if j == nil {
		t.Fatal(diags)
	}
	return j
}

// fakeRecord records src as the next version of its job in f.
func fakeRecord(t testing.TB, f *fakeStore, src string) (*schema.Job, state.JobStatus) {
	t.Helper()
	j := compile(t, src)
	var base uint64
	if js, err := f.Job(context.Background(), j.Namespace, j.Name); err == nil {
		base = js.Revision
	}
	js, err := f.CommitVersion(context.Background(), j.Namespace, j.Name, f.putSpec(j), base, state.StatePending)
	if err != nil {
		t.Fatal(err)
	}
	return j, js
}

func TestFailureLimit(t *testing.T) {
	ro := func(n int, pct float64) schema.Rollout {
		return schema.Rollout{MaxFailedNodes: n, MaxFailedNodesPercent: pct}
	}
	for _, c := range []struct {
		name          string
		ro            schema.Rollout
		failed, total int
		want          string
	}{
		{"none failed", ro(0, 0), 0, 10, ""},
		{"within both", ro(2, 20), 2, 10, ""},
		{"above the count", ro(1, 100), 2, 10, "2 nodes failed, more than max_failed_nodes 1"},
		{"above the percent", ro(10, 10), 2, 10, "2 of 10 nodes failed (20%), more than max_failed_nodes_percent 10%"},
		{"exactly the percent", ro(10, 20), 2, 10, ""},
		{"no target", ro(10, 10), 1, 0, "1 of 0 nodes failed (100%)"},
	} {
		got := failureLimit(c.ro, c.failed, c.total)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestStableVersion(t *testing.T) {
	v := func(n int, hash string) state.Version { return state.Version{Version: n, Hash: hash} }
	x := func(version int, compute state.ComputeState, desired state.DesiredState, next string) state.Execution {
		return state.Execution{JobVersion: version, NextExecutionID: next, Status: state.ExecutionStatus{ComputeState: compute, DesiredState: desired}}
	}
	versions := []state.Version{v(1, "a"), v(2, "b"), v(3, "c"), v(4, "b")}
	for _, c := range []struct {
		name        string
		execs       []state.Execution
		version     int
		longRunning bool
		want        int // 0: none
	}{
		{"the newest that completed", []state.Execution{x(1, state.ComputeComplete, "", ""), x(2, state.ComputeComplete, "", ""), x(3, state.ComputeFailed, "", "")}, 3, false, 2},
		{"a failed one is skipped", []state.Execution{x(1, state.ComputeComplete, "", ""), x(2, state.ComputeFailed, "", "")}, 3, false, 1},
		{"a failure replaced by a success counts the success", []state.Execution{x(2, state.ComputeFailed, "", "n"), x(2, state.ComputeComplete, "", "")}, 3, false, 2},
		{"the spec of the version itself is not a rollback", []state.Execution{x(2, state.ComputeComplete, "", "")}, 4, false, 0},
		{"versions with no execution are not stable", nil, 3, false, 0},
		{"a service that ran", []state.Execution{x(2, state.ComputeRunning, state.DesiredRunning, "")}, 3, true, 2},
		{"a service stopped on purpose", []state.Execution{x(2, state.ComputeStopped, state.DesiredStopped, "")}, 3, true, 2},
		{"a batch job does not count running", []state.Execution{x(2, state.ComputeRunning, state.DesiredRunning, "")}, 3, false, 0},
		{"a lost execution is not stable", []state.Execution{x(1, state.ComputeComplete, "", ""), x(2, state.ComputeLost, "", "")}, 3, true, 1},
	} {
		got := stableVersion(versions, c.execs, c.version, c.longRunning)
		if c.want == 0 && got != nil || c.want != 0 && (got == nil || got.Version != c.want) {
			t.Errorf("%s: %+v, want version %d", c.name, got, c.want)
		}
	}
}

// TestHealthObserve walks a health state through a series of checks: the
// compute state each saw, how long the execution had run, and what the
// check says.
func TestHealthObserve(t *testing.T) {
	hc := schema.HealthCheck{MinHealthyTime: schema.Duration(time.Second), FailureThreshold: 3, SuccessThreshold: 2, MaxErrorRate: 0.4}
	type check struct {
		st      state.ComputeState
		ran     time.Duration // since the execution last started
		healthy bool          // after the check
		why     string        // part of the verdict, "" for none
	}
	for _, c := range []struct {
		name   string
		checks []check
	}{
		{"healthy after success_threshold checks and min_healthy_time", []check{
			{state.ComputeRunning, 500 * time.Millisecond, false, ""},
			{state.ComputeRunning, time.Second, true, ""},
		}},
		{"passing checks wait for min_healthy_time", []check{
			{state.ComputeRunning, 100 * time.Millisecond, false, ""},
			{state.ComputeRunning, 200 * time.Millisecond, false, ""},
			{state.ComputeRunning, 300 * time.Millisecond, false, ""},
			{state.ComputeRunning, 2 * time.Second, true, ""},
		}},
		{"preparing is not a check", []check{
			{state.ComputePending, 0, false, ""},
			{state.ComputeStarting, 0, false, ""},
			{state.ComputeStarting, 0, false, ""},
			{state.ComputeRunning, time.Second, false, ""},
			{state.ComputeRunning, 2 * time.Second, true, ""},
		}},
		{"failure_threshold misses in a row", []check{
			{state.ComputeFailed, 0, false, ""},
			{"", 0, false, ""},
			{"", 0, false, "3 health checks failed in a row (failure_threshold 3)"},
		}},
		{"max_error_rate over the checks", []check{
			{state.ComputeRunning, 10 * time.Millisecond, false, ""},
			{state.ComputeLost, 0, false, ""},
			{state.ComputeRunning, 10 * time.Millisecond, false, ""},
			{state.ComputeLost, 0, false, "2 of 4 health checks failed"},
		}},
		{"healthy stays healthy", []check{
			{state.ComputeRunning, time.Second, false, ""},
			{state.ComputeRunning, 2 * time.Second, true, ""},
			{state.ComputeFailed, 0, true, ""},
			{"", 0, true, ""},
			{"", 0, true, ""},
		}},
	} {
		h := &healthState{hc: hc}
		healthy := false
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, k := range c.checks {
			now = now.Add(time.Second)
			why := h.observe(k.st, now.Add(-k.ran), now, &healthy)
			if healthy != k.healthy || k.why == "" && why != "" || !strings.Contains(why, k.why) {
				t.Errorf("%s: check %d (%s, ran %s): healthy %v %q, want %v %q", c.name, i, k.st, k.ran, healthy, why, k.healthy, k.why)
			}
		}
	}
}

// advancing moves clk forward by step whenever something waits on it,
// until done is closed.
func advancing(clk *clockwork.FakeClock, step time.Duration, done <-chan struct{}) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err := clk.BlockUntilContext(ctx, 1)
		cancel()
		select {
		case <-done:
			return
		default:
		}
		if err == nil {
			clk.Advance(step)
		}
	}
}

// TestHealthCheckStoreErrors: a health check whose read of the store
// fails is tried again; when the store stays out of reach the check is
// skipped, not counted as failed: a short NATS hiccup never rolls a
// version back. A missing execution fails the check.
func TestHealthCheckStoreErrors(t *testing.T) {
	for _, c := range []struct {
		name     string
		failures int   // reads that fail before one succeeds
		err      error // what they fail with
		checks   int   // counted checks after one check
		passes   int
	}{
		{"no error", 0, nil, 1, 1},
		{"a hiccup is retried", readAttempts - 1, errors.New("nats: timeout"), 1, 1},
		{"an outage skips the check", readAttempts, errors.New("nats: connection closed"), 0, 0},
		{"a missing execution fails it", 1, fmt.Errorf("execution x %w", state.ErrNotFound), 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeStore()
			clk := clockwork.NewFakeClock()
			j, js := fakeRecord(t, f, "name: web\ntype: service\ntask: {engine: exec, cmd: [sleep, '1']}\n")
			x, err := f.CreateExecution(context.Background(), state.Execution{ID: "x1", JobID: "default/web", JobVersion: js.Version, NodeID: "n1",
				Status: state.ExecutionStatus{ComputeState: state.ComputeRunning}})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			left := c.failures
			f.fail = func(op string) error {
				mu.Lock()
				defer mu.Unlock()
				if op == "Execution" && left > 0 {
					left--
					return c.err
				}
				return nil
			}
			r := &rollout{Engine: &Engine{Store: f, Clock: clk}, job: j, ref: "default/web", version: js.Version}
			h := &healthState{hc: j.Rollout.HealthCheck}
			done := make(chan struct{})
			go advancing(clk, time.Second, done)
			healthy := false
			h.check(context.Background(), r, x, &healthy)
			close(done)
			if h.checks != c.checks || h.successes != c.passes {
				t.Errorf("after one check: %d counted, %d passed; want %d and %d", h.checks, h.successes, c.checks, c.passes)
			}
		})
	}
}

// scriptedSets is a rollout's sets whose results the test gives: the
// nodes that fail in each set; it records which sets ran.
type scriptedSets struct {
	failing map[int][]string
	// pauseEnds: the canary pause ends the rollout (batch), else it goes
	// on (a promote came).
	pauseEnds bool
	// during runs inside set i, when set (to cancel or expire ctx).
	during func(i int)
	ran    []int
	paused bool
}

func (s *scriptedSets) pause(context.Context) (Outcome, bool, error) {
	s.paused = true
	return Outcome{State: state.StateRolloutPaused}, s.pauseEnds, nil
}

func (s *scriptedSets) run(_ context.Context, i int, nodes []string) (setResult, error) {
	s.ran = append(s.ran, i)
	if s.during != nil {
		s.during(i)
	}
	res := setResult{failed: map[string]bool{}}
	for _, n := range nodes {
		if slices.Contains(s.failing[i], n) {
			res.failed[n] = true
			res.bad++
		} else {
			res.good++
		}
	}
	return res, nil
}

// TestWaveProgress is the table of the wave loop shared by every rollout:
// which sets run, where it pauses, when its failure limits or its total
// timeout end it, and what the rollout record says.
func TestWaveProgress(t *testing.T) {
	pl := plan.Placement{Canary: []string{"a"}, Waves: [][]string{{"b", "c"}, {"d", "e"}, {"f", "g", "h", "i", "j"}}}
	type want struct {
		ran       []int
		paused    bool
		failed    string
		failedN   int
		wavesDone int
		healthy   int
		err       error
	}
	for _, c := range []struct {
		name      string
		pl        plan.Placement
		limits    schema.Rollout
		pause     bool
		pauseEnds bool
		start     int
		failing   map[int][]string
		cancel    int // cancel ctx during this set (-1: never)
		expire    int // the total timeout passes during this set (-1: never)
		want      want
	}{
		{"every set", pl, schema.Rollout{}, false, false, 0, nil, -1, -1,
			want{ran: []int{0, 1, 2, 3}, wavesDone: 4, healthy: 10}},
		{"paused after the canary", pl, schema.Rollout{}, true, true, 0, nil, -1, -1,
			want{ran: []int{0}, paused: true, wavesDone: 1, healthy: 1}},
		{"promoted at the pause", pl, schema.Rollout{}, true, false, 0, nil, -1, -1,
			want{ran: []int{0, 1, 2, 3}, wavesDone: 4, healthy: 10}},
		{"resumed at wave 2", pl, schema.Rollout{}, false, false, 2, nil, -1, -1,
			want{ran: []int{2, 3}, wavesDone: 4, healthy: 7}},
		{"no canary", plan.Placement{Waves: pl.Waves}, schema.Rollout{}, true, true, 1, nil, -1, -1,
			want{ran: []int{1, 2, 3}, wavesDone: 3, healthy: 9}},
		{"failures within the limits", pl, schema.Rollout{MaxFailedNodes: 1, MaxFailedNodesPercent: 10}, false, false, 0, map[int][]string{2: {"d"}}, -1, -1,
			want{ran: []int{0, 1, 2, 3}, failedN: 1, wavesDone: 4, healthy: 9}},
		{"failures beyond max_failed_nodes end it", pl, schema.Rollout{MaxFailedNodes: 1, MaxFailedNodesPercent: 100}, false, false, 0, map[int][]string{1: {"b", "c"}}, -1, -1,
			want{ran: []int{0, 1}, failed: "2 nodes failed, more than max_failed_nodes 1", failedN: 2, wavesDone: 2, healthy: 1}},
		{"failures add up over the sets", pl, schema.Rollout{MaxFailedNodes: 10, MaxFailedNodesPercent: 15}, false, false, 0, map[int][]string{0: {"a"}, 2: {"e"}}, -1, -1,
			want{ran: []int{0, 1, 2}, failed: "2 of 10 nodes failed (20%)", failedN: 2, wavesDone: 3, healthy: 3}},
		{"a failed canary ends it before the pause", pl, schema.Rollout{}, true, true, 0, map[int][]string{0: {"a"}}, -1, -1,
			want{ran: []int{0}, failed: "1 nodes failed", failedN: 1, wavesDone: 1}},
		{"interrupted: the set does not count", pl, schema.Rollout{}, false, false, 0, nil, 2, -1,
			want{ran: []int{0, 1, 2}, wavesDone: 2, healthy: 3, err: context.Canceled}},
		{"timeouts.total passes", pl, schema.Rollout{}, false, false, 0, nil, -1, 1,
			want{ran: []int{0, 1}, failed: "timed out (timeouts.total 1m0s)", wavesDone: 2, healthy: 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeStore()
			j := compile(t, "name: w\ntask: {engine: exec, cmd: [x]}\ntimeouts: {total: 1m}\n")
			j.Rollout.MaxFailedNodes, j.Rollout.MaxFailedNodesPercent = c.limits.MaxFailedNodes, c.limits.MaxFailedNodesPercent
			r := &rollout{Engine: &Engine{Store: f, Clock: clockwork.NewFakeClock()}, job: j, ref: "default/w", version: 1, pl: c.pl, start: startPoint{set: c.start}}
			r.newRecord(state.StateDeploying)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.expire >= 0 {
				// timeouts.total: a deadline that passes during the set.
				var stop context.CancelFunc
				ctx, stop = context.WithTimeout(ctx, 20*time.Millisecond)
				defer stop()
			}
			s := &scriptedSets{failing: c.failing, pauseEnds: c.pauseEnds, during: func(i int) {
				if i == c.cancel {
					cancel()
				}
				if i == c.expire {
					<-ctx.Done()
				}
			}}
			end, err := r.runSets(ctx, c.pause, s)
			w := c.want
			if !errors.Is(err, w.err) || w.err == nil && err != nil {
				t.Fatalf("error %v, want %v", err, w.err)
			}
			if !slices.Equal(s.ran, w.ran) || (end.paused != nil) != w.paused || end.failedNodes != w.failedN ||
				w.failed == "" && end.failed != "" || !strings.Contains(end.failed, w.failed) {
				t.Errorf("ran %v paused %v failed %q (%d nodes); want %v %v %q (%d)", s.ran, end.paused != nil, end.failed, end.failedNodes, w.ran, w.paused, w.failed, w.failedN)
			}
			rec, err := f.Rollout(context.Background(), "default", "w", 1)
			if err != nil {
				t.Fatal(err)
			}
			if rec.WavesDone != w.wavesDone || rec.Healthy != w.healthy {
				t.Errorf("record: waves done %d, healthy %d; want %d and %d", rec.WavesDone, rec.Healthy, w.wavesDone, w.healthy)
			}
		})
	}
}

// fakeRunner runs executions as a node agent would record them, without
// processes: each ends at once, completing unless its node is in fail.
type fakeRunner struct {
	st   *fakeStore
	node string
	fail bool
	mu   sync.Mutex
	runs int
}

func (r *fakeRunner) Run(ctx context.Context, x state.Execution, j *schema.Job) (state.Execution, runner.Result, error) {
	r.mu.Lock()
	r.runs++
	r.mu.Unlock()
	var err error
	for _, to := range []state.ComputeState{state.ComputeStarting, state.ComputeRunning} {
		x.Status.ComputeState = to
		if x, err = r.st.UpdateExecution(ctx, x); err != nil {
			return x, runner.Result{}, err
		}
	}
	res := runner.Result{}
	x.Status.ComputeState = state.ComputeComplete
	if r.fail {
		res.ExitCode, res.Message = 1, "exited with code 1"
		x.Status.ComputeState = state.ComputeFailed
	}
	x.Status.Message = res.Message
	x, err = r.st.UpdateExecution(ctx, x)
	return x, res, err
}

func (r *fakeRunner) Recover(_ context.Context, x state.Execution, _ *schema.Job) (state.Execution, runner.Result, bool, error) {
	return x, runner.Result{}, false, nil
}

func (r *fakeRunner) ReadLog(context.Context, string, string, int64) ([]byte, error) { return nil, nil }

func (r *fakeRunner) Probe(context.Context, string) (runner.ProbeResult, error) {
	return runner.ProbeResult{NotRunning: true}, nil
}

// TestRolloutOverFakes runs whole batch rollouts over the fake store and
// fake runners: the outcome, the job's state and the rollback.
func TestRolloutOverFakes(t *testing.T) {
	const job = `name: crunch
type: ops
task: {engine: exec, cmd: [crunch], env: {V: "%d"}}
rollout: {strategy: canary, canary_count: 1, max_parallel: 50, max_failed_nodes: 0%s}
`
	for _, c := range []struct {
		name      string
		failing   []string // nodes whose executions fail in version 2
		extra     string
		promote   bool
		wantState state.JobState
		wantMsg   string
		rolled    int // the version the rollback recorded
	}{
		{"completes", nil, "", true, state.StateCompleted, "version 2 completed", 0},
		{"pauses at the canary", nil, "", false, state.StateRolloutPaused, "run 'muster promote default/crunch'", 0},
		{"a failed wave rolls back", []string{"n3"}, "", true, state.StateRolloutFailed, "rolled back to the spec of version 1", 3},
		{"no_auto_rollback stays", []string{"n3"}, ", no_auto_rollback: true", true, state.StateRolloutFailed, "no_auto_rollback is set", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeStore()
			nodes := []string{"n1", "n2", "n3", "n4"}
			runners := map[string]Runner{}
			fakes := map[string]*fakeRunner{}
			var pnodes []plan.Node
			for _, n := range nodes {
				fakes[n] = &fakeRunner{st: f, node: n}
				runners[n] = fakes[n]
				pnodes = append(pnodes, plan.Node{ID: n, Labels: map[string]string{}})
			}
			clk := clockwork.NewFakeClock()
			eng := &Engine{Store: f, Runners: NewRunners(runners), Clock: clk}
			// Restarts wait out their backoff on the fake clock.
			moved := make(chan struct{})
			defer close(moved)
			go advancing(clk, time.Second, moved)
			roll := func(src string, promote bool) Outcome {
				j, js := fakeRecord(t, f, src)
				p, err := plan.Make(context.Background(), nilState{}, []*schema.Job{j}, pnodes, "test")
				if err != nil {
					t.Fatal(err)
				}
				out, err := eng.Rollout(context.Background(), j, js.Version, p.Jobs[0].Placement, promote)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			if out := roll(fmt.Sprintf(job, 1, c.extra), false); out.State != state.StateCompleted {
				t.Fatalf("version 1: %+v", out)
			}
			for _, n := range c.failing {
				fakes[n].fail = true
			}
			out := roll(fmt.Sprintf(job, 2, c.extra), c.promote)
			js, _ := f.Job(context.Background(), "default", "crunch")
			if out.State != c.wantState || !strings.Contains(out.Message, c.wantMsg) || out.RolledBackTo != c.rolled {
				t.Errorf("outcome %+v, want %s %q rolled back to %d", out, c.wantState, c.wantMsg, c.rolled)
			}
			if c.rolled > 0 && (js.Version != c.rolled || js.State != state.StateRolloutFailed) {
				t.Errorf("job after the rollback: %+v", js)
			} else if c.rolled == 0 && js.State != c.wantState {
				t.Errorf("job %s, want %s", js.State, c.wantState)
			}
		})
	}
}

// TestStoreWritesAreNotDropped: events the store refuses are tried again,
// and when they stay refused the job's message says so; a steady state
// that cannot be written is returned, not dropped.
func TestStoreWritesAreNotDropped(t *testing.T) {
	f := newFakeStore()
	f.fail = func(op string) error {
		if op == "AppendEvent" {
			return errors.New("nats: no responders")
		}
		return nil
	}
	clk := clockwork.NewFakeClock()
	moved := make(chan struct{})
	defer close(moved)
	go advancing(clk, time.Second, moved)
	fr := &fakeRunner{st: f, node: "n1"}
	eng := &Engine{Store: f, Runners: NewRunners(map[string]Runner{"n1": fr}), Clock: clk}
	j, js := fakeRecord(t, f, "name: crunch\ntask: {engine: exec, cmd: [crunch]}\n")
	out, err := eng.Rollout(context.Background(), j, js.Version, plan.Placement{Waves: [][]string{{"n1"}}, Executions: map[string]int{"n1": 1}}, false)
	if err != nil || out.State != state.StateCompleted {
		t.Fatalf("%+v, %v", out, err)
	}
	got, _ := f.Job(context.Background(), "default", "crunch")
	if !strings.Contains(got.Message, "of this rollout's events could not be stored: store an event: nats: no responders") {
		t.Errorf("job message %q does not say that events were lost", got.Message)
	}

	f.fail = func(op string) error {
		if op == "UpdateStatus" {
			return errors.New("nats: timeout")
		}
		return nil
	}
	r := &rollout{Engine: eng, job: j, ref: "default/crunch", version: js.Version}
	if err := r.setSteadyState(context.Background(), state.StateDegraded, "1 of 2 running"); err == nil || !strings.Contains(err.Error(), "nats: timeout") {
		t.Errorf("setSteadyState over a failing store: %v", err)
	}
}

// observe counts one health check that found the execution in compute
// state st, running since since, at now, for a job without a probe; st is
// "" when there is no execution. See healthState.count.
func (h *healthState) observe(st state.ComputeState, since, now time.Time, healthy *bool) string {
	return h.count(st, since, nil, now, healthy)
}

// TestSupersededLeftoversEnd: a process killed mid-rollout left an
// execution of version 1 starting; the rollout of version 2 ends it: its
// node re-attaches and stops it when it still runs it, otherwise it is
// recorded lost. Either way no execution stays unfinished.
func TestSupersededLeftoversEnd(t *testing.T) {
	const job = "name: crunch\ntype: ops\nrestart_policy: never\ntask: {engine: exec, cmd: [crunch], env: {V: \"%d\"}}\n"
	for _, stillRuns := range []bool{false, true} {
		f := newFakeStore()
		h := newHoldRunner(f)
		var run Runner = &fakeRunner{st: f, node: "n1"}
		if stillRuns {
			run = &heldOps{h, &fakeRunner{st: f, node: "n1"}}
		}
		eng := &Engine{Store: f, Runners: NewRunners(map[string]Runner{"n1": run}), Clock: clockwork.NewFakeClock()}
		j1, js1 := fakeRecord(t, f, fmt.Sprintf(job, 1))
		x, err := f.CreateExecution(context.Background(), state.Execution{ID: "x-left", JobID: "default/crunch", JobVersion: js1.Version, NodeID: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		if stillRuns {
			go h.Run(context.Background(), x, j1)
			wait.Until(t, wait.Default, "the leftover held", func() bool { return h.holding() == 1 })
		} else {
			x.Status.ComputeState = state.ComputeStarting
			if _, err := f.UpdateExecution(context.Background(), x); err != nil {
				t.Fatal(err)
			}
		}
		j2, js2 := fakeRecord(t, f, fmt.Sprintf(job, 2))
		pl := plan.Placement{MatchedNodes: []string{"n1"}, Waves: [][]string{{"n1"}}}
		if out, err := eng.Rollout(context.Background(), j2, js2.Version, pl, true); err != nil || out.State != state.StateCompleted {
			t.Fatalf("still runs %v: rollout of version 2: %+v, %v", stillRuns, out, err)
		}
		got, _ := f.Execution(context.Background(), "default", "crunch", "x-left")
		want := state.ComputeLost
		if stillRuns {
			want = state.ComputeStopped
		}
		if got.Status.ComputeState != want {
			t.Errorf("still runs %v: the leftover is %s (%s), want %s", stillRuns, got.Status.ComputeState, got.Status.Message, want)
		}
	}
}

// heldOps re-attaches to what h holds, and runs new executions as r does.
type heldOps struct {
	h *holdRunner
	*fakeRunner
}

func (o *heldOps) Recover(ctx context.Context, x state.Execution, j *schema.Job) (state.Execution, runner.Result, bool, error) {
	return o.h.Recover(ctx, x, j)
}
