package state

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/nats-io/nats.go/jetstream"
)

// JobStatus is the stored status of a job: one KV key per job, whose write
// is the commit point of every change. The zero value is "never applied".
// Its JSON form (MarshalJSON) writes State and Message as one object,
// state: {state_type, message}.
type JobStatus struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Version is the job's current version, 1 for the first; it grows by one
	// each time the spec hash changes.
	Version int `json:"version"`
	// Hash is the spec hash ("sha256:<hex>") of Version.
	Hash string `json:"hash"`
	// Revision is the user-facing revision: it grows by one on every change
	// of this status (new version, state or message). Plans record it as
	// their base revision.
	Revision uint64 `json:"revision"`
	// State is one of JobStates; it changes as the job machine allows
	// (see JobState.CanBecome).
	State     JobState  `json:"state"`
	Message   string    `json:"message,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`

	// kvRevision is the KV entry revision this status was read at, used for
	// compare-and-set. It is not part of the stored value.
	kvRevision uint64
}

// Version is one committed version of a job.
type Version struct {
	Version   int       `json:"version"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// versionRecord is the stored value of a version key. Prev, the hash of the
// version before, chains the records from the status back to version 1, so
// that an orphan (written by a commit that then lost or crashed) is never
// mistaken for a committed version.
type versionRecord struct {
	Version   int       `json:"version"`
	Hash      string    `json:"hash"`
	Prev      string    `json:"prev,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func statusKey(ns, name string) string { return "status." + ns + "." + name }

func versionPrefix(ns, name string) string { return "version." + ns + "." + name + "." }

func versionKey(ns, name string, n int, hash string) string {
	return versionPrefix(ns, name) + strconv.Itoa(n) + "." + strings.TrimPrefix(hash, schema.HashPrefix)
}

// jobWhat names a job in errors.
func jobWhat(ns, name string) string { return "job " + ns + "/" + name }

// Job returns the status of a job, or an error matching ErrNotFound if the
// job was never applied.
func (s *Store) Job(ctx context.Context, ns, name string) (JobStatus, error) {
	if err := CheckJob(ns, name); err != nil {
		return JobStatus{}, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return JobStatus{}, err
	}
	return readStatus(ctx, kv, ns, name)
}

func readStatus(ctx context.Context, kv jetstream.KeyValue, ns, name string) (JobStatus, error) {
	e, err := kvGet(ctx, kv, statusKey(ns, name))
	if isNotFound(err) {
		return JobStatus{}, notFound("%s", jobWhat(ns, name))
	}
	if err != nil {
		return JobStatus{}, fmt.Errorf("read %s: %w", jobWhat(ns, name), err)
	}
	return decodeStatus(e)
}

func decodeStatus(e jetstream.KeyValueEntry) (JobStatus, error) {
	var st JobStatus
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return JobStatus{}, damagedf("decode %s: %v", e.Key(), err)
	}
	st.kvRevision = e.Revision()
	return st, nil
}

// Jobs returns the status of every job, sorted by namespace and name.
func (s *Store) Jobs(ctx context.Context) ([]JobStatus, error) {
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, "status.>")
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]JobStatus, 0, len(entries))
	for _, e := range entries {
		st, err := decodeStatus(e)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// History returns the committed versions of a job, oldest first. Version
// records that no commit reached (a crash or a lost race between writing
// the record and the status) are not listed, and are deleted as garbage.
func (s *Store) History(ctx context.Context, ns, name string) ([]Version, error) {
	if err := CheckJob(ns, name); err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return nil, err
	}
	// The status first: every record it reaches was written before it.
	st, err := readStatus(ctx, kv, ns, name)
	if err != nil {
		return nil, err
	}
	for wait := time.Duration(0); ; wait += historyCatchUp / 10 {
		entries, err := watchValues(ctx, kv, versionPrefix(ns, name)+">")
		if err != nil {
			return nil, fmt.Errorf("read history of %s: %w", jobWhat(ns, name), err)
		}
		byKey := make(map[string]jetstream.KeyValueEntry, len(entries))
		for _, e := range entries {
			byKey[e.Key()] = e
		}
		out, err := walkChain(st, byKey)
		if err == nil {
			s.collectOrphans(ctx, kv, ns, name, st.Version, byKey)
			return out, nil
		}
		// The status comes from the stream's leader, the watch from a
		// consumer that a copy of the stream may serve: a copy that
		// rejoined after a partition can lag behind for a moment. A
		// record still missing after historyCatchUp is damage.
		if wait >= historyCatchUp {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(historyCatchUp / 10):
		}
	}
}

// historyCatchUp is how long History waits for a copy of the jobs' stream
// to catch up before it takes a missing version record for damage.
const historyCatchUp = 2 * time.Second

// walkChain follows the version records of job status st from its current
// version back to version 1, taking each from byKey (the job's records by
// key), and returns the versions oldest first. What it leaves in byKey is
// not on the chain. A missing or inconsistent record is damage.
func walkChain(st JobStatus, byKey map[string]jetstream.KeyValueEntry) ([]Version, error) {
	ns, name := st.Namespace, st.Name
	out := make([]Version, st.Version)
	hash := st.Hash
	for n := st.Version; n >= 1; n-- {
		key := versionKey(ns, name, n, hash)
		e, ok := byKey[key]
		if !ok {
			return nil, damagedf("history of %s: version %d (%s) has no record", jobWhat(ns, name), n, hash)
		}
		delete(byKey, key)
		var rec versionRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return nil, damagedf("decode %s: %v", key, err)
		}
		if rec.Version != n || rec.Hash != hash {
			return nil, damagedf("history of %s: the record of version %d (%s) says version %d (%s)", jobWhat(ns, name), n, hash, rec.Version, rec.Hash)
		}
		out[n-1] = Version{Version: n, Hash: hash, CreatedAt: rec.CreatedAt}
		hash = rec.Prev
	}
	return out, nil
}

// collectOrphans deletes, best effort, version records at or below the
// committed version that are not on the committed chain: no commit can reach
// them any more.
func (s *Store) collectOrphans(ctx context.Context, kv jetstream.KeyValue, ns, name string, committed int, rest map[string]jetstream.KeyValueEntry) {
	prefix := versionPrefix(ns, name)
	for key, e := range rest {
		num, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), ".")
		if n, err := strconv.Atoi(num); err == nil && n <= committed {
			_ = s.kvDelete(ctx, kv, key, e.Revision(), false)
		}
	}
}
