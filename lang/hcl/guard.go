package hcl

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

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

// astCheck looks for what the lexer cannot see: for expressions nested
// deeper than maxForNesting and number literals beyond 2^±maxExp.
type astCheck struct {
	depth   int
	deepFor *hclsyntax.ForExpr
	hugeLit *hclsyntax.LiteralValueExpr
}

func (w *astCheck) Enter(n hclsyntax.Node) hcl.Diagnostics {
	switch n := n.(type) {
	case *hclsyntax.ForExpr:
		if w.depth++; w.depth > maxForNesting && w.deepFor == nil {
			w.deepFor = n
		}
	case *hclsyntax.LiteralValueExpr:
		if w.hugeLit == nil && n.Val.Type() == cty.Number && hugeNumber(n.Val) {
			w.hugeLit = n
		}
	}
	return nil
}

func (w *astCheck) Exit(n hclsyntax.Node) hcl.Diagnostics {
	if _, ok := n.(*hclsyntax.ForExpr); ok {
		w.depth--
	}
	return nil
}

// checkAST reports the first problem astCheck finds in body.
func checkAST(body *hclsyntax.Body) (hcl.Range, string, bool) {
	w := &astCheck{}
	hclsyntax.Walk(body, w)
	switch {
	case w.deepFor != nil:
		return w.deepFor.OpenRange, fmt.Sprintf("for expressions nested more than %d deep are not supported: they can take very long to evaluate", maxForNesting), false
	case w.hugeLit != nil:
		return w.hugeLit.SrcRange, fmt.Sprintf("this number is beyond 2^±%d, too large or too small to use", maxExp), false
	}
	return hcl.Range{}, "", true
}
