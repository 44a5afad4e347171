package hcl

import (
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions returns the functions job files may call: pure go-cty stdlib
// functions under their Terraform names, plus can and try. There is no time,
// uuid, random or file function on purpose: the same file must always give
// the same job, or content addressing breaks. The map is built once and
// shared; callers must not change it.
var functions = sync.OnceValue(func() map[string]function.Function {
	return map[string]function.Function{
		// strings
		"upper":         stdlib.UpperFunc,
		"lower":         stdlib.LowerFunc,
		"title":         stdlib.TitleFunc,
		"trimspace":     stdlib.TrimSpaceFunc,
		"trim":          stdlib.TrimFunc,
		"trimprefix":    stdlib.TrimPrefixFunc,
		"trimsuffix":    stdlib.TrimSuffixFunc,
		"format":        limited(stdlib.FormatFunc, checkFormat),
		"formatlist":    limited(stdlib.FormatListFunc, checkFormat),
		"join":          stdlib.JoinFunc,
		"split":         stdlib.SplitFunc,
		"replace":       limited(stdlib.ReplaceFunc, checkReplace),
		"regex_replace": limited(stdlib.RegexReplaceFunc, checkReplace),
		"regex":         stdlib.RegexFunc,
		"regexall":      stdlib.RegexAllFunc,
		"substr":        stdlib.SubstrFunc,
		"strrev":        stdlib.ReverseFunc,
		"strlen":        stdlib.StrlenFunc,
		"chomp":         stdlib.ChompFunc,
		"indent":        limited(stdlib.IndentFunc, checkIndent),
		// collections
		"chunklist":              stdlib.ChunklistFunc,
		"concat":                 stdlib.ConcatFunc,
		"contains":               stdlib.ContainsFunc,
		"distinct":               stdlib.DistinctFunc,
		"element":                stdlib.ElementFunc,
		"flatten":                stdlib.FlattenFunc,
		"keys":                   stdlib.KeysFunc,
		"values":                 stdlib.ValuesFunc,
		"length":                 lengthFunc,
		"lookup":                 stdlib.LookupFunc,
		"merge":                  stdlib.MergeFunc,
		"range":                  limited(stdlib.RangeFunc, checkRange),
		"reverse":                stdlib.ReverseListFunc,
		"setintersection":        stdlib.SetIntersectionFunc,
		"setproduct":             limited(stdlib.SetProductFunc, checkProduct),
		"setsubtract":            stdlib.SetSubtractFunc,
		"setsymmetricdifference": stdlib.SetSymmetricDifferenceFunc,
		"setunion":               stdlib.SetUnionFunc,
		"slice":                  stdlib.SliceFunc,
		"sort":                   stdlib.SortFunc,
		"zipmap":                 stdlib.ZipmapFunc,
		"coalesce":               stdlib.CoalesceFunc,
		"coalescelist":           stdlib.CoalesceListFunc,
		"compact":                stdlib.CompactFunc,
		// numbers
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"pow":      bounded(stdlib.PowFunc),
		"signum":   stdlib.SignumFunc,
		"parseint": bounded(stdlib.ParseIntFunc),
		// encodings
		"jsonencode": stdlib.JSONEncodeFunc,
		"jsondecode": bounded(stdlib.JSONDecodeFunc),
		"csvdecode":  stdlib.CSVDecodeFunc,
		// types
		"tostring": stdlib.MakeToFunc(cty.String),
		"tonumber": bounded(stdlib.MakeToFunc(cty.Number)),
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"can":      tryfunc.CanFunc,
		"try":      tryfunc.TryFunc,
	}
})

// functionNames lists the names of functions, sorted.
var functionNames = sync.OnceValue(func() []string {
	names := make([]string, 0, len(functions()))
	for n := range functions() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
})

// impure names functions other tools have that muster leaves out on
// purpose, for a clearer error than "no function named".
var impure = map[string]bool{
	"timestamp": true, "plantimestamp": true, "timeadd": true, "formatdate": true, "timecmp": true,
	"uuid": true, "uuidv5": true, "bcrypt": true,
	"file": true, "fileexists": true, "fileset": true, "filebase64": true, "templatefile": true,
	"filemd5": true, "filesha1": true, "filesha256": true, "filesha512": true, "filebase64sha256": true, "filebase64sha512": true,
	"abspath": true, "pathexpand": true, "env": true,
	"random": true, "shuffle": true,
}

// lengthFunc is length as Terraform has it: the number of elements of a
// collection, or of characters of a string.
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{
		Name:             "value",
		Type:             cty.DynamicPseudoType,
		AllowDynamicType: true,
		AllowUnknown:     true,
		AllowMarked:      true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		switch {
		case ty == cty.String, ty == cty.DynamicPseudoType, ty.IsCollectionType(), ty.IsTupleType(), ty.IsObjectType():
			return cty.Number, nil
		}
		return cty.NilType, function.NewArgErrorf(0, "argument must be a string, a collection type, or a structural type")
	},
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		if v.Type() == cty.String {
			n, err := stdlib.Strlen(v)
			return n.WithMarks(marks), err
		}
		n, err := stdlib.Length(v)
		return n.WithMarks(marks), err
	},
})

