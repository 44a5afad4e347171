package state

import (
	"errors"
	"testing"
	"time"
)

// TestLaunchRecordedOnce: the record of a time is created once; a second
// create of the same id is a conflict (the other control plane launches
// it), and updates are compare-and-set.
func TestLaunchRecordedOnce(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	at := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	l := Launch{Namespace: "default", Name: "report", ID: LaunchID(at), Version: 1, Reason: LaunchSchedule, ScheduledAt: at, State: LaunchRunning}
	if l.ID != "20261204T030000Z" {
		t.Fatalf("launch id %q", l.ID)
	}
	first, err := st.CreateLaunch(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateLaunch(ctx, l); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second create of %s: %v, want a conflict", l.ID, err)
	}
	done := first
	done.State, done.EndedAt = LaunchCompleted, at.Add(time.Minute)
	if _, err := st.UpdateLaunch(ctx, done); err != nil {
		t.Fatal(err)
	}
	stale := first
	stale.State = LaunchFailed
	if _, err := st.UpdateLaunch(ctx, stale); !errors.Is(err, ErrConflict) {
		t.Fatalf("an update from a stale read: %v, want a conflict", err)
	}
	ls, err := st.Launches(ctx, "default", "report")
	if err != nil || len(ls) != 1 || ls[0].State != LaunchCompleted || !ls[0].ScheduledAt.Equal(at) {
		t.Fatalf("launches: %+v %v", ls, err)
	}
	for _, bad := range []Launch{
		{Namespace: "default", Name: "report", ID: "a.b", Version: 1, State: LaunchRunning},
		{Namespace: "default", Name: "report", ID: "x", Version: 0, State: LaunchRunning},
		{Namespace: "default", Name: "report", ID: "x", Version: 1, State: "done"},
	} {
		if _, err := st.CreateLaunch(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("create %+v: %v, want invalid", bad, err)
		}
	}
}

// TestLaunchesKeepTheNewest: a job keeps its newest records; ended older
// ones go.
func TestLaunchesKeepTheNewest(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	at := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for i := range keepLaunches + 5 {
		t0 := at.Add(time.Duration(i) * time.Minute)
		if _, err := st.CreateLaunch(ctx, Launch{Namespace: "default", Name: "report", ID: LaunchID(t0), Version: 1, Reason: LaunchSchedule,
			ScheduledAt: t0, State: LaunchCompleted, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := st.Launches(ctx, "default", "report")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != keepLaunches || ls[0].ID != LaunchID(at.Add(5*time.Minute)) {
		t.Fatalf("%d records kept, the oldest %s", len(ls), ls[0].ID)
	}
}
