package hcl

import (
	"fmt"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Numbers are arbitrary-precision floats whose binary exponent may reach
// 2^31. Turning such a number into text (a template, tostring, a job
// field) takes time and memory in proportion to its exponent, so a short
// file could ask for gigabytes. muster refuses numbers beyond 2^±maxExp:
// in literals, in variable values, and as results of the operators and
// functions that can grow them quickly.
const maxExp = 1 << 16

// hugeNumber reports whether v holds a number beyond 2^±maxExp.
func hugeNumber(v cty.Value) bool { return huge(v, 0) }

func huge(v cty.Value, depth int) bool {
	if depth > maxValueDepth || !v.IsKnown() || v.IsNull() {
		return false
	}
	v, _ = v.Unmark()
	ty := v.Type()
	switch {
	case ty == cty.Number:
		f := v.AsBigFloat()
		if f.IsInf() || f.Sign() == 0 {
			return false
		}
		e := f.MantExp(nil)
		return e > maxExp || e < -maxExp
	case ty.IsCollectionType() || ty.IsObjectType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if huge(e, depth+1) {
				return true
			}
		}
	}
	return false
}

var errHuge = fmt.Errorf("the result is a number beyond 2^±%d, too large or too small to use", maxExp)

// bounded wraps f so that a result holding a huge number is an error.
func bounded(f function.Function) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        func(args []cty.Value) (cty.Type, error) { return f.ReturnTypeForValues(args) },
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			v, err := f.Call(args)
			if err == nil && hugeNumber(v) {
				return cty.UnknownVal(retType), errHuge
			}
			return v, err
		},
	})
}

// The operators that can multiply an exponent in one step. hclsyntax keeps
// them in package variables; the limit applies to every evaluation in this
// program, which only lang/hcl does.
func init() {
	for _, op := range []*hclsyntax.Operation{hclsyntax.OpMultiply, hclsyntax.OpDivide, hclsyntax.OpModulo} {
		op.Impl = bounded(op.Impl)
	}
}
