package hcl

import (
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The fast path. hclsyntax lexes every token through a grapheme-cluster
// scanner and a large state machine; on job files that is most of the time
// muster spends. Most job files use a small part of HCL: blocks, attributes,
// literal strings, numbers, bools, lists, objects, comments, and references
// such as var.x or "${var.x}". fastParse reads exactly that subset and
// builds the same hclsyntax nodes the real parser would, so that everything
// after parsing is shared. On anything else (operators, function calls,
// heredocs, escapes it does not know, any error) it gives up and Parse uses
// hclsyntax. The differential tests and FuzzParse check that both paths
// give the same trees and diagnostics.

// useFast turns the fast path on; tests turn it off to compare.
var useFast = true

type bail struct{}

type fastParser struct {
	depth     int
	file      string
	src       []byte
	i         int
	line      int
	lineStart int
}

// fastParse parses src when it lies in the subset, else returns ok=false.
// src must be valid UTF-8 (Parse checks it first).
func fastParse(filename string, src []byte) (body *hclsyntax.Body, ok bool) {
	f := &fastParser{file: filename, src: src, line: 1}
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bail); !isBail {
				panic(r)
			}
			body, ok = nil, false
		}
	}()
	start := f.pos()
	body = f.body(true)
	end := f.pos()
	body.SrcRange = hcl.Range{Filename: filename, Start: start, End: end}
	body.EndRange = hcl.Range{Filename: filename, Start: end, End: end}
	return body, true
}

func (f *fastParser) fail() { panic(bail{}) }

func (f *fastParser) pos() hcl.Pos {
	return hcl.Pos{Line: f.line, Column: f.i - f.lineStart + 1, Byte: f.i}
}

func (f *fastParser) rangeFrom(start hcl.Pos) hcl.Range {
	return hcl.Range{Filename: f.file, Start: start, End: f.pos()}
}

func (f *fastParser) peek() byte {
	if f.i < len(f.src) {
		return f.src[f.i]
	}
	return 0
}

func (f *fastParser) at(off int) byte {
	if f.i+off < len(f.src) {
		return f.src[f.i+off]
	}
	return 0
}

func (f *fastParser) newline() {
	f.i++
	f.line++
	f.lineStart = f.i
}

func (f *fastParser) spaces() {
	for f.i < len(f.src) && (f.src[f.i] == ' ' || f.src[f.i] == '\t') {
		f.i++
	}
}

// comment skips a # or // comment and the newline that ends it, and
// reports whether there was one. A /* comment makes the fast path give up.
func (f *fastParser) comment() bool {
	c := f.peek()
	if c == '/' && f.at(1) == '*' {
		f.fail()
	}
	if c != '#' && !(c == '/' && f.at(1) == '/') {
		return false
	}
	for f.i < len(f.src) && f.src[f.i] != '\n' {
		if f.src[f.i] == '\r' {
			f.fail()
		}
		f.i++
	}
	if f.i < len(f.src) {
		f.newline()
	}
	return true
}

// space skips blanks, newlines and comments (inside brackets).
func (f *fastParser) space() {
	for {
		f.spaces()
		switch {
		case f.peek() == '\n':
			f.newline()
		case f.comment():
		default:
			return
		}
	}
}

// endOfLine consumes the end of a body item: blanks, an optional comment,
// and a newline or the end of the file.
func (f *fastParser) endOfLine() {
	f.spaces()
	if f.comment() {
		return
	}
	switch f.peek() {
	case '\n':
		f.newline()
	case 0:
		if f.i < len(f.src) {
			f.fail()
		}
	default:
		f.fail()
	}
}

func identStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func identPart(c byte) bool { return identStart(c) || c >= '0' && c <= '9' || c == '-' }

func (f *fastParser) ident() (string, hcl.Range) {
	start := f.pos()
	if !identStart(f.peek()) {
		f.fail()
	}
	for f.i < len(f.src) && identPart(f.src[f.i]) {
		f.i++
	}
	if f.i < len(f.src) && f.src[f.i] >= utf8.RuneSelf {
		f.fail() // a non-ASCII identifier character
	}
	return string(f.src[start.Byte:f.i]), f.rangeFrom(start)
}

