package plan

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/muster-dev/muster/schema"
)

// Action is what applying a plan does to a job.
type Action string

// The actions.
const (
	Create Action = "create"
	Update Action = "update"
	NoOp   Action = "no-op"
)

// Plan is the whole plan of SPEC section 5. Its JSON form is the documented
// plan format and the saved plan file.
type Plan struct {
	FormatVersion string `json:"format_version"`
	// Nodes says where the node list came from: "live" or the inventory
	// file given with --nodes.
	Nodes string    `json:"nodes"`
	Jobs  []JobPlan `json:"jobs"`
}

// JobPlan is the plan of one job.
type JobPlan struct {
	Namespace    string      `json:"namespace"`
	Name         string      `json:"name"`
	Action       Action      `json:"action"`
	FromVersion  int         `json:"from_version"`
	ToVersion    int         `json:"to_version"`
	FromHash     string      `json:"from_hash"`
	ToHash       string      `json:"to_hash"`
	BaseRevision uint64      `json:"base_revision"`
	ChangeClass  ChangeClass `json:"change_class"`
	Diff         []Change    `json:"diff"`
	Placement    Placement   `json:"placement"`
	Warnings     []string    `json:"warnings"`
	// Spec is the canonical spec of ToVersion, so that a saved plan applies
	// exactly what it showed. Its hash is ToHash.
	Spec json.RawMessage `json:"spec"`
}

// Ref returns "<namespace>/<name>".
func (j *JobPlan) Ref() string { return j.Namespace + "/" + j.Name }

// Changes reports whether any job of p is created or updated.
func (p *Plan) Changes() bool {
	for _, j := range p.Jobs {
		if j.Action != NoOp {
			return true
		}
	}
	return false
}

// Current is the stored state of one job that a plan starts from.
type Current struct {
	Version  int
	Hash     string
	Revision uint64
	// Spec is the canonical spec of Version.
	Spec []byte
}

// State is what planning reads of stored state.
type State interface {
	// Current returns the stored state of a job, or nil if it was never
	// applied.
	Current(ctx context.Context, namespace, name string) (*Current, error)
}

// Make plans jobs against state and nodes. Jobs must be normalized (as the
// compiler returns them); two jobs with the same namespace and name are an
// error. The jobs of the plan keep the order of jobs.
func Make(ctx context.Context, st State, jobs []*schema.Job, nodes []Node, nodesSource string) (*Plan, error) {
	p := &Plan{FormatVersion: FormatVersion, Nodes: nodesSource, Jobs: make([]JobPlan, 0, len(jobs))}
	seen := map[string]bool{}
	idx := newNodeIndex(nodes)
	for _, j := range jobs {
		ref := j.Namespace + "/" + j.Name
		if seen[ref] {
			return nil, fmt.Errorf("job %s is given twice", ref)
		}
		seen[ref] = true
		cur, err := st.Current(ctx, j.Namespace, j.Name)
		if err != nil {
			return nil, fmt.Errorf("reading the state of %s: %w", ref, err)
		}
		jp, err := planJob(j, cur, idx)
		if err != nil {
			return nil, fmt.Errorf("planning %s: %w", ref, err)
		}
		p.Jobs = append(p.Jobs, jp)
	}
	return p, nil
}

func planJob(j *schema.Job, cur *Current, idx *nodeIndex) (JobPlan, error) {
	spec := j.Canonical()
	jp := JobPlan{
		Namespace: j.Namespace,
		Name:      j.Name,
		ToHash:    schema.HashBytes(spec),
		Spec:      spec,
		Diff:      []Change{},
		Warnings:  []string{},
	}
	switch {
	case cur == nil:
		jp.Action, jp.ToVersion, jp.ChangeClass = Create, 1, ClassNone
	case cur.Hash == jp.ToHash:
		jp.Action, jp.FromVersion, jp.ToVersion = NoOp, cur.Version, cur.Version
		jp.FromHash, jp.BaseRevision, jp.ChangeClass = cur.Hash, cur.Revision, ClassNone
	default:
		jp.Action, jp.FromVersion, jp.ToVersion = Update, cur.Version, cur.Version+1
		jp.FromHash, jp.BaseRevision = cur.Hash, cur.Revision
		diff, err := Diff(cur.Spec, spec)
		if err != nil {
			return jp, err
		}
		jp.Diff, jp.ChangeClass = diff, Classify(diff)
	}
	jp.Placement, jp.Warnings = place(j, idx)
	return jp, nil
}
