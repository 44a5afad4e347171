package apply

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// Runner runs the executions of one node: a *runner.Agent in this process,
// or a client of an agent reached over NATS (runner/remote).
type Runner interface {
	// Run runs execution e of job j to its end and returns it as last
	// recorded; the error is about muster itself, a failed task is a
	// runner.Result. Cancelling ctx stops the execution.
	Run(ctx context.Context, e state.Execution, j *schema.Job) (state.Execution, runner.Result, error)
	// Recover re-attaches to an execution an earlier process started and
	// waits for it as Run does; ok is false when there is nothing to
	// re-attach to.
	Recover(ctx context.Context, e state.Execution, j *schema.Job) (_ state.Execution, _ runner.Result, ok bool, _ error)
	// ReadLog returns what an execution wrote to stream ("stdout" or
	// "stderr") from byte offset on, at most 1 MiB, empty at the end.
	ReadLog(ctx context.Context, executionID, stream string, offset int64) ([]byte, error)
	// Probe runs the job's probe (rollout.health_check.probe) against a
	// running execution, on its node; NotRunning in the result when the
	// node runs no such execution. The error is about reaching the node.
	Probe(ctx context.Context, executionID string) (runner.ProbeResult, error)
}

var _ Runner = (*runner.Agent)(nil)

// Runners finds the runner of a node. Its zero value serves no node. It is
// safe for concurrent use: node agents come and go while rollouts run.
type Runners struct {
	mu sync.RWMutex
	m  map[string]Runner
	// changed is closed (and replaced) by every Set, for wait.
	changed chan struct{}
}

// NewRunners returns Runners serving the given nodes.
func NewRunners(m map[string]Runner) *Runners {
	r := &Runners{m: make(map[string]Runner, len(m))}
	for id, x := range m {
		r.m[id] = x
	}
	return r
}

// Get returns the runner of node id, or nil when none serves it.
func (r *Runners) Get(id string) Runner {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[id]
}

// Set makes x serve node id; a nil x removes the node.
func (r *Runners) Set(id string, x Runner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Runner{}
	}
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	if x == nil {
		delete(r.m, id)
		return
	}
	r.m[id] = x
}

// Changed returns a channel that is closed when a runner is next set or
// removed.
func (r *Runners) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.changed
}

// wait returns the runner of node id as soon as one serves it, or nil when
// none did within d (or ctx ended first).
func (r *Runners) wait(ctx context.Context, clk clockwork.Clock, id string, d time.Duration) Runner {
	t := clk.NewTimer(d)
	defer t.Stop()
	for {
		r.mu.Lock()
		x := r.m[id]
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		changed := r.changed
		r.mu.Unlock()
		if x != nil {
			return x
		}
		select {
		case <-changed:
		case <-t.Chan():
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// IDs returns the ids of the nodes served, in no order.
func (r *Runners) IDs() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]string, 0, len(r.m))
	for id := range r.m {
		ids = append(ids, id)
	}
	return ids
}
