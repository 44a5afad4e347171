package apply

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/scrape"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/metrics"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
	"github.com/muster-dev/muster/validate"
)

// scripted is a test driver: the exit code of each run comes from the
// job's env EXIT (one code per attempt, comma separated, the last repeats).
// The real drivers are tested in their own packages; this one lets the
// engine's logic be tested over a real store without processes.
type scripted struct {
	mu   sync.Mutex
	runs map[string]int // per job version: how many runs
}

func (s *scripted) Name() string   { return "exec" }
func (s *scripted) Limits() string { return "none" }
func (s *scripted) Recover(context.Context, *runner.Spec) (runner.Handle, error) {
	return nil, runner.ErrNotRecoverable
}

func (s *scripted) Start(_ context.Context, sp *runner.Spec) (runner.Handle, error) {
	s.mu.Lock()
	key := sp.Env["MUSTER_JOB_NAME"] + "@" + sp.Env["MUSTER_JOB_VERSION"] + "/" + sp.Env["MUSTER_NODE_ID"]
	n := s.runs[key]
	s.runs[key]++
	s.mu.Unlock()
	codes := strings.Split(sp.Job.Task.Env["EXIT"], ",")
	code := 0
	fmt.Sscan(codes[min(n, len(codes)-1)], &code)
	fmt.Fprintf(sp.Stdout, "run %d of %s\n", n, key)
	d, _ := time.ParseDuration(sp.Job.Task.Env["TAKES"])
	return handle{code: code, takes: d}, nil
}

// handle ends with code after takes (env TAKES, a duration).
type handle struct {
	code  int
	takes time.Duration
}

func (h handle) Wait(ctx context.Context) (runner.Result, error) {
	select {
	case <-time.After(h.takes):
		return runner.Result{ExitCode: h.code}, nil
	case <-ctx.Done():
		return runner.Result{}, ctx.Err()
	}
}
func (h handle) Stop(context.Context, time.Duration) error { return nil }

var driver = &scripted{runs: map[string]int{}}

type harness struct {
	t     *testing.T
	st    *state.Store
	eng   *Engine
	nodes []plan.Node
	evs   []Event
	mu    sync.Mutex
}

func newHarness(t *testing.T, nodes ...string) *harness {
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	driver.mu.Lock()
	driver.runs = map[string]int{} // each test counts its own runs
	driver.mu.Unlock()
	h := &harness{t: t, st: st}
	agents := map[string]Runner{}
	for _, n := range nodes {
		h.nodes = append(h.nodes, plan.Node{ID: n, Labels: map[string]string{}})
		// The scripted driver stands in for "exec" on these agents only.
		agents[n] = &runner.Agent{NodeID: n, Dir: t.TempDir(), Store: st, Drivers: runner.NewDrivers(driver)}
	}
	h.eng = &Engine{Store: st, Runners: NewRunners(agents), Backoff: time.Millisecond, Events: func(e Event) {
		h.mu.Lock()
		h.evs = append(h.evs, e)
		h.mu.Unlock()
	}}
	return h
}

// use makes the harness's nodes run their executions with d, through new
// agents.
func (h *harness) use(d runner.Driver) {
	for _, n := range h.nodes {
		h.eng.Runners.Set(n.ID, &runner.Agent{NodeID: n.ID, Dir: h.t.TempDir(), Store: h.st, Drivers: runner.NewDrivers(d)})
	}
}

// apply records src as a new version and rolls it out.
func (h *harness) apply(src string, promote bool) (Outcome, *schema.Job, int) {
	h.t.Helper()
	j, js := record(h.t, h.st, src)
	ctx := context.Background()
	pl := h.placement(j)
	out, err := h.eng.Rollout(ctx, j, js.Version, pl, promote)
	if err != nil {
		h.t.Fatal(err)
	}
	return out, j, js.Version
}

