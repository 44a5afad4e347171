package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/muster-dev/muster/metrics"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// rolloutRecord is the rollout's record in the store (state.Rollout), kept up to
// date as the rollout goes.
type rolloutRecord struct {
	mu  sync.Mutex
	rec state.Rollout
}

// newRecord starts the record of the rollout of r's version.
func (r *rollout) newRecord(st state.JobState) {
	j := r.job
	now := time.Now().UTC()
	r.rec.rec = state.Rollout{
		Namespace: j.Namespace, Name: j.Name, Version: r.version, Strategy: string(j.Rollout.Strategy),
		Canary: r.pl.Canary, CanaryExecutions: r.pl.CanaryExecutions, Waves: r.pl.Waves, State: st, StartedAt: now,
		RolledBackFrom: r.rollbackOf,
	}
	if len(r.pl.Canary) == 0 {
		r.rec.rec.Wave = 1
	}
}

// priorRecord returns the stored record of r's version, nil when it has
// none.
func (r *rollout) priorRecord(ctx context.Context) (*state.Rollout, error) {
	rec, err := r.Store.Rollout(ctx, r.job.Namespace, r.job.Name, r.version)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// update changes the record and stores it. The write is made even when
// ctx was cancelled: it says where the rollout stopped.
func (r *rollout) update(ctx context.Context, change func(*state.Rollout)) error {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	ended := r.rec.rec.Ended()
	change(&r.rec.rec)
	r.rec.rec.Message = sensitive.Redact(r.rec.rec.Message, r.hidden)
	if !ended {
		countEnd(r.rec.rec)
	}
	return r.Store.PutRollout(context.WithoutCancel(ctx), r.rec.rec)
}

// countEnd counts rec in the metrics if it has an outcome: call it where
// a record that had not ended is changed.
func countEnd(rec state.Rollout) {
	if rec.Outcome != "" {
		metrics.RolloutEnded(rec.Outcome, rec.StartedAt, rec.EndedAt)
	}
}

// ended records how the rollout ended: in job state st, with outcome.
func (r *rollout) ended(ctx context.Context, st state.JobState, outcome, msg string) error {
	return r.update(ctx, func(rec *state.Rollout) {
		rec.State, rec.Outcome, rec.Message, rec.EndedAt = st, outcome, msg, time.Now().UTC()
	})
}

// setStarted records that set i (0 the canary) starts: WavesDone counts
// the sets before it, so that a set rolled out again after a restart is
// not counted twice.
func (r *rollout) setStarted(ctx context.Context, i int) error {
	return r.update(ctx, func(rec *state.Rollout) {
		rec.Wave, rec.WavesDone, rec.State, rec.Message = i, rec.SetsBefore(i), state.StateDeploying, ""
	})
}

// setDone records that set i finished with healthy and unhealthy
// executions (batch and ops: completed and failed).
func (r *rollout) setDone(ctx context.Context, i, healthy, unhealthy int) error {
	return r.update(ctx, func(rec *state.Rollout) {
		rec.Wave, rec.WavesDone = i, rec.SetsBefore(i)+1
		rec.Healthy += healthy
		rec.Unhealthy += unhealthy
	})
}

// closeEarlier records the outcome of the earlier versions' rollouts that
// this one ends: superseded, or rolled back by it.
func (r *rollout) closeEarlier(ctx context.Context) error {
	recs, err := r.Store.Rollouts(ctx, r.job.Namespace, r.job.Name)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, p := range closeEarlier(recs, r.version, r.rollbackOf) {
		if p.EndedAt.IsZero() {
			// It had not ended: it does now.
			p.EndedAt = now
			countEnd(p)
		}
		switch p.Outcome {
		case state.OutcomeSuperseded:
			p.Message = fmt.Sprintf("superseded by version %d before it ended", r.version)
		case state.OutcomeRolledBack:
			p.Message = joinMessage(p.Message, fmt.Sprintf("rolled back to version %d", r.version))
		}
		if err := r.Store.PutRollout(context.WithoutCancel(ctx), p); err != nil {
			return err
		}
	}
	return nil
}

// joinMessage appends more to msg, unless msg says it already.
func joinMessage(msg, more string) string {
	switch {
	case msg == "":
		return more
	case len(msg) >= len(more) && msg[len(msg)-len(more):] == more:
		return msg
	}
	return msg + "; " + more
}
