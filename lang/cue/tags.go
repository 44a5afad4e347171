package cue

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
	"github.com/zclconf/go-cty/cty"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/vars"
)

// tagKind is the type a @tag attribute reads its variable as.
type tagKind uint8

const (
	tagString tagKind = iota
	tagInt
	tagNumber
	tagBool
)

// tag is one @tag(name[,type=T]) attribute on a field.
type tag struct {
	name  string
	kind  tagKind
	attr  *ast.Attribute
	field *ast.Field
}

// findTags collects the @tag attributes of f. As in cue/load, a tag may sit
// on a regular field anywhere except inside a list, a comprehension or a
// pattern constraint; misplaced or malformed tags are errors.
func (p *fileParser) findTags(f *ast.File) []tag {
	var tags []tag
	var bad func(n ast.Node, where string)
	bad = func(n ast.Node, where string) {
		ast.Walk(n, func(n ast.Node) bool {
			if fl, ok := n.(*ast.Field); ok {
				for _, a := range fl.Attrs {
					if a.Name() == "tag" {
						p.errorAt(a.Pos(), a.End(), "", "@tag is not allowed %s", where)
					}
				}
			}
			return true
		}, nil)
	}
	ast.Walk(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ListLit:
			bad(x, "inside a list")
			return false
		case *ast.Comprehension:
			bad(x, "inside a comprehension")
			return false
		case *ast.Field:
			if _, _, err := ast.LabelName(x.Label); err != nil || x.Constraint != token.ILLEGAL {
				bad(x, "on a pattern, optional or required field")
				return false
			}
			for _, a := range x.Attrs {
				if a.Name() != "tag" {
					continue
				}
				if t, ok := p.parseTag(a); ok {
					t.field = x
					tags = append(tags, t)
				}
			}
		}
		return true
	}, nil)
	return tags
}

func (p *fileParser) parseTag(a *ast.Attribute) (tag, bool) {
	_, body := a.Split()
	parts := strings.Split(body, ",")
	t := tag{name: strings.TrimSpace(parts[0]), attr: a}
	if !ast.IsValidIdent(t.name) || strings.HasPrefix(t.name, "#") || strings.HasPrefix(t.name, "_") {
		p.errorAt(a.Pos(), a.End(), "", "@tag(%s): the variable name must be an identifier, as in @tag(image)", body)
		return t, false
	}
	for _, opt := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		switch strings.TrimSpace(k) {
		case "type":
			switch strings.TrimSpace(v) {
			case "string":
				t.kind = tagString
			case "int":
				t.kind = tagInt
			case "number":
				t.kind = tagNumber
			case "bool":
				t.kind = tagBool
			default:
				p.errorAt(a.Pos(), a.End(), "", "@tag(%s): type %q is not one of string, int, number, bool", body, v)
				return t, false
			}
		case "short":
			// Shorthands name values of cue -t; muster has only --var name=value.
		case "var":
			p.errorAt(a.Pos(), a.End(), "", "@tag(%s): injection variables (var=%s) are not supported: they would make the job depend on the machine that compiles it", body, strings.TrimSpace(v))
			return t, false
		default:
			p.errorAt(a.Pos(), a.End(), "", "@tag(%s): unknown option %q (known: type, short)", body, k)
			return t, false
		}
	}
	return t, true
}

