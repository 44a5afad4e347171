// Package json is the JSON frontend: a file holds one job object or an array
// of job objects. Its own small parser keeps the line and column of every
// value and key, keeps duplicate keys (the validator reports them), keeps
// numbers as their exact literal text, and rejects invalid UTF-8, bad
// escapes and nesting deeper than MaxDepth with a position.
package json

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
)

// MaxDepth bounds the nesting of arrays and objects.
const MaxDepth = 64

// Parse reads the jobs of a JSON file. It satisfies lang.Parser.
func Parse(filename string, src []byte, _ lang.Options) ([]*lang.Value, lang.Diagnostics) {
	p := &parser{file: filename, src: src, line: 1}
	root, err := p.document()
	if err != nil {
		return nil, lang.Diagnostics{*err}
	}
	switch root.Kind {
	case lang.Map:
		return []*lang.Value{root}, nil
	case lang.List:
		var diags lang.Diagnostics
		jobs := make([]*lang.Value, 0, len(root.List))
		for i, v := range root.List {
			if v.Kind != lang.Map {
				diags.Add(v.Range, "["+strconv.Itoa(i)+"]", "each element of a job array must be a job object, not %s", v.Describe())
				continue
			}
			jobs = append(jobs, v)
		}
		return jobs, diags
	}
	var diags lang.Diagnostics
	diags.Add(root.Range, "", "a JSON job file holds one job object or an array of job objects, not %s", root.Describe())
	return nil, diags
}

type parser struct {
	file      string
	src       []byte
	off       int
	line      int
	lineStart int
}

type syntaxError = lang.Diagnostic

func (p *parser) pos() lang.Pos {
	return lang.Pos{Line: p.line, Column: utf8.RuneCount(p.src[p.lineStart:p.off]) + 1, Byte: p.off}
}

func (p *parser) fail(format string, args ...any) *syntaxError {
	pos := p.pos()
	return &syntaxError{Severity: lang.Error, Range: lang.Range{Filename: p.file, Start: pos, End: pos},
		Message: "invalid JSON: " + fmt.Sprintf(format, args...)}
}

func (p *parser) document() (*lang.Value, *syntaxError) {
	if len(p.src) >= 3 && p.src[0] == 0xEF && p.src[1] == 0xBB && p.src[2] == 0xBF {
		p.off, p.lineStart = 3, 3
	}
	p.space()
	if p.off == len(p.src) {
		return nil, p.fail("the file is empty; want a job object or an array of job objects")
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.off < len(p.src) {
		return nil, p.fail("unexpected %s after the top-level value", p.describe())
	}
	return v, nil
}

func (p *parser) space() {
	for p.off < len(p.src) {
		switch p.src[p.off] {
		case '\n':
			p.off++
			p.line, p.lineStart = p.line+1, p.off
		case ' ', '\t', '\r':
			p.off++
		default:
			return
		}
	}
}

func (p *parser) describe() string {
	if p.off >= len(p.src) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.src[p.off:])
	if r == utf8.RuneError {
		return fmt.Sprintf("byte 0x%02x", p.src[p.off])
	}
	return strconv.QuoteRune(r)
}

func (p *parser) rangeFrom(start lang.Pos) lang.Range {
	return lang.Range{Filename: p.file, Start: start, End: p.pos()}
}

