package state

import (
	"context"
	"testing"
	"time"
)

// TestWatchJobs: changes made after the watch starts, by any writer, and
// nothing from before.
func TestWatchJobs(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(ctxT(t))
	a := putSpecs(t, s, "a", 1)[0]
	if _, err := s.CommitVersion(ctx, "default", "a", a, 0, StatePending); err != nil {
		t.Fatal(err)
	}
	ch, err := s.WatchJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := putSpecs(t, s, "b", 1)[0]
	if _, err := s.CommitVersion(ctx, "default", "b", b, 0, StatePending); err != nil {
		t.Fatal(err)
	}
	ev := <-ch
	if ev.Err != nil || ev.Job.Name != "b" || ev.Job.State != StatePending || ev.Job.Version != 1 {
		t.Fatalf("first event %+v, want b v1 pending (a was recorded before the watch)", ev)
	}
	if _, err := s.UpdateStatus(ctx, "default", "b", func(js *JobStatus) error { js.State = StateDeploying; return nil }); err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; ev.Job.Name != "b" || ev.Job.State != StateDeploying {
		t.Fatalf("second event %+v, want b deploying", ev)
	}
	cancel()
	for range ch {
	}
}

// TestFollowEvents: the events stored from now on, filtered by job and by
// namespace, and none stored before.
func TestFollowEvents(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	ev := func(job, msg string) Event {
		return Event{Time: time.Now().UTC(), Job: job, Kind: EventExecution, Message: msg}
	}
	if err := s.AppendEvent(ctx, ev("default/web", "before")); err != nil {
		t.Fatal(err)
	}
	all, err := s.FollowEvents(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	web, err := s.FollowEvents(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := s.FollowEvents(ctx, "ops", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{ev("default/api", "1"), ev("ops/backup", "2"), ev("default/web", "3")} {
		if err := s.AppendEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{"all": {"1", "2", "3"}, "web": {"3"}, "ops": {"2"}}
	for name, ch := range map[string]<-chan Event{"all": all, "web": web, "ops": ops} {
		for _, msg := range want[name] {
			select {
			case got := <-ch:
				if got.Message != msg {
					t.Errorf("%s: got %q (%s), want %q", name, got.Message, got.Job, msg)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no event %q", name, msg)
			}
		}
	}
	if _, err := s.FollowEvents(ctx, "default", "No Such"); err == nil {
		t.Error("a follow of an invalid job name was accepted")
	}
}
