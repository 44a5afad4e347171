package hcl

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// HCL allows one argument in a one-line block (output { path = "/x" }) but
// not several. SPEC section 1 writes input { source = ... target = ... }, so
// muster accepts several arguments on one line, separated by spaces or
// commas: when HCL reports such a block, the separators are turned into
// newlines in a copy of the source (same bytes, same offsets) and the copy
// is parsed again. Positions are then recounted from the original source.

// Bounds of the rewrite: each round parses the whole file again.
const (
	maxRewriteRounds = 16
	maxRewriteBytes  = 256 << 10
)

var oneLineSummaries = map[string]bool{
	"Invalid single-argument block definition": true,
	"Missing newline after argument":           true,
	"Unexpected comma after argument":          true,
	"Missing newline after block definition":   true,
	"Argument definition required":             true,
}

func hasOneLineErrors(hd hcl.Diagnostics) bool {
	for _, d := range hd {
		if d.Severity == hcl.DiagError && d.Subject != nil && oneLineSummaries[d.Summary] {
			return true
		}
	}
	return false
}

// parse parses src, rewriting one-line blocks with several arguments. It
// reports whether the file was rewritten (then HCL's lines are off).
func parse(filename string, src []byte) (*hcl.File, hcl.Diagnostics, bool) {
	f, hd := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if len(src) > maxRewriteBytes || !hasOneLineErrors(hd) {
		return f, hd, false
	}
	buf := append([]byte(nil), src...)
	rewritten := false
	for round := 0; round < maxRewriteRounds && hasOneLineErrors(hd); round++ {
		toks, _ := hclsyntax.LexConfig(buf, filename, hcl.InitialPos)
		changed := false
		n := 0
		for _, d := range hd {
			if d.Severity != hcl.DiagError || d.Subject == nil || !oneLineSummaries[d.Summary] {
				continue
			}
			if n++; n > 10000 {
				break
			}
			i := tokenAt(toks, d.Subject.Start.Byte)
			if i < 0 {
				continue
			}
			if (d.Summary == "Invalid single-argument block definition" || d.Summary == "Argument definition required") && openOnOwnLine(buf, toks, i) {
				changed = true
			}
			if splitBefore(buf, toks, i) {
				changed = true
			}
		}
		if !changed {
			break
		}
		rewritten = true
		f, hd = hclsyntax.ParseConfig(buf, filename, hcl.InitialPos)
	}
	return f, hd, rewritten
}

func tokenAt(toks hclsyntax.Tokens, off int) int {
	i := sort.Search(len(toks), func(i int) bool { return toks[i].Range.Start.Byte >= off })
	if i < len(toks) && toks[i].Range.Start.Byte == off {
		return i
	}
	return -1
}

func blank(c byte) bool { return c == ' ' || c == '\t' }

// splitBefore puts a newline in place of the comma at token i, or of the
// blank just before it.
func splitBefore(buf []byte, toks hclsyntax.Tokens, i int) bool {
	t := toks[i]
	switch t.Type {
	case hclsyntax.TokenNewline, hclsyntax.TokenEOF:
		return false
	case hclsyntax.TokenComma:
		buf[t.Range.Start.Byte] = '\n'
		return true
	}
	if b := t.Range.Start.Byte; b > 0 && blank(buf[b-1]) {
		buf[b-1] = '\n'
		return true
	}
	return false
}

// openOnOwnLine finds the brace that opens the block holding token i and
// puts a newline in place of the blank after it.
func openOnOwnLine(buf []byte, toks hclsyntax.Tokens, i int) bool {
	depth := 0
	for j := i - 1; j >= 0; j-- {
		switch toks[j].Type {
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			depth++
		case hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			if depth == 0 {
				return false
			}
			depth--
		case hclsyntax.TokenOBrace:
			if depth > 0 {
				depth--
				continue
			}
			if j+1 < len(toks) && toks[j+1].Type == hclsyntax.TokenNewline {
				return false
			}
			if b := toks[j].Range.End.Byte; b < len(buf) && blank(buf[b]) {
				buf[b] = '\n'
				return true
			}
			return false
		}
	}
	return false
}
