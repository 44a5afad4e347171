package hcl

import (
	"bytes"
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// HCL's bodies are made of lines: every argument and every block ends with
// a newline, and a block written on one line holds a single argument
// (output { path = "/x" }). muster accepts exactly what hclsyntax accepts.
// When hclsyntax refuses a file, explainLayout looks at its tokens for the
// usual mistakes of that kind (several arguments on a line, commas between
// arguments, a block inside a one-line block) and puts, in place of
// hclsyntax's error on that line, one that names the block, gives the
// field path and says how to write it in HCL. It reads tokens, never
// hclsyntax's messages, and only runs on a file that hclsyntax refused:
// whether a file is accepted is hclsyntax's decision alone. On a file that
// hclsyntax accepts it finds nothing (FuzzParse checks it).

// fixPath is the field path of a layout diagnostic, kept in its Extra.
type fixPath string

// layoutFix is the explanation for one line.
type layoutFix struct {
	rng  hcl.Range
	path string
	msg  string
	used bool
}

// frame is a block body being read (or the file), or brackets, an object,
// a string or a template, whose tokens are skipped.
type frame struct {
	block   bool
	file    bool   // the top level of the file
	name    string // the block type
	title   string // the block header as written: job "web"
	path    string
	sp      *spec // the shape of the body, nil outside jobs
	oneLine bool  // an argument follows the opening brace on its line
	counts  map[string]int
	done    bool // this body has its explanation

	// The line being read, in a block body.
	items   int              // items begun on the line
	header  *hclsyntax.Token // the first token of the current item
	attr    bool             // the current item is an argument (its "=" was seen)
	lastTok *hclsyntax.Token // the last identifier of the current argument
	first   *hclsyntax.Token // the first item of the line
}

// explainLayout replaces each error of hd that lies on a line where the
// tokens of src show a layout mistake with the explanation of the mistake,
// and adds the explanations of lines where hd has no error: once it has
// met an error, hclsyntax recovers by skipping tokens and reports no more
// errors of this kind, so that an argument after the first mistake can be
// dropped without a word. The result is in source order.
func explainLayout(hd hcl.Diagnostics, fixes map[int]*layoutFix) hcl.Diagnostics {
	if !hd.HasErrors() || len(fixes) == 0 {
		return hd
	}
	out := make(hcl.Diagnostics, 0, len(hd)+len(fixes))
	for _, d := range hd {
		var fx *layoutFix
		if d.Severity == hcl.DiagError && d.Subject != nil {
			fx = fixes[d.Subject.Start.Line]
		}
		switch {
		case fx == nil:
			out = append(out, d)
		case !fx.used:
			fx.used = true
			out = append(out, fx.diagnostic())
		}
	}
	for _, fx := range fixes {
		if !fx.used {
			out = append(out, fx.diagnostic())
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return start(out[i]) < start(out[j]) })
	return out
}

func (fx *layoutFix) diagnostic() *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fx.msg, Subject: fx.rng.Ptr(), Extra: fixPath(fx.path)}
}

// start is the byte offset of d's subject, -1 without one.
func start(d *hcl.Diagnostic) int {
	if d.Subject == nil {
		return -1
	}
	return d.Subject.Start.Byte
}

// layoutFixes reads the tokens of src and returns the first layout mistake
// of each line where there is one.
func layoutFixes(src []byte, toks hclsyntax.Tokens) map[int]*layoutFix {
	r := &layoutReader{src: src, toks: toks, fixes: map[int]*layoutFix{}}
	r.stack = []*frame{{block: true, file: true, counts: map[string]int{}}}
	for r.i = 0; r.i < len(toks); r.i++ {
		r.token(&toks[r.i])
	}
	return r.fixes
}

type layoutReader struct {
	src   []byte
	toks  hclsyntax.Tokens
	i     int
	stack []*frame
	fixes map[int]*layoutFix
}

func (r *layoutReader) top() *frame { return r.stack[len(r.stack)-1] }

func (r *layoutReader) push(f *frame) { r.stack = append(r.stack, f) }

