package apply

// Probes over fakes: a probe gates health, a version whose probe fails
// rolls back to the one before, and an execution that stops answering
// after its rollout is stopped and restarted while the job shows
// degraded. Every slot's steps are moves phaseMoves allows.

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// probedService is heldService with an http probe on its port.
func probedService(t *testing.T, f *fakeStore, env string) (*schema.Job, state.JobStatus) {
	t.Helper()
	j, js := fakeRecord(t, f, `name: web
type: service
count: 2
task: {engine: exec, cmd: [serve], env: {V: "`+env+`"}}
rollout: {health_check: {min_healthy_time: 1s, interval: 1s, deadline: 1000h, failure_threshold: 2}}
`)
	j.Task.Ports = []schema.Port{{Name: "http"}}
	j.Rollout.HealthCheck.Probe = &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/"}, Timeout: schema.Duration(time.Second)}
	return j, js
}

// phaseLog collects the phases each execution's slot went through, from
// the engine's events.
type phaseLog struct {
	mu     sync.Mutex
	byExec map[string][]phase
	probes []state.ProbeReport
}

func (l *phaseLog) add(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ev.Probe != nil {
		l.probes = append(l.probes, *ev.Probe)
	}
	if ev.Phase != "" && ev.Execution != "" {
		if l.byExec == nil {
			l.byExec = map[string][]phase{}
		}
		l.byExec[ev.Execution] = append(l.byExec[ev.Execution], phase(ev.Phase))
	}
}

// check fails t when a slot moved in a way phaseMoves does not allow.
// Each execution's steps are a piece of its slot's path: they start
// where the one before it left off (restarting, or new).
func (l *phaseLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, ps := range l.byExec {
		for i := 1; i < len(ps); i++ {
			if !ps[i-1].canBecome(ps[i]) {
				t.Errorf("execution %s moved %s -> %s (all: %v)", id, ps[i-1], ps[i], ps)
			}
		}
	}
}

func (l *phaseLog) saw(p phase) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ps := range l.byExec {
		if slices.Contains(ps, p) {
			return true
		}
	}
	return false
}

func probeEngine(t *testing.T) (*fakeStore, *holdRunner, *Engine, *phaseLog) {
	f := newFakeStore()
	clk := clockwork.NewFakeClock()
	moved := make(chan struct{})
	t.Cleanup(func() { close(moved) })
	go advancing(clk, 100*time.Millisecond, moved)
	h := newHoldRunner(f)
	log := &phaseLog{}
	eng := &Engine{Store: f, Runners: NewRunners(map[string]Runner{"n1": h}), Clock: clk, Events: log.add}
	return f, h, eng, log
}

var onePlace = plan.Placement{MatchedNodes: []string{"n1"}, Waves: [][]string{{"n1"}}, Executions: map[string]int{"n1": 2}}

func TestProbeGatesHealth(t *testing.T) {
	f, h, eng, log := probeEngine(t)
	j, js := probedService(t, f, "1")
	life, stop := context.WithCancel(context.Background())
	defer stop()
	out, d, err := eng.Deploy(context.Background(), j, js.Version, onePlace, DeployOptions{Life: life})
	if err != nil || out.State != state.StateRunning {
		t.Fatalf("%+v, %v", out, err)
	}
	defer d.Stop()
	if h.probes == 0 {
		t.Error("no probe ran")
	}
	if len(log.probes) == 0 || !log.probes[0].OK || log.probes[0].Kind != "http" {
		t.Errorf("probe events %+v: want the first outcome of each execution", log.probes)
	}
	if !log.saw(phaseHealthy) {
		t.Errorf("no slot went healthy: %v", log.byExec)
	}
	log.check(t)
}

