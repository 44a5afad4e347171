package apply

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/scrape"
	"github.com/muster-dev/muster/metrics"
	"github.com/muster-dev/muster/runner"
	_ "github.com/muster-dev/muster/runner/exec" // real processes
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// plane is a Controller over a real store with local agents running real
// processes through the exec driver.
type plane struct {
	t   *testing.T
	st  *state.Store
	c   *Controller
	evs <-chan Event
}

func newPlane(t *testing.T, nodes ...string) *plane {
	t.Helper()
	if d, ok := runner.Lookup("exec"); !ok || d == driver {
		t.Skip("the real exec driver is not registered")
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := state.Open(ctx, t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &Controller{Store: st, Runners: &Runners{}, Backoff: 50 * time.Millisecond}
	p := &plane{t: t, st: st, c: c}
	for _, n := range nodes {
		p.addNode(n, map[string]string{"role": "web"})
	}
	evs, _ := c.Events(ctx, "", "")
	p.evs = evs
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		st.Close()
	})
	<-c.Ready()
	return p
}

func (p *plane) addNode(id string, labels map[string]string) {
	p.t.Helper()
	if _, err := p.st.PutNode(context.Background(), state.Node{ID: id, Labels: labels, LastSeen: time.Now().UTC()}); err != nil {
		p.t.Fatal(err)
	}
	p.c.Runners.Set(id, &runner.Agent{NodeID: id, Dir: p.t.TempDir(), Store: p.st, Grace: time.Second})
}

// apply records src as the job's next version and starts its rollout.
func (p *plane) apply(src string) (*schema.Job, int) {
	p.t.Helper()
	j, js := record(p.t, p.st, src)
	ctx := context.Background()
	if err := p.c.Rollout(ctx, j.Namespace, j.Name, js.Version, false); err != nil {
		p.t.Fatal(err)
	}
	return j, js.Version
}

// wait returns the first event of kind for version, failing after 20s.
func (p *plane) wait(kind state.EventKind, version int) Event {
	p.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-p.evs:
			if !ok {
				p.t.Fatal("event stream closed")
			}
			if ev.Kind == kind && (version == 0 || ev.Version == version) {
				return ev
			}
		case <-timeout:
			p.t.Fatalf("no %s event for version %d within 20s", kind, version)
		}
	}
}

// running counts the running executions of a job per version.
func (p *plane) running(j *schema.Job) map[int]int {
	p.t.Helper()
	execs, err := p.st.Executions(context.Background(), j.Namespace, j.Name)
	if err != nil {
		p.t.Fatal(err)
	}
	out := map[int]int{}
	for _, x := range execs {
		if x.Status.ComputeState == state.ComputeRunning {
			out[x.JobVersion]++
		}
	}
	return out
}

const service = `
name: web
type: service
count: 2
task:
  engine: exec
  cmd: ["sleep", "300"]
  env: {V: "1"}
rollout:
  max_parallel: 50
  health_check: {min_healthy_time: 200ms, interval: 100ms, deadline: 10s}
`

// placements returns how many placements muster_placement_duration_seconds
// observed so far.
func placements(t *testing.T, st *state.Store) float64 {
	t.Helper()
	f, err := scrape.Gather(metrics.New(st, nil).Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := f.Value("muster_placement_duration_seconds", map[string]string{})
	return n
}

func TestServiceRollsOutReplacesAndStops(t *testing.T) {
	p := newPlane(t, "node-a", "node-b")
	placed := placements(t, p.st)
	j, v1 := p.apply(service)
	if ev := p.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("v1 finished %s: %s", ev.State, ev.Message)
	}
	if got := p.running(j); got[v1] != 2 {
		t.Fatalf("running after v1: %v, want 2 of version %d", got, v1)
	}
	_, v2 := p.apply(strings.Replace(service, `V: "1"`, `V: "2"`, 1))
	if ev := p.wait(Finished, v2); ev.State != string(state.StateRunning) {
		t.Fatalf("v2 finished %s: %s", ev.State, ev.Message)
	}
	if got := p.running(j); got[v2] != 2 || got[v1] != 0 {
		t.Fatalf("running after v2: %v, want only 2 of version %d", got, v2)
	}
	if n := placements(t, p.st) - placed; n < 2 {
		t.Errorf("%v placements observed for two rollouts, want at least 2", n)
	}
	n, err := p.c.Stop(context.Background(), "default", "web")
	if err != nil || n != 2 {
		t.Fatalf("stop: %d, %v; want 2 stopped", n, err)
	}
	if got := p.running(j); len(got) != 0 {
		t.Fatalf("running after stop: %v", got)
	}
	js, _ := p.st.Job(context.Background(), "default", "web")
	if js.State != state.StateStopped {
		t.Fatalf("state after stop: %s", js.State)
	}
}

func TestServiceThatCrashesRollsBack(t *testing.T) {
	p := newPlane(t, "node-a")
	j, v1 := p.apply(service)
	if ev := p.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("v1 finished %s: %s", ev.State, ev.Message)
	}
	bad := `
name: web
type: service
count: 2
task:
  engine: exec
  cmd: ["sh", "-c", "exit 1"]
rollout:
  max_failed_nodes: 0
  health_check: {min_healthy_time: 200ms, interval: 100ms, deadline: 5s, failure_threshold: 2}
`
	_, v2 := p.apply(bad)
	ev := p.wait(Finished, v2)
	if ev.State != string(state.StateRolloutFailed) {
		t.Fatalf("v2 finished %s: %s", ev.State, ev.Message)
	}
	v3 := v2 + 1
	if ev := p.wait(Finished, v3); ev.State != string(state.StateRunning) {
		t.Fatalf("rollback version %d finished %s: %s", v3, ev.State, ev.Message)
	}
	js, _ := p.st.Job(context.Background(), "default", "web")
	if js.Version != v3 || js.State != state.StateRunning {
		t.Fatalf("job after rollback: version %d %s (%s)", js.Version, js.State, js.Message)
	}
	if got := p.running(j); got[v3] != 2 || got[v2] != 0 {
		t.Fatalf("running after rollback: %v", got)
	}
}