// body reads the items of a body up to its closing brace (not consumed)
// or, at the top level, the end of the file.
func (f *fastParser) body(top bool) *hclsyntax.Body {
	b := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	for {
		f.spaces()
		switch c := f.peek(); {
		case c == '\n':
			f.newline()
			continue
		case f.comment():
			continue
		case f.i >= len(f.src):
			if !top {
				f.fail()
			}
			return b
		case c == '}':
			if top {
				f.fail()
			}
			return b
		}
		name, nameRange := f.ident()
		f.spaces()
		if f.peek() == '=' && f.at(1) != '=' {
			eq := f.pos()
			f.i++
			eqRange := f.rangeFrom(eq)
			f.spaces()
			expr := f.expr()
			f.endOfLine()
			if _, dup := b.Attributes[name]; dup {
				f.fail()
			}
			b.Attributes[name] = &hclsyntax.Attribute{Name: name, Expr: expr,
				SrcRange: hcl.RangeBetween(nameRange, expr.Range()), NameRange: nameRange, EqualsRange: eqRange}
			continue
		}
		b.Blocks = append(b.Blocks, f.block(name, nameRange))
	}
}

func (f *fastParser) block(typ string, typeRange hcl.Range) *hclsyntax.Block {
	if f.depth++; f.depth > MaxDepth {
		f.fail()
	}
	defer func() { f.depth-- }()
	blk := &hclsyntax.Block{Type: typ, TypeRange: typeRange}
	for {
		f.spaces()
		switch c := f.peek(); {
		case c == '"':
			start := f.pos()
			s, ok := f.plainString()
			if !ok {
				f.fail()
			}
			blk.Labels = append(blk.Labels, s)
			blk.LabelRanges = append(blk.LabelRanges, f.rangeFrom(start))
			continue
		case identStart(c):
			s, r := f.ident()
			blk.Labels = append(blk.Labels, s)
			blk.LabelRanges = append(blk.LabelRanges, r)
			continue
		case c != '{':
			f.fail()
		}
		break
	}
	open := f.pos()
	f.i++
	blk.OpenBraceRange = f.rangeFrom(open)
	f.spaces()
	var body *hclsyntax.Body
	if f.peek() == '}' {
		body = &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	} else {
		if f.comment() {
			body = f.body(false)
		} else if f.peek() == '\n' {
			f.newline()
			body = f.body(false)
		} else {
			body = f.oneLine()
		}
	}
	close := f.pos()
	f.i++ // the closing brace
	blk.CloseBraceRange = f.rangeFrom(close)
	body.SrcRange = hcl.RangeBetween(blk.OpenBraceRange, blk.CloseBraceRange)
	body.EndRange = blk.CloseBraceRange
	blk.Body = body
	f.endOfLine()
	return blk
}

// oneLine reads the argument of a block written on one line, up to its
// closing brace (not consumed). HCL allows exactly one argument there,
// followed by blanks and the brace: anything else (a comma, a second
// argument, a nested block, a comment) is left to hclsyntax.
func (f *fastParser) oneLine() *hclsyntax.Body {
	b := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	name, nameRange := f.ident()
	f.spaces()
	if f.peek() != '=' || f.at(1) == '=' {
		f.fail() // a nested block or an error
	}
	eq := f.pos()
	f.i++
	eqRange := f.rangeFrom(eq)
	f.spaces()
	expr := f.expr()
	f.spaces()
	if f.peek() != '}' {
		f.fail()
	}
	b.Attributes[name] = &hclsyntax.Attribute{Name: name, Expr: expr,
		SrcRange: hcl.RangeBetween(nameRange, expr.Range()), NameRange: nameRange, EqualsRange: eqRange}
	return b
}

// plainString reads a quoted string without escapes or template sequences
// (a block label).
func (f *fastParser) plainString() (string, bool) {
	f.i++
	start := f.i
	for f.i < len(f.src) {
		switch c := f.src[f.i]; {
		case c == '"':
			s := string(f.src[start:f.i])
			f.i++
			return s, true
		case c < 0x20 || c == '\\' || c == 0x7f:
			return "", false
		case (c == '$' || c == '%') && f.at(1) == '{':
			return "", false
		}
		f.i++
	}
	return "", false
}

// expr reads one expression of the subset: it must not be followed by an
// operator, which the caller checks by requiring a separator next.
func (f *fastParser) expr() hclsyntax.Expression {
	if f.depth++; f.depth > MaxDepth {
		f.fail()
	}
	defer func() { f.depth-- }()
	switch c := f.peek(); {
	case c == '"':
		return f.template()
	case c == '[':
		return f.tuple()
	case c == '{':
		return f.object()
	case c >= '0' && c <= '9':
		return f.number()
	case identStart(c):
		return f.reference(false)
	}
	f.fail()
	return nil
}

