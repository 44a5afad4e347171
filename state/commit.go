package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/nats-io/nats.go/jetstream"
)

// maxUpdateAttempts bounds UpdateStatus's read-modify-write retries.
const maxUpdateAttempts = 100

// testHookBeforeStatus, when set (by tests only), runs in CommitVersion
// after the version record is written and before the status is.
var testHookBeforeStatus func()

// normalizeHash returns "sha256:<hex>" for a hash given with or without the
// prefix.
func normalizeHash(hash string) (string, error) {
	if err := CheckHash("spec", hash); err != nil {
		return "", err
	}
	return schema.HashPrefix + strings.TrimPrefix(hash, schema.HashPrefix), nil
}

// CommitVersion records a new version of a job whose spec is already stored
// with PutSpec, and sets its state (one of JobStates; the message is
// cleared). A new version starts the job's lifecycle again in any state;
// committing the current hash only changes the state, which the job
// machine must allow (see UpdateStatus).
//
// It checks that the job's current Revision equals baseRevision (0: the job
// must not exist yet), writes the version record, then the status with a
// compare-and-set on the KV revision it read. If anything moved in between,
// it returns a *ConflictError naming the job, the base revision and the
// current one, and nothing is committed. A process that dies between the two
// writes leaves the old version in force.
//
// When hash is the job's current hash no version is added: only the state
// changes (and Revision grows). Committing the hash of an older version
// (a rollback) adds a new version with that hash. Returns the new status.
func (s *Store) CommitVersion(ctx context.Context, ns, name, hash string, baseRevision uint64, state JobState) (JobStatus, error) {
	if err := CheckJob(ns, name); err != nil {
		return JobStatus{}, err
	}
	hash, err := normalizeHash(hash)
	if err != nil {
		return JobStatus{}, err
	}
	if err := checkState("job state", state, JobStates); err != nil {
		return JobStatus{}, err
	}
	if _, err := s.Spec(ctx, hash); err != nil {
		if errors.Is(err, ErrNotFound) {
			return JobStatus{}, fmt.Errorf("commit %s: %w: store it with PutSpec first", jobWhat(ns, name), err)
		}
		return JobStatus{}, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return JobStatus{}, err
	}
	cur, err := readStatus(ctx, kv, ns, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return JobStatus{}, err
	}
	if cur.Revision != baseRevision {
		return JobStatus{}, &ConflictError{What: jobWhat(ns, name), Base: baseRevision, Current: cur.Revision}
	}
	if hash == cur.Hash && cur.State != "" {
		if err := CheckJobTransition(jobWhat(ns, name), cur.State, state); err != nil {
			return JobStatus{}, err
		}
	}
	if hash != cur.Hash {
		// A version number must never be given twice: executions of a
		// version beyond the status mean the status lost writes.
		execs, err := s.Executions(ctx, ns, name)
		if err != nil {
			return JobStatus{}, err
		}
		if err := CheckRollout(execs, ns, name, cur.Version); err != nil {
			return JobStatus{}, err
		}
	}
	now := time.Now().UTC()
	next := cur
	next.Namespace, next.Name = ns, name
	next.Revision = cur.Revision + 1
	next.State, next.Message, next.UpdatedAt = state, "", now
	newVersion := hash != cur.Hash
	var recRev uint64
	if newVersion {
		next.Version, next.Hash = cur.Version+1, hash
		// The record's content is fixed by (job, version, hash): the
		// previous hash is that of the one committed version before it. So
		// racing writers of the same key write the same record, and a
		// record is never taken for another one.
		rec, _ := json.Marshal(versionRecord{Version: next.Version, Hash: hash, Prev: cur.Hash, CreatedAt: now})
		// A plain Put, not a compare-and-set: an orphan under the same key
		// holds the same record, and overwriting it is what we want.
		if recRev, err = s.kvPut(ctx, kv, versionKey(ns, name, next.Version, hash), rec); err != nil {
			return JobStatus{}, fmt.Errorf("commit %s: write version %d: %w", jobWhat(ns, name), next.Version, err)
		}
	}
	if testHookBeforeStatus != nil {
		testHookBeforeStatus()
	}
	rev, err := s.writeStatus(ctx, kv, next, cur.kvRevision)
	if isCASFailure(err) {
		latest, _ := readStatus(ctx, kv, ns, name)
		if newVersion && latest.Version == next.Version && latest.Hash != hash {
			// Another hash won this version number: ours can never be
			// committed.
			_ = s.kvDelete(ctx, kv, versionKey(ns, name, next.Version, hash), recRev, false)
		}
		return JobStatus{}, &ConflictError{What: jobWhat(ns, name), Base: baseRevision, Current: latest.Revision}
	}
	if err != nil {
		return JobStatus{}, fmt.Errorf("commit %s: write status: %w", jobWhat(ns, name), err)
	}
	next.kvRevision = rev
	return next, nil
}

