package apply

import (
	"context"
	"sync"
	"time"

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
func (r *rollout) newRecord(st string) {
	j := r.job
	now := time.Now().UTC()
	r.rec.rec = state.Rollout{
		Namespace: j.Namespace, Name: j.Name, Version: r.version, Strategy: string(j.Rollout.Strategy),
		Canary: r.pl.Canary, Waves: r.pl.Waves, State: st, StartedAt: now,
	}
	if len(r.pl.Canary) == 0 {
		r.rec.rec.Wave = 1
	}
}

// update changes the record and stores it. The write is made even when
// ctx was cancelled: it says where the rollout stopped.
func (r *rollout) update(ctx context.Context, change func(*state.Rollout)) error {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	change(&r.rec.rec)
	r.rec.rec.Message = sensitive.Redact(r.rec.rec.Message, r.hidden)
	return r.Store.PutRollout(context.WithoutCancel(ctx), r.rec.rec)
}

// ended records how the rollout ended.
func (r *rollout) ended(ctx context.Context, st, msg string) error {
	return r.update(ctx, func(rec *state.Rollout) {
		rec.State, rec.Message, rec.EndedAt = st, msg, time.Now().UTC()
	})
}
