package apply

// This file is in package apply, not apply_test, on purpose. engine_test.go
// registers a scripted "exec" driver in init(), and the real one registers
// itself in runner/exec's init(). Importing runner/exec from here makes
// package apply depend on it in the test binary, so runner/exec is
// initialized first and the scripted driver, registered after it, is the
// one the engine tests get. From an external apply_test package the import
// would not order the two, and Go's init order (by import path) runs
// runner/exec last: the real driver would replace the scripted one and the
// engine tests would run real processes named "x" and fail. So the
// benchmark swaps the real driver in for its own duration only.

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/exec"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// BenchmarkRollout1000 rolls out a batch job of count 1000 running `true`
// (restart_policy never, rollout immediate) on one local node through the
// real exec driver: the engine, the node agent, an embedded store that
// records every state change, and 1,000 real processes, at most
// Engine.Parallel (32) at once. One op is one rollout of a new version; the
// issue's target is at least 200 executions per second.
func BenchmarkRollout1000(b *testing.B) {
	const count = 1000
	ctx := context.Background()
	st, err := state.Open(ctx, b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const node = "bench"
	var completed atomic.Int64
	eng := &Engine{
		Store:   st,
		Runners: NewRunners(map[string]Runner{node: &runner.Agent{NodeID: node, Dir: b.TempDir(), Store: st, Drivers: runner.NewDrivers(exec.New())}}),
		Events: func(ev Event) {
			if ev.Kind == ExecutionEvent && ev.State == string(state.ComputeComplete) {
				completed.Add(1)
			}
		},
	}
	nodes := []plan.Node{{ID: node, Labels: map[string]string{}}}

	var rolling time.Duration
	var base uint64
	for i := 0; b.Loop(); i++ {
		// A new spec (and so a new version) each time: the engine does not
		// run again what a version already completed.
		j := &schema.Job{
			Name:          "rollout1000",
			Type:          schema.Batch,
			Count:         count,
			RestartPolicy: schema.Never,
			Rollout:       schema.Rollout{Strategy: schema.Immediate},
			Task: schema.Task{
				Engine: schema.Exec,
				Cmd:    []string{"true"},
				Env:    map[string]string{"ITERATION": strconv.Itoa(i)},
			},
		}
		schema.Normalize(j)
		if _, err := st.PutSpec(ctx, j.Canonical()); err != nil {
			b.Fatal(err)
		}
		js, err := st.CommitVersion(ctx, j.Namespace, j.Name, j.Hash(), base, state.StatePending)
		if err != nil {
			b.Fatal(err)
		}
		pl, _ := plan.Place(j, nodes)
		if got := pl.Executions[node]; got != count {
			b.Fatalf("placement runs %d executions on %s, want %d", got, node, count)
		}
		completed.Store(0)
		t0 := time.Now()
		out, err := eng.Rollout(ctx, j, js.Version, pl, false)
		rolling += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if out.State != state.StateCompleted || completed.Load() != count {
			b.Fatalf("rollout %d: %+v, %d of %d executions completed", i, out, completed.Load(), count)
		}
		cur, err := st.Job(ctx, j.Namespace, j.Name)
		if err != nil {
			b.Fatal(err)
		}
		base = cur.Revision
	}
	b.ReportMetric(float64(count*b.N)/rolling.Seconds(), "execs/s")
}
