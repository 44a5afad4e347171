package sensitive

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MinLength is the length from which a value is hidden wherever its text
// occurs in a message. A shorter value is hidden only where a message
// quotes it ("ab" or 'ab'): replacing every "1" in "version 1 failed"
// would tell the value as surely as showing it.
const MinLength = 4

// Redact returns msg with every occurrence of the values replaced by
// Marker, also where a message shows a value quoted with Go escapes (%q)
// or escaped for a URL (a token in a query or path). values usually come
// from Values; their order does not matter. Without values it returns msg.
func Redact(msg string, values []string) string {
	if len(values) == 0 || msg == "" {
		return msg
	}
	for _, old := range forms(values) {
		if strings.Contains(msg, old.text) {
			msg = strings.ReplaceAll(msg, old.text, old.marker)
		}
	}
	return msg
}

// form is one spelling of a value in a message and what replaces it.
type form struct{ text, marker string }

// forms lists the spellings of values to replace, longest first, so that a
// value that holds another is replaced whole.
func forms(values []string) []form {
	var out []form
	add := func(text, marker string) {
		if text != "" {
			out = append(out, form{text, marker})
		}
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		if len(v) < MinLength {
			add(strconv.Quote(v), strconv.Quote(Marker))
			add("'"+v+"'", "'"+Marker+"'")
			continue
		}
		add(v, Marker)
		if q := strconv.Quote(v); q[1:len(q)-1] != v {
			add(q[1:len(q)-1], Marker)
		}
		if e := url.QueryEscape(v); e != v {
			add(e, Marker)
		}
		if e := url.PathEscape(v); e != v {
			add(e, Marker)
		}
	}
	slices.SortStableFunc(out, func(a, b form) int { return longestFirst(a.text, b.text) })
	return out
}

// longestFirst orders texts by length, longest first, then by text.
func longestFirst(a, b string) int {
	return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
}
