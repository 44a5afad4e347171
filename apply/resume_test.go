package apply

import (
	"fmt"
	"testing"
	"time"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// TestStartFrom is the table of where a rollout begins, from its record,
// for a fresh request and for a restarted control plane (resume).
func TestStartFrom(t *testing.T) {
	ended := time.Now()
	canary := []string{"a"}
	rec := func(wave, done int, st state.JobState, outcome string, can []string) *state.Rollout {
		return &state.Rollout{Wave: wave, WavesDone: done, State: st, Outcome: outcome, Canary: can, Waves: [][]string{{"b"}, {"c"}}}
	}
	old := rec(3, 4, state.StateRunning, "", canary) // written before outcomes were kept
	old.EndedAt = ended
	for _, c := range []struct {
		name     string
		rec      *state.Rollout
		resume   bool
		jobState state.JobState
		want     startPoint
	}{
		{"no record", nil, false, state.StatePending, startPoint{fresh: true}},
		{"no record, resumed while pending", nil, true, state.StatePending, startPoint{fresh: true}},
		{"no record, resumed while running", nil, true, state.StateRunning, startPoint{steady: true}},
		{"completed, applied again (a stopped job)", rec(3, 4, state.StateRunning, state.OutcomeCompleted, canary), false, state.StateStopped, startPoint{fresh: true}},
		{"completed, resumed while running", rec(3, 4, state.StateRunning, state.OutcomeCompleted, canary), true, state.StateRunning, startPoint{steady: true}},
		{"completed, resumed while degraded", rec(3, 4, state.StateDegraded, state.OutcomeCompleted, canary), true, state.StateDegraded, startPoint{steady: true}},
		{"ended before outcomes, resumed", old, true, state.StateRunning, startPoint{steady: true}},
		{"stopped, resumed (not running)", rec(1, 1, state.StateStopped, state.OutcomeStopped, canary), true, state.StateStopped, startPoint{fresh: true}},
		{"canary started", rec(0, 0, state.StateDeploying, "", canary), true, state.StateDeploying, startPoint{set: 0}},
		{"canary done, not paused yet", rec(0, 1, state.StateDeploying, "", canary), true, state.StateDeploying, startPoint{set: 1}},
		{"paused after the canary", rec(0, 1, state.StateRolloutPaused, "", canary), true, state.StateRolloutPaused, startPoint{set: 1}},
		{"paused, promoted", rec(0, 1, state.StateRolloutPaused, "", canary), false, state.StateRolloutPaused, startPoint{set: 1}},
		{"wave 1 under way after promote", rec(1, 1, state.StateDeploying, "", canary), true, state.StateDeploying, startPoint{set: 1, promoted: true}},
		{"wave 1 done", rec(1, 2, state.StateDeploying, "", canary), true, state.StateDeploying, startPoint{set: 2, promoted: true}},
		{"rolling, wave 1 under way", rec(1, 0, state.StateDeploying, "", nil), true, state.StateDeploying, startPoint{set: 1, promoted: true}},
		{"rolling, wave 2 under way", rec(2, 1, state.StateDeploying, "", nil), true, state.StateDeploying, startPoint{set: 2, promoted: true}},
		{"rolling, wave 2 done", rec(2, 2, state.StateDeploying, "", nil), true, state.StateDeploying, startPoint{set: 3, promoted: true}},
		{"queued", rec(1, 0, state.StateQueued, "", nil), true, state.StateQueued, startPoint{fresh: true}},
		{"queued for room after its sets", rec(2, 2, state.StateQueued, "", nil), true, state.StateQueued, startPoint{set: 3, promoted: true, rest: true}},
		{"a set placed as room freed, under way", rec(3, 2, state.StateDeploying, "", nil), true, state.StateDeploying, startPoint{set: 3, promoted: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := startFrom(c.rec, c.resume, c.jobState); got != c.want {
				t.Errorf("startFrom = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestPausesForCanary is the table of when a rollout waits for promote.
func TestPausesForCanary(t *testing.T) {
	job := func(strategy schema.Strategy, auto bool) *schema.Job {
		return &schema.Job{Rollout: schema.Rollout{Strategy: strategy, AutoPromote: auto}}
	}
	withWaves := plan.Placement{Canary: []string{"a"}, Waves: [][]string{{"b"}}}
	canaryOnly := plan.Placement{Canary: []string{"a"}, Waves: [][]string{}}
	for _, c := range []struct {
		name            string
		job             *schema.Job
		pl              plan.Placement
		promoted, first bool
		want            bool
	}{
		{"canary update", job(schema.Canary, false), withWaves, false, false, true},
		{"first version or rollback", job(schema.Canary, false), withWaves, false, true, false},
		{"promoted", job(schema.Canary, false), withWaves, true, false, false},
		{"auto_promote", job(schema.Canary, true), withWaves, false, false, false},
		{"nothing after the canary", job(schema.Canary, false), canaryOnly, false, false, false},
		{"rolling", job(schema.Rolling, false), plan.Placement{Waves: [][]string{{"a"}}}, false, false, false},
	} {
		if got := pausesForCanary(c.job, c.pl, c.promoted, c.first); got != c.want {
			t.Errorf("%s: pauses = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestLineage is the table of first versions and rollbacks.
func TestLineage(t *testing.T) {
	vs := func(hashes ...string) []state.Version {
		var out []state.Version
		for i, h := range hashes {
			out = append(out, state.Version{Version: i + 1, Hash: h})
		}
		return out
	}
	for _, c := range []struct {
		versions   []state.Version
		version    int
		first      bool
		rollbackOf int
	}{
		{vs("a"), 1, true, 0},
		{vs("a", "b"), 2, false, 0},
		{vs("a", "b", "a"), 3, false, 2},                       // back to the spec of version 1
		{vs("a", "b", "c", "b"), 4, false, 3},                  // back to version 2
		{vs("a", "a"), 2, false, 0},                            // the same spec again is no rollback
		{vs("a", "b", "b", "a"), 4, false, 3},                  // back past a repeat
		{vs("a", "b", "a", "c"), 4, false, 0},                  // a new spec after a rollback
		{vs("a", "b", "a", "b"), 4, false, 3},                  // forward again to an earlier spec
		{vs("x", "a", "b", "a"), 2, false, 0},                  // judged by the version's own place
		{[]state.Version{{Version: 7, Hash: "a"}}, 7, true, 0}, // history starts later
	} {
		first, of := lineage(c.versions, c.version)
		if first != c.first || of != c.rollbackOf {
			t.Errorf("lineage(%v, %d) = %v, %d; want %v, %d", c.versions, c.version, first, of, c.first, c.rollbackOf)
		}
	}
}

// TestCloseEarlier is the table of the outcomes a new version's rollout
// gives the earlier ones.
func TestCloseEarlier(t *testing.T) {
	ended := time.Now()
	r := func(v int, st state.JobState, outcome string, end bool) state.Rollout {
		x := state.Rollout{Version: v, State: st, Outcome: outcome}
		if end {
			x.EndedAt = ended
		}
		return x
	}
	for _, c := range []struct {
		name       string
		recs       []state.Rollout
		rollbackOf int
		want       string // version:outcome:to:by of each changed record
	}{
		{"completed stays completed", []state.Rollout{r(1, state.StateRunning, state.OutcomeCompleted, true)}, 0, ""},
		{"paused is superseded", []state.Rollout{r(1, state.StateRolloutPaused, "", false)}, 0, "1:superseded:0:2 "},
		{"deploying is superseded", []state.Rollout{r(1, state.StateDeploying, "", false)}, 0, "1:superseded:0:2 "},
		{"queued is superseded", []state.Rollout{r(1, state.StateQueued, "", false)}, 0, "1:superseded:0:2 "},
		{"rolled back by hand", []state.Rollout{r(1, state.StateRunning, state.OutcomeCompleted, true)}, 1, "1:rolled_back:2:0 "},
		{"failed, rolled back by hand", []state.Rollout{r(1, state.StateRolloutFailed, state.OutcomeFailed, true)}, 1, "1:rolled_back:2:0 "},
		{"paused, rolled back", []state.Rollout{r(1, state.StateRolloutPaused, "", false)}, 1, "1:rolled_back:2:0 "},
		{"an automatic rollback is marked already", []state.Rollout{{Version: 1, Outcome: state.OutcomeRolledBack, RolledBackTo: 2, EndedAt: ended}}, 1, ""},
		{"stopped stays stopped", []state.Rollout{r(1, state.StateStopped, state.OutcomeStopped, true)}, 0, ""},
		{"an old ended record stays", []state.Rollout{r(1, state.StateCompleted, "", true)}, 0, ""},
		{"the version itself is left alone", []state.Rollout{r(2, state.StateDeploying, "", false)}, 0, ""},
	} {
		got := ""
		for _, p := range closeEarlier(c.recs, 2, c.rollbackOf) {
			got += fmt.Sprintf("%d:%s:%d:%d ", p.Version, p.Outcome, p.RolledBackTo, p.SupersededBy)
		}
		if got != c.want {
			t.Errorf("%s: changed %q, want %q", c.name, got, c.want)
		}
	}
}

// TestResumes is the table of the job states a restarted control plane
// takes over.
func TestResumes(t *testing.T) {
	for _, st := range state.JobStates {
		var want [2]bool // batch/ops, service/daemon
		switch st {
		case state.StatePending, state.StateQueued, state.StateDeploying:
			want = [2]bool{true, true}
		case state.StateRolloutPaused, state.StateRunning, state.StateDegraded:
			want = [2]bool{false, true}
		}
		if got := [2]bool{resumes(st, false), resumes(st, true)}; got != want {
			t.Errorf("%s: resumes (batch, service) = %v, want %v", st, got, want)
		}
	}
}

// TestJobState is the table of a deployed job's state from its slots: it
// counts what runs against what it should run.
func TestJobState(t *testing.T) {
	for _, c := range []struct {
		typ   schema.JobType
		count int
		t     tally
		want  string
	}{
		{schema.Service, 2, tally{total: 2, nodes: 1}, "running: version 3 running: 2 executions on 1 node"},
		{schema.Service, 2, tally{total: 2, down: 1, nodes: 1}, "degraded: version 3 degraded: 1 of 2 executions running (on 1 node), 1 not running"},
		// The slots of a node that went away are gone: the count still
		// says two should run.
		{schema.Service, 2, tally{}, "degraded: version 3 degraded: 0 of 2 executions running (on 0 nodes), 2 not running"},
		{schema.Service, 3, tally{total: 2, nodes: 2}, "degraded: version 3 degraded: 2 of 3 executions running (on 2 nodes), 1 not running"},
		{schema.Daemon, 1, tally{total: 3, nodes: 3}, "running: version 3 running: 3 executions on 3 nodes"},
		{schema.Daemon, 1, tally{total: 3, down: 1, nodes: 2}, "degraded: version 3 degraded: 2 of 3 executions running (on 2 nodes), 1 not running"},
	} {
		d := &Deployment{Version: 3, r: &rollout{job: &schema.Job{Type: c.typ, Count: c.count}}}
		st, msg := d.jobState(c.t)
		if got := string(st) + ": " + msg; got != c.want {
			t.Errorf("%s count %d, %+v:\n got %s\nwant %s", c.typ, c.count, c.t, got, c.want)
		}
	}
}
