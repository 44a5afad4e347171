package hcl

import (
	"math/big"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/muster-dev/muster/lang"
)

// expr evaluates an expression into a value tree. Literal { } and [ ]
// expressions are walked item by item so that every item keeps its own
// range and path; any other expression is evaluated whole and all of its
// nodes get the expression's range. It returns nil, and marks the job
// broken, when the value cannot be computed.
func (p *parser) expr(e hclsyntax.Expression, path string) *lang.Value {
	switch x := e.(type) {
	case *hclsyntax.ObjectConsExpr:
		v := &lang.Value{Kind: lang.Map, Range: p.pos.rng(x.SrcRange), Fields: make([]*lang.Field, 0, len(x.Items))}
		for _, it := range x.Items {
			key, ok := p.objectKey(it.KeyExpr, path)
			if !ok {
				continue
			}
			fv := p.expr(it.ValueExpr, join(path, key))
			if fv == nil {
				continue
			}
			v.Fields = append(v.Fields, &lang.Field{Key: key, KeyRange: p.pos.rng(it.KeyExpr.Range()), Value: fv})
		}
		return v
	case *hclsyntax.TupleConsExpr:
		v := &lang.Value{Kind: lang.List, Range: p.pos.rng(x.SrcRange), List: make([]*lang.Value, 0, len(x.Exprs))}
		for i, item := range x.Exprs {
			if iv := p.expr(item, index(path, i)); iv != nil {
				v.List = append(v.List, iv)
			}
		}
		return v
	}
	if lit, ok := e.(*hclsyntax.LiteralValueExpr); ok {
		r := p.pos.rng(lit.SrcRange)
		if lit.Val.Type() == cty.Number && lit.Val.IsKnown() && !lit.Val.IsNull() {
			// A number as written keeps its literal text, as in the JSON
			// and YAML frontends: exact, and cheaper than printing.
			if a, b := lit.SrcRange.Start.Byte, lit.SrcRange.End.Byte; 0 <= a && a < b && b <= len(p.src) && isJSONNumber(p.src[a:b]) {
				return &lang.Value{Kind: lang.Number, Number: string(p.src[a:b]), Range: r}
			}
		}
		return p.fromCty(lit.Val, r, path, 0)
	}
	val, d := e.Value(p.ctx)
	if len(d) > 0 {
		p.hclDiags(d, path, e)
	}
	if d.HasErrors() {
		p.broken = true
		return nil
	}
	return p.fromCty(val, p.pos.rng(e.Range()), path, 0)
}

// objectKey evaluates the key of an item of a literal object.
func (p *parser) objectKey(e hclsyntax.Expression, path string) (string, bool) {
	kv, d := e.Value(p.ctx)
	if len(d) > 0 {
		p.hclDiags(d, path, e)
	}
	if d.HasErrors() {
		p.broken = true
		return "", false
	}
	if kv.IsMarked() {
		var marks cty.ValueMarks
		kv, marks = kv.UnmarkDeep()
		if _, secret := marks[sensitive]; secret {
			p.errorf(e.Range(), path, "a sensitive value cannot be an object key: keys are never hidden")
			p.broken = true
			return "", false
		}
	}
	if !kv.IsKnown() {
		p.unknown(e.Range(), path)
		return "", false
	}
	if kv.IsNull() {
		p.errorf(e.Range(), path, "an object key must not be null")
		p.broken = true
		return "", false
	}
	s, err := convert.Convert(kv, cty.String)
	if err != nil {
		p.errorf(e.Range(), path, "an object key must be a string, not %s", kv.Type().FriendlyName())
		p.broken = true
		return "", false
	}
	return s.AsString(), true
}

func (p *parser) unknown(r hcl.Range, path string) {
	p.broken = true
	if !p.diags.HasErrors() {
		p.errorf(r, path, "the value is not known")
	}
}

// maxValueDepth bounds the nesting of a computed value.
const maxValueDepth = 64

// maxNodes bounds the nodes of the computed values of one job: a few
// nested for expressions over range() can describe a value far larger than
// any job.
const maxNodes = 1 << 20

