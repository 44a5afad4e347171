package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/muster-dev/muster/sensitive"
)

// Op is the kind of a Change.
type Op string

// The change operations.
const (
	Add    Op = "add"
	Remove Op = "remove"
	Modify Op = "change"
)

// Change is one field-level difference between two canonical specs. Path is
// exact: `task.image`, `labels.team`, `labels["app.kubernetes.io/name"]`,
// `task.cmd[1]`, `task.inputs["/in/a"].source` (inputs, outputs and ports
// are keyed by target, path and name, so adding one never shifts the
// others). Old is absent
// for Add, New for Remove.
//
// A sensitive value is never shown: Old or New is sensitive.Marker when the
// whole value is sensitive, and holds sensitive.Marker in place of each
// sensitive value inside it otherwise; OldSensitive and NewSensitive say so.
// A change of a sensitive value still shows its path.
type Change struct {
	Path         string `json:"path"`
	Op           Op     `json:"op"`
	Old          any    `json:"old,omitempty"`
	New          any    `json:"new,omitempty"`
	OldSensitive bool   `json:"old_sensitive,omitempty"`
	NewSensitive bool   `json:"new_sensitive,omitempty"`
}

// Diff compares two canonical specs and returns their differences in path
// order. Equal specs give an empty, non-nil list.
func Diff(old, new []byte) ([]Change, error) { return DiffHiding(old, new, nil, nil) }

// DiffHiding is Diff for specs whose values at oldHidden and newHidden
// (sensitive paths, see package sensitive) must not be shown. A change
// inside a hidden map or list is shown as a change of the whole value, so
// that not even its keys show.
func DiffHiding(old, new []byte, oldHidden, newHidden []string) ([]Change, error) {
	a, err := sensitive.Decode(old)
	if err != nil {
		return nil, fmt.Errorf("stored spec: %w", err)
	}
	b, err := sensitive.Decode(new)
	if err != nil {
		return nil, fmt.Errorf("new spec: %w", err)
	}
	d := &differ{out: []Change{}, oldHidden: oldHidden, newHidden: newHidden}
	d.walk("", a, b)
	return d.out, nil
}

type differ struct {
	out                  []Change
	oldHidden, newHidden []string
}

// add records a change at path of old and new, which lie at oldAt and
// newAt of their specs (the element of a set lies at its index).
func (d *differ) add(path string, op Op, old any, oldAt string, new any, newAt string) {
	c := Change{Path: path, Op: op}
	c.Old, c.OldSensitive = sensitive.HideValue(oldAt, old, d.oldHidden)
	c.New, c.NewSensitive = sensitive.HideValue(newAt, new, d.newHidden)
	d.out = append(d.out, c)
}

func (d *differ) walk(path string, a, b any) {
	if sensitive.Covers(d.oldHidden, path) || sensitive.Covers(d.newHidden, path) {
		if !reflect.DeepEqual(a, b) {
			d.add(path, Modify, a, path, b, path)
		}
		return
	}
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			d.maps(path, av, bv)
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			d.lists(path, av, bv)
			return
		}
	}
	if !reflect.DeepEqual(a, b) {
		d.add(path, Modify, a, path, b, path)
	}
}

func (d *differ) maps(path string, a, b map[string]any) {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := sensitive.Member(path, k)
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case !inA:
			d.add(p, Add, nil, p, bv, p)
		case !inB:
			d.add(p, Remove, av, p, nil, p)
		default:
			d.walk(p, av, bv)
		}
	}
}

func (d *differ) lists(path string, a, b []any) {
	if key, ok := sensitive.KeyOf(path); ok {
		d.keyedLists(path, key, a, b)
		return
	}
	if sensitive.IsSet(path) {
		for i, e := range a {
			if !slices.Contains(b, e) {
				d.add(path, Remove, e, sensitive.Index(path, i), nil, path)
			}
		}
		for i, e := range b {
			if !slices.Contains(a, e) {
				d.add(path, Add, nil, path, e, sensitive.Index(path, i))
			}
		}
		return
	}
	if len(a) != len(b) {
		// An ordered list that grew or shrank (cmd, entrypoint): show it
		// whole; element diffs of shifted arguments are noise.
		d.add(path, Modify, a, path, b, path)
		return
	}
	for i := range a {
		d.walk(sensitive.Index(path, i), a[i], b[i])
	}
}

func (d *differ) keyedLists(path, key string, a, b []any) {
	index := func(list []any) (map[string]any, []string) {
		m := map[string]any{}
		var order []string
		for _, e := range list {
			obj, _ := e.(map[string]any)
			k, _ := obj[key].(string)
			m[k] = e
			order = append(order, k)
		}
		return m, order
	}
	am, aKeys := index(a)
	bm, bKeys := index(b)
	all := append(slices.Clone(aKeys), bKeys...)
	slices.Sort(all)
	all = slices.Compact(all)
	for _, k := range all {
		p := sensitive.Element(path, k)
		av, inA := am[k]
		bv, inB := bm[k]
		switch {
		case !inA:
			d.add(p, Add, nil, p, bv, p)
		case !inB:
			d.add(p, Remove, av, p, nil, p)
		default:
			d.walk(p, av, bv)
		}
	}
}

// ChangeClass says which executions a change replaces.
type ChangeClass string

// The change classes, from least to most disruptive.
const (
	// ClassNone: nothing changes (no-op), or the job is new.
	ClassNone ChangeClass = "none"
	// ClassMetadata: only description, labels, meta or priority changed;
	// running executions are kept as they are.
	ClassMetadata ChangeClass = "metadata"
	// ClassInPlace: count, restart policy, selector, rollout or timeouts
	// changed; executions on nodes that still match are kept, others are
	// added or stopped.
	ClassInPlace ChangeClass = "in-place"
	// ClassDestructive: the task or the job type changed; every execution
	// is replaced through the rollout.
	ClassDestructive ChangeClass = "destructive"
)

var classRank = map[ChangeClass]int{ClassNone: 0, ClassMetadata: 1, ClassInPlace: 2, ClassDestructive: 3}

// ClassOf returns the class of a change to path.
func ClassOf(path string) ChangeClass {
	top := path
	if i := strings.IndexAny(path, ".["); i >= 0 {
		top = path[:i]
	}
	switch top {
	case "description", "labels", "meta", "priority":
		return ClassMetadata
	case "count", "restart_policy", "selector", "rollout", "timeouts":
		return ClassInPlace
	}
	return ClassDestructive
}

// Classify returns the most disruptive class among changes.
func Classify(changes []Change) ChangeClass {
	c := ClassNone
	for _, ch := range changes {
		if k := ClassOf(ch.Path); classRank[k] > classRank[c] {
			c = k
		}
	}
	return c
}
