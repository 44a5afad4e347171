package apply

import (
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// startPoint is where the rollout of a version begins, read from the
// version's rollout record (see startFrom).
type startPoint struct {
	// fresh: there is no rollout to continue; a new record starts.
	fresh bool
	// steady: the rollout ended and the version runs (service, daemon):
	// its executions are taken over as they are, no set is rolled out.
	steady bool
	// set is the first set to roll out: 0 the canary, 1.. the waves.
	set int
	// promoted: the rollout is past its canary pause (set 1 started), so
	// it does not pause again.
	promoted bool
	// rest: the rollout's sets ran, and it waited for room for the
	// executions they could not place (a batch or ops job): it goes on
	// waiting for those only.
	rest bool
}

// startFrom decides where the rollout of a version begins. rec is the
// version's rollout record, nil when it has none. resume is set when a
// control plane takes over what an earlier one left (a restart), jobState
// is then the job's stored state.
//
//   - no record: a fresh rollout; a resumed job that runs (a record was
//     never written) is taken over steady.
//   - an ended record: a resumed running version is taken over steady,
//     anything else (apply of a stopped job) rolls out afresh; so does a
//     queued one that ran nothing. One queued after its sets ran, waiting
//     for room for the executions they could not place, goes on waiting.
//   - a record under way: the set it was rolling out is rolled out again,
//     adopting what runs and what completed; a set that finished is not,
//     the next one follows. A canary that finished and was not promoted
//     pauses again.
func startFrom(rec *state.Rollout, resume bool, jobState state.JobState) startPoint {
	running := jobState.Steady()
	switch {
	case rec == nil && resume && running:
		return startPoint{steady: true}
	case rec == nil:
		return startPoint{fresh: true}
	case rec.Ended() && resume && running:
		return startPoint{steady: true}
	case rec.Ended():
		return startPoint{fresh: true}
	case rec.State == state.StateQueued && rec.WavesDone > 0:
		// Its sets ran; it waits for room for the rest.
		return startPoint{set: rec.Wave + 1, promoted: true, rest: true}
	case rec.State == state.StateQueued:
		// Nothing ran, and its sets were cut when no node could take it.
		return startPoint{fresh: true}
	}
	p := startPoint{set: rec.Wave, promoted: rec.Wave >= 1}
	if rec.SetDone() {
		p.set++
	}
	return p
}

// pausesForCanary reports whether a rollout waits for 'muster promote'
// after its canary set: a canary strategy without auto_promote, a canary
// set with waves after it, not promoted already, and a version that has
// something to protect (not the job's first version, not a rollback).
func pausesForCanary(j *schema.Job, pl plan.Placement, promoted, firstOrRollback bool) bool {
	return j.Rollout.Strategy == schema.Canary && !j.Rollout.AutoPromote && !promoted && !firstOrRollback &&
		len(pl.Canary) > 0 && len(pl.Waves) > 0
}

// lineage says where a version stands among the job's versions: first,
// when it has no earlier version; rollbackOf, the version it rolls back
// (the one before it) when its spec is the spec of an earlier version
// than that one and not that one's, else 0.
func lineage(versions []state.Version, version int) (first bool, rollbackOf int) {
	var cur, prev *state.Version
	for i := range versions {
		switch v := &versions[i]; v.Version {
		case version:
			cur = v
		case version - 1:
			prev = v
		}
	}
	first = true
	for _, v := range versions {
		if v.Version < version {
			first = false
		}
	}
	if cur == nil || prev == nil || prev.Hash == cur.Hash {
		return first, 0
	}
	for _, v := range versions {
		if v.Version < prev.Version && v.Hash == cur.Hash {
			return first, prev.Version
		}
	}
	return first, 0
}

// closeEarlier returns the earlier rollout records that the rollout of
// version, which rolls back rollbackOf (0: none), closes: the one it rolls
// back is marked rolled back to version (unless it is marked already, or
// was superseded or stopped), and any other that had not ended is marked
// superseded by version.
func closeEarlier(recs []state.Rollout, version, rollbackOf int) []state.Rollout {
	var out []state.Rollout
	for _, p := range recs {
		if p.Version >= version {
			continue
		}
		switch {
		case p.Version == rollbackOf && (p.Outcome == "" || p.Outcome == state.OutcomeCompleted || p.Outcome == state.OutcomeFailed):
			p.Outcome, p.RolledBackTo = state.OutcomeRolledBack, version
		case !p.Ended():
			p.Outcome, p.SupersededBy = state.OutcomeSuperseded, version
		default:
			continue
		}
		out = append(out, p)
	}
	return out
}
