package hcl

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/vars"
)

// variable is one variable "NAME" { } declaration and the value it got.
type variable struct {
	name       string
	labelRange hcl.Range

	typed    bool // a type was declared
	ty       cty.Type
	defaults *typeexpr.Defaults

	hasDefault bool
	badDefault bool
	def        cty.Value

	sensitive bool
	nullable  bool

	validations []validation

	value  cty.Value // cty.DynamicVal when it has no usable value
	source string    // where value came from, for messages; "" for the default
}

type validation struct {
	cond, msg hcl.Expression
}

var (
	variableAttrs   = []string{"type", "default", "description", "sensitive", "nullable"}
	validationAttrs = []string{"condition", "error_message"}
)

// declare reads the variable blocks.
func (p *parser) declare(blocks []*hclsyntax.Block) {
	p.vars = make(map[string]*variable, len(blocks))
	for _, b := range blocks {
		switch {
		case len(b.Labels) == 0:
			p.errorf(b.TypeRange, "", `a variable block needs one label, its name: variable "image" { ... }`)
			continue
		case len(b.Labels) > 1:
			p.errorf(b.LabelRanges[1], "", "a variable block takes one label, its name; remove the others")
		}
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			p.errorf(b.LabelRanges[0], "", "variable name %q is not valid: use letters, digits, _ and -, starting with a letter", name)
			continue
		}
		if prev := p.vars[name]; prev != nil {
			p.errorf(b.LabelRanges[0], "", "variable %q is declared twice (first at line %d)", name, prev.labelRange.Start.Line)
			continue
		}
		v := &variable{name: name, labelRange: b.LabelRanges[0], ty: cty.DynamicPseudoType, nullable: true, value: cty.DynamicVal}
		p.vars[name] = v
		p.varOrder = append(p.varOrder, v)
		p.variableBody(v, b.Body)
	}
}

func (p *parser) variableBody(v *variable, body *hclsyntax.Body) {
	var defExpr hcl.Expression
	for _, a := range sortedAttrs(body.Attributes) {
		switch a.Name {
		case "type":
			ty, defaults, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
			p.hclDiags(d, "", nil)
			if !d.HasErrors() {
				v.typed, v.ty, v.defaults = true, ty, defaults
			}
		case "default":
			val, d := a.Expr.Value(nil)
			p.hclDiags(d, "", nil)
			if d.HasErrors() {
				v.badDefault = true
			} else {
				v.hasDefault, v.def, defExpr = true, val, a.Expr
			}
		case "description":
			if s, ok := p.literal(a, cty.String); ok && s.IsNull() {
				p.errorf(a.Expr.Range(), "", "description must be a string")
			}
		case "sensitive", "nullable":
			if b, ok := p.literal(a, cty.Bool); ok {
				if b.IsNull() {
					p.errorf(a.Expr.Range(), "", "%s must be true or false", a.Name)
				} else if a.Name == "sensitive" {
					v.sensitive = b.True()
				} else {
					v.nullable = b.True()
				}
			}
		default:
			msg := "unknown attribute %q in a variable block; it takes type, default, description, sensitive and nullable"
			if s := suggest(a.Name, variableAttrs); s != "" {
				msg = "unknown attribute %q in a variable block; did you mean " + s + "?"
			}
			p.errorf(a.NameRange, "", msg, a.Name)
		}
	}
	if v.hasDefault {
		def := v.def
		if v.defaults != nil && !def.IsNull() {
			def = v.defaults.Apply(def)
		}
		conv, err := convert.Convert(def, v.ty)
		if err != nil {
			p.errorf(defExpr.Range(), "", "the default of variable %q does not match its type %s: %s", v.name, typeexpr.TypeString(v.ty), convertErr(err))
			v.hasDefault, v.badDefault = false, true
		} else {
			v.def = conv
		}
	}
	for _, b := range body.Blocks {
		if b.Type != "validation" {
			msg := "unknown block %q in a variable block; only validation blocks are allowed"
			if s := suggest(b.Type, []string{"validation"}); s != "" {
				msg = "unknown block %q in a variable block; did you mean validation?"
			}
			p.errorf(b.TypeRange, "", msg, b.Type)
			continue
		}
		if len(b.Labels) > 0 {
			p.errorf(b.LabelRanges[0], "", "a validation block takes no label")
		}
		var val validation
		for _, a := range sortedAttrs(b.Body.Attributes) {
			switch a.Name {
			case "condition":
				val.cond = a.Expr
			case "error_message":
				val.msg = a.Expr
			default:
				msg := "unknown attribute %q in a validation block; it takes condition and error_message"
				if s := suggest(a.Name, validationAttrs); s != "" {
					msg = "unknown attribute %q in a validation block; did you mean " + s + "?"
				}
				p.errorf(a.NameRange, "", msg, a.Name)
			}
		}
		for _, nb := range b.Body.Blocks {
			p.errorf(nb.TypeRange, "", "a validation block holds only condition and error_message")
		}
		switch {
		case val.cond == nil:
			p.errorf(b.TypeRange, "", "a validation block needs a condition")
		case val.msg == nil:
			p.errorf(b.TypeRange, "", "a validation block needs an error_message")
		default:
			v.validations = append(v.validations, val)
		}
	}
}

