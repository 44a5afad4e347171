package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
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
// `task.cmd[1]`, `task.inputs["/in/a"].source` (inputs and outputs are keyed
// by target and path, so adding one never shifts the others). Old is absent
// for Add, New for Remove.
type Change struct {
	Path string `json:"path"`
	Op   Op     `json:"op"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// keyed lists are sets of objects identified by one member.
var keyed = map[string]string{"task.inputs": "target", "task.outputs": "path"}

// sets are lists of strings whose order carries no meaning.
var sets = map[string]bool{"selector.match_expressions": true, "selector.match_ids": true}

// Diff compares two canonical specs and returns their differences in path
// order. Equal specs give an empty, non-nil list.
func Diff(old, new []byte) ([]Change, error) {
	var a, b any
	if err := decode(old, &a); err != nil {
		return nil, fmt.Errorf("stored spec: %w", err)
	}
	if err := decode(new, &b); err != nil {
		return nil, fmt.Errorf("new spec: %w", err)
	}
	d := &differ{out: []Change{}}
	d.walk("", a, b)
	return d.out, nil
}

func decode(b []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

type differ struct{ out []Change }

func (d *differ) add(path string, op Op, old, new any) {
	d.out = append(d.out, Change{Path: path, Op: op, Old: old, New: new})
}

func (d *differ) walk(path string, a, b any) {
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
		d.add(path, Modify, a, b)
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
		p := member(path, k)
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case !inA:
			d.add(p, Add, nil, bv)
		case !inB:
			d.add(p, Remove, av, nil)
		default:
			d.walk(p, av, bv)
		}
	}
}

func (d *differ) lists(path string, a, b []any) {
	if key, ok := keyed[path]; ok {
		d.keyedLists(path, key, a, b)
		return
	}
	if sets[path] {
		for _, e := range a {
			if !slices.Contains(b, e) {
				d.add(path, Remove, e, nil)
			}
		}
		for _, e := range b {
			if !slices.Contains(a, e) {
				d.add(path, Add, nil, e)
			}
		}
		return
	}
	if len(a) != len(b) {
		// An ordered list that grew or shrank (cmd, entrypoint): show it
		// whole; element diffs of shifted arguments are noise.
		d.add(path, Modify, a, b)
		return
	}
	for i := range a {
		d.walk(path+"["+strconv.Itoa(i)+"]", a[i], b[i])
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
		p := path + "[" + strconv.Quote(k) + "]"
		av, inA := am[k]
		bv, inB := bm[k]
		switch {
		case !inA:
			d.add(p, Add, nil, bv)
		case !inB:
			d.add(p, Remove, av, nil)
		default:
			d.walk(p, av, bv)
		}
	}
}

// member appends a map key to a path, quoting keys that are not plain
// identifiers so that paths stay unambiguous.
func member(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			plain = false
			break
		}
	}
	if !plain {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
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
