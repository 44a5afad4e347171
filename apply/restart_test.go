package apply

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// lasting serves a node whose executions outlive the control plane, as a
// node agent's do: an execution runs in the background until it ends or is
// stopped, and Recover waits again for one that still runs.
type lasting struct {
	a    *runner.Agent
	mu   sync.Mutex
	runs map[string]*lastingRun
}

type lastingRun struct {
	stop context.CancelFunc
	done chan struct{}
	x    state.Execution
	res  runner.Result
	err  error
}

func (l *lasting) Run(ctx context.Context, e state.Execution, j *schema.Job) (state.Execution, runner.Result, error) {
	runCtx, stop := context.WithCancel(context.Background())
	lr := &lastingRun{stop: stop, done: make(chan struct{})}
	l.mu.Lock()
	l.runs[e.ID] = lr
	l.mu.Unlock()
	go func() {
		defer close(lr.done)
		lr.x, lr.res, lr.err = l.a.Run(runCtx, e, j)
	}()
	return l.wait(ctx, lr)
}

func (l *lasting) wait(ctx context.Context, lr *lastingRun) (state.Execution, runner.Result, error) {
	select {
	case <-lr.done:
	case <-ctx.Done():
		lr.stop()
		<-lr.done
	}
	return lr.x, lr.res, lr.err
}

func (l *lasting) Recover(ctx context.Context, e state.Execution, j *schema.Job) (state.Execution, runner.Result, bool, error) {
	l.mu.Lock()
	lr := l.runs[e.ID]
	l.mu.Unlock()
	if lr == nil {
		return e, runner.Result{}, false, nil
	}
	x, res, err := l.wait(ctx, lr)
	return x, res, true, err
}

func (l *lasting) Probe(ctx context.Context, id string) (runner.ProbeResult, error) {
	return l.a.Probe(ctx, id)
}

func (l *lasting) ReadLog(ctx context.Context, id, stream string, offset int64) ([]byte, error) {
	return l.a.ReadLog(ctx, id, stream, offset)
}

// stopAll stops what still runs.
func (l *lasting) stopAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lr := range l.runs {
		lr.stop()
		<-lr.done
	}
}

// cluster is a store with nodes whose executions outlive control planes,
// and the control plane serving it now; restart replaces that control
// plane with a new one, as a restarted 'muster dev' or 'muster server'.
type cluster struct {
	t     *testing.T
	st    *state.Store
	nodes map[string]*lasting
	c     *Controller
	evs   <-chan Event
	stop  func()
}

