package state

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Rollout is the record of the rollout of one version of a job: how it was
// cut (strategy, canary, waves), how far it came and how it ended. The
// rollout engine writes it as it goes; status and history read it.
type Rollout struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Version   int    `json:"version"`
	// Strategy is the job's rollout.strategy: immediate, rolling or canary.
	Strategy string `json:"strategy"`
	// Canary lists the nodes of the canary set; Waves the nodes of each
	// wave after it.
	Canary []string   `json:"canary,omitempty"`
	Waves  [][]string `json:"waves,omitempty"`
	// CanaryExecutions counts the canary's executions per canary node for
	// jobs with a count (batch and service), whose canary_count counts
	// executions; nil for ops and daemon jobs, whose canary is whole nodes.
	CanaryExecutions map[string]int `json:"canary_executions,omitempty"`
	// Wave is the set being rolled out now, or the last one rolled out: 0
	// the canary, 1.. the waves.
	Wave int `json:"wave"`
	// WavesDone counts the sets (canary included) that finished. The set
	// Wave finished when WavesDone is past it (see SetDone).
	WavesDone int `json:"waves_done"`
	// Healthy and Unhealthy count the executions (batch and ops: completed
	// and failed) judged so far.
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	// State is the job state the rollout is in or left: deploying,
	// rollout_paused, running, degraded, completed, rollout_failed, failed
	// or queued.
	State   JobState `json:"state"`
	Message string   `json:"message,omitempty"`
	// Outcome is how the rollout ended, one of the Outcome constants; ""
	// while it goes on, waits for promote, or waits for a node.
	Outcome string `json:"outcome,omitempty"`
	// RolledBackTo is the version that rolled this one back (an automatic
	// rollback, or 'muster rollback'), 0 if none.
	RolledBackTo int `json:"rolled_back_to,omitempty"`
	// RolledBackFrom is the version this one rolled back, 0 if it is not
	// a rollback.
	RolledBackFrom int `json:"rolled_back_from,omitempty"`
	// SupersededBy is the newer version whose rollout replaced this one
	// before it ended, 0 if none.
	SupersededBy int       `json:"superseded_by,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// EndedAt is zero while the rollout goes on (or waits for promote).
	EndedAt time.Time `json:"ended_at,omitzero"`
}

// Rollout outcomes, the values of Rollout.Outcome.
const (
	// OutcomeCompleted: every set rolled out (batch and ops executions
	// completed; service and daemon executions are running, or degraded).
	OutcomeCompleted = "completed"
	// OutcomeFailed: the rollout broke its failure limits and stayed in
	// place (no_auto_rollback, or no earlier stable version).
	OutcomeFailed = "failed"
	// OutcomeRolledBack: a newer version (RolledBackTo) rolled it back,
	// automatically after it failed or through 'muster rollback'.
	OutcomeRolledBack = "rolled_back"
	// OutcomeSuperseded: a newer version (SupersededBy) was applied
	// before this rollout ended.
	OutcomeSuperseded = "superseded"
	// OutcomeStopped: 'muster stop' stopped it before it ended.
	OutcomeStopped = "stopped"
)

// Outcomes lists every rollout outcome.
var Outcomes = []string{OutcomeCompleted, OutcomeFailed, OutcomeRolledBack, OutcomeSuperseded, OutcomeStopped}

// Ended reports whether the rollout ended: it has an outcome, or an end
// time (a record written before outcomes were kept).
func (r *Rollout) Ended() bool { return r.Outcome != "" || !r.EndedAt.IsZero() }

// SetsBefore is the value of WavesDone when set i starts: the sets before
// it that the rollout has (an empty canary set is none).
func (r *Rollout) SetsBefore(i int) int {
	if len(r.Canary) == 0 {
		return max(i-1, 0)
	}
	return i
}

// SetDone reports whether the set Wave finished.
func (r *Rollout) SetDone() bool { return r.WavesDone > r.SetsBefore(r.Wave) }

// Sets is the number of sets the rollout has: the canary (when it has
// one) and the waves.
func (r *Rollout) Sets() int {
	n := len(r.Waves)
	if len(r.Canary) > 0 {
		n++
	}
	return n
}

func rolloutPrefix(ns, name string) string { return "rollout." + ns + "." + name + "." }

func rolloutKey(ns, name string, version int) string {
	return rolloutPrefix(ns, name) + strconv.Itoa(version)
}

// PutRollout stores the record of a rollout, replacing the one of the same
// job version. Only the control plane driving the rollout writes it.
func (s *Store) PutRollout(ctx context.Context, r Rollout) error {
	if err := CheckJob(r.Namespace, r.Name); err != nil {
		return err
	}
	if r.Version < 1 {
		return invalidf("rollout of %s: version %d is not a version", jobWhat(r.Namespace, r.Name), r.Version)
	}
	if r.Outcome != "" {
		if err := checkState("rollout outcome", r.Outcome, Outcomes); err != nil {
			return err
		}
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return err
	}
	r.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := s.kvPut(ctx, kv, rolloutKey(r.Namespace, r.Name, r.Version), b); err != nil {
		return fmt.Errorf("record the rollout of %s version %d: %w", jobWhat(r.Namespace, r.Name), r.Version, err)
	}
	return nil
}

// Rollouts returns the rollout records of job ns/name, oldest version
// first; versions never rolled out (or rolled out before records were
// kept) have none.
func (s *Store) Rollouts(ctx context.Context, ns, name string) ([]Rollout, error) {
	if err := CheckJob(ns, name); err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, rolloutPrefix(ns, name)+"*")
	if err != nil {
		return nil, fmt.Errorf("read the rollouts of %s: %w", jobWhat(ns, name), err)
	}
	out := make([]Rollout, 0, len(entries))
	for _, e := range entries {
		var r Rollout
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, damagedf("decode %s: %v", e.Key(), err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Rollout returns the record of the rollout of one version of job ns/name,
// or an error matching ErrNotFound when that version has none.
func (s *Store) Rollout(ctx context.Context, ns, name string, version int) (Rollout, error) {
	if err := CheckJob(ns, name); err != nil {
		return Rollout{}, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return Rollout{}, err
	}
	e, err := kvGet(ctx, kv, rolloutKey(ns, name, version))
	if isNotFound(err) {
		return Rollout{}, notFound("rollout of %s version %d", jobWhat(ns, name), version)
	}
	if err != nil {
		return Rollout{}, fmt.Errorf("read the rollout of %s version %d: %w", jobWhat(ns, name), version, err)
	}
	var r Rollout
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return Rollout{}, damagedf("decode %s: %v", e.Key(), err)
	}
	return r, nil
}