// TestProbeFailureFailsRollout: v2 runs but its probe fails: the rollout
// fails, and v1's executions, which kept running beside it, stay.
func TestProbeFailureFailsRollout(t *testing.T) {
	f, h, eng, log := probeEngine(t)
	j1, js1 := probedService(t, f, "1")
	life, stop := context.WithCancel(context.Background())
	defer stop()
	out, d1, err := eng.Deploy(context.Background(), j1, js1.Version, onePlace, DeployOptions{Life: life})
	if err != nil || out.State != state.StateRunning {
		t.Fatalf("v1: %+v, %v", out, err)
	}
	v1 := d1.executionIDs()
	h.mu.Lock()
	h.answers = func(id string) bool { return slices.Contains(v1, id) }
	h.mu.Unlock()
	j2, js2 := probedService(t, f, "2")
	out, d, err := eng.Deploy(context.Background(), j2, js2.Version, onePlace, DeployOptions{Life: life, Prev: d1})
	if err != nil {
		t.Fatal(err)
	}
	if out.State != state.StateRolloutFailed || !strings.Contains(out.Message, "probe") {
		t.Fatalf("v2: %s %q, want rollout_failed naming the probe", out.State, out.Message)
	}
	if d != d1 || !slices.Equal(sorted(d.executionIDs()), sorted(v1)) {
		t.Errorf("after the failed rollout: %v run, want v1's %v", d.executionIDs(), v1)
	}
	failed := 0
	for _, p := range log.probes {
		if !p.OK {
			failed++
			if !strings.Contains(p.Message, "500") {
				t.Errorf("failed probe says %q", p.Message)
			}
		}
	}
	if failed == 0 {
		t.Error("no failed probe event")
	}
	d.Stop()
	log.check(t)
}

// TestUnansweringServiceRestarted: after its rollout, an execution that
// stops answering its probe for failure_threshold checks is stopped and
// replaced; the job is degraded meanwhile and running again after.
func TestUnansweringServiceRestarted(t *testing.T) {
	f, h, eng, log := probeEngine(t)
	j, js := probedService(t, f, "1")
	life, stop := context.WithCancel(context.Background())
	defer stop()
	out, d, err := eng.Deploy(context.Background(), j, js.Version, onePlace, DeployOptions{Life: life})
	if err != nil || out.State != state.StateRunning {
		t.Fatalf("%+v, %v", out, err)
	}
	defer d.Stop()
	ids := d.executionIDs()
	var mute atomic.Value
	mute.Store(ids[0])
	h.mu.Lock()
	h.answers = func(id string) bool { return id != mute.Load().(string) }
	h.mu.Unlock()
	wait.Until(t, wait.Default, "the mute execution stopped and replaced, the job running again", func() bool {
		x, _ := f.Execution(context.Background(), "default", "web", ids[0])
		states := f.jobStates("default", "web")
		i := slices.Index(states, state.StateDegraded)
		return x.Status.ComputeState == state.ComputeStopped && x.NextExecutionID != "" &&
			i >= 0 && slices.Contains(states[i:], state.StateRunning)
	})
	if !log.saw(phaseUnhealthy) {
		t.Errorf("no slot went unhealthy: %v", log.byExec)
	}
	if got := d.executionIDs(); len(got) != 2 || slices.Contains(got, ids[0]) {
		t.Errorf("executions now %v", got)
	}
	log.check(t)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestPhaseMoves holds the table to what the machine needs: every phase
// but ended leads somewhere, ended leads nowhere, and each phase can
// reach ended.
func TestPhaseMoves(t *testing.T) {
	all := []phase{phaseNew, phaseStarting, phaseProbing, phaseHealthy, phaseUnhealthy, phaseRestarting, phaseRetiring, phaseEnded}
	for _, p := range all {
		if p == phaseEnded {
			if len(phaseMoves[p]) != 0 {
				t.Errorf("ended moves on to %v", phaseMoves[p])
			}
			continue
		}
		if !p.canBecome(phaseEnded) && !p.canBecome(phaseRetiring) {
			t.Errorf("%s can neither end nor retire", p)
		}
		for _, n := range phaseMoves[p] {
			if !slices.Contains(all, n) {
				t.Errorf("%s moves to unknown %s", p, n)
			}
		}
	}
	if phaseRetiring.canBecome(phaseStarting) || phaseEnded.canBecome(phaseStarting) {
		t.Error("a retiring or ended slot starts again")
	}
}
