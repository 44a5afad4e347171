// Package hcl is the HCL frontend: a file holds job "NAME" { ... } blocks,
// variable "NAME" { ... } declarations and locals { ... } blocks. It
// parses with hclsyntax, and accepts exactly the files hclsyntax accepts
// (its fast path reads a subset into the same trees); it evaluates
// expressions with var.*, local.* and pure go-cty functions, and walks each
// job block into the lang value tree that the YAML and JSON frontends also
// produce, so that the same job hashes the same in every format.
//
// Mapping: attributes become fields; the blocks selector, task, resources,
// rollout, health_check, probe (and its http, tcp and exec), timeouts and
// schedule become map fields of the same name; repeated input { }, output { } and
// port { } blocks become the lists inputs, outputs and ports; the job
// block's label becomes the name field. Literal { } and
// [ ] expressions keep the position of every item.
package hcl

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/vars"
)

var _ lang.Parser = Parse

// Parse reads the jobs of an HCL file. It satisfies lang.Parser: it returns
// every job that could be read without error, in file order, and every
// diagnostic of the file (syntax, variables, locals, evaluation and
// structure). A job whose block holds an error, or uses a variable or local
// that has none, is left out; the walk still goes on through it, so that
// all of its errors are reported.
func Parse(filename string, src []byte, opts lang.Options) ([]*lang.Value, lang.Diagnostics) {
	p := &parser{file: filename, src: src, pos: newPositions(filename, src)}
	if d, ok := textFile(filename, src); !ok {
		return nil, lang.Diagnostics{d}
	}
	body, fast := (*hclsyntax.Body)(nil), false
	if useFast {
		body, fast = fastParse(filename, src)
	}
	if !fast {
		if d, ok := guard(filename, src); !ok {
			return nil, lang.Diagnostics{d}
		}
		f, hd := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
		p.syntax(hd)
		if f == nil {
			return nil, p.diags
		}
		var ok bool
		if body, ok = f.Body.(*hclsyntax.Body); !ok || body == nil {
			return nil, p.diags
		}
		// The fast path reads no for expressions and no huge numbers.
		if r, msg, ok := checkAST(body); !ok {
			p.errorf(r, "", "%s", msg)
			return nil, p.diags
		}
	}

	for _, a := range sortedAttrs(body.Attributes) {
		msg := "unexpected attribute %q at the top level: a file holds job \"NAME\" { }, variable \"NAME\" { } and locals { } blocks"
		if s := suggest(a.Name, topLevel); s != "" {
			msg += "; did you mean a " + s + " block?"
		}
		p.errorf(a.NameRange, "", msg, a.Name)
	}
	var jobs, variables, locals []*hclsyntax.Block
	for _, b := range body.Blocks {
		switch b.Type {
		case "job":
			jobs = append(jobs, b)
		case "variable":
			variables = append(variables, b)
		case "locals":
			locals = append(locals, b)
		default:
			msg := "unknown block type %q: a file holds job, variable and locals blocks"
			if s := suggest(b.Type, topLevel); s != "" {
				msg = "unknown block type %q; did you mean " + s + "?"
			}
			p.errorf(b.TypeRange, "", msg, b.Type)
		}
	}

	p.declare(variables)
	given, ds := vars.Collect(opts)
	p.diags = append(p.diags, ds...)
	p.assign(given)
	p.evalLocals(locals)

	p.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": p.varObj, "local": p.localObject()},
		Functions: functions(),
	}
	out := make([]*lang.Value, 0, len(jobs))
	for _, b := range jobs {
		if v := p.job(b); v != nil {
			out = append(out, v)
		}
	}
	p.redact()
	return out, p.diags
}

var topLevel = []string{"job", "variable", "locals"}

// aliases are names people write for a top-level block from other tools.
var aliases = map[string]string{"var": "variable", "vars": "variable", "variables": "variable", "local": "locals", "jobs": "job"}

// parser holds the state of one Parse call.
type parser struct {
	file  string
	src   []byte
	pos   *positions
	diags lang.Diagnostics

	syntaxErrs []int       // byte offsets of syntax errors
	braces     map[int]int // when there are some: the offset of each "{" → its "}"

	vars      map[string]*variable
	varOrder  []*variable
	varObj    cty.Value
	locals    map[string]*local
	localList []*local
	ctx       *hcl.EvalContext

	broken bool // the job being walked has a value that could not be computed
	nodes  int  // computed value nodes of the job being walked
}

// syntax records the diagnostics of hclsyntax, with the explanations of
// layout mistakes, and where the errors are.
func (p *parser) syntax(hd hcl.Diagnostics) {
	if hd.HasErrors() {
		toks, _ := hclsyntax.LexConfig(p.src, p.file, hcl.InitialPos)
		hd = explainLayout(hd, layoutFixes(p.src, toks))
		p.braces = braceMatches(toks)
	}
	for _, d := range capSyntax(hd) {
		path, _ := d.Extra.(fixPath)
		p.hclDiags(hcl.Diagnostics{d}, string(path), nil)
	}
	for _, d := range hd {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			p.syntaxErrs = append(p.syntaxErrs, d.Subject.Start.Byte)
		}
	}
}

