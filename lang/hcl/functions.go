package hcl

import (
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
		"format":        stdlib.FormatFunc,
		"formatlist":    stdlib.FormatListFunc,
		"join":          stdlib.JoinFunc,
		"split":         stdlib.SplitFunc,
		"replace":       stdlib.ReplaceFunc,
		"regex_replace": stdlib.RegexReplaceFunc,
		"regex":         stdlib.RegexFunc,
		"regexall":      stdlib.RegexAllFunc,
		"substr":        stdlib.SubstrFunc,
		"strrev":        stdlib.ReverseFunc,
		"strlen":        stdlib.StrlenFunc,
		"chomp":         stdlib.ChompFunc,
		"indent":        stdlib.IndentFunc,
		// collections
		"chunklist":              stdlib.ChunklistFunc,
		"concat":                 stdlib.ConcatFunc,
		"contains":               stdlib.ContainsFunc,
		"distinct":               stdlib.DistinctFunc,
		"element":                stdlib.ElementFunc,
		"flatten":                stdlib.FlattenFunc,
		"keys":                   stdlib.KeysFunc,
		"values":                 stdlib.ValuesFunc,
		"length":                 stdlib.LengthFunc,
		"lookup":                 stdlib.LookupFunc,
		"merge":                  stdlib.MergeFunc,
		"range":                  stdlib.RangeFunc,
		"reverse":                stdlib.ReverseListFunc,
		"setintersection":        stdlib.SetIntersectionFunc,
		"setproduct":             stdlib.SetProductFunc,
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
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,
		"parseint": stdlib.ParseIntFunc,
		// encodings
		"jsonencode": stdlib.JSONEncodeFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"csvdecode":  stdlib.CSVDecodeFunc,
		// types
		"tostring": stdlib.MakeToFunc(cty.String),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"can":      tryfunc.CanFunc,
		"try":      tryfunc.TryFunc,
	}
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
