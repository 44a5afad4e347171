package apply

import (
	"context"
	"testing"
	"time"

	"github.com/muster-dev/muster/state"
)

// TestHealthProgressEvents: while a service's execution runs and is not
// healthy yet, each health check sends an execution event with how far it
// got (checks passed of success_threshold, time run of min_healthy_time),
// before the execution's healthy event; none of them is stored.
func TestHealthProgressEvents(t *testing.T) {
	p := newPlane(t, "node-a")
	const src = `
name: web
type: service
task:
  engine: exec
  cmd: ["sleep", "300"]
rollout:
  health_check: {min_healthy_time: 500ms, interval: 100ms, success_threshold: 3, deadline: 10s}
`
	_, v := p.apply(src)
	var progress []state.HealthProgress
	var exec string
	timeout := time.After(20 * time.Second)
	for done := false; !done; {
		select {
		case ev := <-p.evs:
			switch {
			case ev.Kind == ExecutionEvent && ev.Health != nil:
				if ev.State != string(state.ComputeRunning) || ev.Execution == "" || ev.Node != "node-a" || ev.Version != v {
					t.Errorf("progress event %+v: want execution running on node-a, version %d", ev, v)
				}
				exec = ev.Execution
				progress = append(progress, *ev.Health)
			case ev.Kind == ExecutionEvent && ev.State == "healthy":
				if ev.Execution != exec {
					t.Errorf("healthy execution %s, progress was about %s", ev.Execution, exec)
				}
				done = true
			case ev.Kind == Finished:
				t.Fatalf("finished before the healthy event: %+v", ev)
			}
		case <-timeout:
			t.Fatal("no healthy event within 20s")
		}
	}
	if len(progress) < 2 {
		t.Fatalf("%d progress events before healthy, want one per check (at least 2): %+v", len(progress), progress)
	}
	for i, h := range progress {
		if h.SuccessThreshold != 3 || h.MinHealthySeconds != 0.5 {
			t.Errorf("progress %d = %+v: want success_threshold 3, min_healthy 0.5s", i, h)
		}
		if i > 0 && (h.Passed < progress[i-1].Passed || h.RanSeconds < progress[i-1].RanSeconds) {
			t.Errorf("progress went back: %+v after %+v", h, progress[i-1])
		}
	}
	if last := progress[len(progress)-1]; last.Passed < 1 || last.RanSeconds <= 0 {
		t.Errorf("the last progress before healthy = %+v: want checks passed and time run", last)
	}
	stored, err := p.st.JobEvents(context.Background(), "default", "web", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range stored {
		if ev.Health != nil {
			t.Errorf("a progress event was stored: %+v", ev)
		}
	}
}