func TestDaemonReachesJoiningNodes(t *testing.T) {
	p := newPlane(t, "node-a")
	j, v1 := p.apply(`
name: agent
type: daemon
selector: {match_labels: {role: web}}
task:
  engine: exec
  cmd: ["sleep", "300"]
rollout:
  health_check: {min_healthy_time: 100ms, interval: 100ms}
`)
	if ev := p.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("finished %s: %s", ev.State, ev.Message)
	}
	p.addNode("node-b", map[string]string{"role": "web"})
	p.addNode("node-c", map[string]string{"role": "db"})
	deadline := time.Now().Add(10 * time.Second)
	for p.running(j)[v1] != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("running: %v, want 2 (node-a and the joining node-b)", p.running(j))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServiceCanaryWaitsForPromote(t *testing.T) {
	p := newPlane(t, "node-a", "node-b", "node-c")
	src := strings.Replace(service, "max_parallel: 50", "strategy: canary\n  canary_count: 1\n  max_parallel: 50", 1)
	j, v1 := p.apply(src)
	// The first version has nothing to protect: it does not pause.
	if ev := p.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("first version finished %s: %s", ev.State, ev.Message)
	}
	_, v2 := p.apply(strings.Replace(src, `V: "1"`, `V: "2"`, 1))
	p.wait(CanaryPaused, v2)
	js, _ := p.st.Job(context.Background(), j.Namespace, j.Name)
	if js.State != state.StateRolloutPaused {
		t.Fatalf("state while paused: %s", js.State)
	}
	// canary_count counts executions; the previous version keeps running.
	if got := p.running(j); got[v2] != 1 || got[v1] != 2 {
		t.Fatalf("running at the canary pause: %v, want 1 of version %d beside the 2 of version %d", got, v2, v1)
	}
	if err := p.c.Promote(context.Background(), j.Namespace, j.Name); err != nil {
		t.Fatal(err)
	}
	if ev := p.wait(Finished, v2); ev.State != string(state.StateRunning) {
		t.Fatalf("finished %s: %s", ev.State, ev.Message)
	}
	if got := p.running(j); got[v2] != 2 || got[v1] != 0 {
		t.Errorf("running after promote: %v, want count 2 of version %d", got, v2)
	}
}

func TestBatchQueuedUntilANodeMatches(t *testing.T) {
	p := newPlane(t, "node-a")
	j, v1 := p.apply(`
name: gpu
selector: {match_labels: {gpu: "yes"}}
task: {engine: exec, cmd: ["true"]}
`)
	if ev := p.wait(Finished, v1); ev.State != string(state.StateQueued) {
		t.Fatalf("finished %s (%s), want queued", ev.State, ev.Message)
	}
	p.addNode("node-gpu", map[string]string{"gpu": "yes"})
	if ev := p.wait(Finished, v1); ev.State != string(state.StateCompleted) {
		t.Fatalf("after a matching node joined: %s (%s)", ev.State, ev.Message)
	}
	execs, _ := p.st.Executions(context.Background(), j.Namespace, j.Name)
	if len(execs) != 1 || execs[0].NodeID != "node-gpu" {
		t.Errorf("executions: %+v", execs)
	}
}

func TestEventsFilterByNamespace(t *testing.T) {
	var c Controller
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns, _ := c.Events(ctx, "payments", "")
	one, _ := c.Events(ctx, "payments", "report")
	for _, job := range []string{"default/web", "payments/report", "payments/web", "paymentsx/web"} {
		c.hub.publish(Event{Job: job})
	}
	got := func(ch <-chan Event) (jobs []string) {
		for {
			select {
			case ev := <-ch:
				jobs = append(jobs, ev.Job)
			default:
				return jobs
			}
		}
	}
	if g := strings.Join(got(ns), " "); g != "payments/report payments/web" {
		t.Errorf("namespace payments got %q", g)
	}
	if g := strings.Join(got(one), " "); g != "payments/report" {
		t.Errorf("payments/report got %q", g)
	}
}

func TestQueuedCanaryServiceRollsOutWhole(t *testing.T) {
	p := newPlane(t, "node-a")
	j, v1 := p.apply(`
name: web
type: service
count: 2
selector: {match_labels: {gpu: "yes"}}
task: {engine: exec, cmd: ["sleep", "300"]}
rollout:
  strategy: canary
  health_check: {min_healthy_time: 100ms, interval: 100ms, deadline: 10s}
`)
	if ev := p.wait(Finished, v1); ev.State != string(state.StateQueued) {
		t.Fatalf("finished %s (%s), want queued", ev.State, ev.Message)
	}
	// Two nodes: the canary's execution goes on one, the wave's on the
	// other (both on one, if the first joins alone).
	p.addNode("node-gpu1", map[string]string{"gpu": "yes"})
	p.addNode("node-gpu2", map[string]string{"gpu": "yes"})
	if ev := p.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("after a matching node joined: %s (%s)", ev.State, ev.Message)
	}
	if got := p.running(j); got[v1] != 2 {
		t.Errorf("running %v, want both executions (the canary's and the wave's)", got)
	}
}