// reference reads true, false, null, a function call or a traversal such
// as var.x.
func (f *fastParser) reference(inTemplate bool) hclsyntax.Expression {
	name, r := f.ident()
	if f.peek() == '(' {
		return f.call(name, r)
	}
	if !inTemplate {
		switch name {
		case "true":
			return &hclsyntax.LiteralValueExpr{Val: cty.True, SrcRange: r}
		case "false":
			return &hclsyntax.LiteralValueExpr{Val: cty.False, SrcRange: r}
		case "null":
			return &hclsyntax.LiteralValueExpr{Val: cty.NullVal(cty.DynamicPseudoType), SrcRange: r}
		case "for":
			f.fail()
		}
	} else if name == "true" || name == "false" || name == "null" || name == "for" || name == "if" {
		f.fail()
	}
	e := &hclsyntax.ScopeTraversalExpr{Traversal: hcl.Traversal{hcl.TraverseRoot{Name: name, SrcRange: r}}, SrcRange: r}
	for f.peek() == '.' {
		dot := f.pos()
		f.i++
		if !identStart(f.peek()) {
			f.fail() // splat, legacy index or a space
		}
		attr, ar := f.ident()
		step := hcl.RangeBetween(hcl.Range{Filename: f.file, Start: dot, End: dot}, ar)
		e.Traversal = append(e.Traversal, hcl.TraverseAttr{Name: attr, SrcRange: step})
		e.SrcRange = hcl.RangeBetween(e.SrcRange, step)
	}
	switch f.peek() {
	case '(', '[', ':':
		if f.peek() != ':' || f.at(1) == ':' {
			f.fail() // a call, an index or a namespaced call
		}
	}
	return e
}

// call reads the arguments of a function call; newlines and comments may
// come between them, as in hclsyntax.
func (f *fastParser) call(name string, nameRange hcl.Range) hclsyntax.Expression {
	if f.depth++; f.depth > MaxDepth {
		f.fail()
	}
	defer func() { f.depth-- }()
	open := f.pos()
	f.i++
	e := &hclsyntax.FunctionCallExpr{Name: name, NameRange: nameRange, OpenParenRange: f.rangeFrom(open)}
	for {
		f.space()
		if f.peek() == ')' {
			break
		}
		e.Args = append(e.Args, f.expr())
		f.space()
		if f.peek() == ',' {
			f.i++
			continue
		}
		if f.peek() != ')' {
			f.fail() // an operator, an expansion (...) or an error
		}
	}
	closeParen := f.pos()
	f.i++
	e.CloseParenRange = f.rangeFrom(closeParen)
	return e
}

func (f *fastParser) number() hclsyntax.Expression {
	start := f.pos()
	digits := func() {
		n := 0
		for f.i < len(f.src) && f.src[f.i] >= '0' && f.src[f.i] <= '9' {
			f.i++
			n++
		}
		if n == 0 {
			f.fail()
		}
	}
	digits()
	if f.peek() == '.' {
		f.i++
		digits()
	}
	if c := f.peek(); c == 'e' || c == 'E' {
		f.i++
		if c := f.peek(); c == '+' || c == '-' {
			f.i++
		}
		from := f.i
		digits()
		if f.i-from > 4 {
			f.fail() // a huge exponent: hclsyntax's path reports it
		}
	}
	if c := f.peek(); identPart(c) || c == '.' || c >= utf8.RuneSelf {
		f.fail()
	}
	v, err := cty.ParseNumberVal(string(f.src[start.Byte:f.i]))
	if err != nil {
		f.fail()
	}
	return &hclsyntax.LiteralValueExpr{Val: v, SrcRange: f.rangeFrom(start)}
}

