package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/state"
)

// movingJob is a Backend whose job moves on by itself: each commit at an
// old revision is refused, as the store refuses it, and the job is then at
// status now.
type movingJob struct {
	api.Backend
	now     state.JobStatus
	commits []uint64 // the base revisions of the commits asked for
}

func (m *movingJob) CommitVersion(_ context.Context, _, _, _ string, base uint64, _ state.JobState) (state.JobStatus, error) {
	m.commits = append(m.commits, base)
	if base != m.now.Revision {
		return state.JobStatus{}, &state.ConflictError{What: "job default/web", Base: base, Current: m.now.Revision}
	}
	return state.JobStatus{Version: m.now.Version + 1, Revision: base + 1}, nil
}

func (m *movingJob) Job(context.Context, string, string) (state.JobStatus, error) { return m.now, nil }

func TestCommitOverAStateChange(t *testing.T) {
	planned := plan.JobPlan{Namespace: "default", Name: "web", Action: plan.Update, FromVersion: 2, FromHash: "sha256:aa", ToHash: "sha256:bb", BaseRevision: 6}
	for _, tc := range []struct {
		name    string
		now     state.JobStatus
		saved   bool
		commits []uint64
		ok      bool
	}{
		{"the control plane recorded a state", state.JobStatus{Version: 2, Hash: "sha256:aa", Revision: 7}, false, []uint64{6, 7}, true},
		{"a saved plan stays exact", state.JobStatus{Version: 2, Hash: "sha256:aa", Revision: 7}, true, []uint64{6}, false},
		{"another apply made a version", state.JobStatus{Version: 3, Hash: "sha256:cc", Revision: 7}, false, []uint64{6}, false},
		{"nothing moved", state.JobStatus{Version: 2, Hash: "sha256:aa", Revision: 6}, false, []uint64{6}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &movingJob{now: tc.now}
			_, err := commit(context.Background(), &plane{Backend: m}, planned, tc.saved)
			var conflict *state.ConflictError
			if ok := err == nil; ok != tc.ok || !tc.ok && !errors.As(err, &conflict) {
				t.Fatalf("commit: %v, want ok %v (or a conflict)", err, tc.ok)
			}
			if len(m.commits) != len(tc.commits) || m.commits[0] != tc.commits[0] || m.commits[len(m.commits)-1] != tc.commits[len(tc.commits)-1] {
				t.Fatalf("commits at revisions %v, want %v", m.commits, tc.commits)
			}
		})
	}
}
