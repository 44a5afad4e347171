package state

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

// testConcurrentCommits runs 20 writers, each on its own connection, that
// commit different specs of one job at the same time.
func testConcurrentCommits(t *testing.T, b backend) {
	const writers = 20
	primary := b.fresh(t, true)
	ctx := ctxT(t)
	stores := make([]*Store, writers)
	for i := range stores {
		stores[i] = b.connect(t, primary)
	}
	hashes := putSpecs(t, primary, "race", 2*writers)

	// Round 1: all on base revision 0 (create). Exactly one wins.
	var (
		wg        sync.WaitGroup
		start     = make(chan struct{})
		mu        sync.Mutex
		wins      []JobStatus
		conflicts int
		others    []error
	)
	for i, s := range stores {
		wg.Go(func() {
			<-start
			st, err := s.CommitVersion(ctx, "default", "race", hashes[i], 0, StateDeploying)
			mu.Lock()
			defer mu.Unlock()
			var ce *ConflictError
			switch {
			case err == nil:
				wins = append(wins, st)
			case errors.As(err, &ce):
				conflicts++
			default:
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(wins) != 1 || conflicts != writers-1 || len(others) != 0 {
		t.Fatalf("round 1: %d won, %d conflicts, other errors %v; want 1 and %d", len(wins), conflicts, others, writers-1)
	}
	first := wins[0]
	if got, err := primary.Job(ctx, "default", "race"); err != nil || got.Version != 1 || got.Hash != first.Hash || got.Revision != 1 {
		t.Fatalf("after round 1: %+v, %v; want the winner %+v", got, err, first)
	}

	// Round 2: every writer re-reads and retries until its own spec is
	// committed. No update may be lost: versions 2..21 hold the 20 specs.
	versions := make([]int, writers)
	start = make(chan struct{})
	for i, s := range stores {
		wg.Go(func() {
			<-start
			for attempt := 0; attempt < 500; attempt++ {
				cur, err := s.Job(ctx, "default", "race")
				if err != nil {
					t.Error(err)
					return
				}
				st, err := s.CommitVersion(ctx, "default", "race", hashes[writers+i], cur.Revision, StateDeploying)
				if err == nil {
					versions[i] = st.Version
					return
				}
				if !errors.Is(err, ErrConflict) {
					t.Error(err)
					return
				}
			}
			t.Errorf("writer %d never got its commit in", i)
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(versions)
	for i, v := range versions {
		if v != i+2 {
			t.Fatalf("winning versions %v, want 2..%d once each", versions, writers+1)
		}
	}
	final, err := primary.Job(ctx, "default", "race")
	if err != nil || final.Version != writers+1 || final.Revision != writers+1 {
		t.Fatalf("final status %+v, %v", final, err)
	}
	hist, err := primary.History(ctx, "default", "race")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != writers+1 || hist[0].Hash != first.Hash {
		t.Fatalf("history has %d versions, first %s; want %d, first %s", len(hist), hist[0].Hash, writers+1, first.Hash)
	}
	var got []string
	for i, v := range hist {
		if v.Version != i+1 {
			t.Fatalf("history[%d] is version %d", i, v.Version)
		}
		if i > 0 {
			got = append(got, v.Hash)
		}
	}
	slices.Sort(got)
	want := slices.Clone(hashes[writers:])
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("versions 2..%d hold %v, want each round-2 spec once: %v", writers+1, got, want)
	}
	// The losers' version records are garbage: none is left once History ran.
	kv, err := primary.kv(ctx, bucketJobs)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := watchValues(ctx, kv, versionPrefix("default", "race")+">")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != writers+1 {
		var keys []string
		for _, e := range entries {
			keys = append(keys, e.Key())
		}
		t.Errorf("%d version records left, want %d: %v", len(entries), writers+1, keys)
	}
}
