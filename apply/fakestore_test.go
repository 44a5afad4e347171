package apply

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// fakeStore is an in-memory Store with the rules of state.Store that the
// engine relies on: compare-and-set on execution revisions, UpdateStatus
// retried over a fresh status, the transition tables of package state, a
// new version per new hash. fail, when set, is asked before every call
// (op is the method's name) and its error is returned instead.
type fakeStore struct {
	mu       sync.Mutex
	jobs     map[string]state.JobStatus
	versions map[string][]state.Version
	specs    map[string][]byte
	execs    map[string]map[string]state.Execution // by job, by id
	rollouts map[string]map[int]state.Rollout
	events   map[string][]state.Event
	nodes    map[string]state.Node
	watchers []chan state.NodeEvent
	// jobWatchers get every job status written (WatchJobs).
	jobWatchers []chan state.JobEvent
	// states lists the job states written, in order, by job.
	states map[string][]state.JobState
	fail   func(op string) error
	now    func() time.Time
	// launchState keeps the launches (see fakelaunches_test.go).
	launchState fakeLaunches
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		jobs: map[string]state.JobStatus{}, versions: map[string][]state.Version{}, specs: map[string][]byte{},
		execs: map[string]map[string]state.Execution{}, rollouts: map[string]map[int]state.Rollout{},
		events: map[string][]state.Event{}, nodes: map[string]state.Node{}, now: time.Now, states: map[string][]state.JobState{},
	}
}

func (f *fakeStore) check(op string) error {
	if f.fail != nil {
		return f.fail(op)
	}
	return nil
}

func key(ns, name string) string { return ns + "/" + name }

func (f *fakeStore) Job(_ context.Context, ns, name string) (state.JobStatus, error) {
	if err := f.check("Job"); err != nil {
		return state.JobStatus{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	js, ok := f.jobs[key(ns, name)]
	if !ok {
		return js, fmt.Errorf("job %s/%s %w", ns, name, state.ErrNotFound)
	}
	return js, nil
}

func (f *fakeStore) Jobs(context.Context) ([]state.JobStatus, error) {
	if err := f.check("Jobs"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []state.JobStatus
	for _, js := range f.jobs {
		out = append(out, js)
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i].Namespace, out[i].Name) < key(out[j].Namespace, out[j].Name) })
	return out, nil
}

func (f *fakeStore) History(_ context.Context, ns, name string) ([]state.Version, error) {
	if err := f.check("History"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.versions[key(ns, name)]), nil
}

// putSpec stores a job's canonical spec, as PutSpec does.
func (f *fakeStore) putSpec(j *schema.Job) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs[j.Hash()] = j.Canonical()
	return j.Hash()
}