// Limits of the functions whose cost the arguments decide, so that a short
// file cannot ask for a huge value.
const (
	maxRange       = 1024 // as Terraform
	maxProduct     = 10000
	maxWidth       = 1000
	maxResultBytes = 1 << 24
)

// limited wraps f so that check runs on known arguments before f does.
func limited(f function.Function, check func(args []cty.Value) error) function.Function {
	spec := &function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        func(args []cty.Value) (cty.Type, error) { return f.ReturnTypeForValues(args) },
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if err := check(args); err != nil {
				return cty.UnknownVal(retType), err
			}
			return f.Call(args)
		},
	}
	return function.New(spec)
}

// usable reports whether v is known, not null and not marked, so that a
// check can read it.
func usable(v cty.Value) bool { return v.IsKnown() && !v.IsNull() && !v.IsMarked() }

func numArg(v cty.Value) (float64, bool) {
	if !usable(v) || v.Type() != cty.Number {
		return 0, false
	}
	f, _ := v.AsBigFloat().Float64()
	return f, true
}

func checkRange(args []cty.Value) error {
	start, end, step := 0.0, 0.0, 1.0
	var ok bool
	switch len(args) {
	case 1:
		if end, ok = numArg(args[0]); !ok {
			return nil
		}
	case 2, 3:
		s, ok1 := numArg(args[0])
		e, ok2 := numArg(args[1])
		if !ok1 || !ok2 {
			return nil
		}
		start, end = s, e
		if len(args) == 3 {
			if step, ok = numArg(args[2]); !ok {
				return nil
			}
		}
	default:
		return nil
	}
	if step == 0 {
		return nil // stdlib reports it
	}
	if n := (end - start) / step; n > maxRange || n != n {
		return fmt.Errorf("more than %d values; use a smaller range or a larger step", maxRange)
	}
	return nil
}

func checkProduct(args []cty.Value) error {
	n := 1
	for _, a := range args {
		if !usable(a) || !(a.Type().IsCollectionType() || a.Type().IsTupleType()) {
			return nil
		}
		n *= max(a.LengthInt(), 1)
		if n > maxProduct {
			return fmt.Errorf("the product has more than %d elements", maxProduct)
		}
	}
	return nil
}

// checkFormat refuses widths and precisions of maxWidth and more in a
// format specification (the first argument).
func checkFormat(args []cty.Value) error {
	if len(args) == 0 || !usable(args[0]) || args[0].Type() != cty.String {
		return nil
	}
	f := args[0].AsString()
	number := func(i int) (int, int) {
		n := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			if n < maxWidth {
				n = n*10 + int(f[i]-'0')
			}
			i++
		}
		return n, i
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && (f[i] == '+' || f[i] == '-' || f[i] == '#' || f[i] == ' ' || f[i] == '0') {
			i++
		}
		var w, prec int
		w, i = number(i)
		if i < len(f) && f[i] == '.' {
			prec, i = number(i + 1)
		}
		if w >= maxWidth || prec >= maxWidth {
			return fmt.Errorf("widths and precisions of %d and more are not supported", maxWidth)
		}
		i--
	}
	return nil
}

func checkIndent(args []cty.Value) error {
	if n, ok := numArg(args[0]); ok && n > maxWidth {
		return fmt.Errorf("indenting by more than %d spaces is not supported", maxWidth)
	}
	return nil
}

// checkReplace bounds the result of replace(str, substr, replacement): at
// worst every position of str matches.
func checkReplace(args []cty.Value) error {
	if len(args) != 3 || !usable(args[0]) || !usable(args[2]) || args[0].Type() != cty.String || args[2].Type() != cty.String {
		return nil
	}
	s, r := len(args[0].AsString()), len(args[2].AsString())
	if s+(s+1)*r > maxResultBytes {
		return fmt.Errorf("the result could exceed %d MiB", maxResultBytes>>20)
	}
	return nil
}
