package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// putSpecs stores n distinct specs and returns their hashes.
func putSpecs(t testing.TB, s *Store, tag string, n int) []string {
	t.Helper()
	ctx := context.Background()
	hashes := make([]string, n)
	for i := range hashes {
		h, err := s.PutSpec(ctx, fmt.Appendf(nil, `{"api_version":"muster/v1","name":%q,"i":%d}`, tag, i))
		if err != nil {
			t.Fatal(err)
		}
		hashes[i] = h
	}
	return hashes
}

func testJobs(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	h := putSpecs(t, s, "web", 3)

	if _, err := s.Job(ctx, "default", "web"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Job before apply: %v", err)
	}
	if _, err := s.History(ctx, "default", "web"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("History before apply: %v", err)
	}
	if jobs, err := s.Jobs(ctx); err != nil || len(jobs) != 0 {
		t.Fatalf("Jobs on an empty store = %v, %v", jobs, err)
	}

	type want struct {
		version  int
		hash     string
		revision uint64
		state    JobState
	}
	steps := []struct {
		name  string
		hash  string
		base  uint64
		state JobState
		want  want
	}{
		{"create", h[0], 0, StateDeploying, want{1, h[0], 1, StateDeploying}},
		{"same hash changes only the state", h[0], 1, StateRunning, want{1, h[0], 2, StateRunning}},
		{"new hash", h[1], 2, StateDeploying, want{2, h[1], 3, StateDeploying}},
		{"bare hex hash", strings.TrimPrefix(h[2], "sha256:"), 3, StateDeploying, want{3, h[2], 4, StateDeploying}},
		{"rollback to an old hash is a new version", h[0], 4, StateDeploying, want{4, h[0], 5, StateDeploying}},
	}
	for _, st := range steps {
		got, err := s.CommitVersion(ctx, "default", "web", st.hash, st.base, st.state)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		w := st.want
		if got.Version != w.version || got.Hash != w.hash || got.Revision != w.revision || got.State != w.state ||
			got.Namespace != "default" || got.Name != "web" || got.UpdatedAt.IsZero() || got.kvRevision == 0 {
			t.Fatalf("%s: got %+v, want %+v", st.name, got, w)
		}
		read, err := s.Job(ctx, "default", "web")
		if err != nil || read != got {
			t.Fatalf("%s: Job = %+v, %v; want %+v", st.name, read, err, got)
		}
	}

	hist, err := s.History(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	wantHist := []string{h[0], h[1], h[2], h[0]}
	if len(hist) != len(wantHist) {
		t.Fatalf("History = %+v", hist)
	}
	for i, v := range hist {
		if v.Version != i+1 || v.Hash != wantHist[i] || v.CreatedAt.IsZero() {
			t.Errorf("History[%d] = %+v, want version %d hash %s", i, v, i+1, wantHist[i])
		}
	}

	// Conflicts: a stale base, and "must not exist yet".
	for _, base := range []uint64{0, 4, 6} {
		_, err := s.CommitVersion(ctx, "default", "web", h[1], base, StateDeploying)
		var ce *ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || ce.Base != base || ce.Current != 5 {
			t.Errorf("CommitVersion on base %d: %v; want *ConflictError base %d current 5", base, err, base)
		} else if !strings.Contains(err.Error(), "job default/web") || !strings.Contains(err.Error(), "plan") {
			t.Errorf("conflict message does not say what to do: %v", err)
		}
	}

	// Several jobs, listed in order.
	for _, j := range []struct{ ns, name string }{{"prod", "api"}, {"default", "db"}, {"prod", "a"}} {
		if _, err := s.CommitVersion(ctx, j.ns, j.name, h[2], 0, StatePending); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := s.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs {
		names = append(names, j.Namespace+"/"+j.Name+"@"+strconv.Itoa(j.Version))
	}
	if got := strings.Join(names, " "); got != "default/db@1 default/web@4 prod/a@1 prod/api@1" {
		t.Errorf("Jobs = %s", got)
	}
}

func testJobErrors(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	h := putSpecs(t, s, "x", 1)[0]
	missing := "sha256:" + strings.Repeat("a", 64)
	cases := []struct {
		name, ns, job, hash string
		state               JobState
		errPart             string
		notFound            bool
	}{
		{"bad namespace", "Default", "web", h, StateRunning, "invalid namespace", false},
		{"bad name", "default", "web.x", h, StateRunning, "invalid job name", false},
		{"empty name", "default", "", h, StateRunning, "invalid job name", false},
		{"long name", "default", strings.Repeat("a", 64), h, StateRunning, "invalid job name", false},
		{"bad hash", "default", "web", "sha256:xyz", StateRunning, "invalid spec hash", false},
		{"bad state", "default", "web", h, "exploded", "invalid job state", false},
		{"spec not stored", "default", "web", missing, StateRunning, "PutSpec first", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.CommitVersion(ctx, c.ns, c.job, c.hash, 0, c.state)
			if err == nil || !strings.Contains(err.Error(), c.errPart) || errors.Is(err, ErrNotFound) != c.notFound {
				t.Errorf("CommitVersion = %v; want an error containing %q (not found: %v)", err, c.errPart, c.notFound)
			}
		})
	}
	if _, err := s.Job(ctx, "a.b", "c"); err == nil {
		t.Error("Job accepted a namespace with a dot")
	}
	if jobs, _ := s.Jobs(ctx); len(jobs) != 0 {
		t.Errorf("failed commits left jobs: %+v", jobs)
	}
}

func testUpdateStatus(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	h := putSpecs(t, s, "web", 1)[0]
	if _, err := s.UpdateStatus(ctx, "default", "web", func(*JobStatus) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateStatus before apply: %v", err)
	}
	st, err := s.CommitVersion(ctx, "default", "web", h, 0, StateDeploying)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateStatus(ctx, "default", "web", func(j *JobStatus) error {
		j.State, j.Message = StateRunning, "3 of 3 healthy"
		return nil
	})
	if err != nil || got.State != StateRunning || got.Message != "3 of 3 healthy" || got.Revision != st.Revision+1 || got.Version != 1 {
		t.Fatalf("UpdateStatus = %+v, %v", got, err)
	}
	// No change, no new revision.
	same, err := s.UpdateStatus(ctx, "default", "web", func(j *JobStatus) error { return nil })
	if err != nil || same.Revision != got.Revision {
		t.Fatalf("no-op UpdateStatus = %+v, %v", same, err)
	}
	// The update function's error stops it.
	stop := errors.New("stop")
	if _, err := s.UpdateStatus(ctx, "default", "web", func(*JobStatus) error { return stop }); err != stop {
		t.Fatalf("UpdateStatus returned %v, want the function's error", err)
	}
	// Only state and message may change.
	for name, f := range map[string]func(*JobStatus){
		"version":  func(j *JobStatus) { j.Version++ },
		"hash":     func(j *JobStatus) { j.Hash = "" },
		"revision": func(j *JobStatus) { j.Revision = 99 },
		"name":     func(j *JobStatus) { j.Name = "other" },
	} {
		if _, err := s.UpdateStatus(ctx, "default", "web", func(j *JobStatus) error { f(j); return nil }); err == nil || !strings.Contains(err.Error(), "only State and Message") {
			t.Errorf("changing %s: %v", name, err)
		}
	}
	if _, err := s.UpdateStatus(ctx, "default", "web", func(j *JobStatus) error { j.State = "weird"; return nil }); err == nil {
		t.Error("UpdateStatus accepted an unknown state")
	}
	final, _ := s.Job(ctx, "default", "web")
	if final.Revision != got.Revision || final.State != StateRunning {
		t.Errorf("failed updates changed the job: %+v", final)
	}
}

// testUpdateStatusConcurrent: writers that each add one to a counter kept
// in the message lose no update, thanks to compare-and-set and retries.
func testUpdateStatusConcurrent(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	h := putSpecs(t, s, "web", 1)[0]
	st, err := s.CommitVersion(ctx, "default", "web", h, 0, StateRunning)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdateStatus(ctx, "default", "web", func(j *JobStatus) error {
					n, _ := strconv.Atoi(j.Message)
					j.Message = strconv.Itoa(n + 1)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Job(ctx, "default", "web")
	if err != nil || got.Message != strconv.Itoa(writers*each) || got.Revision != st.Revision+writers*each {
		t.Fatalf("after %d increments: %+v, %v", writers*each, got, err)
	}
}
