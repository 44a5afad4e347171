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
	// Wave is the set being rolled out now: 0 the canary, 1.. the waves.
	Wave int `json:"wave"`
	// WavesDone counts the sets (canary included) that finished.
	WavesDone int `json:"waves_done"`
	// Healthy and Unhealthy count the executions (batch and ops: completed
	// and failed) judged so far.
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	// State is the job state the rollout is in or left: deploying,
	// rollout_paused, running, degraded, completed, rollout_failed, failed
	// or queued.
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	// RolledBackTo is the version an automatic rollback recorded, 0 if none.
	RolledBackTo int       `json:"rolled_back_to,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// EndedAt is zero while the rollout goes on (or waits for promote).
	EndedAt time.Time `json:"ended_at,omitzero"`
}

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
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return err
	}
	r.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, rolloutKey(r.Namespace, r.Name, r.Version), b); err != nil {
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
