package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
	"github.com/muster-dev/muster/validate"
)

// schedPlane runs controllers over one real store, on one fake clock, with
// a local node running real processes: the launches of periodic jobs are
// tested minute by minute without waiting for minutes.
type schedPlane struct {
	t   *testing.T
	st  *state.Store
	clk *clockwork.FakeClock
	dir string
}

func newSchedPlane(t *testing.T) *schedPlane {
	t.Helper()
	if d, ok := runner.Lookup("exec"); !ok || d == driver {
		t.Skip("the real exec driver is not registered")
	}
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// A little after a minute starts, near the real time (the store's own
	// records carry real times).
	start := time.Now().UTC().Truncate(time.Minute).Add(10 * time.Second)
	p := &schedPlane{t: t, st: st, clk: clockwork.NewFakeClockAt(start), dir: t.TempDir()}
	if _, err := st.PutNode(context.Background(), state.Node{ID: "n1", Labels: map[string]string{"role": "web"}, LastSeen: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	return p
}

// controller starts a controller (leading alone unless lead is set) and
// returns it and the function that stops it.
func (p *schedPlane) controller(lead Leadership) (*Controller, func()) {
	p.t.Helper()
	c := &Controller{Store: p.st, Runners: &Runners{}, Backoff: 50 * time.Millisecond, Clock: p.clk, Leadership: lead}
	c.Runners.Set("n1", &runner.Agent{NodeID: "n1", Dir: p.dir, Store: p.st, Grace: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			p.t.Error(err)
		}
	}
	if lead == nil {
		<-c.Ready()
	}
	return c, stop
}

// schedule records a batch job running cmd with sched as its next version
// and starts it through c.
func (p *schedPlane) schedule(c *Controller, sched schema.Schedule, cmd ...string) *schema.Job {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	trees, diags := yaml.Parse("job.yaml", fmt.Appendf(nil, "name: report\ntask: {engine: exec, cmd: %s}\n", b), lang.Options{})
	if diags.HasErrors() {
		p.t.Fatal(diags)
	}
	j, diags := validate.Job(trees[0])
	if j == nil {
		p.t.Fatal(diags)
	}
	j.Schedule = &sched
	schema.Normalize(j)
	ctx := context.Background()
	if _, err := p.st.PutSpec(ctx, j.Canonical()); err != nil {
		p.t.Fatal(err)
	}
	js, err := p.st.CommitVersion(ctx, j.Namespace, j.Name, j.Hash(), 0, state.StatePending)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := c.Rollout(ctx, j.Namespace, j.Name, js.Version, false); err != nil {
		p.t.Fatal(err)
	}
	p.until("the job to be scheduled", func() bool {
		cur, err := p.st.Job(ctx, j.Namespace, j.Name)
		return err == nil && cur.State == state.StateRunning
	})
	return j
}

// until waits for cond, failing after 20s.
func (p *schedPlane) until(what string, cond func() bool) {
	p.t.Helper()
	wait.Until(p.t, 20*time.Second, what, cond)
}

// launches returns the job's launch records.
func (p *schedPlane) launches() []state.Launch {
	p.t.Helper()
	ls, err := p.st.Launches(context.Background(), "default", "report")
	if err != nil {
		p.t.Fatal(err)
	}
	return ls
}

// settled waits until the job has n launch records and every one ended.
func (p *schedPlane) settled(n int) []state.Launch {
	p.t.Helper()
	var ls []state.Launch
	p.until(fmt.Sprintf("%d ended launch records", n), func() bool {
		ls = p.launches()
		if len(ls) != n {
			return false
		}
		for _, l := range ls {
			if !l.Ended() {
				return false
			}
		}
		return true
	})
	return ls
}

// minute moves the clock to the next minute, and past it by a second.
func (p *schedPlane) minute() time.Time {
	next := p.clk.Now().Truncate(time.Minute).Add(time.Minute)
	p.clk.Advance(next.Add(time.Second).Sub(p.clk.Now()))
	return next
}

// executions counts the job's executions by launch id.
func (p *schedPlane) executions() map[string]int {
	p.t.Helper()
	xs, err := p.st.Executions(context.Background(), "default", "report")
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		p.t.Fatal(err)
	}
	out := map[string]int{}
	for _, x := range xs {
		out[x.EvalID]++
	}
	return out
}

var everyMinute = schema.Schedule{Cron: "* * * * *", ProhibitOverlap: true}

// TestScheduleLaunchesEachTime: each minute launches the version once,
// each launch with its own id, execution and outcome; the job stays
// running (scheduled) and names the last launch and the next.
func TestScheduleLaunchesEachTime(t *testing.T) {
	p := newSchedPlane(t)
	c, stop := p.controller(nil)
	defer stop()
	p.schedule(c, everyMinute, "true")
	if ls := p.launches(); len(ls) != 0 {
		t.Fatalf("launched before its time: %+v", ls)
	}
	t1 := p.minute()
	p.settled(1)
	t2 := p.minute()
	ls := p.settled(2)
	for i, at := range []time.Time{t1, t2} {
		l := ls[i]
		if l.ID != state.LaunchID(at) || !l.ScheduledAt.Equal(at) || l.State != state.LaunchCompleted || l.Reason != state.LaunchSchedule {
			t.Errorf("launch %d: %s at %s %s (%s): %s", i, l.ID, l.ScheduledAt, l.State, l.Reason, l.Message)
		}
	}
	if x := p.executions(); len(x) != 2 || x[ls[0].ID] != 1 || x[ls[1].ID] != 1 {
		t.Errorf("executions by launch: %v", x)
	}
	js, _ := p.st.Job(context.Background(), "default", "report")
	if js.State != state.StateRunning || ls[0].Version != js.Version {
		t.Errorf("job %s at version %d, launched %d", js.State, js.Version, ls[0].Version)
	}
	p.until("the status to name the last launch", func() bool {
		js, _ := p.st.Job(context.Background(), "default", "report")
		return js.Message == fmt.Sprintf(`scheduled "* * * * *" in UTC; launch %s completed; next launch at %s`, ls[1].ID, stamp(t2.Add(time.Minute)))
	})
}

// TestScheduleSkipsOverlap: a time whose previous launch still runs is
// skipped and recorded so; the launch that ran ends on its own.
func TestScheduleSkipsOverlap(t *testing.T) {
	p := newSchedPlane(t)
	c, stop := p.controller(nil)
	defer stop()
	gate := p.dir + "/go"
	p.schedule(c, everyMinute, "sh", "-c", "while [ ! -e "+gate+" ]; do sleep 0.02; done")
	t1 := p.minute()
	p.until("the first launch to run its execution", func() bool { return p.executions()[state.LaunchID(t1)] == 1 })
	t2 := p.minute()
	p.until("the second time to be recorded", func() bool { return len(p.launches()) == 2 })
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ls := p.settled(2)
	if ls[0].State != state.LaunchCompleted || ls[1].ID != state.LaunchID(t2) || ls[1].State != state.LaunchSkipped ||
		!strings.Contains(ls[1].Message, "launch "+ls[0].ID+" of default/report still runs") {
		t.Errorf("launches: %s %s; %s %s: %s", ls[0].ID, ls[0].State, ls[1].ID, ls[1].State, ls[1].Message)
	}
	if x := p.executions(); len(x) != 1 {
		t.Errorf("executions by launch: %v", x)
	}
}

// TestScheduleOverlapAllowed: without prohibit_overlap, the next time
// launches while the one before still runs.
func TestScheduleOverlapAllowed(t *testing.T) {
	p := newSchedPlane(t)
	c, stop := p.controller(nil)
	defer stop()
	gate := p.dir + "/go"
	p.schedule(c, schema.Schedule{Cron: "* * * * *"}, "sh", "-c", "while [ ! -e "+gate+" ]; do sleep 0.02; done")
	t1 := p.minute()
	p.until("the first launch to run", func() bool { return p.executions()[state.LaunchID(t1)] == 1 })
	t2 := p.minute()
	p.until("the second launch to run beside it", func() bool { return p.executions()[state.LaunchID(t2)] == 1 })
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range p.settled(2) {
		if l.State != state.LaunchCompleted {
			t.Errorf("launch %s %s: %s", l.ID, l.State, l.Message)
		}
	}
}

// TestScheduleMissedWhileDown: the times that passed while no control
// plane ran are recorded missed in one record, and the latest launches
// once as a catch-up when a control plane takes over.
func TestScheduleMissedWhileDown(t *testing.T) {
	p := newSchedPlane(t)
	c, stop := p.controller(nil)
	p.schedule(c, everyMinute, "true")
	t1 := p.minute()
	p.settled(1)
	stop()
	var last time.Time
	for i := 0; i < 5; i++ {
		last = p.minute()
	}
	_, stop = p.controller(nil)
	defer stop()
	ls := p.settled(3)
	miss, catch := ls[1], ls[2]
	if ls[0].ID != state.LaunchID(t1) {
		t.Errorf("first launch %s, want %s", ls[0].ID, state.LaunchID(t1))
	}
	if miss.State != state.LaunchMissed || miss.Missed != 4 || !miss.MissedFrom.Equal(t1.Add(time.Minute)) || !miss.ScheduledAt.Equal(last) {
		t.Errorf("missed record: %+v", miss)
	}
	if catch.ID != state.LaunchID(last) || catch.Reason != state.LaunchCatchUp || catch.State != state.LaunchCompleted {
		t.Errorf("catch-up: %s %s %s: %s", catch.ID, catch.Reason, catch.State, catch.Message)
	}
	if x := p.executions(); len(x) != 2 {
		t.Errorf("executions by launch: %v", x)
	}
	// On from there, one launch a minute again.
	next := p.minute()
	if ls := p.settled(4); ls[3].ID != state.LaunchID(next) || ls[3].Reason != state.LaunchSchedule {
		t.Errorf("next launch: %s %s", ls[3].ID, ls[3].Reason)
	}
}

// TestScheduleLaunchesOnceAcrossControlPlanes: two control planes that
// both take a time as due (one took over while the other still ran)
// launch it once: the launch's id is its time, and only one records it.
func TestScheduleLaunchesOnceAcrossControlPlanes(t *testing.T) {
	p := newSchedPlane(t)
	a, stopA := p.controller(nil)
	defer stopA()
	p.schedule(a, everyMinute, "true")
	_, stopB := p.controller(nil) // resumes the schedule too
	defer stopB()
	for i := 0; i < 3; i++ {
		p.minute()
		p.settled(i + 1)
	}
	x := p.executions()
	for _, l := range p.launches() {
		if l.State != state.LaunchCompleted || x[l.ID] != 1 {
			t.Errorf("launch %s %s with %d executions: %s", l.ID, l.State, x[l.ID], l.Message)
		}
	}
	if len(x) != 3 {
		t.Errorf("executions by launch: %v", x)
	}
}

// TestScheduleFailover: the lead moves between two launches; the new
// leader launches the next time once, and misses none.
func TestScheduleFailover(t *testing.T) {
	p := newSchedPlane(t)
	leadA := &fakeLeadership{terms: make(chan *fakeTerm, 1)}
	leadB := &fakeLeadership{terms: make(chan *fakeTerm, 1)}
	a, stopA := p.controller(leadA)
	defer stopA()
	b, stopB := p.controller(leadB)
	defer stopB()
	termA := newTerm()
	leadA.terms <- termA
	<-a.Ready()
	p.schedule(a, everyMinute, "true")
	t1 := p.minute()
	p.settled(1)
	close(termA.lost)
	leadB.terms <- newTerm()
	<-b.Ready()
	t2 := p.minute()
	ls := p.settled(2)
	if ls[0].ID != state.LaunchID(t1) || ls[1].ID != state.LaunchID(t2) || ls[1].Reason != state.LaunchSchedule {
		t.Errorf("launches %s %s (%s)", ls[0].ID, ls[1].ID, ls[1].Reason)
	}
	if x := p.executions(); len(x) != 2 {
		t.Errorf("executions by launch: %v", x)
	}
}

// TestManualLaunch: Launch runs the current version at once, with an id
// of its own; a second while it runs is refused (the schedule prohibits
// overlap), and stop ends the schedule.
func TestManualLaunch(t *testing.T) {
	p := newSchedPlane(t)
	c, stop := p.controller(nil)
	defer stop()
	gate := p.dir + "/go"
	p.schedule(c, everyMinute, "sh", "-c", "while [ ! -e "+gate+" ]; do sleep 0.02; done")
	ctx := context.Background()
	l, err := c.Launch(ctx, "default", "report")
	if err != nil {
		t.Fatal(err)
	}
	if l.Reason != state.LaunchManual || l.State != state.LaunchRunning || !l.ScheduledAt.IsZero() {
		t.Errorf("manual launch: %+v", l)
	}
	if _, err := c.Launch(ctx, "default", "report"); !errors.Is(err, state.ErrConflict) || !strings.Contains(err.Error(), "still runs") {
		t.Errorf("a second launch while the first runs: %v", err)
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if ls := p.settled(1); ls[0].ID != l.ID || ls[0].State != state.LaunchCompleted {
		t.Errorf("launch %s %s: %s", ls[0].ID, ls[0].State, ls[0].Message)
	}
	if _, err := c.Stop(ctx, "default", "report"); err != nil {
		t.Fatal(err)
	}
	p.minute()
	p.minute()
	if ls := p.launches(); len(ls) != 1 {
		t.Errorf("a stopped schedule launched: %d records", len(ls))
	}
}

// TestLaunchResumesAfterRestart: a launch under way when its control
// plane shuts down stays running in its record, and the next control
// plane resumes it to its end (its node's execution, stopped with the
// process that ran it, runs again).
func TestLaunchResumesAfterRestart(t *testing.T) {
	p := newSchedPlane(t)
	c, stop := p.controller(nil)
	gate := p.dir + "/go"
	p.schedule(c, everyMinute, "sh", "-c", "while [ ! -e "+gate+" ]; do sleep 0.02; done")
	t1 := p.minute()
	p.until("the launch to run", func() bool { return p.executions()[state.LaunchID(t1)] == 1 })
	stop()
	if ls := p.launches(); len(ls) != 1 || ls[0].State != state.LaunchRunning {
		t.Fatalf("after a shutdown: %+v", ls)
	}
	_, stop = p.controller(nil)
	defer stop()
	p.until("the resumed launch to run again", func() bool { return p.executions()[state.LaunchID(t1)] == 2 })
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if ls := p.settled(1); ls[0].State != state.LaunchCompleted {
		t.Errorf("resumed launch %s %s: %s", ls[0].ID, ls[0].State, ls[0].Message)
	}
}
