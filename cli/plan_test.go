package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/state"
)

// TestApplyActs: plan --detailed-exitcode counts a job whose spec does not
// change as a change when apply acts on it all the same: a stopped job is
// started again, and without a control plane an unfinished rollout of a
// batch job (pending, deploying, queued) is resumed; a running control
// plane resumes its own, and a service left deploying is the control
// plane's business.
func TestApplyActs(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	local := &plane{Backend: st, store: st}
	remote := &plane{Backend: st, ctl: api.NewClient("127.0.0.1:1", "")}

	record := func(name, typ string, jobState state.JobState) plan.JobPlan {
		t.Helper()
		src := "name: " + name + "\ntype: " + typ + "\ntask: {engine: exec, cmd: [sleep, '1']}\n"
		res := compiler.Compile(name+".yaml", []byte(src), compiler.YAML, lang.Options{})
		if len(res.Jobs) != 1 {
			t.Fatalf("compile %s: %v", name, res.Diags)
		}
		canonical := res.Jobs[0].Spec.Canonical()
		hash, err := st.PutSpec(ctx, canonical)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CommitVersion(ctx, "default", name, hash, 0, jobState); err != nil {
			t.Fatal(err)
		}
		return plan.JobPlan{Namespace: "default", Name: name, Action: plan.NoOp, ToHash: hash, Spec: canonical}
	}
	for _, tc := range []struct {
		name, typ string
		state     state.JobState
		st        *plane
		action    plan.Action
		want      string
	}{
		{"stopped", "batch", state.StateStopped, local, plan.NoOp, "the job is stopped: applying starts version 1 again"},
		{"stopped-remote", "service", state.StateStopped, remote, plan.NoOp, "the job is stopped"},
		{"deploying", "batch", state.StateDeploying, local, plan.NoOp, "the rollout of version 1 was left deploying: applying resumes it"},
		{"queued", "batch", state.StateQueued, local, plan.NoOp, "was left queued: applying resumes it"},
		{"pending", "batch", state.StatePending, local, plan.NoOp, "was left pending"},
		{"deploying-remote", "batch", state.StateDeploying, remote, plan.NoOp, ""},
		{"deploying-service", "service", state.StateDeploying, local, plan.NoOp, ""},
		{"completed", "batch", state.StateCompleted, local, plan.NoOp, ""},
		{"running", "service", state.StateRunning, local, plan.NoOp, ""},
		{"update", "batch", state.StateStopped, local, plan.Update, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := record(tc.name, tc.typ, tc.state)
			j.Action = tc.action
			got := applyActs(ctx, tc.st, j)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("applyActs = %q, want %q", got, tc.want)
			}
			p := &plan.Plan{Jobs: []plan.JobPlan{j}}
			if acts := wouldAct(ctx, tc.st, p); acts != (tc.want != "") {
				t.Errorf("wouldAct = %v, want %v", acts, tc.want != "")
			}
		})
	}
	missing := plan.JobPlan{Namespace: "default", Name: "never", Action: plan.NoOp}
	if got := applyActs(ctx, local, missing); got != "" {
		t.Errorf("applyActs of a job never applied = %q", got)
	}
}
