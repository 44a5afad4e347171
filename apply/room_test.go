package apply

import (
	"context"
	"fmt"
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

// gateRunner runs executions without processes until a test lets one
// complete (finish) or the control plane stops it; it records the order
// in which executions started.
type gateRunner struct {
	st      *fakeStore
	mu      sync.Mutex
	running map[string]*gated // by execution id
	started []string          // the job of each execution, in start order
}

type gated struct {
	job  string
	done chan struct{}
}

func newGateRunner(st *fakeStore) *gateRunner {
	return &gateRunner{st: st, running: map[string]*gated{}}
}

func (g *gateRunner) Run(ctx context.Context, x state.Execution, _ *schema.Job) (state.Execution, runner.Result, error) {
	e := &gated{job: x.JobID, done: make(chan struct{})}
	for _, to := range []state.ComputeState{state.ComputeStarting, state.ComputeRunning} {
		x.Status.ComputeState = to
		var err error
		if x, err = g.st.UpdateExecution(context.Background(), x); err != nil {
			return x, runner.Result{}, err
		}
	}
	g.mu.Lock()
	g.running[x.ID] = e
	g.started = append(g.started, x.JobID)
	g.mu.Unlock()
	res := runner.Result{}
	select {
	case <-e.done:
		x.Status.ComputeState = state.ComputeComplete
	case <-ctx.Done():
		x.Status.ComputeState, res.ExitCode, res.Message = state.ComputeStopped, -1, "stopped"
	}
	g.mu.Lock()
	delete(g.running, x.ID)
	g.mu.Unlock()
	x, err := g.st.UpdateExecution(context.Background(), x)
	return x, res, err
}

// finish completes one running execution of job; it reports whether one
// ran.
func (g *gateRunner) finish(job string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, e := range g.running {
		if e.job == job {
			close(e.done)
			delete(g.running, id)
			return true
		}
	}
	return false
}

// runs counts the running executions of job.
func (g *gateRunner) runs(job string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, e := range g.running {
		if e.job == job {
			n++
		}
	}
	return n
}

func (g *gateRunner) order() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.started)
}

func (g *gateRunner) Recover(_ context.Context, x state.Execution, _ *schema.Job) (state.Execution, runner.Result, bool, error) {
	return x, runner.Result{}, false, nil
}

func (g *gateRunner) ReadLog(context.Context, string, string, int64) ([]byte, error) { return nil, nil }

func (g *gateRunner) Probe(_ context.Context, id string) (runner.ProbeResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running[id] == nil {
		return runner.ProbeResult{NotRunning: true}, nil
	}
	return runner.ProbeResult{OK: true}, nil
}

// roomPlane is a controller over the fake store whose nodes, served by
// gate runners, advertise capacities; the fake clock runs on by itself.
type roomPlane struct {
	t     *testing.T
	f     *fakeStore
	c     *Controller
	clk   *clockwork.FakeClock
	gates map[string]*gateRunner
	evs   <-chan Event
}

func newRoomPlane(t *testing.T, nodes map[string]state.Capacity) *roomPlane {
	t.Helper()
	f := newFakeStore()
	clk := clockwork.NewFakeClock()
	moved := make(chan struct{})
	go advancing(clk, 100*time.Millisecond, moved)
	p := &roomPlane{t: t, f: f, clk: clk, gates: map[string]*gateRunner{}}
	p.c = &Controller{Store: f, Runners: &Runners{}, Clock: clk, NodeTTL: time.Hour}
	for id, capacity := range nodes {
		p.addNode(id, capacity)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.evs, _ = p.c.Events(ctx, "", "")
	done := make(chan error, 1)
	go func() { done <- p.c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		close(moved)
	})
	<-p.c.Ready()
	return p
}

