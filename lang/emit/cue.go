package emit

import (
	"bytes"
	"strings"

	"cuelang.org/go/cue/ast"
	cueformat "cuelang.org/go/cue/format"
	"cuelang.org/go/cue/token"

	"github.com/muster-dev/muster/lang"
)

// writeCUE writes one job as the file's top-level value, or several as
// the list jobs: [...], built as a CUE syntax tree and printed by CUE's
// formatter.
func writeCUE(jobs []*lang.Value, opts Options) ([]byte, error) {
	file := &ast.File{}
	if len(jobs) == 1 {
		file.Decls = cueFields(jobs[0])
	} else {
		list := &ast.ListLit{}
		for _, j := range jobs {
			list.Elts = append(list.Elts, ast.NewStruct(fieldArgs(j)...))
		}
		file.Decls = []ast.Decl{&ast.Field{Label: ast.NewIdent("jobs"), Value: list}}
	}
	out, err := cueformat.Node(file)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if c := commentLines(opts.Comment, "//"); c != "" {
		buf.WriteString(c)
		buf.WriteByte('\n')
	}
	buf.Write(out)
	return buf.Bytes(), nil
}

// cueFields are the fields of the map v as declarations.
func cueFields(v *lang.Value) []ast.Decl {
	decls := make([]ast.Decl, len(v.Fields))
	for i, f := range v.Fields {
		decls[i] = &ast.Field{Label: cueLabel(f.Key), Value: cueExpr(f.Value)}
	}
	return decls
}

// fieldArgs are the fields of the map v as arguments of ast.NewStruct.
func fieldArgs(v *lang.Value) []any {
	args := make([]any, 0, 2*len(v.Fields))
	for _, f := range v.Fields {
		args = append(args, cueLabel(f.Key), cueExpr(f.Value))
	}
	return args
}

// cueLabel is key as a label: an identifier where CUE reads it as one,
// else a quoted string. Keywords (if, for, try, ...) are quoted: some of
// them open a clause where a field would start.
func cueLabel(key string) ast.Label {
	if token.Lookup(key).IsKeyword() {
		return ast.NewString(key)
	}
	return ast.NewStringLabel(key)
}

// cueExpr converts v. A number keeps its literal, which JSON and CUE
// write alike (a negative one as the negation of its magnitude).
func cueExpr(v *lang.Value) ast.Expr {
	switch v.Kind {
	case lang.Map:
		return &ast.StructLit{Elts: cueFields(v)}
	case lang.List:
		elts := make([]ast.Expr, len(v.List))
		for i, e := range v.List {
			elts[i] = cueExpr(e)
		}
		return ast.NewList(elts...)
	case lang.String:
		return ast.NewString(v.Str)
	case lang.Bool:
		return ast.NewBool(v.Bool)
	case lang.Number:
		lit, neg := strings.CutPrefix(v.Number, "-")
		tok := token.INT
		if strings.ContainsAny(lit, ".eE") {
			tok = token.FLOAT
		}
		var x ast.Expr = ast.NewLit(tok, lit)
		if neg {
			x = &ast.UnaryExpr{Op: token.SUB, X: x}
		}
		return x
	}
	return ast.NewNull()
}