func (p *parser) errorf(r hcl.Range, path, format string, args ...any) {
	p.diags.Add(p.pos.rng(r), path, format, args...)
}

func (p *parser) warnf(r lang.Range, format string, args ...any) {
	p.diags.Add(r, "", format, args...)
	p.diags[len(p.diags)-1].Severity = lang.Warning
}

// hclDiags adds HCL diagnostics with path. refs are the traversals of the
// expression that produced them, used to replace HCL's message about an
// undeclared var.* or local.* with a clearer one.
func (p *parser) hclDiags(hd hcl.Diagnostics, path string, expr hcl.Expression) {
	var bad []hcl.Range
	if expr != nil && hd.HasErrors() {
		bad = p.checkRefs(expr, path)
	}
	for _, d := range hd {
		if d.Subject != nil && len(bad) > 0 && d.Summary == "Unsupported attribute" && within(*d.Subject, bad) {
			continue
		}
		sev := lang.Error
		if d.Severity == hcl.DiagWarning {
			sev = lang.Warning
		}
		var r lang.Range
		if d.Subject != nil {
			r = p.pos.rng(*d.Subject)
		} else {
			r = lang.Range{Filename: p.file}
		}
		p.diags = append(p.diags, lang.Diagnostic{Severity: sev, Range: r, Path: path, Message: message(d)})
	}
}

func within(r hcl.Range, list []hcl.Range) bool {
	for _, l := range list {
		if r.Start.Byte >= l.Start.Byte && r.End.Byte <= l.End.Byte {
			return true
		}
	}
	return false
}

// message joins an HCL diagnostic's summary and detail. HCL picks its
// "Did you mean" for unknown functions and variables from a map, in random
// order; those are replaced by a deterministic suggestion. It also explains
// why an impure function is missing.
func message(d *hcl.Diagnostic) string {
	detail := d.Detail
	switch d.Summary {
	case "Call to unknown function", "Unknown variable":
		if i := strings.Index(detail, " Did you mean "); i >= 0 {
			detail = detail[:i]
		}
		_, rest, ok := strings.Cut(detail, `named "`)
		if !ok {
			break
		}
		name, _, _ := strings.Cut(rest, `"`)
		if d.Summary == "Unknown variable" {
			if s := suggest(name, []string{"local", "var"}); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			break
		}
		if impure[name] {
			detail += " muster leaves out time, uuid, random, file and environment functions on purpose: the same file must always give the same job, whose hash is its identity."
		} else if s := suggest(name, functionNames()); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
	}
	s := strings.TrimSuffix(d.Summary, ".")
	if detail != "" {
		s += ": " + detail
	}
	return s
}

// sortedAttrs returns the attributes of a body in source order.
func sortedAttrs(m hclsyntax.Attributes) []*hclsyntax.Attribute {
	list := make([]*hclsyntax.Attribute, 0, len(m))
	for _, a := range m {
		list = append(list, a)
	}
	slices.SortFunc(list, func(a, b *hclsyntax.Attribute) int { return a.SrcRange.Start.Byte - b.SrcRange.Start.Byte })
	return list
}

func blockRange(b *hclsyntax.Block) hcl.Range {
	return hcl.RangeBetween(b.TypeRange, b.CloseBraceRange)
}

// maxSyntaxErrors bounds the syntax errors reported for one file: after a
// few, the rest are mostly echoes of the first.
const maxSyntaxErrors = 10

// capSyntax keeps the first maxSyntaxErrors errors of hd and says how many
// more there were.
func capSyntax(hd hcl.Diagnostics) hcl.Diagnostics {
	n := 0
	for i, d := range hd {
		if d.Severity != hcl.DiagError {
			continue
		}
		if n++; n > maxSyntaxErrors {
			rest := 0
			for _, e := range hd[i:] {
				if e.Severity == hcl.DiagError {
					rest++
				}
			}
			out := append(hcl.Diagnostics(nil), hd[:i]...)
			return append(out, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("%d more syntax errors", rest),
				Detail: "Not shown: they often follow from the ones above. Is this an HCL file?", Subject: d.Subject})
		}
	}
	return hd
}

// textFile refuses, with one clear error at the offending byte, a file that
// is not UTF-8 text or holds a NUL byte: a binary file would otherwise give
// an error for every stray byte.
func textFile(filename string, src []byte) (lang.Diagnostic, bool) {
	off, msg := -1, ""
	if i := bytes.IndexByte(src, 0); i >= 0 {
		off, msg = i, "the file holds a NUL byte: it is not a text file (is it binary?)"
	}
	if !utf8.Valid(src) {
		b := src
		for i := 0; len(b) > 0; {
			r, n := utf8.DecodeRune(b)
			if r == utf8.RuneError && n <= 1 {
				if off < 0 || i < off {
					off, msg = i, "the file is not valid UTF-8 text (is it binary?)"
				}
				break
			}
			b, i = b[n:], i+n
		}
	}
	if off < 0 {
		return lang.Diagnostic{}, true
	}
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	p := lang.Pos{Line: line, Column: utf8.RuneCount(src[start:off]) + 1, Byte: off}
	return lang.Diagnostic{Severity: lang.Error, Range: lang.Range{Filename: filename, Start: p, End: p}, Message: msg}, false
}