func (p *roomPlane) addNode(id string, capacity state.Capacity) {
	p.t.Helper()
	if _, err := p.f.PutNode(context.Background(), state.Node{ID: id, Labels: map[string]string{}, LastSeen: p.clk.Now(), Capacity: &capacity}); err != nil {
		p.t.Fatal(err)
	}
	p.gates[id] = newGateRunner(p.f)
	p.c.Runners.Set(id, p.gates[id])
}

// apply records a batch job of count executions of cpus each, at
// priority, and starts its rollout.
func (p *roomPlane) apply(name string, count int, cpus string, priority int) {
	p.t.Helper()
	src := fmt.Sprintf("name: %s\ncount: %d\npriority: %d\nrestart_policy: never\ntask: {engine: exec, cmd: [x], resources: {cpus: %s}}\n", name, count, priority, cpus)
	p.rollout(src)
}

func (p *roomPlane) rollout(src string) {
	p.t.Helper()
	j, js := fakeRecord(p.t, p.f, src)
	if err := p.c.Rollout(context.Background(), j.Namespace, j.Name, js.Version, false); err != nil {
		p.t.Fatal(err)
	}
}

// job returns the status of default/name.
func (p *roomPlane) job(name string) state.JobStatus {
	js, _ := p.f.Job(context.Background(), "default", name)
	return js
}

// waitState waits for default/name to be in st.
func (p *roomPlane) waitState(name string, st state.JobState) state.JobStatus {
	p.t.Helper()
	js, _ := wait.For(p.t, wait.Default, name+" "+string(st), func() (state.JobStatus, bool) {
		js := p.job(name)
		return js, js.State == st
	})
	return js
}

// waitRuns waits for n executions of default/name to run on node.
func (p *roomPlane) waitRuns(node, name string, n int) {
	p.t.Helper()
	wait.For(p.t, wait.Default, fmt.Sprintf("%d executions of %s running on %s", n, name, node), func() (string, bool) {
		return fmt.Sprintf("started %v", p.gates[node].order()), p.gates[node].runs("default/"+name) == n
	})
}

// TestQueuedForRoomStartsWhenAnExecutionEnds: a job that fits nowhere
// (the node's cpus are held) waits queued, saying why, with a queued
// event; when an execution ends and frees the room, it starts.
func TestQueuedForRoomStartsWhenAnExecutionEnds(t *testing.T) {
	p := newRoomPlane(t, map[string]state.Capacity{"n1": {CPUs: 2, MemoryMB: 4096}})
	p.apply("hog", 2, "1", 50)
	p.waitRuns("n1", "hog", 2)

	p.apply("late", 1, "1", 50)
	js := p.waitState("late", state.StateQueued)
	const why = "no matching node has 1 cpu free (largest free: 0 cpus on n1)"
	if want := "version 1 waits for room: 1 execution cannot be placed: " + why; js.Message != want {
		t.Errorf("queued message %q, want %q", js.Message, want)
	}
	if !slices.ContainsFunc(p.f.jobEvents("default", "late"), func(ev state.Event) bool {
		return ev.Kind == Queued && strings.Contains(ev.Message, why)
	}) {
		t.Errorf("no queued event with the reason: %+v", p.f.jobEvents("default", "late"))
	}
	if p.gates["n1"].runs("default/late") != 0 {
		t.Fatal("the queued job runs beside a full node")
	}

	p.gates["n1"].finish("default/hog")
	p.waitRuns("n1", "late", 1)
	if got := p.gates["n1"].runs("default/hog") + p.gates["n1"].runs("default/late"); got != 2 {
		t.Errorf("%d executions run on a node of 2 cpus, want 2", got)
	}
	p.gates["n1"].finish("default/hog")
	p.waitRuns("n1", "late", 1)
	p.gates["n1"].finish("default/late")
	p.waitState("late", state.StateCompleted)
	p.waitState("hog", state.StateCompleted)
}