func (f *fakeStore) Spec(_ context.Context, hash string) ([]byte, error) {
	if err := f.check("Spec"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.specs[hash]
	if !ok {
		return nil, fmt.Errorf("spec %s %w", hash, state.ErrNotFound)
	}
	return b, nil
}

func (f *fakeStore) SensitivePaths(context.Context, string) ([]string, error) {
	return nil, f.check("SensitivePaths")
}

func (f *fakeStore) CommitVersion(_ context.Context, ns, name, hash string, base uint64, st state.JobState) (state.JobStatus, error) {
	if err := f.check("CommitVersion"); err != nil {
		return state.JobStatus{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.specs[hash]; !ok {
		return state.JobStatus{}, fmt.Errorf("spec %s %w", hash, state.ErrNotFound)
	}
	k := key(ns, name)
	cur := f.jobs[k]
	if cur.Revision != base {
		return state.JobStatus{}, &state.ConflictError{What: "job " + k, Base: base, Current: cur.Revision}
	}
	if hash == cur.Hash {
		if err := state.CheckJobTransition("job "+k, cur.State, st); err != nil {
			return state.JobStatus{}, err
		}
	}
	next := cur
	next.Namespace, next.Name, next.Revision, next.State, next.Message, next.UpdatedAt = ns, name, cur.Revision+1, st, "", f.now()
	if hash != cur.Hash {
		next.Version, next.Hash = cur.Version+1, hash
		f.versions[k] = append(f.versions[k], state.Version{Version: next.Version, Hash: hash, CreatedAt: f.now()})
	}
	f.jobs[k] = next
	f.states[k] = append(f.states[k], st)
	f.notifyJob(next)
	return next, nil
}

// jobStates returns the job states written for job ns/name, in order.
func (f *fakeStore) jobStates(ns, name string) []state.JobState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.states[key(ns, name)])
}

func (f *fakeStore) UpdateStatus(_ context.Context, ns, name string, update func(*state.JobStatus) error) (state.JobStatus, error) {
	if err := f.check("UpdateStatus"); err != nil {
		return state.JobStatus{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(ns, name)
	cur, ok := f.jobs[k]
	if !ok {
		return cur, fmt.Errorf("job %s %w", k, state.ErrNotFound)
	}
	next := cur
	if err := update(&next); err != nil {
		return state.JobStatus{}, err
	}
	if err := state.CheckJobTransition("job "+k, cur.State, next.State); err != nil {
		return state.JobStatus{}, err
	}
	if next.State == cur.State && next.Message == cur.Message {
		return cur, nil
	}
	next.Revision++
	next.UpdatedAt = f.now()
	f.jobs[k] = next
	if next.State != cur.State {
		f.states[k] = append(f.states[k], next.State)
	}
	f.notifyJob(next)
	return next, nil
}

func (f *fakeStore) Executions(_ context.Context, ns, name string) ([]state.Execution, error) {
	if err := f.check("Executions"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []state.Execution
	for _, x := range f.execs[key(ns, name)] {
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

func (f *fakeStore) Execution(_ context.Context, ns, name, id string) (state.Execution, error) {
	if err := f.check("Execution"); err != nil {
		return state.Execution{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	x, ok := f.execs[key(ns, name)][id]
	if !ok {
		return x, fmt.Errorf("execution %s/%s/%s %w", ns, name, id, state.ErrNotFound)
	}
	return x, nil
}

func (f *fakeStore) CreateExecution(_ context.Context, x state.Execution) (state.Execution, error) {
	if err := f.check("CreateExecution"); err != nil {
		return x, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ns, _, _ := strings.Cut(x.JobID, "/")
	x.Namespace = ns
	if x.Status.ComputeState == "" {
		x.Status.ComputeState = state.ComputePending
	}
	if x.Status.DesiredState == "" {
		x.Status.DesiredState = state.DesiredRunning
	}
	if f.execs[x.JobID] == nil {
		f.execs[x.JobID] = map[string]state.Execution{}
	}
	if _, ok := f.execs[x.JobID][x.ID]; ok {
		return x, &state.ConflictError{What: "execution " + x.ID, Current: 1}
	}
	now := f.now()
	x.Revision, x.CreatedAt, x.UpdatedAt = 1, now, now
	f.execs[x.JobID][x.ID] = x
	return x, nil
}

func (f *fakeStore) UpdateExecution(_ context.Context, x state.Execution) (state.Execution, error) {
	if err := f.check("UpdateExecution"); err != nil {
		return x, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.execs[x.JobID][x.ID]
	if !ok {
		return x, fmt.Errorf("execution %s %w", x.ID, state.ErrNotFound)
	}
	if cur.Revision != x.Revision {
		return x, &state.ConflictError{What: "execution " + x.ID, Base: x.Revision, Current: cur.Revision}
	}
	if x.Status.ComputeState.Ended() {
		x.Status.DesiredState = state.DesiredStopped
	}
	if err := state.CheckExecutionTransition("execution "+x.JobID+"/"+x.ID, cur.Status, x.Status); err != nil {
		return x, err
	}
	x.Revision, x.CreatedAt, x.UpdatedAt = cur.Revision+1, cur.CreatedAt, f.now()
	f.execs[x.JobID][x.ID] = x
	return x, nil
}

func (f *fakeStore) Rollout(_ context.Context, ns, name string, version int) (state.Rollout, error) {
	if err := f.check("Rollout"); err != nil {
		return state.Rollout{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rollouts[key(ns, name)][version]
	if !ok {
		return r, fmt.Errorf("rollout %s@%d %w", key(ns, name), version, state.ErrNotFound)
	}
	return r, nil
}

func (f *fakeStore) Rollouts(_ context.Context, ns, name string) ([]state.Rollout, error) {
	if err := f.check("Rollouts"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []state.Rollout
	for _, r := range f.rollouts[key(ns, name)] {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func (f *fakeStore) PutRollout(_ context.Context, r state.Rollout) error {
	if err := f.check("PutRollout"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(r.Namespace, r.Name)
	if f.rollouts[k] == nil {
		f.rollouts[k] = map[int]state.Rollout{}
	}
	r.UpdatedAt = f.now()
	f.rollouts[k][r.Version] = r
	return nil
}

func (f *fakeStore) AppendEvent(_ context.Context, ev state.Event) error {
	if err := f.check("AppendEvent"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.Job != "" {
		f.events[ev.Job] = append(f.events[ev.Job], ev)
	}
	return nil
}

// jobEvents returns the stored events of job ns/name.
func (f *fakeStore) jobEvents(ns, name string) []state.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events[key(ns, name)])
}

func (f *fakeStore) Nodes(context.Context) ([]state.Node, error) {
	if err := f.check("Nodes"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []state.Node
	for _, n := range f.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeStore) Node(_ context.Context, id string) (state.Node, error) {
	if err := f.check("Node"); err != nil {
		return state.Node{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.nodes[id]
	if !ok {
		return n, fmt.Errorf("node %s %w", id, state.ErrNotFound)
	}
	return n, nil
}

func (f *fakeStore) PutNode(_ context.Context, n state.Node) (state.Node, error) {
	if err := f.check("PutNode"); err != nil {
		return n, err
	}
	f.mu.Lock()
	if n.Status == "" {
		n.Status = state.NodeReady
	}
	f.nodes[n.ID] = n
	ws := slices.Clone(f.watchers)
	f.mu.Unlock()
	for _, w := range ws {
		w <- state.NodeEvent{Node: n}
	}
	return n, nil
}

func (f *fakeStore) WatchNodes(ctx context.Context) (<-chan state.NodeEvent, error) {
	if err := f.check("WatchNodes"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan state.NodeEvent, 1024)
	for _, n := range f.nodes {
		ch <- state.NodeEvent{Node: n}
	}
	ch <- state.NodeEvent{Synced: true}
	f.watchers = append(f.watchers, ch)
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if i := slices.Index(f.watchers, ch); i >= 0 {
			f.watchers = slices.Delete(f.watchers, i, i+1)
			close(ch)
		}
	})
	return ch, nil
}

// notifyJob sends js to the jobs' watchers; f.mu is held.
func (f *fakeStore) notifyJob(js state.JobStatus) {
	for _, ch := range f.jobWatchers {
		select {
		case ch <- state.JobEvent{Job: js}:
		default: // a watcher that fell far behind misses it, as a test would see
		}
	}
}

func (f *fakeStore) WatchJobs(ctx context.Context) (<-chan state.JobEvent, error) {
	if err := f.check("WatchJobs"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan state.JobEvent, 1024)
	f.jobWatchers = append(f.jobWatchers, ch)
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if i := slices.Index(f.jobWatchers, ch); i >= 0 {
			f.jobWatchers = slices.Delete(f.jobWatchers, i, i+1)
			close(ch)
		}
	})
	return ch, nil
}
