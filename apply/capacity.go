package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// LoadReader is what NodeLoad reads of the stored state: *state.Store, an
// API client and the Store of the engine all are one.
type LoadReader interface {
	Jobs(ctx context.Context) ([]state.JobStatus, error)
	History(ctx context.Context, ns, name string) ([]state.Version, error)
	Spec(ctx context.Context, hash string) ([]byte, error)
	Executions(ctx context.Context, ns, name string) ([]state.Execution, error)
}

// Load is what the executions placed on each node and not yet ended hold,
// by node id, then by job ("namespace/name"): plan.Node.Load.
type Load map[string]map[string]plan.Resources

// add counts r on node for job.
func (l Load) add(node, job string, r plan.Resources) {
	if l[node] == nil {
		l[node] = map[string]plan.Resources{}
	}
	l[node][job] = l[node][job].Add(r)
}

// Total returns what node holds, all jobs together.
func (l Load) Total(node string) plan.Resources {
	var sum plan.Resources
	for _, r := range l[node] {
		sum = sum.Add(r)
	}
	return sum
}

// SpecResources remembers the task.resources of specs by hash (a spec
// never changes), so that NodeLoad reads each spec once. Its zero value
// is ready; it is safe for concurrent use.
type SpecResources struct {
	mu sync.Mutex
	m  map[string]plan.Resources
}

// of returns the resources of the spec of hash.
func (s *SpecResources) of(ctx context.Context, r LoadReader, hash string) (plan.Resources, error) {
	s.mu.Lock()
	res, ok := s.m[hash]
	s.mu.Unlock()
	if ok {
		return res, nil
	}
	b, err := r.Spec(ctx, hash)
	if err != nil {
		return plan.Resources{}, err
	}
	j, err := schema.FromCanonical(b)
	if err != nil {
		return plan.Resources{}, fmt.Errorf("the spec %s: %w", hash, err)
	}
	res = plan.TaskResources(j)
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]plan.Resources{}
	}
	s.m[hash] = res
	s.mu.Unlock()
	return res, nil
}

// NodeLoad adds up what the executions of every job hold on their nodes:
// each execution not yet ended (pending, starting, running, stopping)
// holds the task.resources of its job version's spec. Jobs whose state
// leaves nothing running (completed, stopped, deleted) are not read; the
// executions of the others are read once per job, and each spec once
// (specs, which may be nil, keeps them between calls).
func NodeLoad(ctx context.Context, r LoadReader, specs *SpecResources) (Load, error) {
	if specs == nil {
		specs = &SpecResources{}
	}
	jobs, err := r.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	load := Load{}
	for _, js := range jobs {
		switch js.State {
		case state.StateCompleted, state.StateStopped, state.StateDeleted:
			continue
		}
		execs, err := r.Executions(ctx, js.Namespace, js.Name)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ref := js.Namespace + "/" + js.Name
		var hashes map[int]string // version -> spec hash, read when needed
		for _, x := range execs {
			if !x.Status.ComputeState.Active() || x.NodeID == "" {
				continue
			}
			hash := js.Hash
			if x.JobVersion != js.Version {
				if hashes == nil {
					versions, err := r.History(ctx, js.Namespace, js.Name)
					if err != nil {
						return nil, err
					}
					hashes = map[int]string{}
					for _, v := range versions {
						hashes[v.Version] = v.Hash
					}
				}
				if hash = hashes[x.JobVersion]; hash == "" {
					continue // a version no longer recorded: nothing to count it by
				}
			}
			res, err := specs.of(ctx, r, hash)
			if err != nil {
				return nil, fmt.Errorf("the load of %s on node %s: %w", ref, x.NodeID, err)
			}
			load.add(x.NodeID, ref, res)
		}
	}
	return load, nil
}

// PlanNode is n as placement sees it: its labels, its capacity and the
// load placed on it (load may be nil: none).
func PlanNode(n state.Node, load Load) plan.Node {
	p := plan.Node{ID: n.ID, Labels: n.Labels, Load: load[n.ID]}
	if c := n.Capacity; c != nil {
		p.Capacity = plan.Resources{MilliCPUs: plan.MilliCPUs(c.CPUs), MemoryMB: c.MemoryMB}
	}
	return p
}

// AnyCapacity reports whether some node of nodes advertises a capacity:
// without one, placement counts nothing and the load need not be read.
func AnyCapacity(nodes []state.Node) bool {
	for _, n := range nodes {
		if !n.Capacity.Unlimited() {
			return true
		}
	}
	return false
}
