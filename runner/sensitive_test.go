package runner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/state"
)

// TestAgentHidesSensitiveValues: an input source recorded sensitive for
// its spec (an HCL sensitive variable's value) never shows in what the
// agent records or returns, even when the failure quotes it.
func TestAgentHidesSensitiveValues(t *testing.T) {
	const token = "tok-9f1c2e7ad3"
	src := "name: fetch\ntask:\n  engine: exec\n  cmd: [\"true\"]\n  inputs:\n  - source: http://127.0.0.1:1/" + token + "\n    target: /in\n"
	res := compiler.Compile("fetch.yaml", []byte(src), compiler.YAML, lang.Options{})
	if res.Diags.HasErrors() {
		t.Fatal(res.Diags)
	}
	j := res.Jobs[0].Spec
	st := openStore(t)
	ctx := context.Background()
	hash, err := st.PutSpec(ctx, j.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddSensitivePaths(ctx, hash, []string{`task.inputs["/in"].source`}); err != nil {
		t.Fatal(err)
	}
	a := &Agent{NodeID: "n", Dir: t.TempDir(), Store: st, Drivers: NewDrivers(trueDriver{})}
	x, err := st.CreateExecution(ctx, state.Execution{ID: "x1", JobID: "default/fetch", JobVersion: 1, NodeID: "n",
		Status: state.ExecutionStatus{ComputeState: state.ComputePending, DesiredState: state.DesiredRunning}})
	if err != nil {
		t.Fatal(err)
	}
	x, r, err := a.Run(ctx, x, j)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status.ComputeState != state.ComputeFailed || !strings.Contains(x.Status.Message, "(sensitive)") {
		t.Fatalf("execution = %s: %s; want failed, the source hidden", x.Status.ComputeState, x.Status.Message)
	}
	stored, err := st.Execution(ctx, "default", "fetch", "x1")
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"returned": x.Status.Message, "result": r.Message, "stored": stored.Status.Message} {
		if strings.Contains(s, token) {
			t.Errorf("the %s message shows the sensitive value: %s", what, s)
		}
	}
}

// trueDriver is an exec driver whose tasks exit 0 at once; inputs are
// placed before a driver starts, so it never runs here.
type trueDriver struct{}

func (trueDriver) Name() string   { return "exec" }
func (trueDriver) Limits() string { return "none" }
func (trueDriver) Start(context.Context, *Spec) (Handle, error) {
	return nil, errors.New("trueDriver does not run tasks")
}
func (trueDriver) Recover(context.Context, *Spec) (Handle, error) { return nil, ErrNotRecoverable }