func (p *parser) value(depth int) (*lang.Value, *syntaxError) {
	if depth > MaxDepth {
		return nil, p.fail("nesting deeper than %d levels", MaxDepth)
	}
	start := p.pos()
	if p.off >= len(p.src) {
		return nil, p.fail("unexpected end of file; want a value")
	}
	switch c := p.src[p.off]; {
	case c == '{':
		return p.object(start, depth)
	case c == '[':
		return p.array(start, depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &lang.Value{Kind: lang.String, Str: s, Range: p.rangeFrom(start)}, nil
	case c == '-' || c >= '0' && c <= '9':
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		return &lang.Value{Kind: lang.Number, Number: n, Range: p.rangeFrom(start)}, nil
	case p.literal("true"):
		return &lang.Value{Kind: lang.Bool, Bool: true, Range: p.rangeFrom(start)}, nil
	case p.literal("false"):
		return &lang.Value{Kind: lang.Bool, Range: p.rangeFrom(start)}, nil
	case p.literal("null"):
		return &lang.Value{Kind: lang.Null, Range: p.rangeFrom(start)}, nil
	}
	return nil, p.fail("unexpected %s; want a value (object, array, string, number, true, false or null)", p.describe())
}

func (p *parser) literal(word string) bool {
	if len(p.src)-p.off >= len(word) && string(p.src[p.off:p.off+len(word)]) == word {
		p.off += len(word)
		return true
	}
	return false
}

func (p *parser) object(start lang.Pos, depth int) (*lang.Value, *syntaxError) {
	v := &lang.Value{Kind: lang.Map}
	p.off++
	p.space()
	if p.off < len(p.src) && p.src[p.off] == '}' {
		p.off++
		v.Range = p.rangeFrom(start)
		return v, nil
	}
	for {
		p.space()
		if p.off >= len(p.src) || p.src[p.off] != '"' {
			return nil, p.fail("unexpected %s; want a quoted field name", p.describe())
		}
		kstart := p.pos()
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		krange := p.rangeFrom(kstart)
		p.space()
		if p.off >= len(p.src) || p.src[p.off] != ':' {
			return nil, p.fail("unexpected %s; want ':' after the field name", p.describe())
		}
		p.off++
		p.space()
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Fields = append(v.Fields, &lang.Field{Key: key, KeyRange: krange, Value: val})
		p.space()
		if p.off >= len(p.src) {
			return nil, p.fail("unexpected end of file; want ',' or '}'")
		}
		switch p.src[p.off] {
		case ',':
			p.off++
			p.space()
			if p.off < len(p.src) && p.src[p.off] == '}' {
				return nil, p.fail("trailing comma before '}'")
			}
		case '}':
			p.off++
			v.Range = p.rangeFrom(start)
			return v, nil
		default:
			return nil, p.fail("unexpected %s; want ',' or '}'", p.describe())
		}
	}
}

func (p *parser) array(start lang.Pos, depth int) (*lang.Value, *syntaxError) {
	v := &lang.Value{Kind: lang.List}
	p.off++
	p.space()
	if p.off < len(p.src) && p.src[p.off] == ']' {
		p.off++
		v.Range = p.rangeFrom(start)
		return v, nil
	}
	for {
		p.space()
		e, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.List = append(v.List, e)
		p.space()
		if p.off >= len(p.src) {
			return nil, p.fail("unexpected end of file; want ',' or ']'")
		}
		switch p.src[p.off] {
		case ',':
			p.off++
			p.space()
			if p.off < len(p.src) && p.src[p.off] == ']' {
				return nil, p.fail("trailing comma before ']'")
			}
		case ']':
			p.off++
			v.Range = p.rangeFrom(start)
			return v, nil
		default:
			return nil, p.fail("unexpected %s; want ',' or ']'", p.describe())
		}
	}
}

// str reads a string literal at p.off (which holds '"').
func (p *parser) str() (string, *syntaxError) {
	p.off++
	start := p.off
	for p.off < len(p.src) {
		c := p.src[p.off]
		if c == '"' {
			s := string(p.src[start:p.off])
			p.off++
			return s, nil
		}
		if c == '\\' {
			return p.escaped(start)
		}
		if c < 0x20 {
			return "", p.controlChar(c)
		}
		if c < utf8.RuneSelf {
			p.off++
			continue
		}
		r, n := utf8.DecodeRune(p.src[p.off:])
		if r == utf8.RuneError && n == 1 {
			return "", p.fail("invalid UTF-8 in a string (is the file binary?)")
		}
		p.off += n
	}
	return "", p.fail("unterminated string")
}

// escaped continues str from the first backslash, building the string.
func (p *parser) escaped(start int) (string, *syntaxError) {
	b := append([]byte(nil), p.src[start:p.off]...)
	for p.off < len(p.src) {
		c := p.src[p.off]
		switch {
		case c == '"':
			p.off++
			return string(b), nil
		case c == '\\':
			if p.off+1 >= len(p.src) {
				return "", p.fail("unterminated string")
			}
			e := p.src[p.off+1]
			p.off += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				esc := p.off - 2
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if p.off+1 < len(p.src) && p.src[p.off] == '\\' && p.src[p.off+1] == 'u' {
						p.off += 2
						if r2, err = p.hex4(); err != nil {
							return "", err
						}
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						p.off = esc
						return "", p.fail("invalid UTF-16 surrogate pair in a \\u escape")
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.off -= 2
				return "", p.fail("invalid escape \\%c in a string (write \\\\ for a backslash)", e)
			}
		case c < 0x20:
			return "", p.controlChar(c)
		default:
			r, n := utf8.DecodeRune(p.src[p.off:])
			if r == utf8.RuneError && n == 1 {
				return "", p.fail("invalid UTF-8 in a string (is the file binary?)")
			}
			b = append(b, p.src[p.off:p.off+n]...)
			p.off += n
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) controlChar(c byte) *syntaxError {
	if c == '\n' {
		return p.fail("unterminated string: a string ends on the line it starts (write \\n for a newline)")
	}
	return p.fail("control character 0x%02x in a string; escape it", c)
}

func (p *parser) hex4() (rune, *syntaxError) {
	if p.off+4 > len(p.src) {
		return 0, p.fail("incomplete \\u escape")
	}
	n, err := strconv.ParseUint(string(p.src[p.off:p.off+4]), 16, 32)
	if err != nil {
		return 0, p.fail("invalid \\u escape")
	}
	p.off += 4
	return rune(n), nil
}

// number reads a JSON number and returns its literal text.
func (p *parser) number() (string, *syntaxError) {
	start := p.off
	if p.src[p.off] == '-' {
		p.off++
	}
	digits := func() int {
		s := p.off
		for p.off < len(p.src) && p.src[p.off] >= '0' && p.src[p.off] <= '9' {
			p.off++
		}
		return p.off - s
	}
	switch {
	case p.off < len(p.src) && p.src[p.off] == '0':
		p.off++
		if p.off < len(p.src) && p.src[p.off] >= '0' && p.src[p.off] <= '9' {
			return "", p.fail("numbers must not have leading zeros")
		}
	case digits() == 0:
		return "", p.fail("invalid number: want a digit")
	}
	if p.off < len(p.src) && p.src[p.off] == '.' {
		p.off++
		if digits() == 0 {
			return "", p.fail("invalid number: want a digit after '.'")
		}
	}
	if p.off < len(p.src) && (p.src[p.off] == 'e' || p.src[p.off] == 'E') {
		p.off++
		if p.off < len(p.src) && (p.src[p.off] == '+' || p.src[p.off] == '-') {
			p.off++
		}
		if digits() == 0 {
			return "", p.fail("invalid number: want a digit in the exponent")
		}
	}
	return string(p.src[start:p.off]), nil
}