// fromCty converts an evaluated value; every node gets range r. It checks
// known-ness and removes marks node by node, so that a huge value costs no
// more than the nodes visited before a limit stops it.
func (p *parser) fromCty(val cty.Value, r lang.Range, path string, depth int) *lang.Value {
	if depth > maxValueDepth {
		p.diags.Add(r, path, "the value is nested deeper than %d levels", maxValueDepth)
		p.broken = true
		return nil
	}
	if p.nodes++; p.nodes > maxNodes {
		if p.nodes == maxNodes+1 {
			p.diags.Add(r, path, "the values of this job have more than %d elements", maxNodes)
		}
		p.broken = true
		return nil
	}
	secret := false
	if val.IsMarked() {
		var marks cty.ValueMarks
		val, marks = val.Unmark()
		_, secret = marks[sensitive]
	}
	if !val.IsKnown() {
		p.broken = true
		if !p.diags.HasErrors() {
			p.diags.Add(r, path, "the value is not known")
		}
		return nil
	}
	v := p.fromKnown(val, r, path, depth)
	if v != nil && secret {
		v.Sensitive = true
	}
	return v
}

// fromKnown converts a known, unmarked value.
func (p *parser) fromKnown(val cty.Value, r lang.Range, path string, depth int) *lang.Value {
	if val.IsNull() {
		return &lang.Value{Kind: lang.Null, Range: r}
	}
	ty := val.Type()
	switch {
	case ty == cty.Bool:
		return &lang.Value{Kind: lang.Bool, Bool: val.True(), Range: r}
	case ty == cty.Number:
		text, problem := numberText(val.AsBigFloat())
		if problem != "" {
			p.diags.Add(r, path, "the value is %s", problem)
			p.broken = true
			return nil
		}
		return &lang.Value{Kind: lang.Number, Number: text, Range: r}
	case ty == cty.String:
		return &lang.Value{Kind: lang.String, Str: val.AsString(), Range: r}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		v := &lang.Value{Kind: lang.List, Range: r, List: make([]*lang.Value, 0, min(val.LengthInt(), 1024))}
		i := 0
		for it := val.ElementIterator(); it.Next(); i++ {
			_, e := it.Element()
			ev := p.fromCty(e, r, index(path, i), depth+1)
			if ev == nil {
				return nil
			}
			v.List = append(v.List, ev)
		}
		return v
	case ty.IsMapType() || ty.IsObjectType():
		v := &lang.Value{Kind: lang.Map, Range: r, Fields: make([]*lang.Field, 0, min(val.LengthInt(), 1024))}
		for it := val.ElementIterator(); it.Next(); {
			k, e := it.Element()
			key := k.AsString()
			ev := p.fromCty(e, r, join(path, key), depth+1)
			if ev == nil {
				return nil
			}
			v.Fields = append(v.Fields, &lang.Field{Key: key, KeyRange: r, Value: ev})
		}
		return v
	}
	p.diags.Add(r, path, "a value of type %s cannot be used in a job", ty.FriendlyName())
	p.broken = true
	return nil
}

// numberText prints n in JSON number syntax without losing precision:
// integers in full, other numbers in the shortest form that reads back as
// the same value. It reports why a number cannot be printed: infinities,
// and magnitudes beyond 2^±4096 (printing those exactly costs time in
// proportion to the exponent, and no job field takes them).
func numberText(n *big.Float) (string, string) {
	if n.IsInf() {
		return "", "not a finite number"
	}
	if n.Sign() == 0 {
		return "0", ""
	}
	exp := n.MantExp(nil)
	if exp > 4096 || exp < -4096 {
		return "", "a number too large or too small to use"
	}
	if n.IsInt() {
		if i, acc := n.Int64(); acc == big.Exact {
			return strconv.FormatInt(i, 10), ""
		}
		return n.Text('f', 0), ""
	}
	return n.Text('g', -1), ""
}

// isJSONNumber reports whether b is a number in JSON syntax.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		st := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - st
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}
