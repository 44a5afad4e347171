package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/muster-dev/muster/state"
)

// launchStore is the store a launch's run sees (see Controller.Launch): the
// engine rolls the launch out as it would a version, but sees only the
// launch's executions, keeps its rollout record in the launch's record,
// and leaves the job's status and versions alone: what it would record
// there goes into the launch's record instead. It sees the launched
// version alone, so a failed launch is not rolled back: the next one runs
// the same spec.
type launchStore struct {
	Store
	mu  sync.Mutex
	rec state.Launch
}

// record returns the launch's record as last written.
func (s *launchStore) record() state.Launch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec
}

// update changes the launch's record and writes it.
func (s *launchStore) update(ctx context.Context, change func(*state.Launch)) (state.Launch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.rec
	change(&l)
	l, err := s.Store.UpdateLaunch(ctx, l)
	if err != nil {
		return s.rec, err
	}
	s.rec = l
	return l, nil
}

func (s *launchStore) Executions(ctx context.Context, ns, name string) ([]state.Execution, error) {
	all, err := s.Store.Executions(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	id := s.record().ID
	out := all[:0:0]
	for _, x := range all {
		if x.EvalID == id {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *launchStore) History(ctx context.Context, ns, name string) ([]state.Version, error) {
	all, err := s.Store.History(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	v := s.record().Version
	for _, x := range all {
		if x.Version == v {
			return []state.Version{x}, nil
		}
	}
	return nil, fmt.Errorf("version %d of %s/%s %w", v, ns, name, state.ErrNotFound)
}

func (s *launchStore) Rollout(ctx context.Context, ns, name string, version int) (state.Rollout, error) {
	if r := s.record().Rollout; r != nil && r.Version == version {
		return *r, nil
	}
	return state.Rollout{}, fmt.Errorf("rollout of launch %s %w", s.record().ID, state.ErrNotFound)
}

func (s *launchStore) Rollouts(ctx context.Context, ns, name string) ([]state.Rollout, error) {
	if r := s.record().Rollout; r != nil {
		return []state.Rollout{*r}, nil
	}
	return nil, nil
}

func (s *launchStore) PutRollout(ctx context.Context, r state.Rollout) error {
	_, err := s.update(ctx, func(l *state.Launch) { l.Rollout = &r })
	return err
}

// UpdateStatus gives update the job's status to change as it would, and
// records the state and message it leaves in the launch's record; the
// job's status is not written.
func (s *launchStore) UpdateStatus(ctx context.Context, ns, name string, update func(*state.JobStatus) error) (state.JobStatus, error) {
	js, err := s.Store.Job(ctx, ns, name)
	if err != nil {
		return js, err
	}
	js.Version = s.record().Version
	if err := update(&js); err != nil {
		return js, err
	}
	_, err = s.update(ctx, func(l *state.Launch) {
		if st := launchState(js.State); st != "" {
			l.State = st
		}
		l.Message = js.Message
	})
	return js, err
}

// CommitVersion is refused: a launch records no version (its rollout is
// never rolled back, since it sees one version only).
func (s *launchStore) CommitVersion(context.Context, string, string, string, uint64, state.JobState) (state.JobStatus, error) {
	return state.JobStatus{}, errors.New("a launch records no version")
}

// launchState is the launch state a job state of its run means; "" when
// it does not change the launch's.
func launchState(st state.JobState) string {
	switch st {
	case state.StateDeploying, state.StatePending:
		return state.LaunchRunning
	case state.StateQueued:
		return state.LaunchQueued
	case state.StateCompleted:
		return state.LaunchCompleted
	case state.StateFailed, state.StateRolloutFailed:
		return state.LaunchFailed
	case state.StateStopped:
		return state.LaunchStopped
	}
	return ""
}
