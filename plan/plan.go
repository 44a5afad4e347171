package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
)

// Action is what applying a plan does to a job.
type Action string

// The actions.
const (
	Create Action = "create"
	Update Action = "update"
	NoOp   Action = "no-op"
)

// Plan is the whole plan of docs/spec.md section 5. Its JSON form is the documented
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
	// Schedule is the schedule of a periodic job and its next launch
	// times; absent for other jobs.
	Schedule *Schedule `json:"schedule,omitempty"`
	// SensitivePaths name the values of Spec that came from sensitive
	// variables (see package sensitive): the diff and the warnings never
	// show them, and applying records them with the spec. Never nil.
	SensitivePaths []string `json:"sensitive_paths"`
	// Spec is the canonical spec of ToVersion, so that a saved plan applies
	// exactly what it showed. Its hash is ToHash. It holds the sensitive
	// values in clear: a plan printed for people hides them (Hidden).
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

// SensitiveState is what planning reads of stored state when it also
// knows which values of stored specs are sensitive. A State that
// implements it has the values at those paths hidden in the diff, on the
// old side (the stored version) and on the new (a spec stored before, as
// in a rollback: once sensitive, always hidden).
type SensitiveState interface {
	State
	// SensitivePaths returns the sensitive paths recorded for the spec of
	// hash; none (and no error) when there are none.
	SensitivePaths(ctx context.Context, hash string) ([]string, error)
}

// Desired is one job to plan and the paths of its sensitive values.
type Desired struct {
	Job       *schema.Job
	Sensitive []string
}

// Make plans jobs against state and nodes. Jobs must be normalized (as the
// compiler returns them); two jobs with the same namespace and name are an
// error. The jobs of the plan keep the order of jobs.
func Make(ctx context.Context, st State, jobs []*schema.Job, nodes []Node, nodesSource string) (*Plan, error) {
	desired := make([]Desired, len(jobs))
	for i, j := range jobs {
		desired[i].Job = j
	}
	return MakeDesired(ctx, st, desired, nodes, nodesSource)
}

// MakeDesired is Make for jobs with sensitive values, which the plan
// never shows.
func MakeDesired(ctx context.Context, st State, jobs []Desired, nodes []Node, nodesSource string) (*Plan, error) {
	p := &Plan{FormatVersion: FormatVersion, Nodes: nodesSource, Jobs: make([]JobPlan, 0, len(jobs))}
	seen := map[string]bool{}
	secrets := map[string][]string{}
	idx := newNodeIndex(nodes)
	for _, d := range jobs {
		j := d.Job
		ref := j.Namespace + "/" + j.Name
		if seen[ref] {
			return nil, fmt.Errorf("job %s is given twice", ref)
		}
		seen[ref] = true
		cur, err := st.Current(ctx, j.Namespace, j.Name)
		if err != nil {
			return nil, fmt.Errorf("reading the state of %s: %w", ref, err)
		}
		spec := j.Canonical()
		hidden, err := sensitivePaths(ctx, st, schema.HashBytes(spec), d.Sensitive, cur)
		if err != nil {
			return nil, fmt.Errorf("reading the sensitive values of %s: %w", ref, err)
		}
		jp, err := planJob(j, spec, cur, idx, hidden)
		if err != nil {
			return nil, fmt.Errorf("planning %s: %w", ref, err)
		}
		jp.Warnings = append(jp.Warnings, secretWarnings(ctx, st, j, secrets)...)
		p.Jobs = append(p.Jobs, jp)
	}
	return p, nil
}

// hidden holds the sensitive paths of a job's two sides.
type hidden struct{ old, new []string }

// sensitivePaths gathers the sensitive paths of both sides of a job's plan:
// those given, and those recorded for the stored specs.
func sensitivePaths(ctx context.Context, st State, hash string, given []string, cur *Current) (hidden, error) {
	h := hidden{new: sensitive.Union(given)}
	ss, ok := st.(SensitiveState)
	if !ok {
		return h, nil
	}
	stored, err := ss.SensitivePaths(ctx, hash)
	if err != nil {
		return h, err
	}
	h.new = sensitive.Union(h.new, stored)
	if cur != nil {
		if h.old, err = ss.SensitivePaths(ctx, cur.Hash); err != nil {
			return h, err
		}
	}
	return h, nil
}

func planJob(j *schema.Job, spec []byte, cur *Current, idx *nodeIndex, h hidden) (JobPlan, error) {
	jp := JobPlan{
		Namespace:      j.Namespace,
		Name:           j.Name,
		ToHash:         schema.HashBytes(spec),
		Spec:           spec,
		Diff:           []Change{},
		Warnings:       []string{},
		SensitivePaths: h.new,
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
		diff, err := DiffHiding(cur.Spec, spec, h.old, h.new)
		if err != nil {
			return jp, err
		}
		jp.Diff, jp.ChangeClass = diff, Classify(diff)
	}
	jp.Placement, jp.Warnings = place(j, idx, placeOpts{})
	jp.Schedule = scheduleOf(j)
	if len(h.new) > 0 {
		values, err := sensitive.Values(spec, h.new)
		if err != nil {
			return jp, err
		}
		for i, w := range jp.Warnings {
			jp.Warnings[i] = sensitive.Redact(w, values)
		}
	}
	return jp, nil
}

// Hidden returns a copy of p for people to read: the spec of every job
// with its sensitive values replaced by sensitive.Marker. The copy no
// longer applies (its specs do not hash to their addresses); a plan to
// apply is saved whole, with Spec as it is.
func (p *Plan) Hidden() (*Plan, error) {
	out := *p
	out.Jobs = slices.Clone(p.Jobs)
	for i := range out.Jobs {
		j := &out.Jobs[i]
		spec, _, err := sensitive.Hide(j.Spec, j.SensitivePaths)
		if err != nil {
			return nil, fmt.Errorf("the spec of %s: %w", j.Ref(), err)
		}
		j.Spec = spec
	}
	return &out, nil
}