// TestQueuedJobsStartInPriorityOrder: as room frees, what waits for it
// starts highest priority first, whatever the order it was queued in;
// among equal priorities, the one that waited longest.
func TestQueuedJobsStartInPriorityOrder(t *testing.T) {
	p := newRoomPlane(t, map[string]state.Capacity{"n1": {CPUs: 1}})
	p.apply("hog", 1, "1", 50)
	p.waitRuns("n1", "hog", 1)
	for _, q := range []struct {
		name     string
		priority int
	}{{"low", 10}, {"high", 90}, {"mid-a", 50}, {"mid-b", 50}} {
		p.apply(q.name, 1, "1", q.priority)
		p.waitState(q.name, state.StateQueued)
		p.clk.Advance(time.Second) // a later queue time
	}
	for _, next := range []string{"hog", "high", "mid-a", "mid-b", "low"} {
		p.waitRuns("n1", next, 1)
		p.gates["n1"].finish("default/" + next)
		p.waitState(next, state.StateCompleted)
	}
	if got, want := p.gates["n1"].order(), []string{"default/hog", "default/high", "default/mid-a", "default/mid-b", "default/low"}; !slices.Equal(got, want) {
		t.Errorf("started %v, want %v", got, want)
	}
}

// TestBatchRunsTheRestAsRoomFrees: a batch job larger than the room runs
// what fits, waits queued for the rest, and runs it once its first
// executions ended.
func TestBatchRunsTheRestAsRoomFrees(t *testing.T) {
	p := newRoomPlane(t, map[string]state.Capacity{"n1": {CPUs: 2}})
	p.apply("crunch", 3, "1", 50)
	p.waitRuns("n1", "crunch", 2)
	p.gates["n1"].finish("default/crunch")
	p.gates["n1"].finish("default/crunch")
	p.waitRuns("n1", "crunch", 1)
	p.gates["n1"].finish("default/crunch")
	js := p.waitState("crunch", state.StateCompleted)
	execs, _ := p.f.Executions(context.Background(), "default", "crunch")
	if len(execs) != 3 {
		t.Errorf("%d executions, want 3", len(execs))
	}
	if states := p.f.jobStates("default", "crunch"); !slices.Contains(states, state.StateQueued) {
		t.Errorf("job states %v: it never waited queued for room", states)
	}
	if !strings.Contains(js.Message, "completed") {
		t.Errorf("message %q", js.Message)
	}
}

// TestServicePartlyPlacedRunsDegraded: a service larger than the room
// runs what fits, degraded with the reason in its status, and gets the
// rest when a node with room joins.
func TestServicePartlyPlacedRunsDegraded(t *testing.T) {
	p := newRoomPlane(t, map[string]state.Capacity{"n1": {CPUs: 2}})
	p.rollout(`name: web
type: service
count: 3
task: {engine: exec, cmd: [serve], resources: {cpus: 1}}
rollout: {health_check: {min_healthy_time: 1s, interval: 1s, deadline: 1000h}}
`)
	js := p.waitState("web", state.StateDegraded)
	const want = "version 1 degraded: 2 of 3 executions running (on 1 node), 1 not running; 1 execution cannot be placed: no matching node has 1 cpu free (largest free: 0 cpus on n1)"
	if js.Message != want {
		t.Errorf("message %q, want %q", js.Message, want)
	}
	p.waitRuns("n1", "web", 2)
	p.addNode("n2", state.Capacity{CPUs: 1})
	p.waitRuns("n2", "web", 1)
	js = p.waitState("web", state.StateRunning)
	if js.Message != "version 1 running: 3 executions on 2 nodes" {
		t.Errorf("message %q", js.Message)
	}
}

// TestQueueTimeoutForRoom: a job that waits for room longer than its
// timeouts.queue fails, saying why.
func TestQueueTimeoutForRoom(t *testing.T) {
	p := newRoomPlane(t, map[string]state.Capacity{"n1": {CPUs: 1}})
	p.rollout("name: big\ntimeouts: {queue: 30s}\ntask: {engine: exec, cmd: [x], resources: {cpus: 2}}\n")
	js := p.waitState("big", state.StateFailed)
	if want := "version 1 failed: no room: 1 execution cannot be placed: no matching node is large enough: the task needs 2 cpus, the largest has 1 cpu (n1) within timeouts.queue 30s"; js.Message != want {
		t.Errorf("message %q, want %q", js.Message, want)
	}
}

