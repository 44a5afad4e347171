package cli

import (
	"context"
	"testing"
	"time"

	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/state"
)

// TestMapEvents: the events a controller sends reach the API converted,
// in order, and the API's channel closes when the controller's does (a
// subscriber that fell behind) or when its context ends.
func TestMapEvents(t *testing.T) {
	in := make(chan apply.Event, 3)
	health := &state.HealthProgress{Passed: 1, SuccessThreshold: 2, RanSeconds: 3, MinHealthySeconds: 4}
	sent := []apply.Event{
		{Job: "default/web", Version: 1, Kind: apply.RolloutStarted},
		{Job: "default/web", Version: 1, Kind: apply.ExecutionEvent, Execution: "e1", State: string(state.ComputeRunning), Health: health},
	}
	for _, ev := range sent {
		in <- ev
	}
	close(in)
	out := mapEvents(context.Background(), (<-chan apply.Event)(in), wireEvent)
	var got []apply.Event
	for ev := range out { // ends: the channel closes after in did
		got = append(got, engineEvent(ev))
	}
	if len(got) != 2 || got[0] != sent[0] || got[1].Health == nil || *got[1].Health != *health || got[1].Execution != "e1" {
		t.Fatalf("got %+v, want %+v", got, sent)
	}

	ctx, cancel := context.WithCancel(context.Background())
	open := make(chan apply.Event, 1) // never closed
	out = mapEvents(ctx, (<-chan apply.Event)(open), wireEvent)
	open <- apply.Event{Kind: apply.Queued}
	if ev := <-out; ev.Kind != string(apply.Queued) {
		t.Fatalf("got %+v", ev)
	}
	open <- apply.Event{Kind: apply.Queued} // may or may not get through
	cancel()
	select {
	case _, ok := <-out:
		for ok {
			_, ok = <-out
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the API's channel stays open 10s after its context ended")
	}
}
