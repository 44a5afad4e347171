package remote_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// reattach stands in for a driver whose executions outlive the agent
// (docker): it re-attaches when the job's env says the execution is still
// alive. The test cluster's agent holds it as its "wasm" driver, beside
// the real exec driver.
type reattach struct{}

func (reattach) Name() string   { return "wasm" }
func (reattach) Limits() string { return "none" }
func (reattach) Start(context.Context, *runner.Spec) (runner.Handle, error) {
	return nil, errors.New("this test driver only re-attaches")
}

func (reattach) Recover(_ context.Context, sp *runner.Spec) (runner.Handle, error) {
	if sp.Job.Task.Env["ALIVE"] == "" {
		return nil, runner.ErrNotRecoverable
	}
	fmt.Fprintln(sp.Stdout, "re-attached")
	return reattached(time.Now().Add(300 * time.Millisecond)), nil
}

type reattached time.Time

func (h reattached) Wait(ctx context.Context) (runner.Result, error) {
	// The re-attached task runs until h: a task that takes time is what
	// this fake driver stands for, so it waits on the clock.
	select {
	case <-time.After(time.Until(time.Time(h))):
		return runner.Result{}, nil
	case <-ctx.Done():
		return runner.Result{}, ctx.Err()
	}
}

func (reattached) Stop(context.Context, time.Duration) error { return nil }

func TestRecover(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	tests := []struct {
		name   string
		engine schema.Engine
		alive  bool // the fake driver finds the execution
		dir    bool // the agent has the execution's directory
		ok     bool
		state  state.ComputeState
		err    string
	}{
		{"alive", schema.Wasm, true, true, true, state.ComputeComplete, ""},
		{"gone", schema.Wasm, false, true, false, state.ComputeRunning, ""},
		// The exec driver cannot re-attach: its processes end with the agent.
		{"exec", schema.Exec, false, true, false, state.ComputeRunning, ""},
		// A node that lost the execution's directory has nothing to re-attach.
		{"no directory", schema.Wasm, true, false, false, state.ComputeRunning, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			j := &schema.Job{Name: fmt.Sprintf("recover%d", i), Type: schema.Batch, Task: schema.Task{Engine: tt.engine, Cmd: []string{"true"}}}
			if tt.alive {
				j.Task.Env = map[string]string{"ALIVE": "1"}
			}
			schema.Normalize(j)
			if _, err := c.st.PutSpec(ctx, j.Canonical()); err != nil {
				t.Fatal(err)
			}
			// Left running by a control plane that went away.
			e, err := c.st.CreateExecution(ctx, state.Execution{
				ID: fmt.Sprintf("r%d", i), JobID: j.Namespace + "/" + j.Name, JobVersion: 1, NodeID: "n1",
				Status: state.ExecutionStatus{ComputeState: state.ComputeRunning},
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.dir {
				if err := os.MkdirAll(c.a.ExecutionDir(e.ID), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			x, res, ok, err := c.client.Recover(ctx, e, j)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Recover: %v, want an error about %s", err, tt.err)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("Recover: ok %v, %v; want ok %v", ok, err, tt.ok)
			}
			if x.Status.ComputeState != tt.state || (ok && !res.Succeeded()) {
				t.Fatalf("ended %s (%s) with %+v, want %s", x.Status.ComputeState, x.Status.Message, res, tt.state)
			}
			if got := c.stored(e); !ok && got.Revision != e.Revision {
				t.Errorf("a Recover that found nothing changed the execution: %+v", got)
			}
			if ok {
				if got := readAll(t, c.client, e.ID, "stdout"); !strings.Contains(got, "re-attached") {
					t.Errorf("stdout %q", got)
				}
			}
		})
	}
}
