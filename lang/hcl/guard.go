package hcl

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/muster-dev/muster/lang"
)

// The HCL parser and evaluator recurse once per level of nesting and once
// per operator of a chain (a + b + c, !!x, a ? b : c ? d : e, x[0][0]),
// with no limit of their own. A hostile file could overflow the goroutine
// stack, which kills the process. guard refuses such files before parsing.
const (
	// MaxDepth bounds the nesting of blocks, brackets, parentheses and
	// template interpolations.
	MaxDepth = 64
	// MaxOperators bounds the operators, index brackets and dots of a file.
	MaxOperators = 20000
)

// guard checks a file's nesting and operator count: first with a cheap scan
// of the bytes that over-counts (it also sees brackets inside strings and
// comments), and only when that exceeds a limit, with the HCL lexer.
func guard(filename string, src []byte) (lang.Diagnostic, bool) {
	depth, maxDepth, ops := 0, 0, 0
	for _, c := range src {
		switch c {
		case '{', '[', '(':
			depth++
			if depth > maxDepth {
				maxDepth = depth
			}
			if c == '[' {
				ops++
			}
		case '}', ']', ')':
			if depth > 0 {
				depth--
			}
		case '!', '-', '+', '*', '/', '%', '&', '|', '<', '>', '?', '.':
			ops++
		}
	}
	if maxDepth <= MaxDepth && ops <= MaxOperators {
		return lang.Diagnostic{}, true
	}
	return lexGuard(filename, src)
}

func lexGuard(filename string, src []byte) (lang.Diagnostic, bool) {
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	depth, ops := 0, 0
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp,
			hclsyntax.TokenTemplateControl, hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			depth++
			if depth > MaxDepth {
				return tooComplex(filename, src, t.Range, fmt.Sprintf("nesting deeper than %d levels", MaxDepth)), false
			}
			if t.Type == hclsyntax.TokenOBrack {
				ops++
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			if depth > 0 {
				depth--
			}
		case hclsyntax.TokenBang, hclsyntax.TokenMinus, hclsyntax.TokenPlus, hclsyntax.TokenStar, hclsyntax.TokenSlash,
			hclsyntax.TokenPercent, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq,
			hclsyntax.TokenQuestion, hclsyntax.TokenDot, hclsyntax.TokenEllipsis:
			ops++
		}
		if ops > MaxOperators {
			return tooComplex(filename, src, t.Range, fmt.Sprintf("more than %d operators", MaxOperators)), false
		}
	}
	return lang.Diagnostic{}, true
}

func tooComplex(filename string, src []byte, r hcl.Range, what string) lang.Diagnostic {
	p := newPositions(filename, src)
	return lang.Diagnostic{Severity: lang.Error, Range: p.rng(r),
		Message: "the file is too complex to read: " + what + "; a job file needs far fewer"}
}

// maxForNesting bounds for expressions inside for expressions: each level
// can multiply the work by up to range()'s 1024 values.
const maxForNesting = 2

// forNesting finds a for expression nested deeper than maxForNesting.
type forNesting struct {
	depth int
	deep  *hclsyntax.ForExpr
}

func (w *forNesting) Enter(n hclsyntax.Node) hcl.Diagnostics {
	if f, ok := n.(*hclsyntax.ForExpr); ok {
		if w.depth++; w.depth > maxForNesting && w.deep == nil {
			w.deep = f
		}
	}
	return nil
}

func (w *forNesting) Exit(n hclsyntax.Node) hcl.Diagnostics {
	if _, ok := n.(*hclsyntax.ForExpr); ok {
		w.depth--
	}
	return nil
}

// checkFor reports a for expression nested too deep in body, if any. The
// cheap test on the source skips the walk for files without "for".
func checkFor(src []byte, body *hclsyntax.Body) (hcl.Range, bool) {
	if !bytes.Contains(src, []byte("for")) {
		return hcl.Range{}, true
	}
	w := &forNesting{}
	hclsyntax.Walk(body, w)
	if w.deep != nil {
		return w.deep.OpenRange, false
	}
	return hcl.Range{}, true
}
