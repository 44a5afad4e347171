package validate

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
)

// A job is shown on terminals: plans, diffs, status, errors. A control
// character there can move the cursor, recolor or rewrite what the reader
// sees, so no string of a job may hold one. A NUL byte cannot even reach a
// task: the operating system ends arguments, paths and environment entries
// at the first one, so the task would run with something else than the job
// says.
//
// Two kinds of string differ only in tab and newline: free text where a
// value of several lines is legitimate (description, meta values, the
// command and its environment) may hold them; everything else is one line.

// lineMode says whether a string may hold tab and newline.
type lineMode bool

const (
	oneLine   lineMode = false // names, keys, paths, sources, images...
	multiLine lineMode = true  // description, meta and env values, cmd, entrypoint
)

// badChar returns the first character of s that a string of mode m may not
// hold (NUL; a C0 control character, save tab and newline in a multi-line
// string; DEL; a C1 control character) and its 1-based position in
// characters; ok is false when s holds none. s is valid UTF-8.
func badChar(s string, m lineMode) (r rune, at int, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20:
			if m == multiLine && (c == '\t' || c == '\n') {
				continue
			}
			return rune(c), utf8.RuneCountInString(s[:i]) + 1, true
		case c == 0x7f:
			return rune(c), utf8.RuneCountInString(s[:i]) + 1, true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			// U+0080..U+009F, the C1 controls (CSI among them).
			return rune(s[i+1]), utf8.RuneCountInString(s[:i]) + 1, true
		}
	}
	return 0, 0, false
}

// clean reports whether s is valid UTF-8 without a character its mode does
// not allow.
func clean(s string, m lineMode) bool {
	_, _, bad := badChar(s, m)
	return !bad && utf8.ValidString(s)
}

// controlNames names the control characters people meet in files.
var controlNames = map[rune]string{
	0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x09: "tab", 0x0a: "newline", 0x0b: "vertical tab",
	0x0c: "form feed", 0x0d: "carriage return", 0x1b: "escape", 0x7f: "DEL", 0x9b: "CSI",
}

// charName is "U+001B (escape)" or "U+0085".
func charName(r rune) string {
	s := fmt.Sprintf("U+%04X", r)
	if n, ok := controlNames[r]; ok {
		s += " (" + n + ")"
	}
	return s
}

// plain reports a string s at r that holds a character its mode does not
// allow; it returns false after reporting. s is the value at path, or, when
// keyOf is not empty, a key of the map at keyOf.
func (d *decoder) plain(r lang.Range, path, keyOf, s string, m lineMode) bool {
	c, at, bad := badChar(s, m)
	if !bad {
		return true
	}
	subject := path
	if keyOf != "" {
		subject = "a key of " + keyOf
	}
	switch {
	case c == 0:
		d.errorf(r, path, "%s holds a NUL byte at character %d; no value of a job may hold one (the operating system would cut it short there)", subject, at)
	case m == multiLine:
		d.errorf(r, path, "%s holds the control character %s at character %d; only tab and newline are allowed, as other control characters garble the terminals that show a job", subject, charName(c), at)
	default:
		d.errorf(r, path, "%s holds the control character %s at character %d; it must be one line of printable text, as control characters garble the terminals that show a job", subject, charName(c), at)
	}
	return false
}

// keyPath returns the path of the entry key of the map at path. The key is
// written as it is, as the CUE frontend writes it, so that the two agree on
// the paths of a job's problems; lang.Diagnostic.Error escapes what would
// not print.
func keyPath(path, key string) string { return join(path, key) }

// hasPrefixFold reports whether s starts with prefix, compared under Unicode
// case folding ("MUSTER_", "muster_" and "Muſter_" all start with
// "MUSTER_").
func hasPrefixFold(s, prefix string) bool {
	i := 0
	for range utf8.RuneCountInString(prefix) {
		if i >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return strings.EqualFold(s[:i], prefix)
}