// keeperFunc is a roomKeeper whose more is given; it counts nothing.
type keeperFunc func(ctx context.Context, j *schema.Job, n int, skip func(string) bool) (plan.Placement, error)

func (k keeperFunc) recorded(string, string)  {}
func (k keeperFunc) hold(*schema.Job, string) {}
func (k keeperFunc) release(string, string)   {}
func (k keeperFunc) freed()                   {}
func (k keeperFunc) more(ctx context.Context, j *schema.Job, n int, skip func(string) bool) (plan.Placement, error) {
	return k(ctx, j, n, skip)
}

// TestRestResumes: a batch rollout interrupted while it waited for room
// for the rest of its executions goes on waiting for those only, once
// resumed: what ran is not run again.
func TestRestResumes(t *testing.T) {
	f := newFakeStore()
	clk := clockwork.NewFakeClock()
	moved := make(chan struct{})
	defer close(moved)
	go advancing(clk, 100*time.Millisecond, moved)
	runners := NewRunners(map[string]Runner{"n1": &fakeRunner{st: f, node: "n1"}})
	j, js := fakeRecord(t, f, "name: crunch\ncount: 3\ntask: {engine: exec, cmd: [x]}\n")

	// Two of three placed; the rest waits, and the control plane goes.
	asked := make(chan int, 1)
	waitForever := keeperFunc(func(ctx context.Context, _ *schema.Job, n int, _ func(string) bool) (plan.Placement, error) {
		asked <- n
		<-ctx.Done()
		return plan.Placement{}, ctx.Err()
	})
	eng := &Engine{Store: f, Runners: runners, Clock: clk, rooms: waitForever}
	pl := plan.Placement{MatchedNodes: []string{"n1"}, Executions: map[string]int{"n1": 2}, Unplaced: 1,
		UnplacedReason: "no matching node has 1 cpu free", Waves: [][]string{{"n1"}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := eng.Rollout(ctx, j, js.Version, pl, false)
		done <- err
	}()
	if n := <-asked; n != 1 {
		t.Fatalf("it waited for room for %d executions, want 1", n)
	}
	if got, _ := f.Job(context.Background(), "default", "crunch"); got.State != state.StateQueued ||
		got.Message != "version 1 waits for room: 2 executions ran; 1 execution cannot be placed yet: no matching node has 1 cpu free" {
		t.Errorf("while waiting: %s %q", got.State, got.Message)
	}
	cancel()
	<-done

	// Resumed on a new placement of the whole job: only the rest runs.
	var gotN int
	give := keeperFunc(func(_ context.Context, _ *schema.Job, n int, _ func(string) bool) (plan.Placement, error) {
		gotN = n
		return plan.Placement{MatchedNodes: []string{"n1"}, Executions: map[string]int{"n1": n}, Waves: [][]string{{"n1"}}}, nil
	})
	eng = &Engine{Store: f, Runners: runners, Clock: clk, rooms: give}
	full := plan.Placement{MatchedNodes: []string{"n1"}, Executions: map[string]int{"n1": 3}, Waves: [][]string{{"n1"}}}
	out, err := eng.Rollout(context.Background(), j, js.Version, full, false)
	if err != nil || out.State != state.StateCompleted {
		t.Fatalf("resumed: %+v, %v", out, err)
	}
	execs, _ := f.Executions(context.Background(), "default", "crunch")
	if gotN != 1 || len(execs) != 3 {
		t.Errorf("resumed: asked room for %d, %d executions in all; want 1 and 3", gotN, len(execs))
	}
}