// template reads a quoted string with simple escapes and ${reference}
// interpolations.
func (f *fastParser) template() hclsyntax.Expression {
	open := f.pos()
	f.i++
	var parts []hclsyntax.Expression
	var lit []byte
	litStart, litEnd := f.pos(), f.pos()
	inLit, escaped := false, false
	flush := func() {
		if inLit {
			s := string(lit)
			if !escaped {
				s = string(f.src[litStart.Byte:litEnd.Byte])
			}
			parts = append(parts, &hclsyntax.LiteralValueExpr{Val: cty.StringVal(s),
				SrcRange: hcl.Range{Filename: f.file, Start: litStart, End: litEnd}})
			lit, inLit, escaped = lit[:0], false, false
		}
	}
	interps := 0
	for {
		if f.i >= len(f.src) {
			f.fail()
		}
		c := f.src[f.i]
		switch {
		case c == '"':
			flush()
			f.i++
			r := f.rangeFrom(open)
			switch {
			case interps == 1 && len(parts) == 1:
				return &hclsyntax.TemplateWrapExpr{Wrapped: parts[0], SrcRange: r}
			case interps == 0 && len(parts) == 1:
				// A literal string: hclsyntax makes a template of one
				// literal part, which evaluates to the same value.
				lv := parts[0].(*hclsyntax.LiteralValueExpr)
				lv.SrcRange = r
				return lv
			case interps == 0 && len(parts) == 0:
				return &hclsyntax.LiteralValueExpr{Val: cty.StringVal(""), SrcRange: r}
			}
			return &hclsyntax.TemplateExpr{Parts: parts, SrcRange: r}
		case c == '$' && f.at(1) == '{':
			flush()
			f.i += 2
			if f.peek() == '~' {
				f.fail()
			}
			parts = append(parts, f.reference(true))
			if f.peek() != '}' {
				f.fail()
			}
			f.i++
			interps++
			continue
		case c == '$' && f.at(1) == '$' || c == '%' && (f.at(1) == '{' || f.at(1) == '%'):
			f.fail() // escapes of template sequences, directives
		case c < 0x20 || c == 0x7f:
			f.fail()
		}
		if !inLit {
			inLit, litStart = true, f.pos()
		}
		if c == '\\' {
			if !escaped {
				escaped = true
				lit = append(lit[:0], f.src[litStart.Byte:f.i]...)
			}
			switch f.at(1) {
			case 'n':
				lit = append(lit, '\n')
			case 't':
				lit = append(lit, '\t')
			case 'r':
				lit = append(lit, '\r')
			case '"':
				lit = append(lit, '"')
			case '\\':
				lit = append(lit, '\\')
			default:
				f.fail()
			}
			f.i += 2
		} else {
			if escaped {
				lit = append(lit, c)
			}
			f.i++
		}
		litEnd = f.pos()
	}
}

func (f *fastParser) tuple() hclsyntax.Expression {
	open := f.pos()
	f.i++
	openRange := f.rangeFrom(open)
	var exprs []hclsyntax.Expression
	for {
		f.space()
		if f.peek() == ']' {
			break
		}
		exprs = append(exprs, f.expr())
		f.space()
		if f.peek() == ',' {
			f.i++
			continue
		}
		if f.peek() != ']' {
			f.fail()
		}
	}
	f.i++
	return &hclsyntax.TupleConsExpr{Exprs: exprs, SrcRange: f.rangeFrom(open), OpenRange: openRange}
}

func (f *fastParser) object() hclsyntax.Expression {
	open := f.pos()
	f.i++
	openRange := f.rangeFrom(open)
	var items []hclsyntax.ObjectConsItem
	for {
		f.space()
		if f.peek() == '}' {
			break
		}
		var key hclsyntax.Expression
		switch c := f.peek(); {
		case c == '"':
			key = f.template()
			if _, ok := key.(*hclsyntax.TemplateWrapExpr); ok {
				f.fail()
			}
		case identStart(c):
			name, r := f.ident()
			switch name {
			case "true", "false", "null", "for":
				f.fail()
			}
			key = &hclsyntax.ScopeTraversalExpr{Traversal: hcl.Traversal{hcl.TraverseRoot{Name: name, SrcRange: r}}, SrcRange: r}
		default:
			f.fail()
		}
		f.spaces()
		if c := f.peek(); c != '=' && c != ':' || c == '=' && f.at(1) == '=' || c == ':' && f.at(1) == ':' {
			f.fail()
		}
		f.i++
		f.spaces()
		if f.peek() == '\n' || f.peek() == '#' || f.peek() == '/' {
			f.fail()
		}
		val := f.expr()
		items = append(items, hclsyntax.ObjectConsItem{KeyExpr: &hclsyntax.ObjectConsKeyExpr{Wrapped: key}, ValueExpr: val})
		f.spaces()
		switch {
		case f.peek() == ',':
			f.i++
		case f.peek() == '\n':
			f.newline()
		case f.comment():
		case f.peek() == '}':
		default:
			f.fail()
		}
	}
	f.i++
	return &hclsyntax.ObjectConsExpr{Items: items, SrcRange: f.rangeFrom(open), OpenRange: openRange}
}
