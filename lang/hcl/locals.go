package hcl

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// local is one name = value of a locals block.
type local struct {
	name  string
	attr  *hclsyntax.Attribute
	value cty.Value
	state uint8 // 0 not evaluated, 1 being evaluated, 2 done
}

// evalLocals reads every locals block and evaluates the locals in
// dependency order, whatever their order in the file. A cycle is one error
// naming its members; locals on it, and those using them, stay unknown.
func (p *parser) evalLocals(blocks []*hclsyntax.Block) {
	p.locals = map[string]*local{}
	for _, b := range blocks {
		if len(b.Labels) > 0 {
			p.errorf(b.LabelRanges[0], "", "a locals block takes no label: write locals { name = value }")
		}
		for _, nb := range b.Body.Blocks {
			p.errorf(nb.TypeRange, "", "a locals block holds only name = value attributes; %q is a block", nb.Type)
		}
		for _, a := range sortedAttrs(b.Body.Attributes) {
			if prev := p.locals[a.Name]; prev != nil {
				p.errorf(a.NameRange, "", "local.%s is defined twice (first at line %d)", a.Name, prev.attr.NameRange.Start.Line)
				continue
			}
			l := &local{name: a.Name, attr: a, value: cty.DynamicVal}
			p.locals[a.Name] = l
			p.localList = append(p.localList, l)
		}
	}
	for _, l := range p.localList {
		p.evalLocal(l, nil)
	}
}

func (p *parser) evalLocal(l *local, stack []*local) {
	switch l.state {
	case 2:
		return
	case 1:
		i := 0
		for i < len(stack) && stack[i] != l {
			i++
		}
		names := make([]string, 0, len(stack)-i+1)
		for _, s := range stack[i:] {
			names = append(names, "local."+s.name)
		}
		names = append(names, "local."+l.name)
		if len(names) == 2 {
			p.errorf(l.attr.NameRange, "", "local.%s refers to itself", l.name)
		} else {
			p.errorf(l.attr.NameRange, "", "local.%s refers to itself through a cycle: %s", l.name, strings.Join(names, " → "))
		}
		return
	}
	l.state = 1
	stack = append(stack, l)
	var deps map[string]cty.Value
	for _, t := range l.attr.Expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		name, ok := stepName(t[1])
		if !ok {
			continue
		}
		dep := p.locals[name]
		if dep == nil {
			continue // reported when evaluating
		}
		p.evalLocal(dep, stack)
		if deps == nil {
			deps = map[string]cty.Value{}
		}
		deps[name] = dep.value
	}
	obj := cty.EmptyObjectVal
	if deps != nil {
		obj = cty.ObjectVal(deps)
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": p.varObj, "local": obj}, Functions: functions()}
	val, d := l.attr.Expr.Value(ctx)
	p.hclDiags(d, "", l.attr.Expr)
	if d.HasErrors() {
		val = cty.DynamicVal
	}
	l.value, l.state = val, 2
}

// localObject is the value of local in job expressions.
func (p *parser) localObject() cty.Value {
	if len(p.localList) == 0 {
		return cty.EmptyObjectVal
	}
	m := make(map[string]cty.Value, len(p.localList))
	for _, l := range p.localList {
		m[l.name] = l.value
	}
	return cty.ObjectVal(m)
}

// checkRefs reports references to undeclared variables and undefined
// locals in expr, with a suggestion, and returns their ranges so that HCL's
// own, vaguer message about them can be dropped.
func (p *parser) checkRefs(expr hcl.Expression, path string) []hcl.Range {
	var bad []hcl.Range
	for _, t := range expr.Variables() {
		root := t.RootName()
		if (root != "var" && root != "local") || len(t) < 2 {
			continue
		}
		name, ok := stepName(t[1])
		if !ok {
			continue
		}
		rng := hcl.RangeBetween(t[0].SourceRange(), t[1].SourceRange())
		switch root {
		case "var":
			if p.vars[name] != nil {
				continue
			}
			msg := fmt.Sprintf("there is no variable %q: declare it with variable %q { }", name, name)
			if s := suggest(name, p.varNames()); s != "" {
				msg = fmt.Sprintf("there is no variable %q; did you mean var.%s?", name, s)
			}
			p.errorf(rng, path, "%s", msg)
		case "local":
			if p.locals[name] != nil {
				continue
			}
			msg := fmt.Sprintf("local.%s is not defined in a locals block", name)
			if s := suggest(name, p.localNames()); s != "" {
				msg = fmt.Sprintf("local.%s is not defined; did you mean local.%s?", name, s)
			}
			p.errorf(rng, path, "%s", msg)
		}
		bad = append(bad, rng)
	}
	return bad
}

func (p *parser) varNames() []string {
	out := make([]string, len(p.varOrder))
	for i, v := range p.varOrder {
		out[i] = v.name
	}
	return out
}

func (p *parser) localNames() []string {
	out := make([]string, len(p.localList))
	for i, l := range p.localList {
		out[i] = l.name
	}
	return out
}
