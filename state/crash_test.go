package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestCrashBetweenVersionAndStatus: a process killed after writing the
// version record and before the status leaves the old version in force,
// and the next commit proceeds.
func TestCrashBetweenVersionAndStatus(t *testing.T) {
	for _, next := range []string{"another spec", "the crashed spec"} {
		t.Run(next, func(t *testing.T) {
			dir := t.TempDir()
			ctx := ctxT(t)
			s := openT(t, dir, Options{})
			h1 := putSpecs(t, s, "v1", 1)[0]
			if _, err := s.CommitVersion(ctx, "default", "web", h1, 0, StateRunning); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			crashed := `{"crashed":true}`
			child := startChild(t, "crash-before-status", dir, crashed)
			kill(t, child)

			s = openT(t, dir, Options{})
			st, err := s.Job(ctx, "default", "web")
			if err != nil || st.Version != 1 || st.Hash != h1 || st.Revision != 1 || st.State != StateRunning {
				t.Fatalf("Job after the crash = %+v, %v; want version 1 untouched", st, err)
			}
			hist, err := s.History(ctx, "default", "web")
			if err != nil || len(hist) != 1 || hist[0].Hash != h1 {
				t.Fatalf("History after the crash = %+v, %v", hist, err)
			}
			h2, err := s.PutSpec(ctx, []byte(crashed)) // stored by the child already
			if err != nil {
				t.Fatal(err)
			}
			// The orphan record of version 2 is there.
			kv, _ := s.kv(ctx, bucketJobs)
			if _, err := kv.Get(ctx, versionKey("default", "web", 2, h2)); err != nil {
				t.Fatalf("the child did not write its version record: %v", err)
			}

			want := h2
			if next == "another spec" {
				want = putSpecs(t, s, "v3", 1)[0]
			}
			got, err := s.CommitVersion(ctx, "default", "web", want, st.Revision, StateDeploying)
			if err != nil || got.Version != 2 || got.Hash != want || got.Revision != 2 {
				t.Fatalf("commit after the crash = %+v, %v", got, err)
			}
			hist, err = s.History(ctx, "default", "web")
			if err != nil || len(hist) != 2 || hist[0].Hash != h1 || hist[1].Hash != want {
				t.Fatalf("History = %+v, %v", hist, err)
			}
			// History collected the orphan.
			entries, _ := watchValues(ctx, kv, versionPrefix("default", "web")+">")
			if len(entries) != 2 {
				t.Errorf("%d version records left, want 2", len(entries))
			}
		})
	}
}

// TestCrashAnywhere kills a process that commits in a loop at whatever point
// it has reached, several times over: each time the store opens, the job
// reads as one consistent version with a complete history, and the next
// commit works.
func TestCrashAnywhere(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	last := 0
	for round := range 3 {
		child := startChild(t, "commit-loop", dir, fmt.Sprint(round))
		// The kill lands at a random point of the commit loop: where it
		// lands is what the test varies, so this sleep stays.
		time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
		kill(t, child)

		s, err := Open(ctx, dir, Options{})
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		st, err := s.Job(ctx, "default", "loop")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if st.Version < last+5 {
			t.Errorf("round %d: version %d, want at least %d", round, st.Version, last+5)
		}
		hist, err := s.History(ctx, "default", "loop")
		if err != nil || len(hist) != st.Version || hist[len(hist)-1].Hash != st.Hash {
			t.Fatalf("round %d: History has %d versions, %v; status is %+v", round, len(hist), err, st)
		}
		if _, err := s.Spec(ctx, st.Hash); err != nil {
			t.Fatalf("round %d: the committed spec is missing: %v", round, err)
		}
		h := putSpecs(t, s, fmt.Sprint("after", round), 1)[0]
		got, err := s.CommitVersion(ctx, "default", "loop", h, st.Revision, StateRunning)
		if err != nil || got.Version != st.Version+1 {
			t.Fatalf("round %d: commit after kill = %+v, %v", round, got, err)
		}
		last = got.Version
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