// literal evaluates a constant attribute of a declaration and converts it
// to ty. It reports errors itself and returns ok=false after one.
func (p *parser) literal(a *hclsyntax.Attribute, ty cty.Type) (cty.Value, bool) {
	val, d := a.Expr.Value(nil)
	p.hclDiags(d, "", nil)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	conv, err := convert.Convert(val, ty)
	if err != nil || !conv.IsKnown() {
		p.errorf(a.Expr.Range(), "", "%s must be a %s", a.Name, ty.FriendlyName())
		return cty.NilVal, false
	}
	return conv, true
}

func convertErr(err error) string {
	var pe cty.PathError
	if errors.As(err, &pe) && len(pe.Path) > 0 {
		return pathString(pe.Path) + ": " + err.Error()
	}
	return err.Error()
}

func pathString(path cty.Path) string {
	var b strings.Builder
	for _, s := range path {
		switch s := s.(type) {
		case cty.GetAttrStep:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number && s.Key.IsKnown() && !s.Key.IsNull() {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	if b.Len() == 0 {
		return "value"
	}
	return b.String()
}

// assign gives every declared variable its value: the one the user gave,
// else the default. Then it checks the validation blocks.
func (p *parser) assign(given map[string]vars.Value) {
	names := make([]string, 0, len(given))
	for n := range given {
		names = append(names, n)
	}
	sort.Strings(names)
	declared := make([]string, 0, len(p.varOrder))
	for _, v := range p.varOrder {
		declared = append(declared, v.name)
	}
	for _, n := range names {
		if p.vars[n] != nil {
			continue
		}
		g := given[n]
		hint := ""
		if s := suggest(n, declared); s != "" {
			hint = fmt.Sprintf("; did you mean %q?", s)
		}
		// One command line may name several files, each declaring its own
		// variables, so a value no file here declares is not an error; it
		// is worth a word when it looks like a typo of a declared one.
		switch {
		case g.IsFlag():
			p.warnf(lang.Range{Filename: p.file}, "--var %s sets a variable this file does not declare%s", n, hint)
		case g.IsEnv():
			if hint != "" {
				p.warnf(lang.Range{Filename: p.file}, "%s sets a variable this file does not declare%s", g.Source, hint)
			}
		default:
			p.warnf(g.NameRange, "the var file sets %q, a variable %s does not declare%s", n, p.file, hint)
		}
	}
	for _, v := range p.varOrder {
		if g, ok := given[v.name]; ok {
			p.fromGiven(v, g)
			continue
		}
		switch {
		case v.hasDefault:
			v.value = v.def
		case v.badDefault:
			// already reported
		default:
			p.errorf(v.labelRange, "", "variable %q has no value: set it with --var %s=..., the environment variable %s%s=... or a var file, or give it a default",
				v.name, v.name, vars.EnvPrefix, v.name)
		}
	}
	for _, v := range p.varOrder {
		if v.sensitive {
			v.value = v.value.Mark(sensitive)
		}
	}
	p.varObj = p.varObject()
	p.validate()
}

// sensitive marks the values of sensitive variables. cty carries the mark
// through operators, functions and templates, and the value tree gets
// lang.Value.Sensitive wherever a marked value lands, so that the
// validator hides it too.
var sensitive = sensitiveMark{}

type sensitiveMark struct{}

// fromGiven converts a value the user gave to the declared type. Text
// values (--var, environment) are taken as they are for primitive and
// undeclared types, and parsed as an HCL literal expression for the others,
// as Terraform does.
func (p *parser) fromGiven(v *variable, g vars.Value) {
	v.source = g.Source
	where := p.pos.rng(v.labelRange)
	if !g.Range.IsZero() && !v.sensitive {
		// The error of a sensitive variable points at its declaration:
		// the line of the var file, which tools show under the error,
		// holds the value.
		where = g.Range
	}
	fail := func(format string, args ...any) {
		p.diags.Add(where, "", "invalid value for variable %q (from %s): %s", v.name, g.Source, fmt.Sprintf(format, args...))
	}
	raw := g.Value
	if g.FromText {
		raw = cty.StringVal(g.Text)
		if v.typed && !v.ty.IsPrimitiveType() {
			expr, d := hclsyntax.ParseExpression([]byte(g.Text), g.Source, hcl.InitialPos)
			if !d.HasErrors() {
				var ed hcl.Diagnostics
				raw, ed = expr.Value(nil)
				d = append(d, ed...)
			}
			if d.HasErrors() {
				fail("want %s, written as an HCL literal such as [\"a\", \"b\"] or { key = \"value\" }: %s", typeexpr.TypeString(v.ty), message(d[0]))
				return
			}
		}
	}
	if raw == cty.NilVal {
		raw = cty.NullVal(cty.DynamicPseudoType)
	}
	if raw.IsNull() && !v.nullable {
		if v.hasDefault {
			v.value = v.def
			return
		}
		fail("the variable is not nullable")
		return
	}
	if v.defaults != nil && !raw.IsNull() {
		raw = v.defaults.Apply(raw)
	}
	conv, err := convert.Convert(raw, v.ty)
	if err != nil {
		fail("want %s: %s", typeexpr.TypeString(v.ty), convertErr(err))
		return
	}
	if hugeNumber(conv) {
		fail("a number beyond 2^±%d, too large or too small to use", maxExp)
		return
	}
	v.value = conv
}

// validate evaluates the validation blocks of every variable that has a
// value. A false condition makes the variable unusable, so that jobs using
// it are not returned with a value the author ruled out.
func (p *parser) validate() {
	var ctx *hcl.EvalContext
	for _, v := range p.varOrder {
		if len(v.validations) == 0 || !v.value.IsWhollyKnown() {
			continue
		}
		if ctx == nil {
			ctx = &hcl.EvalContext{Variables: map[string]cty.Value{"var": p.varObj}, Functions: functions()}
		}
		failed := false
		for _, val := range v.validations {
			cond, d := val.cond.Value(ctx)
			p.hclDiags(d, "", val.cond)
			if d.HasErrors() {
				failed = true
				continue
			}
			cond, _ = cond.UnmarkDeep()
			if !cond.IsKnown() {
				continue
			}
			if cond.IsNull() {
				p.errorf(val.cond.Range(), "", "the condition of a validation of variable %q is null; it must be true or false", v.name)
				failed = true
				continue
			}
			b, err := convert.Convert(cond, cty.Bool)
			if err != nil {
				p.errorf(val.cond.Range(), "", "the condition of a validation of variable %q must be true or false: %s", v.name, convertErr(err))
				failed = true
				continue
			}
			if b.True() {
				continue
			}
			failed = true
			from := ""
			if v.source != "" {
				from = " (from " + v.source + ")"
			}
			p.errorf(val.cond.Range(), "", "invalid value for variable %q%s: %s", v.name, from, p.errorMessage(val.msg, ctx))
		}
		if failed {
			v.value = cty.DynamicVal
		}
	}
	if ctx != nil {
		p.varObj = p.varObject()
	}
}

// errorMessage evaluates a validation's error_message. A message that uses
// a sensitive variable is not shown.
func (p *parser) errorMessage(expr hcl.Expression, ctx *hcl.EvalContext) string {
	for _, t := range expr.Variables() {
		if t.RootName() == "var" && len(t) > 1 {
			if name, ok := stepName(t[1]); ok && p.vars[name] != nil && p.vars[name].sensitive {
				return fmt.Sprintf("(the error message is hidden because it uses the sensitive variable %q)", name)
			}
		}
	}
	val, d := expr.Value(ctx)
	if d.HasErrors() {
		p.hclDiags(d, "", expr)
		return "(the error_message could not be evaluated)"
	}
	val, _ = val.UnmarkDeep()
	s, err := convert.Convert(val, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return "(the error_message is not a string)"
	}
	return s.AsString()
}

// varObject is the value of var in expressions.
func (p *parser) varObject() cty.Value {
	if len(p.varOrder) == 0 {
		return cty.EmptyObjectVal
	}
	m := make(map[string]cty.Value, len(p.varOrder))
	for _, v := range p.varOrder {
		m[v.name] = v.value
	}
	return cty.ObjectVal(m)
}

func stepName(s hcl.Traverser) (string, bool) {
	switch s := s.(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

// secrets returns the texts of sensitive values worth hiding in messages,
// longest first.
func (p *parser) secrets() []string {
	var out []string
	var walk func(v cty.Value, depth int)
	walk = func(v cty.Value, depth int) {
		if !v.IsKnown() || v.IsNull() || depth > 32 {
			return
		}
		v, _ = v.Unmark()
		ty := v.Type()
		switch {
		case ty == cty.String:
			if s := v.AsString(); len(s) >= 4 {
				out = append(out, s)
			} else if s != "" {
				// Short values are hidden where a message quotes them, not
				// wherever their letters occur.
				out = append(out, strconv.Quote(s))
			}
		case ty == cty.Number:
			if s := v.AsBigFloat().Text('g', -1); len(s) >= 4 {
				out = append(out, s)
			}
		case ty.IsCollectionType() || ty.IsObjectType() || ty.IsTupleType():
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				walk(e, depth+1)
			}
		}
	}
	for _, v := range p.varOrder {
		if v.sensitive {
			walk(v.value, 0)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// redact hides the values of sensitive variables in every message.
func (p *parser) redact() {
	secrets := p.secrets()
	if len(secrets) == 0 {
		return
	}
	for i := range p.diags {
		for _, s := range secrets {
			hidden := "(sensitive value)"
			if len(s) < 6 && strings.HasPrefix(s, `"`) {
				hidden = `"(sensitive value)"`
			}
			p.diags[i].Message = strings.ReplaceAll(p.diags[i].Message, s, hidden)
		}
	}
}