func newCluster(t *testing.T, nodes ...string) *cluster {
	t.Helper()
	if d, ok := runner.Lookup("exec"); !ok || d == driver {
		t.Skip("the real exec driver is not registered")
	}
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{t: t, st: st, nodes: map[string]*lasting{}}
	for _, n := range nodes {
		if _, err := st.PutNode(context.Background(), state.Node{ID: n, Labels: map[string]string{"role": "web"}, LastSeen: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		cl.nodes[n] = &lasting{a: &runner.Agent{NodeID: n, Dir: t.TempDir(), Store: st, Grace: time.Second}, runs: map[string]*lastingRun{}}
	}
	t.Cleanup(func() {
		cl.stop()
		for _, l := range cl.nodes {
			l.stopAll()
		}
		st.Close()
	})
	cl.start()
	return cl
}

// start runs a new control plane, its nodes reached through Connect as
// remote agents are.
func (cl *cluster) start() {
	cl.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{Store: cl.st, Runners: &Runners{}, Backoff: 50 * time.Millisecond,
		Connect: func(n state.Node) Runner {
			if l := cl.nodes[n.ID]; l != nil {
				return l
			}
			return nil
		}}
	cl.c = c
	cl.evs, _ = c.Events(ctx, "", "")
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	cl.stop = func() {
		cancel()
		if err := <-done; err != nil {
			cl.t.Error(err)
		}
		cl.stop = func() {}
	}
	<-c.Ready()
}

// restart shuts the control plane down cleanly and starts another.
func (cl *cluster) restart() {
	cl.t.Helper()
	cl.stop()
	cl.start()
}

func (cl *cluster) apply(src string) int {
	cl.t.Helper()
	j, js := record(cl.t, cl.st, src)
	if err := cl.c.Rollout(context.Background(), j.Namespace, j.Name, js.Version, false); err != nil {
		cl.t.Fatal(err)
	}
	return js.Version
}

func (cl *cluster) wait(kind state.EventKind, version int) Event {
	cl.t.Helper()
	p := &plane{t: cl.t, evs: cl.evs}
	return p.wait(kind, version)
}

// running returns the ids of the running executions of job web, per
// version, sorted.
func (cl *cluster) running() map[int][]string {
	cl.t.Helper()
	execs, err := cl.st.Executions(context.Background(), "default", "web")
	if err != nil {
		cl.t.Fatal(err)
	}
	out := map[int][]string{}
	for _, x := range execs {
		if x.Status.ComputeState == state.ComputeRunning {
			out[x.JobVersion] = append(out[x.JobVersion], x.ID)
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out
}

func (cl *cluster) count() int {
	execs, _ := cl.st.Executions(context.Background(), "default", "web")
	return len(execs)
}

func (cl *cluster) job() state.JobStatus {
	js, err := cl.st.Job(context.Background(), "default", "web")
	if err != nil {
		cl.t.Fatal(err)
	}
	return js
}

func (cl *cluster) record(version int) state.Rollout {
	r, err := cl.st.Rollout(context.Background(), "default", "web", version)
	if err != nil {
		cl.t.Fatal(err)
	}
	return r
}

// waitJob waits until the job is in state st.
func (cl *cluster) waitJob(st state.JobState) state.JobStatus {
	cl.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		js := cl.job()
		if js.State == st {
			return js
		}
		if time.Now().After(deadline) {
			cl.t.Fatalf("job stayed %s (%s), want %s", js.State, js.Message, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const canaryService = `
name: web
type: service
count: 3
task:
  engine: exec
  cmd: ["sleep", "300"]
  env: {V: "1"}
rollout:
  strategy: canary
  canary_count: 1
  max_parallel: 34
  health_check: {min_healthy_time: 200ms, interval: 100ms, deadline: 10s}
`

func TestRestartKeepsAFinishedRollout(t *testing.T) {
	cl := newCluster(t, "node-a", "node-b", "node-c")
	v1 := cl.apply(canaryService)
	if ev := cl.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("v1 finished %s: %s", ev.State, ev.Message)
	}
	v2 := cl.apply(strings.Replace(canaryService, `V: "1"`, `V: "2"`, 1))
	cl.wait(CanaryPaused, v2)
	if err := cl.c.Promote(context.Background(), "default", "web"); err != nil {
		t.Fatal(err)
	}
	if ev := cl.wait(Finished, v2); ev.State != string(state.StateRunning) {
		t.Fatalf("v2 finished %s: %s", ev.State, ev.Message)
	}
	before, n := cl.running(), cl.count()
	if len(before[v2]) != 3 || len(before[v1]) != 0 {
		t.Fatalf("running before the restart: %v", before)
	}
	for i := 0; i < 2; i++ {
		cl.restart()
		if got := cl.running(); len(got) != 1 || strings.Join(got[v2], " ") != strings.Join(before[v2], " ") {
			t.Fatalf("restart %d: running %v, want the same %v", i+1, got, before[v2])
		}
		js := cl.waitJob(state.StateRunning)
		if js.Version != v2 {
			t.Fatalf("restart %d: %+v", i+1, js)
		}
		if rec := cl.record(v2); rec.Outcome != state.OutcomeCompleted || rec.State != state.StateRunning {
			t.Fatalf("restart %d: record %+v", i+1, rec)
		}
		if got := cl.count(); got != n {
			t.Fatalf("restart %d: %d executions, want the %d there were (nothing restarted)", i+1, got, n)
		}
	}
	if rec := cl.record(v1); rec.Outcome != state.OutcomeCompleted {
		t.Errorf("v1 record: %+v", rec)
	}
}

func TestRestartKeepsAPausedCanary(t *testing.T) {
	cl := newCluster(t, "node-a", "node-b", "node-c")
	v1 := cl.apply(canaryService)
	cl.wait(Finished, v1)
	v2 := cl.apply(strings.Replace(canaryService, `V: "1"`, `V: "2"`, 1))
	cl.wait(CanaryPaused, v2)
	before, n := cl.running(), cl.count()
	if len(before[v1]) != 3 || len(before[v2]) != 1 {
		t.Fatalf("running at the pause: %v, want 3 of v1 and the canary of v2", before)
	}
	cl.restart()
	cl.wait(CanaryPaused, v2)
	js := cl.waitJob(state.StateRolloutPaused)
	if !strings.Contains(js.Message, "muster promote default/web") {
		t.Errorf("paused job says %q", js.Message)
	}
	if got := cl.running(); strings.Join(got[v1], " ") != strings.Join(before[v1], " ") || strings.Join(got[v2], " ") != strings.Join(before[v2], " ") {
		t.Fatalf("after the restart running %v, want the same %v", got, before)
	}
	if got := cl.count(); got != n {
		t.Fatalf("%d executions after the restart, want %d", got, n)
	}
	if rec := cl.record(v2); rec.State != state.StateRolloutPaused || rec.Ended() || rec.WavesDone != 1 || rec.Healthy != 1 {
		t.Fatalf("record after the restart: %+v", rec)
	}
	if err := cl.c.Promote(context.Background(), "default", "web"); err != nil {
		t.Fatal(err)
	}
	if ev := cl.wait(Finished, v2); ev.State != string(state.StateRunning) {
		t.Fatalf("v2 finished %s: %s", ev.State, ev.Message)
	}
	got := cl.running()
	if len(got[v2]) != 3 || len(got[v1]) != 0 || !strings.Contains(strings.Join(got[v2], " "), before[v2][0]) {
		t.Errorf("after promote: %v, want 3 of v2, the canary %s among them", got, before[v2][0])
	}
	if rec := cl.record(v2); rec.Outcome != state.OutcomeCompleted || rec.WavesDone != rec.Sets() || rec.Healthy != 3 {
		t.Errorf("record after promote: %+v", rec)
	}
}

func TestRestartResumesAtTheWave(t *testing.T) {
	cl := newCluster(t, "node-a", "node-b", "node-c")
	// Three waves of one node; each takes about a second to be healthy.
	src := strings.NewReplacer("  strategy: canary\n  canary_count: 1\n", "", "min_healthy_time: 200ms", "min_healthy_time: 1s").Replace(canaryService)
	v1 := cl.apply(src)
	var wave2 []string
	for ev := cl.wait(WaveStarted, v1); ev.Wave != 2; ev = cl.wait(WaveStarted, v1) {
	}
	wave2 = append(wave2, cl.record(v1).Waves[1]...)
	// Interrupted while the wave's execution runs and is not healthy yet.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		execs, _ := cl.st.Executions(context.Background(), "default", "web")
		up := false
		for _, x := range execs {
			up = up || x.NodeID == wave2[0] && x.Status.ComputeState == state.ComputeRunning
		}
		if up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no execution runs on %s", wave2[0])
		}
	}
	cl.restart()
	rec := cl.record(v1)
	if rec.Wave != 2 || rec.WavesDone != 1 || rec.Ended() {
		t.Fatalf("record after the shutdown: %+v, want wave 2 under way, 1 done", rec)
	}
	first := cl.running()[v1]
	if ev := cl.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("finished %s: %s", ev.State, ev.Message)
	}
	got := cl.running()[v1]
	if len(got) != 3 || cl.count() != 3 {
		execs, _ := cl.st.Executions(context.Background(), "default", "web")
		for _, x := range execs {
			t.Logf("%s %s %s %s prev=%s", x.ID, x.NodeID, x.Status.ComputeState, x.Status.Message, x.PreviousExecutionID)
		}
		t.Fatalf("running %v of %d executions, want 3 of 3 (nothing started twice)", got, cl.count())
	}
	for _, id := range first {
		if !strings.Contains(strings.Join(got, " "), id) {
			t.Errorf("execution %s, running at the restart, was replaced", id)
		}
	}
	if rec := cl.record(v1); rec.Outcome != state.OutcomeCompleted || rec.WavesDone != 3 || rec.Healthy != 3 {
		t.Errorf("record at the end: %+v", rec)
	}
}

func TestShutdownStopsOwnNodesAndSaysSo(t *testing.T) {
	// The plane's own nodes (not reached through Connect) stop with it.
	p := newPlane(t, "node-a")
	_, v1 := p.apply(service)
	p.wait(Finished, v1)
	p.c.shutdown()
	js, _ := p.st.Job(context.Background(), "default", "web")
	if js.State != state.StateDegraded || !strings.Contains(js.Message, "2 of 2 executions stopped with the control plane") {
		t.Errorf("job after the shutdown: %s (%s)", js.State, js.Message)
	}
	execs, _ := p.st.Executions(context.Background(), "default", "web")
	for _, x := range execs {
		if x.Status.ComputeState != state.ComputeStopped || x.Status.DesiredState != state.DesiredStopped {
			t.Errorf("%s: %s/%s after the shutdown", x.ID, x.Status.ComputeState, x.Status.DesiredState)
		}
	}
}

func TestPromoteRightAfterARestartKeepsTheCanary(t *testing.T) {
	cl := newCluster(t, "node-a", "node-b", "node-c")
	v1 := cl.apply(canaryService)
	cl.wait(Finished, v1)
	v2 := cl.apply(strings.Replace(canaryService, `V: "1"`, `V: "2"`, 1))
	cl.wait(CanaryPaused, v2)
	canary := cl.running()[v2]
	cl.restart()
	// At once: the taken-over rollout may not have reached its pause yet.
	if err := cl.c.Promote(context.Background(), "default", "web"); err != nil {
		t.Fatal(err)
	}
	if ev := cl.wait(Finished, v2); ev.State != string(state.StateRunning) {
		t.Fatalf("v2 finished %s: %s", ev.State, ev.Message)
	}
	got := cl.running()
	if len(got[v2]) != 3 || len(got[v1]) != 0 || !strings.Contains(strings.Join(got[v2], " "), canary[0]) {
		t.Errorf("after promote: %v, want 3 of v2, the canary %s among them", got, canary[0])
	}
	if cl.count() != 3+3 {
		t.Errorf("%d executions, want the 3 of v1 and 3 of v2 (the canary not replaced)", cl.count())
	}
}