// writeStatus stores st with a compare-and-set: Create when kvRev is 0 (the
// job has no status yet), else Update on kvRev.
func (s *Store) writeStatus(ctx context.Context, kv jetstream.KeyValue, st JobStatus, kvRev uint64) (uint64, error) {
	val, err := json.Marshal(st)
	if err != nil {
		return 0, err
	}
	key := statusKey(st.Namespace, st.Name)
	if kvRev == 0 {
		return s.kvCreate(ctx, kv, key, val)
	}
	return s.kvUpdate(ctx, kv, key, val, kvRev)
}

// UpdateStatus changes a job's State and Message: it reads the status,
// calls update on a copy, and writes the result with a compare-and-set
// (Revision grows by one; nothing is written when update changed nothing).
//
// If another writer moved the status in between, UpdateStatus reads it again
// and calls update again with the fresh status: update decides whether the
// change still applies, and stops the retries by returning an error, which
// UpdateStatus returns as is (return a *ConflictError to report a conflict).
// update may change only State (to one of JobStates, as the job machine
// allows: see JobState.CanBecome) and Message; a transition the machine
// does not allow fails with *TransitionError, and nothing is written. A
// job that was never applied fails with ErrNotFound.
func (s *Store) UpdateStatus(ctx context.Context, ns, name string, update func(*JobStatus) error) (JobStatus, error) {
	if err := CheckJob(ns, name); err != nil {
		return JobStatus{}, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return JobStatus{}, err
	}
	for attempt := 0; ; attempt++ {
		cur, err := readStatus(ctx, kv, ns, name)
		if err != nil {
			return JobStatus{}, err
		}
		next := cur
		if err := update(&next); err != nil {
			return JobStatus{}, err
		}
		if next.Namespace != cur.Namespace || next.Name != cur.Name || next.Version != cur.Version ||
			next.Hash != cur.Hash || next.Revision != cur.Revision || next.kvRevision != cur.kvRevision {
			return JobStatus{}, fmt.Errorf("update %s: UpdateStatus may change only State and Message (use CommitVersion for a new version)", jobWhat(ns, name))
		}
		if err := checkState("job state", next.State, JobStates); err != nil {
			return JobStatus{}, err
		}
		if err := CheckJobTransition(jobWhat(ns, name), cur.State, next.State); err != nil {
			s.log().Warn("refused a job state change", "job", ns+"/"+name, "version", cur.Version, "err", err)
			return JobStatus{}, err
		}
		if next.State == cur.State && next.Message == cur.Message {
			return cur, nil
		}
		next.Revision = cur.Revision + 1
		next.UpdatedAt = time.Now().UTC()
		rev, err := s.writeStatus(ctx, kv, next, cur.kvRevision)
		if err == nil {
			next.kvRevision = rev
			return next, nil
		}
		if !isCASFailure(err) {
			return JobStatus{}, fmt.Errorf("update %s: %w", jobWhat(ns, name), err)
		}
		s.log().Debug("a job's status moved while it was updated; reading it again", "job", ns+"/"+name, "attempt", attempt+1)
		if attempt+1 >= maxUpdateAttempts {
			latest, _ := readStatus(ctx, kv, ns, name)
			return JobStatus{}, &ConflictError{What: jobWhat(ns, name), Base: cur.Revision, Current: latest.Revision,
				Reason: fmt.Sprintf("gave up after %d attempts", maxUpdateAttempts)}
		}
		if err := ctx.Err(); err != nil {
			return JobStatus{}, err
		}
	}
}
