package compiler

import (
	"fmt"
	"slices"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/selector"
	"github.com/muster-dev/muster/sensitive"
)

// sensitiveWarning is the warning on a field that holds the value of a
// sensitive variable (docs/spec.md section 4).
const sensitiveWarning = "%s holds the value of a sensitive variable, which the spec store keeps in clear (muster shows it as (sensitive)); " +
	"refer to a secret as secret:<namespace>/<name> instead"

// shownWarning is the warning on a field that holds the value of a
// sensitive variable and that every command shows: the job's name and
// namespace, which make its reference.
const shownWarning = "%s holds the value of a sensitive variable, but a job's name and namespace show wherever the job does " +
	"and cannot be hidden: do not take them from a sensitive variable"

// sensitivePaths returns the paths, in the canonical spec of j, of the
// values of t that came from sensitive variables (see package sensitive),
// and a warning for each. t is the tree j was validated from; a value
// inherits the mark of the map or list that holds it, through locals and
// functions alike (the frontend carries it).
//
// Normalization moves values but keeps their mark: a rewritten value
// ("1024M" becomes "1G") stays at its path; an input or output is named by
// its target or path, not by where it was written; an element of a sorted
// set is named by its index in the canonical order. Where the path itself
// would show a sensitive value (the target of an input), the whole list is
// hidden. A value that normalization drops has no path.
func sensitivePaths(t *lang.Value, j *schema.Job) ([]string, lang.Diagnostics) {
	if !holdsSensitive(t) {
		return nil, nil
	}
	f := &finder{job: j, ranges: map[string]lang.Range{}}
	f.walk(t, "")
	spec := j.Canonical()
	missing, err := sensitive.Missing(spec, f.paths)
	if err != nil {
		return nil, nil // not reached: canonical bytes are JSON
	}
	var kept []string
	for _, p := range f.paths {
		if !slices.Contains(missing, p) {
			kept = append(kept, p)
		}
	}
	paths := sensitive.Union(kept)
	var diags lang.Diagnostics
	for _, p := range paths {
		msg := sensitiveWarning
		if p == "name" || p == "namespace" {
			msg = shownWarning
		}
		diags = append(diags, lang.Diagnostic{Severity: lang.Warning, Range: f.ranges[p], Path: p, Message: fmt.Sprintf(msg, p)})
	}
	return paths, diags
}

// finder gathers the canonical paths of the sensitive values of one tree.
type finder struct {
	job    *schema.Job
	paths  []string
	ranges map[string]lang.Range
}

func (f *finder) add(path string, r lang.Range) {
	if _, ok := f.ranges[path]; !ok {
		f.paths = append(f.paths, path)
		f.ranges[path] = r
	}
}

func (f *finder) walk(v *lang.Value, path string) {
	if v == nil || v.Kind == lang.Null {
		return
	}
	if v.Sensitive {
		f.add(path, v.Range)
		return
	}
	switch v.Kind {
	case lang.Map:
		for _, fd := range v.Fields {
			f.walk(fd.Value, sensitive.Member(path, fd.Key))
		}
	case lang.List:
		f.list(v, path)
	}
}

func (f *finder) list(v *lang.Value, path string) {
	key, keyed := sensitive.KeyOf(path)
	for i, e := range v.List {
		if !holdsSensitive(e) {
			continue
		}
		switch {
		case keyed:
			k := e.Get(key)
			if e.Sensitive || k == nil || k.Value == nil || k.Value.Kind != lang.String || k.Value.Sensitive {
				// The element's name would show the value: hide the list.
				f.add(path, e.Range)
				continue
			}
			f.walk(e, sensitive.Element(path, k.Value.Str))
		case sensitive.IsSet(path):
			if n := f.setIndex(path, e); n >= 0 {
				f.add(sensitive.Index(path, n), e.Range)
			} else {
				f.add(path, e.Range)
			}
		default:
			f.walk(e, sensitive.Index(path, i))
		}
	}
}

// setIndex returns the index of element e of the set at path in the
// canonical spec, -1 when it is not found there.
func (f *finder) setIndex(path string, e *lang.Value) int {
	if e.Kind != lang.String {
		return -1
	}
	text, list := e.Str, []string(nil)
	switch path {
	case "selector.match_expressions":
		if c, err := selector.Canonical(text); err == nil {
			text = c
		}
		list = f.job.Selector.MatchExpressions
	case "selector.match_ids":
		list = f.job.Selector.MatchIDs
	}
	for i, s := range list {
		if s == text {
			return i
		}
	}
	return -1
}

// holdsSensitive reports whether v or a value inside it is sensitive.
func holdsSensitive(v *lang.Value) bool {
	if v == nil {
		return false
	}
	if v.Sensitive {
		return true
	}
	for _, e := range v.List {
		if holdsSensitive(e) {
			return true
		}
	}
	for _, fd := range v.Fields {
		if holdsSensitive(fd.Value) {
			return true
		}
	}
	return false
}
