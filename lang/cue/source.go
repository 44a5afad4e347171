package cue

import (
	"strconv"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/muster-dev/muster/lang"
)

// fileParser holds what Parse knows about one file: its source, where each
// field path is written, and the diagnostics found so far.
type fileParser struct {
	filename string
	src      []byte
	diags    lang.Diagnostics
	// index maps a field path as the validator prints it ("task.image",
	// "jobs[1].task.inputs[0]") to where the file writes it, for the
	// fields written literally. The first occurrence wins.
	index map[string]written
	// labels maps the byte offset where a field's value starts to the
	// field's label, for fields whose path the index cannot know (inside
	// comprehensions, after one in a list, or reached by reference).
	labels map[int]ast.Label
	// fieldPaths is the index path of every field of the index.
	fieldPaths map[*ast.Field]string
	// tagVars names the variable injected at each @tag position.
	tagVars map[token.Pos]string
}

// written is one field or list element as the file writes it.
type written struct {
	label ast.Label // nil for list elements
	value ast.Expr
	start token.Pos // value start and end, taken before tags are injected
	end   token.Pos
}

// inFile reports whether pos points into the file being parsed (and not,
// for example, into #Job).
func (p *fileParser) inFile(pos token.Pos) bool {
	return pos.IsValid() && pos.Filename() == p.filename && pos.Offset() <= len(p.src)
}

// pos converts pos to a lang.Pos, counting columns in Unicode characters.
func (p *fileParser) pos(pos token.Pos) lang.Pos {
	off := pos.Offset()
	if off < 0 || off > len(p.src) {
		return lang.Pos{Line: pos.Line(), Column: pos.Column(), Byte: off}
	}
	// CUE counts columns in bytes; recount the bytes of the line before
	// pos in characters.
	start := off - (pos.Column() - 1)
	if start < 0 || start > off {
		return lang.Pos{Line: pos.Line(), Column: pos.Column(), Byte: off}
	}
	return lang.Pos{Line: pos.Line(), Column: utf8.RuneCount(p.src[start:off]) + 1, Byte: off}
}

// rangeOf returns the range from start to end, or an empty range at start
// when end is not usable, or the zero Range (no source) when start is not in
// the file.
func (p *fileParser) rangeOf(start, end token.Pos) lang.Range {
	if !p.inFile(start) {
		return lang.Range{}
	}
	s := p.pos(start)
	r := lang.Range{Filename: p.filename, Start: s, End: s}
	if p.inFile(end) && end.Offset() >= start.Offset() {
		r.End = p.pos(end)
	}
	return r
}

// errorAt adds an error diagnostic for the source from start to end.
func (p *fileParser) errorAt(start, end token.Pos, path, format string, args ...any) {
	r := p.rangeOf(start, end)
	if r.IsZero() {
		r.Filename = p.filename
	}
	p.diags.Add(r, path, format, args...)
}

// indexFile records where the file writes each field, by path.
func (p *fileParser) indexFile(f *ast.File) {
	p.index = make(map[string]written, 64)
	p.fieldPaths = make(map[*ast.Field]string, 64)
	if len(f.Decls) > 0 {
		p.index[""] = written{start: f.Decls[0].Pos(), end: f.Decls[len(f.Decls)-1].End()}
	}
	p.indexDecls("", f.Decls, 0)
	p.labels = make(map[int]ast.Label, len(p.index))
	ast.Walk(f, func(n ast.Node) bool {
		if x, ok := n.(*ast.Field); ok && x.Value != nil && x.Value.Pos().IsValid() {
			if _, seen := p.labels[x.Value.Pos().Offset()]; !seen {
				p.labels[x.Value.Pos().Offset()] = x.Label
			}
		}
		return true
	}, nil)
}

// maxIndexDepth bounds the recursion of the index over deeply nested source.
const maxIndexDepth = 64

func (p *fileParser) indexDecls(prefix string, decls []ast.Decl, depth int) {
	for _, d := range decls {
		switch x := d.(type) {
		case *ast.Field:
			name, _, err := ast.LabelName(x.Label)
			if err != nil || x.Value == nil {
				continue
			}
			path := join(prefix, name)
			p.fieldPaths[x] = path
			if _, seen := p.index[path]; !seen {
				p.index[path] = written{label: x.Label, value: x.Value, start: x.Value.Pos(), end: x.Value.End()}
			}
			p.indexExpr(path, x.Value, depth+1)
		case *ast.EmbedDecl:
			p.indexExpr(prefix, x.Expr, depth+1)
		}
	}
}

func (p *fileParser) indexExpr(path string, e ast.Expr, depth int) {
	if depth > maxIndexDepth {
		return
	}
	switch x := e.(type) {
	case *ast.StructLit:
		p.indexDecls(path, x.Elts, depth)
	case *ast.ListLit:
		i := 0
		for _, el := range x.Elts {
			switch el.(type) {
			case *ast.Ellipsis:
				continue
			case *ast.Comprehension:
				return // the indexes of the elements after it are not known
			}
			ep := path + "[" + strconv.Itoa(i) + "]"
			if _, seen := p.index[ep]; !seen {
				p.index[ep] = written{value: el, start: el.Pos(), end: el.End()}
			}
			p.indexExpr(ep, el, depth+1)
			i++
		}
	case *ast.BinaryExpr:
		if x.Op == token.AND {
			p.indexExpr(path, x.X, depth+1)
			p.indexExpr(path, x.Y, depth+1)
		}
	case *ast.ParenExpr:
		p.indexExpr(path, x.X, depth+1)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