func (r *layoutReader) pop() {
	if len(r.stack) > 1 {
		r.stack = r.stack[:len(r.stack)-1]
	}
}

// fix records the explanation of a mistake in body f, at t.
func (r *layoutReader) fix(f *frame, t *hclsyntax.Token, path, format string, args ...any) {
	if f.done {
		return
	}
	f.done = true
	line := t.Range.Start.Line
	if _, ok := r.fixes[line]; !ok {
		r.fixes[line] = &layoutFix{rng: t.Range, path: path, msg: fmt.Sprintf(format, args...)}
	}
}

// endsLine reports whether t ends a line: a newline, or a # or // comment,
// which holds its newline.
func endsLine(t *hclsyntax.Token) bool {
	switch t.Type {
	case hclsyntax.TokenNewline, hclsyntax.TokenEOF:
		return true
	case hclsyntax.TokenComment:
		return len(t.Bytes) > 0 && t.Bytes[len(t.Bytes)-1] == '\n'
	}
	return false
}

func opens(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp,
		hclsyntax.TokenTemplateControl, hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
		return true
	}
	return false
}

func closes(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd,
		hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
		return true
	}
	return false
}

func (r *layoutReader) token(t *hclsyntax.Token) {
	f := r.top()
	if !f.block {
		switch {
		case opens(t.Type):
			r.push(&frame{})
		case closes(t.Type):
			r.pop()
		}
		return
	}
	if t.Type != hclsyntax.TokenIdent && t.Type != hclsyntax.TokenEqual {
		f.lastTok = nil
	}
	switch {
	case endsLine(t):
		r.endLine(f)
	case t.Type == hclsyntax.TokenComment:
		// a /* */ comment inside a line
	case t.Type == hclsyntax.TokenIdent:
		r.ident(f, t)
	case t.Type == hclsyntax.TokenEqual:
		r.equals(f, t)
	case t.Type == hclsyntax.TokenComma:
		r.comma(f, t)
	case t.Type == hclsyntax.TokenOBrace && f.header != nil && !f.attr:
		r.openBlock(f, t)
	case t.Type == hclsyntax.TokenCBrace && len(r.stack) > 1:
		r.closeBlock(f, t)
	case opens(t.Type):
		r.push(&frame{}) // a value, or a quoted label
	}
}

func (r *layoutReader) endLine(f *frame) {
	if f.oneLine && f.items > 0 && f.first != nil {
		name := short(f.first.Bytes)
		r.fix(f, f.first, f.path, "%s is on the line of `%s {`, which makes %s a one-line block that must close on that line: in HCL, start %s on the next line",
			name, f.title, f.name, name)
	}
	f.oneLine = false
	f.items, f.header, f.attr, f.lastTok, f.first = 0, nil, false, nil, nil
}

// ident starts an item, or is a label or part of a value.
func (r *layoutReader) ident(f *frame, t *hclsyntax.Token) {
	switch {
	case f.attr:
		f.lastTok = t
		return
	case f.header != nil:
		return // a label
	}
	f.header = t
	f.items++
	if f.items == 1 {
		f.first = t
		return
	}
	r.second(f, t)
}

// second reports an item that starts on the line of another.
func (r *layoutReader) second(f *frame, t *hclsyntax.Token) {
	name := short(t.Bytes)
	if f.oneLine {
		r.fix(f, t, f.path, "%s { ... } is on one line but holds several arguments: in HCL a one-line block holds one argument; write `%s {`, then each argument on a line of its own, then `}`",
			f.title, f.title)
		return
	}
	path := ""
	if f.sp != nil {
		path = join(f.path, name)
	}
	r.fix(f, t, path, "%s starts on the line of the previous item: in HCL every argument and block ends with a newline; put %s on a line of its own",
		name, name)
}

func (r *layoutReader) equals(f *frame, t *hclsyntax.Token) {
	switch {
	case f.header != nil && !f.attr:
		f.attr = true
	case f.attr && f.lastTok != nil:
		// A second argument on the line: x = 1 y = 2.
		prev := f.lastTok
		f.items++
		f.lastTok = nil
		r.second(f, prev)
	}
}

