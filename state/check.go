package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/schema"
)

// Finding is one damaged record that Check found.
type Finding struct {
	// Record names what is damaged: "stream KV_jobs", "spec sha256:…",
	// "job default/web", "execution default/web/x12…", "document sha256:…".
	Record string `json:"record"`
	// Problem says what is wrong with it.
	Problem string `json:"problem"`
}

// CheckReport is what Check found. The store is sound when Findings is
// empty.
type CheckReport struct {
	// Counts says how many records of each kind were checked.
	Counts map[string]int `json:"checked"`
	// Findings lists every damaged record, in the order checked.
	Findings []Finding `json:"findings"`
}

// Damaged reports whether the check found anything.
func (r *CheckReport) Damaged() bool { return len(r.Findings) > 0 }

func (r *CheckReport) add(record, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Record: record, Problem: fmt.Sprintf(format, args...)})
}

// Check reads the whole store, changing nothing, and reports what is
// damaged: streams that lost writes (Damage), specs whose bytes do not
// hash to their name, job statuses and version chains that do not link,
// executions of versions their job never reached, undecodable records,
// and documents whose bytes do not hash to their name. progress, when
// not nil, is told what is being checked. The error is about reading the
// store, not about what it holds.
func (s *Store) Check(ctx context.Context, progress func(string)) (CheckReport, error) {
	r := CheckReport{Counts: map[string]int{}}
	if progress == nil {
		progress = func(string) {}
	}
	for _, p := range s.damage {
		r.add("streams", "%s", p)
	}
	steps := []struct {
		what string
		run  func(context.Context, *CheckReport) error
	}{
		{"specs", s.checkSpecs},
		{"jobs", s.checkJobs},
		{"executions", s.checkExecutions},
		{"nodes", s.checkNodes},
		{"documents", s.checkDocuments},
	}
	for _, step := range steps {
		progress(step.what)
		if err := step.run(ctx, &r); err != nil {
			return r, fmt.Errorf("check %s: %w", step.what, err)
		}
	}
	return r, nil
}

// allEntries returns the latest entry of every key of a bucket.
func (s *Store) allEntries(ctx context.Context, bucket string) ([]jetstream.KeyValueEntry, error) {
	kv, err := s.kv(ctx, bucket)
	if err != nil {
		return nil, err
	}
	return watchValues(ctx, kv, ">")
}

func (s *Store) checkSpecs(ctx context.Context, r *CheckReport) error {
	entries, err := s.allEntries(ctx, bucketSpecs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		r.Counts["specs"]++
		if _, err := checkSpecBytes(e.Key(), e.Value()); err != nil {
			r.add("spec "+schema.HashPrefix+e.Key(), "its stored bytes do not hash to its name: they were changed after they were stored")
		}
	}
	return nil
}

// jobRecords groups the jobs bucket: statuses by job, version records by
// job and key.
type jobRecords struct {
	status   map[string]jetstream.KeyValueEntry
	versions map[string]map[string]jetstream.KeyValueEntry
}

func (s *Store) readJobRecords(ctx context.Context) (jobRecords, error) {
	entries, err := s.allEntries(ctx, bucketJobs)
	if err != nil {
		return jobRecords{}, err
	}
	jr := jobRecords{status: map[string]jetstream.KeyValueEntry{}, versions: map[string]map[string]jetstream.KeyValueEntry{}}
	for _, e := range entries {
		parts := strings.SplitN(e.Key(), ".", 4)
		if len(parts) < 3 {
			continue
		}
		job := parts[1] + "/" + parts[2]
		switch parts[0] {
		case "status":
			jr.status[job] = e
		case "version":
			if jr.versions[job] == nil {
				jr.versions[job] = map[string]jetstream.KeyValueEntry{}
			}
			jr.versions[job][e.Key()] = e
		}
	}
	return jr, nil
}

func (s *Store) checkJobs(ctx context.Context, r *CheckReport) error {
	jr, err := s.readJobRecords(ctx)
	if err != nil {
		return err
	}
	for _, job := range sortedKeysOf(jr.status) {
		r.Counts["jobs"]++
		st, err := decodeStatus(jr.status[job])
		if err != nil {
			r.add("job "+job, "its status cannot be read: %v", err)
			continue
		}
		s.checkJob(ctx, r, st, jr.versions[job])
	}
	for _, job := range sortedKeysOf(jr.versions) {
		if _, ok := jr.status[job]; !ok {
			// A crash in the first commit leaves records of version 1
			// only; a later version was committed once.
			if n := highestVersion(jr.versions[job]); n > 1 {
				r.add("job "+job, "a record of version %d exists, but the job has no status: the status was lost", n)
			}
		}
	}
	return nil
}