// injectTags unifies every tagged field that has a variable with the
// variable's value, as `cue -t name=value` does. The injected literal gets
// the position of the attribute, so that a conflict points at it. Tags
// without a variable leave their field alone. It returns the variable each
// attribute position was filled from, for error messages.
//
// Injection replaces the field's value expression, x, with x & value. The
// parser has already resolved every identifier of the file: a reference to
// the field points (Ident.Node) at x itself. Building the file resolves it
// again (build.Instance.AddSyntax): a reference whose Node is no longer the
// value of the field its name finds is marked unresolved, and
// build.Instance.resolveFile clears it. The compiler then looks the name up
// only among the top-level fields of files with a package clause, so a
// reference to a tagged field in a file without one, or to a nested tagged
// field, was "not found" (`_region: string @tag(region)` used as `_region`).
// cue/load (v0.17.1, instances.go) avoids that by pointing every such
// identifier at the new expression; relink does the same.
func (p *fileParser) injectTags(f *ast.File, opts lang.Options) map[token.Pos]string {
	tags := p.findTags(f)
	if len(tags) == 0 {
		return nil
	}
	values, diags := vars.Collect(opts)
	p.diags = append(p.diags, diags...)
	used := map[token.Pos]string{}
	replaced := map[ast.Node]ast.Node{}
	defer relink(f, replaced)
	for _, t := range tags {
		v, ok := values[t.name]
		if !ok {
			continue
		}
		text, ok := varText(v)
		path := p.fieldPaths[t.field]
		if !ok {
			p.errorAt(t.attr.Pos(), t.attr.End(), path, "variable %s (%s) is %s; a @tag takes a string, a number or a bool", t.name, v.Source, v.Value.Type().FriendlyName())
			continue
		}
		x, err := tagLiteral(t, text)
		if err != nil {
			p.errorAt(t.attr.Pos(), t.attr.End(), path, "variable %s (%s): %v", t.name, v.Source, err)
			continue
		}
		ast.SetPos(x, t.attr.Pos())
		injected := ast.NewBinExpr(token.AND, t.field.Value, x)
		replaced[t.field.Value] = injected
		t.field.Value = injected
		used[t.attr.Pos()] = fmt.Sprintf("%s from %s", t.name, v.Source)
	}
	return used
}

// relink points every identifier that refers to a replaced value expression
// at its replacement, following chains (a field with two tags is replaced
// twice).
func relink(f *ast.File, replaced map[ast.Node]ast.Node) {
	if len(replaced) == 0 {
		return
	}
	ast.Walk(f, nil, func(n ast.Node) {
		id, ok := n.(*ast.Ident)
		if !ok || id.Node == nil {
			return
		}
		for i := 0; i <= len(replaced); i++ {
			next, ok := replaced[id.Node]
			if !ok {
				return
			}
			id.Node = next
		}
	})
}

// varText is the text of a variable as a tag reads it: what the user typed
// for --var and MUSTER_VAR_*, the scalar's string form for var files.
func varText(v vars.Value) (string, bool) {
	if v.FromText {
		return v.Text, true
	}
	x := v.Value
	if x.IsNull() || !x.IsKnown() {
		return "", false
	}
	switch x.Type() {
	case cty.String:
		return x.AsString(), true
	case cty.Number:
		f := x.AsBigFloat()
		if f.IsInt() {
			return f.Text('f', -1), true
		}
		return f.Text('g', -1), true
	case cty.Bool:
		if x.True() {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// tagLiteral reads text as the type of tag t, as cue -t does
// (cuelang.org/go/internal/cli.ParseValue): numbers as written, booleans
// with surrounding space trimmed, strings verbatim.
func tagLiteral(t tag, text string) (ast.Expr, error) {
	switch t.kind {
	case tagInt, tagNumber:
		var info literal.NumInfo
		s := text
		if err := literal.ParseNum(s, &info); err != nil {
			return nil, fmt.Errorf("%q is not a number", text)
		}
		if info.IsInt() {
			return ast.NewLit(token.INT, s), nil
		}
		if t.kind == tagInt {
			return nil, fmt.Errorf("%q is not a whole number (the tag says type=int)", text)
		}
		return ast.NewLit(token.FLOAT, s), nil
	case tagBool:
		switch strings.TrimSpace(text) {
		case "true", "True", "TRUE", "t", "T", "1":
			return ast.NewBool(true), nil
		case "false", "False", "FALSE", "f", "F", "0":
			return ast.NewBool(false), nil
		}
		return nil, fmt.Errorf("%q is not a bool (the tag says type=bool)", text)
	}
	return ast.NewString(text), nil
}