// record compiles the YAML job src and records it as the job's next
// version.
func record(t *testing.T, st *state.Store, src string) (*schema.Job, state.JobStatus) {
	t.Helper()
	trees, diags := yaml.Parse("job.yaml", []byte(src), lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	j, diags := validate.Job(trees[0])
	if j == nil {
		t.Fatal(diags)
	}
	ctx := context.Background()
	var base uint64
	if js, err := st.Job(ctx, j.Namespace, j.Name); err == nil {
		base = js.Revision
	}
	if _, err := st.PutSpec(ctx, j.Canonical()); err != nil {
		t.Fatal(err)
	}
	js, err := st.CommitVersion(ctx, j.Namespace, j.Name, j.Hash(), base, state.StatePending)
	if err != nil {
		t.Fatal(err)
	}
	return j, js
}

func (h *harness) placement(j *schema.Job) plan.Placement {
	p, err := plan.Make(context.Background(), nilState{}, []*schema.Job{j}, h.nodes, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return p.Jobs[0].Placement
}

type nilState struct{}

func (nilState) Current(context.Context, string, string) (*plan.Current, error) { return nil, nil }

func (h *harness) status(j *schema.Job) state.JobStatus {
	js, err := h.st.Job(context.Background(), j.Namespace, j.Name)
	if err != nil {
		h.t.Fatal(err)
	}
	return js
}

func (h *harness) executions(j *schema.Job, version int) (complete, failed int) {
	xs, err := h.st.Executions(context.Background(), j.Namespace, j.Name)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, x := range xs {
		if x.JobVersion != version {
			continue
		}
		switch x.Status.ComputeState {
		case state.ComputeComplete:
			complete++
		case state.ComputeFailed:
			failed++
		}
	}
	return
}

func TestRolloutCompletes(t *testing.T) {
	h := newHarness(t, "n1", "n2", "n3")
	out, j, v := h.apply("name: ok\ntype: ops\nrollout: {strategy: rolling, max_parallel: 34}\ntask: {engine: exec, cmd: [x], env: {EXIT: \"0\"}}\n", false)
	if out.State != state.StateCompleted || out.Failed() {
		t.Fatalf("outcome = %+v", out)
	}
	if c, f := h.executions(j, v); c != 3 || f != 0 {
		t.Errorf("executions complete=%d failed=%d, want 3/0", c, f)
	}
	waves := 0
	for _, e := range h.evs {
		if e.Kind == WaveStarted {
			waves++
		}
	}
	if waves != 3 {
		t.Errorf("%d waves, want 3 (34%% of 3 nodes is one node per wave)", waves)
	}
	if js := h.status(j); js.State != state.StateCompleted {
		t.Errorf("job state = %s", js.State)
	}
}

func TestQueueTimeout(t *testing.T) {
	h := newHarness(t, "n1")
	h.eng.Parallel = 1
	out, j, v := h.apply("name: q\ncount: 3\ntimeouts: {queue: 150ms}\nrollout: {max_failed_nodes: 5, max_failed_nodes_percent: 100}\ntask: {engine: exec, cmd: [x], env: {EXIT: \"0\", TAKES: 100ms}}\n", false)
	if c, f := h.executions(j, v); c != 2 || f != 1 {
		t.Errorf("executions complete=%d failed=%d, want 2 that got a run slot within 150ms and 1 that did not (outcome %+v)", c, f, out)
	}
	found := false
	for _, e := range h.evs {
		if strings.Contains(e.Message, "timeouts.queue 150ms") {
			found = true
		}
	}
	if !found {
		t.Errorf("no event says the queue timeout expired: %+v", h.evs)
	}
}

func TestRestartThenSucceed(t *testing.T) {
	h := newHarness(t, "n1")
	// Fails twice, then succeeds: within failure_threshold 3.
	out, j, v := h.apply("name: flaky\ntask: {engine: exec, cmd: [x], env: {EXIT: \"1,1,0\"}}\n", false)
	if out.State != state.StateCompleted {
		t.Fatalf("outcome = %+v", out)
	}
	if c, f := h.executions(j, v); c != 1 || f != 2 {
		t.Errorf("complete=%d failed=%d, want 1 complete after 2 failed attempts", c, f)
	}
	xs, _ := h.st.Executions(context.Background(), j.Namespace, j.Name)
	linked := 0
	for _, x := range xs {
		if x.PreviousExecutionID != "" {
			linked++
		}
	}
	if linked != 2 {
		t.Errorf("%d executions link to a previous one, want 2", linked)
	}
}

func TestFailureRollsBack(t *testing.T) {
	h := newHarness(t, "n1")
	out, j, _ := h.apply("name: web\ntask: {engine: exec, cmd: [v1], env: {EXIT: \"0\"}}\n", false)
	if out.State != state.StateCompleted {
		t.Fatalf("v1: %+v", out)
	}
	v1 := j.Hash()
	out, _, v2 := h.apply("name: web\nrestart_policy: never\ntask: {engine: exec, cmd: [v2], env: {EXIT: \"1\"}}\n", false)
	if !out.Failed() || out.RolledBackTo != v2+1 {
		t.Fatalf("v2 outcome = %+v", out)
	}
	js := h.status(j)
	if js.Hash != v1 || js.Version != 3 || js.State != state.StateRolloutFailed || !strings.Contains(js.Message, "rolled back to the spec of version 1") {
		t.Errorf("after rollback: %+v", js)
	}
}

func TestNoAutoRollback(t *testing.T) {
	h := newHarness(t, "n1")
	h.apply("name: web2\ntask: {engine: exec, cmd: [v1], env: {EXIT: \"0\"}}\n", false)
	out, j, v2 := h.apply("name: web2\nrollout: {no_auto_rollback: true}\ntask: {engine: exec, cmd: [v2], env: {EXIT: \"1\"}}\n", false)
	if out.State != state.StateRolloutFailed || out.RolledBackTo != 0 {
		t.Fatalf("outcome = %+v", out)
	}
	if js := h.status(j); js.Version != v2 || js.Hash != j.Hash() {
		t.Errorf("the failed version must stay: %+v", js)
	}
}

func TestFirstVersionFailsWithoutRollback(t *testing.T) {
	h := newHarness(t, "n1")
	out, _, _ := h.apply("name: web3\ntask: {engine: exec, cmd: [v1], env: {EXIT: \"2\"}}\n", false)
	if out.State != state.StateFailed || !strings.Contains(out.Message, "no earlier stable version") {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestFailureLimits(t *testing.T) {
	h := newHarness(t, "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10")
	// One node of ten failing is 10%: not more than max_failed_nodes_percent 10.
	src := "name: fleet\ntype: ops\nrestart_policy: never\nrollout: {strategy: rolling, max_parallel: 100, max_failed_nodes: 1, max_failed_nodes_percent: 10}\ntask: {engine: exec, cmd: [x], env: {EXIT: \"0\"}}\n"
	failOne := &failOn{node: "n3"}
	h.use(failOne)
	out, _, _ := h.apply(src, false)
	if out.State != state.StateCompleted || !strings.Contains(out.Message, "1 failed nodes") {
		t.Fatalf("outcome = %+v", out)
	}
	failOne.node2 = "n4"
	out, _, _ = h.apply(strings.Replace(src, "[x]", "[y]", 1), false)
	if !out.Failed() || !strings.Contains(out.Message, "2 nodes failed, more than max_failed_nodes 1") {
		t.Fatalf("outcome = %+v", out)
	}
}

// failOn fails on one or two nodes and succeeds elsewhere.
type failOn struct {
	scripted
	node, node2 string
}

func (f *failOn) Start(_ context.Context, sp *runner.Spec) (runner.Handle, error) {
	n := sp.Env["MUSTER_NODE_ID"]
	if n == f.node || n == f.node2 {
		return handle{code: 1}, nil
	}
	return handle{}, nil
}

func TestCanaryPausesThenPromotes(t *testing.T) {
	h := newHarness(t, "n1", "n2", "n3", "n4")
	src := "name: can\ntype: ops\nrollout: {strategy: canary, canary_count: 1, max_parallel: 50}\ntask: {engine: exec, cmd: [x], env: {EXIT: \"0\"}}\n"
	// The first version has nothing to protect: no pause.
	out, j, v1 := h.apply(src, false)
	if out.State != state.StateCompleted {
		t.Fatalf("first version: outcome = %+v, want completed without a pause", out)
	}
	if c, _ := h.executions(j, v1); c != 4 {
		t.Fatalf("first version: %d executions, want 4", c)
	}
	out, j, v := h.apply(strings.Replace(src, "[x]", "[y]", 1), false)
	if out.State != state.StateRolloutPaused {
		t.Fatalf("outcome = %+v", out)
	}
	if c, _ := h.executions(j, v); c != 1 {
		t.Fatalf("%d executions ran before promotion, want the 1 canary", c)
	}
	if js := h.status(j); js.State != state.StateRolloutPaused || !strings.Contains(js.Message, "muster promote default/can") {
		t.Errorf("status = %+v", js)
	}
	rec, err := h.st.Rollout(context.Background(), "default", "can", v)
	if err != nil || rec.State != state.StateRolloutPaused || rec.Ended() || rec.WavesDone != 1 {
		t.Errorf("record while paused: %+v, %v", rec, err)
	}
	// Promote: the canary is not run again.
	out, err = h.eng.Rollout(context.Background(), j, v, h.placement(j), true)
	if err != nil || out.State != state.StateCompleted {
		t.Fatalf("promote: %+v, %v", out, err)
	}
	if c, _ := h.executions(j, v); c != 4 {
		t.Errorf("%d executions complete, want 4 (canary once + 3)", c)
	}
	rec, _ = h.st.Rollout(context.Background(), "default", "can", v)
	if rec.Outcome != state.OutcomeCompleted || rec.WavesDone != rec.Sets() || rec.Healthy != 4 {
		t.Errorf("record after promote: %+v", rec)
	}
}

func TestAutoPromote(t *testing.T) {
	h := newHarness(t, "n1", "n2")
	out, _, _ := h.apply("name: auto\ntype: ops\nrollout: {strategy: canary, auto_promote: true}\ntask: {engine: exec, cmd: [x], env: {EXIT: \"0\"}}\n", false)
	if out.State != state.StateCompleted {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestBatchCountSpreads(t *testing.T) {
	h := newHarness(t, "n1", "n2")
	out, j, v := h.apply("name: b\ncount: 5\ntask: {engine: exec, cmd: [x], env: {EXIT: \"0\"}}\n", false)
	if out.State != state.StateCompleted {
		t.Fatalf("outcome = %+v", out)
	}
	if c, _ := h.executions(j, v); c != 5 {
		t.Errorf("%d executions complete, want count 5", c)
	}
}

func TestLongRunningRefused(t *testing.T) {
	h := newHarness(t, "n1")
	j := &schema.Job{Name: "s", Namespace: "default", Type: schema.Service}
	if _, err := h.eng.Rollout(context.Background(), j, 1, plan.Placement{}, false); err == nil || !strings.Contains(err.Error(), "keeps running") {
		t.Errorf("err = %v", err)
	}
}

func TestInterruptedRolloutResumesAtItsWave(t *testing.T) {
	h := newHarness(t, "n1", "n2", "n3")
	src := "name: waves\ntype: ops\nrollout: {strategy: rolling, max_parallel: 34}\ntask: {engine: exec, cmd: [x], env: {EXIT: \"0\", TAKES: 100ms}}\n"
	j, js := record(t, h.st, src)
	pl := h.placement(j)
	ctx, cancel := context.WithCancel(context.Background())
	events := h.eng.Events
	h.eng.Events = func(e Event) {
		events(e)
		if e.Kind == WaveStarted && e.Wave == 2 {
			cancel() // interrupted as wave 2 starts
		}
	}
	if _, err := h.eng.Rollout(ctx, j, js.Version, pl, false); err == nil {
		t.Fatal("the interrupted rollout returned no error")
	}
	rec, err := h.st.Rollout(context.Background(), j.Namespace, j.Name, js.Version)
	if err != nil || rec.Wave != 2 || rec.WavesDone != 1 || rec.Ended() {
		t.Fatalf("record after the interruption: %+v, %v", rec, err)
	}
	h.eng.Events = events
	out, err := h.eng.Rollout(context.Background(), j, js.Version, pl, false)
	if err != nil || out.State != state.StateCompleted {
		t.Fatalf("resumed: %+v, %v", out, err)
	}
	driver.mu.Lock()
	defer driver.mu.Unlock()
	first := pl.Waves[0][0]
	if n := driver.runs["waves@1/"+first]; n != 1 {
		t.Errorf("the node of wave 1 (%s) ran %d times, want once: a finished wave is not run again", first, n)
	}
	for _, w := range pl.Waves[1:] {
		if n := driver.runs["waves@1/"+w[0]]; n != 1 {
			t.Errorf("node %s ran %d times, want once", w[0], n)
		}
	}
	rec, _ = h.st.Rollout(context.Background(), j.Namespace, j.Name, js.Version)
	if rec.Outcome != state.OutcomeCompleted || rec.WavesDone != 3 || rec.Healthy != 3 {
		t.Errorf("record at the end: %+v", rec)
	}
}

// rolloutMetrics returns, by outcome, muster_rollouts_total and the
// sample count of muster_rollout_duration_seconds.
func rolloutMetrics(t *testing.T, st *state.Store) map[string][2]float64 {
	t.Helper()
	f, err := scrape.Gather(metrics.New(st, nil).Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, o := range state.Outcomes {
		n, _ := f.Value("muster_rollouts_total", map[string]string{"outcome": o})
		d, _ := f.Value("muster_rollout_duration_seconds", map[string]string{"outcome": o})
		out[o] = [2]float64{n, d}
	}
	return out
}

func TestOutcomesAreRecorded(t *testing.T) {
	h := newHarness(t, "n1")
	ctx := context.Background()
	before := rolloutMetrics(t, h.st)
	get := func(v int) state.Rollout {
		t.Helper()
		r, err := h.st.Rollout(ctx, "default", "hist", v)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	good := "name: hist\ntask: {engine: exec, cmd: [v1], env: {EXIT: \"0\"}}\n"
	_, j1, v1 := h.apply(good, false)
	// v2 fails and is rolled back: v3 carries v1's spec.
	out, _, v2 := h.apply("name: hist\nrestart_policy: never\ntask: {engine: exec, cmd: [v2], env: {EXIT: \"1\"}}\n", false)
	v3 := out.RolledBackTo
	if v3 != v2+1 {
		t.Fatalf("v2: %+v", out)
	}
	if out, err := h.eng.Rollout(ctx, j1, v3, h.placement(j1), false); err != nil || out.State != state.StateCompleted {
		t.Fatalf("v3: %+v, %v", out, err)
	}
	// v4 is interrupted, then superseded by v5; v5 is interrupted, then
	// stopped.
	interrupted := func(src string) int {
		t.Helper()
		j, js := record(t, h.st, src)
		cctx, cancel := context.WithCancel(ctx)
		events := h.eng.Events
		h.eng.Events = func(e Event) {
			if e.Kind == WaveStarted {
				cancel()
			}
		}
		defer func() { h.eng.Events = events }()
		if _, err := h.eng.Rollout(cctx, j, js.Version, h.placement(j), false); err == nil {
			t.Fatal("no interruption")
		}
		return js.Version
	}
	v4 := interrupted("name: hist\ntask: {engine: exec, cmd: [v4], env: {EXIT: \"0\", TAKES: 1s}}\n")
	v5 := interrupted("name: hist\ntask: {engine: exec, cmd: [v5], env: {EXIT: \"0\", TAKES: 1s}}\n")
	if _, err := StopRecorded(ctx, h.st, "default", "hist"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v                  int
		outcome            string
		to, from, replaced int
	}{
		{v1, state.OutcomeCompleted, 0, 0, 0},
		{v2, state.OutcomeRolledBack, v3, 0, 0},
		{v3, state.OutcomeCompleted, 0, v2, 0},
		{v4, state.OutcomeSuperseded, 0, 0, v5},
		{v5, state.OutcomeStopped, 0, 0, 0},
	} {
		r := get(c.v)
		if r.Outcome != c.outcome || r.RolledBackTo != c.to || r.RolledBackFrom != c.from || r.SupersededBy != c.replaced || r.EndedAt.IsZero() {
			t.Errorf("version %d: outcome %s, rolled back to %d, from %d, superseded by %d, ended %v; want %s, %d, %d, %d",
				c.v, r.Outcome, r.RolledBackTo, r.RolledBackFrom, r.SupersededBy, r.EndedAt, c.outcome, c.to, c.from, c.replaced)
		}
	}
	// A rollback by hand (the spec of v3 again) marks the version it
	// rolls back.
	_, _, v6 := h.apply(good, false)
	if r := get(v5); r.Outcome != state.OutcomeStopped {
		t.Errorf("a stopped version stays stopped: %+v", r)
	}
	if r := get(v6); r.RolledBackFrom != v5 || r.Outcome != state.OutcomeCompleted {
		t.Errorf("v6: %+v", r)
	}
	// Each rollout counts once, at its first end: v1, v3 and v6
	// completed, v2 rolled back, v4 superseded, v5 stopped.
	after := rolloutMetrics(t, h.st)
	for o, n := range map[string]float64{state.OutcomeCompleted: 3, state.OutcomeRolledBack: 1, state.OutcomeSuperseded: 1, state.OutcomeStopped: 1, state.OutcomeFailed: 0} {
		counted, observed := after[o][0]-before[o][0], after[o][1]-before[o][1]
		if counted != n || observed != n {
			t.Errorf("outcome %s: rollouts counted %v, durations observed %v; want %v", o, counted, observed, n)
		}
	}
}
