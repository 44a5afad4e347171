package api

import (
	"encoding/json"
	"testing"

	"github.com/muster-dev/muster/state"
)

// TestStatesOnTheWire: the API answers a job status and executions with
// their states as objects {state_type, message} (docs/api.md, States),
// and the client reads them back into the Go types.
func TestStatesOnTheWire(t *testing.T) {
	h := newHarness(t, "", nil)
	ctx := ctxT(t)
	commit(t, h.client, "web", 1, 0)
	if _, err := h.store.CreateExecution(ctx, state.Execution{ID: "x1", JobID: "default/web", JobVersion: 1, NodeID: "n1",
		Status: state.ExecutionStatus{ComputeState: state.ComputeFailed, DesiredState: state.DesiredStopped, Message: "exited with code 2"}}); err != nil {
		t.Fatal(err)
	}

	code, _, body := h.raw(t, "GET", "/v1/jobs/default/web", "", "")
	var job struct {
		State struct {
			Type string `json:"state_type"`
		} `json:"state"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &job); code != 200 || err != nil || job.State.Type != "running" || job.Message != nil {
		t.Errorf("GET job: %d %v %s", code, err, body)
	}

	code, _, body = h.raw(t, "GET", "/v1/jobs/default/web/executions", "", "")
	var xs []struct {
		Status struct {
			Compute struct {
				Type    string `json:"state_type"`
				Message string `json:"message"`
			} `json:"compute_state"`
			Desired struct {
				Type string `json:"state_type"`
			} `json:"desired_state"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &xs); code != 200 || err != nil || len(xs) != 1 ||
		xs[0].Status.Compute.Type != "failed" || xs[0].Status.Compute.Message != "exited with code 2" || xs[0].Status.Desired.Type != "stopped" {
		t.Errorf("GET executions: %d %v %s", code, err, body)
	}

	got, err := h.client.Executions(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Status.ComputeState != state.ComputeFailed || got[0].Status.Message != "exited with code 2" {
		t.Errorf("the client read %+v", got)
	}
	st, err := h.client.Job(ctx, "default", "web")
	if err != nil || st.State != state.StateRunning {
		t.Errorf("the client read the job as %+v, %v", st, err)
	}
}
