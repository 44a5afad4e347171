package wasm_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/wasm"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// TestAgentsHoldTheirOwnWasmDrivers: two agents of one process hold wasm
// drivers that resolve one task.image differently (one finds the module,
// the other refuses it); each execution goes through its own agent's
// driver only, at the same time, and the process-wide wasm driver stays
// the one registered at init, which a third agent without drivers of its
// own still uses.
func TestAgentsHoldTheirOwnWasmDrivers(t *testing.T) {
	prog := needProg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := state.Open(ctx, t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const image = "/modules/app.wasm" // on no node: only a resolver finds it

	var callsA, callsB atomic.Int32
	wdA := wasm.New()
	wdA.Resolve = func(_ context.Context, img string) (string, error) {
		callsA.Add(1)
		if img != image {
			return "", fmt.Errorf("agent a was asked for %q", img)
		}
		return prog, nil
	}
	wdB := wasm.New()
	wdB.Resolve = func(_ context.Context, img string) (string, error) {
		callsB.Add(1)
		return "", errors.New("node b holds no module " + img)
	}
	agent := func(node string, ds *runner.Drivers) *runner.Agent {
		return &runner.Agent{NodeID: node, Dir: filepath.Join(t.TempDir(), "executions"), Store: st, Drivers: ds}
	}
	agents := map[string]*runner.Agent{
		"a": agent("a", runner.DefaultDrivers().With(wdA)),
		"b": agent("b", runner.DefaultDrivers().With(wdB)),
	}
	j := &schema.Job{Name: "j", Namespace: "default", Task: schema.Task{
		Engine: schema.Wasm, Image: image, Cmd: []string{"hello"}, Env: map[string]string{},
		Resources: schema.Resources{CPUs: 1, Memory: 256},
	}}
	run := func(a *runner.Agent) (state.Execution, runner.Result) {
		x, err := st.CreateExecution(ctx, state.Execution{ID: "x-" + a.NodeID, JobID: "default/j", JobVersion: 1, NodeID: a.NodeID,
			Status: state.ExecutionStatus{ComputeState: state.ComputePending, DesiredState: state.DesiredRunning}})
		if err != nil {
			t.Error(err)
			return x, runner.Result{}
		}
		x, res, err := a.Run(ctx, x, j)
		if err != nil {
			t.Error(err)
		}
		return x, res
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]state.Execution{}
	for _, a := range agents {
		wg.Go(func() {
			x, _ := run(a)
			mu.Lock()
			got[a.NodeID] = x
			mu.Unlock()
		})
	}
	wg.Wait()

	if x := got["a"]; x.Status.ComputeState != state.ComputeComplete {
		t.Errorf("agent a: %s %q, want complete", x.Status.ComputeState, x.Status.Message)
	} else if out, _ := agents["a"].ReadLog(ctx, x.ID, "stdout", 0); string(out) != "hello\n" {
		t.Errorf("agent a printed %q", out)
	}
	if x := got["b"]; x.Status.ComputeState != state.ComputeFailed || !strings.Contains(x.Status.Message, "node b holds no module "+image) {
		t.Errorf("agent b: %s %q, want its own resolver's refusal", x.Status.ComputeState, x.Status.Message)
	}
	if a, b := callsA.Load(), callsB.Load(); a != 1 || b != 1 {
		t.Errorf("resolvers called a %d, b %d times; want once each", a, b)
	}

	d, ok := runner.Lookup("wasm")
	if !ok || d == runner.Driver(wdA) || d == runner.Driver(wdB) {
		t.Fatalf("the process-wide wasm driver is %p, want the one of init (a %p, b %p)", d, wdA, wdB)
	}
	x, _ := run(agent("c", nil))
	if x.Status.ComputeState != state.ComputeFailed || !strings.Contains(x.Status.Message, "stat "+image+": no such file") {
		t.Errorf("agent c, without drivers of its own: %s %q, want the default resolver's failure", x.Status.ComputeState, x.Status.Message)
	}
	if a, b := callsA.Load(), callsB.Load(); a != 1 || b != 1 {
		t.Errorf("agent c went through another agent's resolver (a %d, b %d calls)", a, b)
	}
}