// highestVersion is the highest version number among version records.
func highestVersion(records map[string]jetstream.KeyValueEntry) int {
	top := 0
	for key := range records {
		parts := strings.Split(key, ".")
		if len(parts) == 5 {
			if n, err := strconv.Atoi(parts[3]); err == nil && n > top {
				top = n
			}
		}
	}
	return top
}

// checkJob checks one job's status against its spec and version records.
func (s *Store) checkJob(ctx context.Context, r *CheckReport, st JobStatus, records map[string]jetstream.KeyValueEntry) {
	what := "job " + st.Namespace + "/" + st.Name
	if _, err := s.Spec(ctx, st.Hash); err != nil {
		r.add(what, "the spec of its version %d cannot be read: %v", st.Version, err)
	}
	rest := make(map[string]jetstream.KeyValueEntry, len(records))
	for k, e := range records {
		rest[k] = e
	}
	if _, err := walkChain(st, rest); err != nil {
		r.add(what, "%s", strings.TrimSuffix(err.Error(), ": "+ErrDamaged.Error()))
	}
	prefix := versionPrefix(st.Namespace, st.Name)
	for key := range rest {
		num, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), ".")
		// A crash between writing version N+1's record and the status
		// leaves one orphan at N+1; records further on were committed once.
		if n, err := strconv.Atoi(num); err == nil && n > st.Version+1 {
			r.add(what, "a record of version %d exists, but its status says version %d: the status lost writes", n, st.Version)
		}
	}
}

func (s *Store) checkExecutions(ctx context.Context, r *CheckReport) error {
	jr, err := s.readJobRecords(ctx)
	if err != nil {
		return err
	}
	entries, err := s.allEntries(ctx, bucketExecutions)
	if err != nil {
		return err
	}
	versions := map[string]int{}
	for job, e := range jr.status {
		if st, err := decodeStatus(e); err == nil {
			versions[job] = st.Version
		}
	}
	for _, e := range entries {
		r.Counts["executions"]++
		x, err := decodeExecution(e)
		if err != nil {
			r.add("execution "+e.Key(), "cannot be read: %v", err)
			continue
		}
		what := "execution " + x.JobID + "/" + x.ID
		v, ok := versions[x.JobID]
		switch {
		case !ok && jr.status[x.JobID] == nil:
			r.add(what, "its job %s has no status: the job's records were lost", x.JobID)
		case ok && x.JobVersion > v:
			r.add(what, "it ran version %d, but the job's status says version %d: the job lost writes", x.JobVersion, v)
		}
	}
	return nil
}

func (s *Store) checkNodes(ctx context.Context, r *CheckReport) error {
	entries, err := s.allEntries(ctx, bucketNodes)
	if err != nil {
		return err
	}
	for _, e := range entries {
		r.Counts["nodes"]++
		if _, err := decodeNode(e); err != nil {
			r.add("node "+e.Key(), "cannot be read: %v", err)
		}
	}
	return nil
}

func (s *Store) checkDocuments(ctx context.Context, r *CheckReport) error {
	obs, err := s.documents(ctx)
	if err != nil {
		return err
	}
	list, err := obs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		return err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for _, info := range list {
		if strings.HasPrefix(info.Name, uploadPrefix) {
			continue
		}
		r.Counts["documents"]++
		what := "document " + schema.HashPrefix + info.Name
		got, err := hashObject(ctx, obs, info.Name)
		switch {
		case err != nil:
			r.add(what, "cannot be read: %v", err)
		case got != info.Name:
			r.add(what, "its bytes hash to %s%s: they were changed after they were stored", schema.HashPrefix, got)
		}
	}
	return nil
}

// hashObject reads an object whole (the object store checks its digest on
// the way) and returns the hex SHA-256 of its bytes.
func hashObject(ctx context.Context, obs jetstream.ObjectStore, name string) (string, error) {
	rc, err := obs.Get(ctx, name)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CheckRollout refuses to roll out version of job ns/name when the store
// holds executions of a later version: the job's status lost writes, and
// rolling out would run an old version again as if it were new.
func CheckRollout(execs []Execution, ns, name string, version int) error {
	for _, x := range execs {
		if x.JobVersion > version {
			return damagedf("job %s/%s: execution %s ran version %d, but the job's status says version %d: the status lost writes",
				ns, name, x.ID, x.JobVersion, version)
		}
	}
	return nil
}