func (r *layoutReader) comma(f *frame, t *hclsyntax.Token) {
	switch {
	case f.oneLine && f.items == 1 && r.next().Type == hclsyntax.TokenCBrace:
		r.fix(f, t, f.path, "remove the comma: in HCL a one-line block holds one argument and no comma, as in %s { %s = ... }",
			f.title, short(f.first.Bytes))
	case f.oneLine:
		r.fix(f, t, f.path, "%s { ... } is on one line but holds several arguments: HCL separates arguments with newlines, not commas, and a one-line block holds one argument; write `%s {`, then each argument on a line of its own, then `}`",
			f.title, f.title)
	default:
		path := ""
		if f.sp != nil && f.header != nil {
			path = join(f.path, string(f.header.Bytes))
		}
		r.fix(f, t, path, "in HCL an argument ends with a newline, not a comma: remove the comma and put what follows on a line of its own")
	}
}

// next returns the token after r.i, /* */ comments left out.
func (r *layoutReader) next() *hclsyntax.Token {
	for j := r.i + 1; j < len(r.toks); j++ {
		if t := &r.toks[j]; t.Type != hclsyntax.TokenComment || endsLine(t) {
			return t
		}
	}
	return &r.toks[len(r.toks)-1]
}

// openBlock starts the body of the block whose header is f.header.
func (r *layoutReader) openBlock(f *frame, t *hclsyntax.Token) {
	name := string(f.header.Bytes)
	shown := short(f.header.Bytes)
	if f.oneLine {
		r.fix(f, f.header, f.path, "%s { ... } is on one line but holds the block %s: in HCL a one-line block holds one argument; write `%s {`, then %s { ... } on a line of its own, then `}`",
			f.title, shown, f.title, shown)
	}
	sub := &frame{block: true, name: shown, counts: map[string]int{}}
	sub.path, sub.sp = f.child(name)
	f.counts[name]++
	after := r.next()
	sub.oneLine = !endsLine(after) && after.Type != hclsyntax.TokenCBrace
	sub.title = short(bytes.TrimSpace(r.src[f.header.Range.Start.Byte:t.Range.Start.Byte]))
	r.push(sub)
}

// child gives the field path and shape of a block name in body f.
func (f *frame) child(name string) (string, *spec) {
	switch {
	case f.file && name == "job":
		return "", jobSpec
	case f.sp == nil:
		return "", nil
	}
	if l, ok := f.sp.lists[name]; ok {
		return index(join(f.path, l.field), f.counts[name]), l.item
	}
	if sub, ok := f.sp.blocks[name]; ok {
		return join(f.path, name), sub
	}
	return join(f.path, name), anySpec
}

func (r *layoutReader) closeBlock(f *frame, t *hclsyntax.Token) {
	if !f.oneLine && f.items > 0 {
		r.fix(f, t, f.path, "the closing brace of %s goes on a line of its own: `%s {` ends its line, which makes %s a multi-line block",
			f.name, f.title, f.name)
	}
	r.pop()
	parent := r.top()
	parent.header, parent.attr, parent.lastTok = nil, false, nil
}

// short shows at most 64 bytes of a name or block header of the file.
func short(b []byte) string {
	const max = 64
	if len(b) <= max {
		return string(b)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "…"
}

// braceMatches pairs the offset of each "{" of toks with that of the "}"
// that closes it, as the brackets of the file nest.
func braceMatches(toks hclsyntax.Tokens) map[int]int {
	m := map[int]int{}
	var open []*hclsyntax.Token
	for i := range toks {
		t := &toks[i]
		switch {
		case opens(t.Type):
			open = append(open, t)
		case closes(t.Type) && len(open) > 0:
			o := open[len(open)-1]
			open = open[:len(open)-1]
			if o.Type == hclsyntax.TokenOBrace && t.Type == hclsyntax.TokenCBrace {
				m[o.Range.Start.Byte] = t.Range.Start.Byte
			}
		}
	}
	return m
}
