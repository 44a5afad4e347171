package cli

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/state"
)

// TestStatusAfterNodeLoss: a service whose only node's agent is killed has
// nothing running, and status says so (degraded, 0 of 2 running) instead
// of counting the lost executions, or their replacements waiting for the
// down node, as running. Status then tells the story: versions, the
// rollout, executions by state with their nodes, and events.
func TestStatusAfterNodeLoss(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	_, addr := c.server("--node-ttl", "1500ms")
	cfg := c.write("nb.yaml", "id: nb\n")
	agent := c.start(`joined`, "agent", "--server", addr, "--node-config", cfg, "--dir", "agent-nb", "--heartbeat", "300ms")
	file := c.write("svc.yaml", `name: svc
type: service
count: 2
selector: {match_ids: [nb]}
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	c.waitNodes(1, "\nnb")
	c.ok("apply", "--auto-approve", file)
	st := c.waitState("svc", "running")
	if !strings.Contains(st.Message, "2 executions on 1 node") {
		t.Fatalf("status after the rollout: %s", st.Message)
	}
	story := c.ok("status", "svc").stdout
	for _, want := range []string{"Job      default/svc (service)", "Latest rollout (version 1)", "Strategy   rolling",
		"Waves      1 of 1 done", "Healthy    2", "Executions: 2 running", "nb    1        running", "Recent events", "deployed"} {
		if !strings.Contains(story, want) {
			t.Errorf("status svc lacks %q:\n%s", want, story)
		}
	}

	agent.kill()
	// Once no execution runs, status must say so.
	wait.For(t, 30*time.Second, "no execution to run after their agent was killed", func() ([]execJSON, bool) {
		xs := c.executions("svc")
		return xs, !slices.ContainsFunc(xs, func(x execJSON) bool { return x.Status.ComputeState == "running" })
	})
	// The health summary follows the slots, which each see their loss in
	// turn: it says 0 running within a few seconds, and then holds.
	st, _ = wait.For(t, 10*time.Second, "the status to say no execution runs", func() (statusJSON, bool) {
		st := decode[[]statusJSON](t, c.ok("status", "-o", "json", "svc"))[0]
		return st, st.State == "degraded" && strings.Contains(st.Message, "0 of 2 executions running")
	})
	if want := "0 of 2 executions running"; !strings.Contains(st.Message, want) {
		t.Fatalf("status with the node lost = %s: %s, want %q\n%s\n%s", st.State, st.Message, want, c.ok("executions", "--all", "svc").stdout, c.ok("status", "svc").stdout)
	}
	// It stays true while the replacements wait for the down node: five
	// readings spread over a second, since what is tested is that the
	// state holds over time.
	for range 5 {
		st := c.waitState("svc", "degraded")
		if !strings.Contains(st.Message, "0 of 2") {
			t.Fatalf("status went to %s: %s with nothing running\n%s", st.State, st.Message, c.ok("executions", "--all", "svc").stdout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	story = c.ok("status", "svc").stdout
	if !strings.Contains(story, "State    degraded") || !regexp.MustCompile(`Executions: .*\d+ lost`).MatchString(story) {
		t.Errorf("status svc after the loss:\n%s", story)
	}
}

// TestJobDetailJSON: status -o json JOB writes the job's status, with its
// state as an object, and the rest of the story in one object; it reads
// back as written.
func TestJobDetailJSON(t *testing.T) {
	d := jobDetail{
		JobStatus: state.JobStatus{Namespace: "default", Name: "web", Version: 2, State: state.StateRunning, Message: "2 of 2 running -> ok"},
		story: story{Type: "service", Counts: map[string]int{"running": 2},
			Executions: []state.Execution{{ID: "x1", Status: state.ExecutionStatus{ComputeState: state.ComputeRunning, DesiredState: state.DesiredRunning}}}},
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"name": "web"`, `"state_type": "running"`, `"message": "2 of 2 running -> ok"`, `"type": "service"`,
		`"execution_counts": {`, `"compute_state": {`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	var back jobDetail
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Name != "web" || back.State != state.StateRunning || back.Type != "service" || len(back.Executions) != 1 ||
		back.Executions[0].Status.ComputeState != state.ComputeRunning {
		t.Errorf("read back %+v", back)
	}
}
