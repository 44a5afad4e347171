package state

import (
	"context"
	"fmt"
)

// AcceptLoss makes a damaged store usable again with what is left, for an
// operator who has no backup to restore: it deletes the executions of job
// versions that the job's status no longer reaches, and those and the
// version records of jobs whose status was lost (their versions are gone,
// and a rollout would otherwise run over them), and, for an embedded
// store, records the streams as they are now as the new watermark. It
// returns what it deleted. Damage it cannot mend (a spec whose bytes were
// changed) is left for Check to report.
func (s *Store) AcceptLoss(ctx context.Context) ([]string, error) {
	removed, err := s.removeLostExecutions(ctx)
	if err != nil {
		return removed, err
	}
	records, err := s.removeStatuslessRecords(ctx)
	removed = append(removed, records...)
	if err != nil {
		return removed, err
	}
	if s.dir != "" {
		if err := s.saveWatermark(ctx); err != nil {
			return removed, err
		}
		if err := clearDamage(s.dir); err != nil {
			return removed, err
		}
		if s.markStop == nil {
			s.startWatermark()
		}
	}
	s.damage = nil
	return removed, nil
}

// removeLostExecutions deletes every execution of a version beyond its
// job's status.
func (s *Store) removeLostExecutions(ctx context.Context) ([]string, error) {
	jr, err := s.readJobRecords(ctx)
	if err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, ">")
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		x, err := decodeExecution(e)
		if err != nil {
			continue
		}
		version := 0
		if se, ok := jr.status[x.JobID]; ok {
			st, err := decodeStatus(se)
			if err != nil {
				continue
			}
			version = st.Version
		}
		if x.JobVersion <= version {
			continue
		}
		if err := kv.Delete(ctx, e.Key()); err != nil {
			return removed, fmt.Errorf("delete execution %s: %w", x.ID, err)
		}
		removed = append(removed, fmt.Sprintf("execution %s/%s of lost version %d", x.JobID, x.ID, x.JobVersion))
	}
	return removed, nil
}

// removeStatuslessRecords deletes the version records of jobs that have no
// status, beyond a first commit's orphans.
func (s *Store) removeStatuslessRecords(ctx context.Context) ([]string, error) {
	jr, err := s.readJobRecords(ctx)
	if err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, job := range sortedKeysOf(jr.versions) {
		if _, ok := jr.status[job]; ok || highestVersion(jr.versions[job]) <= 1 {
			continue
		}
		for _, key := range sortedKeysOf(jr.versions[job]) {
			if err := kv.Delete(ctx, key); err != nil {
				return removed, fmt.Errorf("delete %s: %w", key, err)
			}
		}
		removed = append(removed, fmt.Sprintf("the version records of job %s, whose status was lost", job))
	}
	return removed, nil
}
