package hcl

import (
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/muster-dev/muster/lang"
)

// spec says how the body of one block maps onto the job tree: which names
// are nested blocks, which repeated blocks make a list, and which are
// attributes (for the error on a block named like an attribute).
type spec struct {
	blocks map[string]*spec
	lists  map[string]listSpec // block type → list field
	attrs  map[string]form
}

// listSpec is a repeated block (input) and the list field it makes (inputs).
type listSpec struct {
	block, field string
	item         *spec
}

// form is how an attribute is written, for hints.
type form uint8

const (
	scalar form = iota
	listForm
	mapForm
)

func attrs(scalars []string, lists []string, maps []string) map[string]form {
	m := map[string]form{}
	for _, s := range scalars {
		m[s] = scalar
	}
	for _, s := range lists {
		m[s] = listForm
	}
	for _, s := range maps {
		m[s] = mapForm
	}
	return m
}

// The shape of a job, as in docs/spec.md section 2.
var (
	anySpec    = &spec{}
	inputSpec  = &spec{attrs: attrs([]string{"source", "target"}, nil, nil)}
	outputSpec = &spec{attrs: attrs([]string{"path"}, nil, nil)}
	portSpec   = &spec{attrs: attrs([]string{"name", "port", "to"}, nil, nil)}
	resources  = &spec{attrs: attrs([]string{"cpus", "memory"}, nil, nil)}
	taskSpec   = &spec{
		blocks: map[string]*spec{"resources": resources},
		lists: map[string]listSpec{
			"input":  {block: "input", field: "inputs", item: inputSpec},
			"output": {block: "output", field: "outputs", item: outputSpec},
			"port":   {block: "port", field: "ports", item: portSpec},
		},
		attrs: attrs([]string{"engine", "image", "workdir", "network"}, []string{"entrypoint", "cmd"}, []string{"env"}),
	}
	selectorSpec = &spec{attrs: attrs(nil, []string{"match_expressions", "match_ids"}, []string{"match_labels"})}
	probeSpec    = &spec{
		blocks: map[string]*spec{
			"http": {attrs: attrs([]string{"port", "path"}, []string{"status"}, nil)},
			"tcp":  {attrs: attrs([]string{"port"}, nil, nil)},
			"exec": {attrs: attrs(nil, []string{"cmd"}, nil)},
		},
		attrs: attrs([]string{"timeout"}, nil, nil),
	}
	healthSpec = &spec{
		blocks: map[string]*spec{"probe": probeSpec},
		attrs:  attrs([]string{"deadline", "min_healthy_time", "interval", "failure_threshold", "success_threshold", "max_error_rate"}, nil, nil),
	}
	rolloutSpec = &spec{
		blocks: map[string]*spec{"health_check": healthSpec},
		attrs: attrs([]string{"strategy", "max_parallel", "canary_count", "canary_percent", "auto_promote",
			"max_failed_nodes", "max_failed_nodes_percent", "no_auto_rollback"}, nil, nil),
	}
	timeoutsSpec = &spec{attrs: attrs([]string{"execution", "queue", "total"}, nil, nil)}
	scheduleSpec = &spec{attrs: attrs([]string{"cron", "time_zone", "prohibit_overlap"}, nil, nil)}
	jobSpec      = &spec{
		blocks: map[string]*spec{"selector": selectorSpec, "task": taskSpec, "rollout": rolloutSpec, "timeouts": timeoutsSpec,
			"schedule": scheduleSpec},
		attrs: attrs([]string{"api_version", "namespace", "type", "description", "priority", "count", "restart_policy"},
			nil, []string{"labels", "meta"}),
	}
)

// hasAttr reports whether the blocks of s take the attribute name.
func hasAttr(s *spec, name string) bool {
	_, ok := s.attrs[name]
	return ok
}

