package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Execution is one run of one version of a job on one node (docs/spec.md section 4).
// It is stored under "<namespace>.<job name>.<id>".
type Execution struct {
	ID string `json:"id"`
	// JobID is "<namespace>/<name>" of the job.
	JobID      string `json:"job_id"`
	JobVersion int    `json:"job_version"`
	// Namespace is the job's namespace; CreateExecution fills it from JobID
	// when empty.
	Namespace           string          `json:"namespace"`
	NodeID              string          `json:"node_id"`
	EvalID              string          `json:"eval_id,omitempty"`
	DeploymentID        string          `json:"deployment_id,omitempty"`
	PreviousExecutionID string          `json:"previous_execution_id,omitempty"`
	NextExecutionID     string          `json:"next_execution_id,omitempty"`
	Status              ExecutionStatus `json:"status"`
	// Revision grows by one on every write; UpdateExecution compares it.
	Revision  uint64    `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Outputs are the documents the execution produced.
	Outputs []Document `json:"outputs,omitempty"`
	// Accessed are the documents the execution read as inputs.
	Accessed []Document `json:"accessed,omitempty"`
	// Skipped are the outputs the node found but did not store, each with
	// why: a symbolic link leaving the execution root, a file that is not a
	// regular file, the node's output size limit, a stop that cut storing
	// short. Missing outputs are not listed (docs/spec.md section 2).
	Skipped []SkippedOutput `json:"skipped,omitempty"`
	// Ports are the host ports the node gave the execution, by the names
	// of task.ports: the static ones as written, the dynamic ones as the
	// node picked them from its free range.
	Ports map[string]int `json:"ports,omitempty"`

	// kvRevision is the KV entry revision this execution was read at.
	kvRevision uint64
	// stored is what the store held of it at kvRevision, when this
	// execution was read from the store or written to it: an update of
	// it writes over that revision without reading it again.
	stored *storedExecution
}

// storedExecution is what an update needs of the execution as stored:
// its key, KV revision, revision, states and creation time.
type storedExecution struct {
	key        string
	kvRevision uint64
	revision   uint64
	status     ExecutionStatus
	createdAt  time.Time
}

// StoredRevision is the KV revision at which a store read or wrote e
// (the store returned it), 0 when none did. A copy sent to another
// process may carry it along (see AsStored).
func (e *Execution) StoredRevision() uint64 {
	if e.stored == nil {
		return 0
	}
	return e.stored.kvRevision
}

// AsStored returns e noted as exactly what the store holds at KV revision
// rev, as if a store had read it there: an update of it then writes over
// rev without reading it first (see UpdateExecutionFrom). It is for a copy
// of a stored execution sent to another process with its StoredRevision
// (a run request); a stale rev costs the update a read, as any lost
// compare-and-set does. rev 0 returns e as it is.
func AsStored(e Execution, rev uint64) Execution {
	if rev == 0 {
		e.stored = nil
		return e
	}
	key, err := e.validate()
	if err != nil {
		e.stored = nil
		return e
	}
	e.remember(key, rev)
	return e
}

// remember notes e, as it is, as what the store holds under key at KV
// revision rev.
func (e *Execution) remember(key string, rev uint64) {
	e.kvRevision = rev
	e.stored = &storedExecution{key: key, kvRevision: rev, revision: e.Revision, status: e.Status, createdAt: e.CreatedAt}
}

// ExecutionStatus is where an execution is and where it should go. Its
// JSON form (MarshalJSON) holds the states as objects: {compute_state:
// {state_type, message}, desired_state: {state_type}}; Message is the
// compute state's message.
type ExecutionStatus struct {
	// ComputeState is one of ComputeStates; it changes as the execution
	// machine allows (see ComputeState.CanBecome).
	ComputeState ComputeState `json:"compute_state"`
	// DesiredState is one of DesiredStates; it changes as the desired
	// machine allows (see DesiredState.CanBecome).
	DesiredState DesiredState `json:"desired_state"`
	Message      string       `json:"message,omitempty"`
}

// Document is a content-addressed document an execution produced or read.
type Document struct {
	// Path is the output path, or the input target, inside the execution's
	// root.
	Path string `json:"path"`
	// Hash is "sha256:<hex>" of the content, its name in the document store.
	Hash string `json:"hash"`
	Size int64  `json:"size"`
}

// SkippedOutput is an output path, or a file under an output directory,
// that an execution did not store.
type SkippedOutput struct {
	// Path is the output path inside the execution's root.
	Path string `json:"path"`
	// Reason says why in words: "symlink /out/r.txt leaves the execution
	// root", "not a regular file (fifo)", "output limit 1G reached".
	Reason string `json:"reason"`
}

// JobRef returns the namespace and name of JobID.
func (e *Execution) JobRef() (ns, name string, err error) {
	ns, name, ok := strings.Cut(e.JobID, "/")
	if !ok {
		return "", "", fmt.Errorf("invalid job id %q of execution %s: want <namespace>/<name>", e.JobID, e.ID)
	}
	if err := CheckJob(ns, name); err != nil {
		return "", "", fmt.Errorf("job id of execution %s: %w", e.ID, err)
	}
	return ns, name, nil
}

func (e *Execution) validate() (key string, err error) {
	if err := checkToken("execution id", e.ID); err != nil {
		return "", err
	}
	ns, name, err := e.JobRef()
	if err != nil {
		return "", err
	}
	if e.Namespace == "" {
		e.Namespace = ns
	}
	if e.Namespace != ns {
		return "", fmt.Errorf("execution %s: namespace %q differs from the one of job %s", e.ID, e.Namespace, e.JobID)
	}
	if e.Status.ComputeState == "" {
		e.Status.ComputeState = ComputePending
	}
	if e.Status.DesiredState == "" {
		e.Status.DesiredState = DesiredRunning
	}
	if err := checkState("compute state", e.Status.ComputeState, ComputeStates); err != nil {
		return "", err
	}
	if err := checkState("desired state", e.Status.DesiredState, DesiredStates); err != nil {
		return "", err
	}
	settleDesired(&e.Status)
	return executionKey(ns, name, e.ID), nil
}

func executionKey(ns, name, id string) string { return ns + "." + name + "." + id }

func executionWhat(e *Execution) string { return "execution " + e.JobID + "/" + e.ID }

// CreateExecution stores a new execution with Revision 1, in any valid
// state (the machines check its later changes). Empty compute and desired
// states become pending and running; zero times become now. An
// execution with the same job and id fails with *ConflictError.
func (s *Store) CreateExecution(ctx context.Context, e Execution) (Execution, error) {
	key, err := e.validate()
	if err != nil {
		return Execution{}, err
	}
	now := time.Now().UTC()
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	e.UpdatedAt = now
	e.Revision = 1
	val, err := json.Marshal(&e)
	if err != nil {
		return Execution{}, err
	}
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		return Execution{}, err
	}
	rev, err := s.createOwn(ctx, kv, key, val)
	if r, ok := landed(ctx, kv, key, val, err); ok {
		rev, err = r, nil
	}
	if isCASFailure(err) {
		cur, _ := getExecution(ctx, kv, key)
		return Execution{}, &ConflictError{What: executionWhat(&e), Current: cur.Revision, Reason: "an execution with this id exists"}
	}
	if err != nil {
		return Execution{}, fmt.Errorf("create %s: %w", executionWhat(&e), err)
	}
	e.remember(key, rev)
	return e, nil
}

// UpdateExecution writes e over the stored execution if the stored Revision
// is still e.Revision (the one the caller read); otherwise it fails with
// *ConflictError. A change of compute or desired state that the execution
// machines do not allow (an ended execution running again, a stopped one
// wanted running) fails with *TransitionError and writes nothing. Revision
// grows by one and UpdatedAt becomes now; ID, JobID and CreatedAt keep
// their stored values. Returns what was stored.
func (s *Store) UpdateExecution(ctx context.Context, e Execution) (Execution, error) {
	return s.UpdateExecutionFrom(ctx, e, nil)
}

// UpdateExecutionFrom is UpdateExecution where from, when not nil, makes
// the write out of the execution as stored and e (or refuses it with its
// error) once the store read it: a caller that may change only some of an
// execution writes over one read, not two.
//
// Without from, an e that this store read or wrote (it returned it) is
// written over the KV revision it was read or written at, without reading
// it again: the compare-and-set of that revision guarantees the store
// still holds what e was read as, so the checks are those of a fresh
// read. When it lost, the execution is read and the write made (or
// refused) as from a fresh read.
func (s *Store) UpdateExecutionFrom(ctx context.Context, e Execution, from func(cur, e Execution) (Execution, error)) (Execution, error) {
	key, err := e.validate()
	if err != nil {
		return Execution{}, err
	}
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		return Execution{}, err
	}
	if b := e.stored; from == nil && b != nil && b.key == key && b.revision == e.Revision {
		cur := Execution{Revision: b.revision, Status: b.status, CreatedAt: b.createdAt, kvRevision: b.kvRevision}
		x, err := s.writeExecution(ctx, kv, key, cur, e)
		if !isCASFailure(err) {
			return x, err
		}
		// Written meanwhile: as from a fresh read.
	}
	cur, err := getExecution(ctx, kv, key)
	if err != nil {
		return Execution{}, err
	}
	if from != nil {
		if e, err = from(cur, e); err != nil {
			return Execution{}, err
		}
	}
	x, err := s.writeExecution(ctx, kv, key, cur, e)
	if isCASFailure(err) {
		latest, _ := getExecution(ctx, kv, key)
		return Execution{}, &ConflictError{What: executionWhat(&e), Base: cur.Revision, Current: latest.Revision}
	}
	return x, err
}

// writeExecution writes e over cur, the execution as stored under key
// (its revision, states, creation time and KV revision), if e is based on
// cur's revision and makes a change of states the machines allow. A lost
// compare-and-set of cur's KV revision is returned as it is (see
// isCASFailure).
func (s *Store) writeExecution(ctx context.Context, kv jetstream.KeyValue, key string, cur, e Execution) (Execution, error) {
	if cur.Revision != e.Revision {
		return Execution{}, &ConflictError{What: executionWhat(&e), Base: e.Revision, Current: cur.Revision}
	}
	if err := CheckExecutionTransition(executionWhat(&e), cur.Status, e.Status); err != nil {
		s.log().Warn("refused an execution state change", "job", e.JobID, "version", e.JobVersion, "node", e.NodeID, "execution", e.ID, "err", err)
		return Execution{}, err
	}
	e.CreatedAt = cur.CreatedAt
	e.Revision = cur.Revision + 1
	e.UpdatedAt = time.Now().UTC()
	val, err := json.Marshal(&e)
	if err != nil {
		return Execution{}, err
	}
	rev, err := s.kvUpdate(ctx, kv, key, val, cur.kvRevision)
	if r, ok := landed(ctx, kv, key, val, err); ok {
		rev, err = r, nil
	}
	if isCASFailure(err) {
		return Execution{}, err
	}
	if err != nil {
		return Execution{}, fmt.Errorf("update %s: %w", executionWhat(&e), err)
	}
	e.remember(key, rev)
	return e, nil
}

// Execution returns one execution of a job, or an error matching
// ErrNotFound.
func (s *Store) Execution(ctx context.Context, ns, name, id string) (Execution, error) {
	if err := CheckJob(ns, name); err != nil {
		return Execution{}, err
	}
	if err := checkToken("execution id", id); err != nil {
		return Execution{}, err
	}
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		return Execution{}, err
	}
	return getExecution(ctx, kv, executionKey(ns, name, id))
}

func getExecution(ctx context.Context, kv jetstream.KeyValue, key string) (Execution, error) {
	e, err := kvGet(ctx, kv, key)
	if isNotFound(err) {
		return Execution{}, notFound("execution %s", strings.Replace(strings.Replace(key, ".", "/", 1), ".", "/", 1))
	}
	if err != nil {
		return Execution{}, fmt.Errorf("read execution %s: %w", key, err)
	}
	return decodeExecution(e)
}

func decodeExecution(e jetstream.KeyValueEntry) (Execution, error) {
	var x Execution
	if err := json.Unmarshal(e.Value(), &x); err != nil {
		return Execution{}, damagedf("decode execution %s: %v", e.Key(), err)
	}
	x.remember(e.Key(), e.Revision())
	return x, nil
}

// Executions returns every execution of a job, oldest first (by CreatedAt,
// then ID). A job without executions gives an empty list.
func (s *Store) Executions(ctx context.Context, ns, name string) ([]Execution, error) {
	if err := CheckJob(ns, name); err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, executionKey(ns, name, "*"))
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", jobWhat(ns, name), err)
	}
	out := make([]Execution, 0, len(entries))
	for _, en := range entries {
		x, err := decodeExecution(en)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DeleteExecution removes an execution, or fails with an error matching
// ErrNotFound. Watchers see an event with Deleted set.
func (s *Store) DeleteExecution(ctx context.Context, ns, name, id string) error {
	x, err := s.Execution(ctx, ns, name, id)
	if err != nil {
		return err
	}
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		return err
	}
	err = s.kvDelete(ctx, kv, executionKey(ns, name, id), x.kvRevision, false)
	if isCASFailure(err) {
		latest, _ := getExecution(ctx, kv, executionKey(ns, name, id))
		return &ConflictError{What: executionWhat(&x), Base: x.Revision, Current: latest.Revision, Reason: "it changed while being deleted"}
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", executionWhat(&x), err)
	}
	return nil
}

// createOwn creates key with val, whose UpdatedAt and random id make it
// this write's own, riding out a stream leader election: a try JetStream
// did not take, or that got no answer, is sent again, and when a try
// after the first finds the key there holding exactly val, an earlier try
// that got no answer stored it.
func (s *Store) createOwn(ctx context.Context, kv jetstream.KeyValue, key string, val []byte) (uint64, error) {
	return createOwnWith(ctx, kv, key, val, func(ctx context.Context) (uint64, error) {
		return s.kvCreateOnce(ctx, kv, key, val)
	})
}

// createOwnWith is createOwn with create, one try of the create.
func createOwnWith(ctx context.Context, kv jetstream.KeyValue, key string, val []byte, create func(context.Context) (uint64, error)) (uint64, error) {
	again := func(err error) bool { return Unavailable(err) || timedOut(ctx, err) }
	tries := 0
	return AskAgain(ctx, patience, again, func() (uint64, error) {
		tries++
		actx, cancel := readAttempt(ctx)
		defer cancel()
		rev, err := create(actx)
		if !isCASFailure(err) || tries == 1 {
			return rev, err
		}
		e, gerr := kvGet(ctx, kv, key)
		if gerr == nil && bytes.Equal(e.Value(), val) {
			return e.Revision(), nil
		}
		return rev, err
	})
}

// landed reports whether a write whose answer did not come (a NATS server
// went away between storing it and saying so, a timeout) was stored
// after all: the key holds exactly val, whose UpdatedAt makes it this
// write's own. It returns the stored revision.
func landed(ctx context.Context, kv jetstream.KeyValue, key string, val []byte, err error) (uint64, bool) {
	if err == nil || isCASFailure(err) {
		return 0, false
	}
	e, gerr := kv.Get(ctx, key)
	if gerr != nil || !bytes.Equal(e.Value(), val) {
		return 0, false
	}
	return e.Revision(), true
}
