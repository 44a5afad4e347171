package cue

import (
	"context"
	"fmt"
	"strconv"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/parser"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/validate"
)

var _ lang.Parser = Parse

// Parse reads the jobs of a CUE file: its top-level value, or each element
// of its top-level field jobs. It satisfies lang.Parser.
//
// Each job that unifies with #Job into a concrete value yields its exported
// tree, defaults filled; nodes written in the file keep their ranges, nodes
// filled in by #Job have the zero Range. A job that does not yields no tree
// and every problem it has, each reported once (see the package doc).
// Syntax errors stop the file. Parse never panics: an internal failure is
// reported as an error diagnostic.
func Parse(filename string, src []byte, opts lang.Options) (jobs []*lang.Value, diags lang.Diagnostics) {
	return ParseContext(context.Background(), filename, src, opts)
}

// ParseContext is Parse for a caller that may stop waiting: ctx ends when
// it has. CUE's evaluator cannot be interrupted, so the evaluation runs to
// its end regardless; but a cue.Context whose evaluation outlived ctx is
// dropped, never returned to the pool, since it may hold whatever a runaway
// file made it build.
func ParseContext(ctx context.Context, filename string, src []byte, opts lang.Options) (jobs []*lang.Value, diags lang.Diagnostics) {
	p := &fileParser{filename: filename, src: src}
	var w *worker
	broken := true
	defer func() {
		if r := recover(); r != nil {
			jobs = nil
			p.diags.Add(lang.Range{Filename: filename}, "", "internal error in the CUE frontend (please report it): %v", r)
			diags = p.diags
		}
		if w != nil {
			putWorker(w, broken || ctx.Err() != nil)
		}
	}()
	w = getWorker()
	jobs = p.parse(w, opts)
	broken = false
	p.diags.Sort()
	return jobs, p.diags
}

func (p *fileParser) parse(w *worker, opts lang.Options) []*lang.Value {
	f, err := parser.ParseFile(p.filename, p.src)
	if err != nil {
		for _, d := range p.convert(err, 0, "") {
			d.Path = ""
			p.diags = append(p.diags, d.Diagnostic)
		}
		return nil
	}
	p.indexFile(f)
	p.tagVars = p.injectTags(f, opts)

	root := w.ctx.BuildFile(f, cue.Scope(w.scope))
	if _, err := root.Fields(); err != nil {
		if err := root.Err(); err != nil {
			p.addCUE(p.convert(err, 0, ""))
		} else {
			p.errorAt(f.Pos(), f.Pos(), "", "the top level of a CUE job file must be a job (a struct), or hold jobs: [...]")
		}
		return nil
	}

	list := root.LookupPath(cue.MakePath(cue.Str("jobs")))
	if !list.Exists() {
		if t := p.job(w, root, 0, ""); t != nil {
			return []*lang.Value{t}
		}
		return nil
	}

	p.onlyJobs(root)
	it, err := list.List()
	if err != nil {
		if e := list.Err(); e != nil {
			p.addCUE(p.convert(e, 0, ""))
		} else {
			r := p.index["jobs"]
			p.errorAt(r.start, r.end, "jobs", "jobs must be a list of jobs, not %s", list.IncompleteKind())
		}
		return nil
	}
	var jobs []*lang.Value
	for i := 0; it.Next(); i++ {
		if t := p.job(w, it.Value(), 2, "jobs["+strconv.Itoa(i)+"]"); t != nil {
			jobs = append(jobs, t)
		}
	}
	return jobs
}

// onlyJobs reports regular fields beside jobs.
func (p *fileParser) onlyJobs(root cue.Value) {
	it, err := root.Fields()
	if err != nil {
		return
	}
	for it.Next() {
		sel := it.Selector()
		if sel.LabelType() != cue.StringLabel || sel.Unquoted() == "jobs" {
			continue
		}
		key := sel.Unquoted()
		r := p.index[key]
		start, end := r.start, r.end
		if r.label != nil {
			start, end = r.label.Pos(), r.label.End()
		} else if !start.IsValid() {
			start = it.Value().Pos()
			end = start
		}
		p.errorAt(start, end, key, "field %q is not allowed beside jobs: a file with jobs: [...] holds only jobs (keep shared values in hidden fields such as _base or definitions such as #Base)", key)
	}
}

// job unifies one job with #Job and returns its exported tree, or nil after
// reporting why it cannot. strip is the length of the job's path in the
// file, prefix its index path.
func (p *fileParser) job(w *worker, j cue.Value, strip int, prefix string) *lang.Value {
	e := w.def.Unify(j)
	err := e.Validate(cue.Concrete(true))
	if err == nil {
		b := builder{p: p, prefix: prefix}
		if t := b.build(e); t != nil && len(b.skipped) == 0 {
			return t
		}
		err = fmt.Errorf("the job is not concrete")
	}
	p.explain(j, e, err, strip, prefix)
	return nil
}

// explain reports why job j does not unify with #Job into a concrete value
// (e, failing with err), each problem once: CUE's errors within the job as
// written, the validator's errors on the job as written, and what is left
// of CUE's errors against #Job.
func (p *fileParser) explain(j, e cue.Value, err error, strip int, prefix string) {
	b := builder{p: p, prefix: prefix, alt: &e}
	tree := b.build(j)

	// CUE's own errors: conflicts, non-concrete values and bad references
	// within the job as written, less those #Job makes concrete.
	var own []string
	for _, d := range p.convert(j.Validate(cue.Concrete(true)), strip, prefix) {
		if relatedToAny(d.Path, b.resolved) && !relatedToAny(d.Path, b.skipped) {
			continue
		}
		own = append(own, d.Path)
		p.diags = append(p.diags, d.Diagnostic)
	}
	for _, path := range b.skipped {
		if !relatedToAny(path, own) {
			own = append(own, path) // bytes values, reported by the builder
		}
	}

	// The validator's errors on the job as written.
	var reported []string
	if tree != nil {
		_, vd := validate.Job(tree)
		for _, d := range vd {
			if d.Severity == lang.Error && relatedToAny(d.Path, own) {
				continue
			}
			reported = append(reported, d.Path)
			p.diags = append(p.diags, d)
		}
	}

	// Whatever CUE found against #Job that nothing above explains.
	for _, d := range p.convert(err, 1, prefix) {
		if d.covered(own) || d.covered(reported) {
			continue
		}
		p.diags = append(p.diags, d.Diagnostic)
		reported = append(reported, d.Path)
	}
	if len(own) == 0 && len(reported) == 0 {
		r := b.valueRange(j, "")
		if r.IsZero() {
			r.Filename = p.filename
		}
		p.diags.Add(r, "", "the job does not unify with #Job: %v", err)
	}
}

// addCUE appends converted CUE errors.
func (p *fileParser) addCUE(ds []cueDiag) {
	for _, d := range ds {
		p.diags = append(p.diags, d.Diagnostic)
	}
}