// listByField finds the repeated block whose list field is name.
func (s *spec) listByField(name string) (listSpec, bool) {
	for _, l := range s.lists {
		if l.field == name {
			return l, true
		}
	}
	return listSpec{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// fieldSet is a map value being built: its fields, whether blocks set
// them, and an index by key once there are many.
type fieldSet struct {
	m       *lang.Value
	byBlock []bool // parallel to m.Fields
	index   map[string]int
}

// entry is a field already set, and whether blocks set it.
type entry struct {
	field     *lang.Field
	fromBlock bool
}

func (s *fieldSet) get(key string) *entry {
	i := -1
	if s.index != nil {
		if j, ok := s.index[key]; ok {
			i = j
		}
	} else {
		for j, f := range s.m.Fields {
			if f.Key == key {
				i = j
				break
			}
		}
	}
	if i < 0 {
		return nil
	}
	return &entry{field: s.m.Fields[i], fromBlock: s.byBlock[i]}
}

func (s *fieldSet) put(f *lang.Field, fromBlock bool) {
	s.m.Fields = append(s.m.Fields, f)
	s.byBlock = append(s.byBlock, fromBlock)
	switch n := len(s.m.Fields); {
	case s.index != nil:
		s.index[f.Key] = n - 1
	case n > 16:
		s.index = make(map[string]int, 2*n)
		for i, g := range s.m.Fields {
			if _, dup := s.index[g.Key]; !dup {
				s.index[g.Key] = i
			}
		}
	}
}

// job walks one job block. It returns nil when the block holds an error,
// even one with an obvious reading: a patched-up tree must not compile
// into a job that looks valid.
func (p *parser) job(b *hclsyntax.Block) *lang.Value {
	p.broken, p.nodes = false, 0
	errorsBefore := p.errorCount()
	r := blockRange(b)
	firstSyntax := -1
	for _, off := range p.syntaxErrs {
		if off >= r.Start.Byte && off <= r.End.Byte {
			p.broken = true
			if firstSyntax < 0 || off < firstSyntax {
				firstSyntax = off
			}
		}
	}
	if firstSyntax >= 0 && !p.wellNested(b) {
		defer p.dropAfter(len(p.diags), firstSyntax)
	}
	v := &lang.Value{Kind: lang.Map, Range: p.pos.rng(r)}
	seen := &fieldSet{m: v}
	switch len(b.Labels) {
	case 0:
		p.errorf(b.TypeRange, "name", `a job block needs one label, its name: job "web" { ... }`)
		p.broken = true
	default:
		if len(b.Labels) > 1 {
			p.errorf(b.LabelRanges[1], "", "a job block takes one label, its name; remove the others")
		}
		lr := p.pos.rng(b.LabelRanges[0])
		f := &lang.Field{Key: "name", KeyRange: lr, Value: &lang.Value{Kind: lang.String, Str: b.Labels[0], Range: lr}}
		seen.put(f, false)
	}
	p.body(b.Body, jobSpec, "", v, seen, true)
	if p.broken || p.errorCount() > errorsBefore {
		return nil
	}
	return v
}

// body walks the attributes and blocks of a block body, in source order,
// into the fields of m.
func (p *parser) body(body *hclsyntax.Body, sp *spec, path string, m *lang.Value, seen *fieldSet, isJob bool) {
	attrs := sortedAttrs(body.Attributes)
	blocks := body.Blocks
	m.Fields = slicesGrow(m.Fields, len(attrs)+len(blocks))
	if seen == nil {
		seen = &fieldSet{m: m, byBlock: make([]bool, 0, len(attrs)+len(blocks))}
	}
	for len(attrs) > 0 || len(blocks) > 0 {
		if len(blocks) == 0 || len(attrs) > 0 && attrs[0].SrcRange.Start.Byte < blocks[0].TypeRange.Start.Byte {
			p.attribute(attrs[0], sp, path, seen, isJob)
			attrs = attrs[1:]
		} else {
			p.block(blocks[0], sp, path, seen)
			blocks = blocks[1:]
		}
	}
}

func slicesGrow(fs []*lang.Field, n int) []*lang.Field {
	if cap(fs)-len(fs) >= n {
		return fs
	}
	out := make([]*lang.Field, len(fs), len(fs)+n)
	copy(out, fs)
	return out
}

func (p *parser) add(seen *fieldSet, key string, keyRange hcl.Range, v *lang.Value, path string, fromBlock bool) {
	if prev := seen.get(key); prev != nil {
		p.errorf(keyRange, path, "%s is set twice (first at line %d)", key, prev.field.KeyRange.Start.Line)
		return
	}
	seen.put(&lang.Field{Key: key, KeyRange: p.pos.rng(keyRange), Value: v}, fromBlock)
}

func (p *parser) attribute(a *hclsyntax.Attribute, sp *spec, path string, seen *fieldSet, isJob bool) {
	name := a.Name
	fpath := join(path, name)
	if isJob && name == "name" {
		p.errorf(a.NameRange, "name", `the job name is the block label: write job "NAME" { ... } and remove the name attribute`)
		return
	}
	if _, ok := sp.blocks[name]; ok {
		p.errorf(a.NameRange, fpath, `%s is a block: write %s { ... } without "="`, name, name)
	} else if l, ok := sp.listByField(name); ok {
		p.errorf(a.NameRange, fpath, "%s are written as repeated blocks, one per item: %s { ... } %s { ... }, not %s = [...]", name, l.block, l.block, name)
	} else if l, ok := sp.lists[name]; ok {
		p.errorf(a.NameRange, fpath, `%s is a block: write %s { ... } without "=", once per item of %s`, name, name, l.field)
		return
	}
	v := p.expr(a.Expr, fpath)
	if v == nil {
		return
	}
	p.add(seen, name, a.NameRange, v, fpath, false)
}

func (p *parser) block(b *hclsyntax.Block, sp *spec, path string, seen *fieldSet) {
	name := b.Type
	fpath := join(path, name)
	if len(b.Labels) > 0 {
		if l, ok := sp.lists[name]; ok && hasAttr(l.item, "name") {
			// port "http" { } as other tools write it: the name goes inside.
			p.errorf(b.LabelRanges[0], fpath, "a %s block takes no label: write its name inside, %s { name = %q ... }", name, name, b.Labels[0])
		} else {
			p.errorf(b.LabelRanges[0], fpath, "a %s block takes no label: write %s { ... }", name, name)
		}
	}
	if sub, ok := sp.blocks[name]; ok {
		if prev := seen.get(name); prev != nil {
			if prev.fromBlock {
				p.errorf(b.TypeRange, fpath, "only one %s block is allowed (the first is at line %d)", name, prev.field.KeyRange.Start.Line)
			} else {
				p.errorf(b.TypeRange, fpath, "%s is set twice (first at line %d)", name, prev.field.KeyRange.Start.Line)
			}
			return
		}
		v := &lang.Value{Kind: lang.Map, Range: p.pos.rng(blockRange(b))}
		p.body(b.Body, sub, fpath, v, nil, false)
		p.add(seen, name, b.TypeRange, v, fpath, true)
		return
	}
	if l, ok := sp.lists[name]; ok {
		p.listItem(b, l, path, seen)
		return
	}
	if l, ok := sp.listByField(name); ok {
		p.errorf(b.TypeRange, fpath, "write one %s { ... } block per item: the block is %s, the list it makes is %s", l.block, l.block, l.field)
		p.listItem(b, l, path, seen)
		return
	}
	sub := anySpec
	if f, ok := sp.attrs[name]; ok {
		hint := "= value"
		switch f {
		case listForm:
			hint = "= [ ... ]"
		case mapForm:
			hint = "= { ... }"
		}
		p.errorf(b.TypeRange, fpath, "%s is an attribute, not a block: write %s %s", name, name, hint)
	}
	// Unknown blocks pass through as maps; the validator reports unknown
	// fields with a suggestion.
	v := &lang.Value{Kind: lang.Map, Range: p.pos.rng(blockRange(b))}
	p.body(b.Body, sub, fpath, v, nil, false)
	p.add(seen, name, b.TypeRange, v, fpath, true)
}

// listItem appends one repeated block (input { }) to its list (inputs).
func (p *parser) listItem(b *hclsyntax.Block, l listSpec, path string, seen *fieldSet) {
	lpath := join(path, l.field)
	r := p.pos.rng(blockRange(b))
	e := seen.get(l.field)
	if e == nil {
		list := &lang.Value{Kind: lang.List, Range: r}
		p.add(seen, l.field, b.TypeRange, list, lpath, true)
		e = seen.get(l.field)
	} else if !e.fromBlock || e.field.Value.Kind != lang.List {
		p.errorf(b.TypeRange, lpath, "%s is set twice (first at line %d)", l.field, e.field.KeyRange.Start.Line)
		return
	}
	list := e.field.Value
	item := &lang.Value{Kind: lang.Map, Range: r}
	p.body(b.Body, l.item, index(lpath, len(list.List)), item, nil, false)
	list.List = append(list.List, item)
	list.Range.End = r.End
}

// wellNested reports whether hclsyntax closed block b at the brace that
// closes it in the file. After a syntax error, hclsyntax recovers by
// skipping tokens; when it lost track of the braces, what it made of the
// rest of the block is no guide to what the file says (the jobs after it
// can turn up as blocks nested in this one).
func (p *parser) wellNested(b *hclsyntax.Block) bool {
	end, ok := p.braces[b.OpenBraceRange.Start.Byte]
	return ok && end == b.CloseBraceRange.Start.Byte
}

// dropAfter removes the diagnostics from p.diags[from:] that lie after
// byte off, a syntax error in a block that is not well nested.
func (p *parser) dropAfter(from, off int) {
	kept := p.diags[:from]
	for _, d := range p.diags[from:] {
		if d.Range.IsZero() || d.Range.Start.Byte <= off {
			kept = append(kept, d)
		}
	}
	p.diags = kept
}

func (p *parser) errorCount() int {
	n := 0
	for _, d := range p.diags {
		if d.Severity != lang.Warning {
			n++
		}
	}
	return n
}
