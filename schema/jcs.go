package schema

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// object is a JSON object under construction; AppendJCS sorts its members.
type object []member

type member struct {
	key string
	val any
}

// AppendJCS appends the RFC 8785 (JCS) serialization of v to b. v may be
// nil, bool, int, float64, string, []string, map[string]string, []any,
// object or a value with a canonical method. Members are sorted by their
// UTF-16 code units, strings are escaped minimally and numbers are printed
// as ECMAScript does.
func AppendJCS(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return appendNumber(b, v)
	case string:
		return appendString(b, v)
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJCS(b, e)
		}
		return append(b, ']')
	case map[string]string:
		o := make(object, 0, len(v))
		for k, s := range v {
			o = append(o, member{k, s})
		}
		return AppendJCS(b, o)
	case object:
		slices.SortFunc(v, func(x, y member) int { return compareUTF16(x.key, y.key) })
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key)
			b = append(b, ':')
			b = AppendJCS(b, m.val)
		}
		return append(b, '}')
	}
	panic("schema: AppendJCS: unsupported type")
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785 asks.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Units(ra), utf16Units(rb)
			return slices.Compare(ua[:], ub[:])
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func utf16Units(r rune) [2]uint16 {
	if r >= 0x10000 {
		hi, lo := utf16.EncodeRune(r)
		return [2]uint16{uint16(hi), uint16(lo)}
	}
	return [2]uint16{uint16(r), 0}
}

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendNumber prints f as ECMAScript's Number.prototype.toString does (the
// shortest round-tripping digits; exponent form below 1e-6 and from 1e21).
func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		panic("schema: AppendJCS: NaN or Inf")
	}
	if f == 0 {
		return append(b, '0')
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	e := strconv.AppendFloat(nil, f, 'e', -1, 64)
	// Go prints 1e-07 and 1e+21; ECMAScript prints 1e-7 and 1e+21.
	i := slices.Index(e, 'e')
	b = append(b, e[:i+2]...)
	exp := e[i+2:]
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	return append(b, exp...)
}
