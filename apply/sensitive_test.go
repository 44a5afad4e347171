package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/state"
)

// quoting is a driver whose start fails with an error that quotes the
// task's cmd and env, as a real driver's error may.
type quoting struct{ scripted }

func (q *quoting) Start(_ context.Context, sp *runner.Spec) (runner.Handle, error) {
	return nil, fmt.Errorf("cannot start %q with DB_PASSWORD=%s", sp.Job.Task.Cmd, sp.Job.Task.Env["DB_PASSWORD"])
}

// TestEventsHideSensitiveValues: a rollout's events, its outcome and the
// job's message never show a value recorded sensitive for its spec, even
// where a driver's error quotes it.
func TestEventsHideSensitiveValues(t *testing.T) {
	const secret = "hunter2-s3cr3t"
	h := newHarness(t, "n1")
	h.use(&quoting{})
	ctx := context.Background()
	j, js := record(t, h.st, "name: pw\ntype: batch\nrollout: {no_auto_rollback: true}\n"+
		"task: {engine: exec, cmd: [run, --pw, "+secret+"], env: {DB_PASSWORD: "+secret+"}}\n")
	if _, err := h.st.AddSensitivePaths(ctx, j.Hash(), []string{"task.env.DB_PASSWORD", "task.cmd[2]"}); err != nil {
		t.Fatal(err)
	}
	out, err := h.eng.Rollout(ctx, j, js.Version, h.placement(j), false)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Failed() {
		t.Fatalf("outcome = %+v, want a failure", out)
	}
	shown := []string{out.Message, h.status(j).Message}
	quoted := false
	for _, ev := range h.evs {
		shown = append(shown, ev.Message)
		quoted = quoted || strings.Contains(ev.Message, "DB_PASSWORD=(sensitive)")
	}
	for _, s := range shown {
		if strings.Contains(s, secret) {
			t.Errorf("a message shows the sensitive value: %s", s)
		}
	}
	if !quoted {
		t.Errorf("no event quotes the driver's error with the value hidden: %+v", h.evs)
	}
	if js := h.status(j); js.State != state.StateRolloutFailed {
		t.Errorf("job state %s, want %s", js.State, state.StateRolloutFailed)
	}
}
