package importer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/muster-dev/muster/lang"
)

// conv is one translation under way: the source file and what was found
// wrong with it.
type conv struct {
	file  string
	diags lang.Diagnostics
}

// errorf reports an error at r about the source field path.
func (c *conv) errorf(r lang.Range, path, format string, args ...any) {
	c.diags = append(c.diags, lang.Diagnostic{Severity: lang.Error, Range: c.at(r), Path: path, Message: fmt.Sprintf(format, args...)})
}

// warnf reports a warning at r about the source field path.
func (c *conv) warnf(r lang.Range, path, format string, args ...any) {
	c.diags = append(c.diags, lang.Diagnostic{Severity: lang.Warning, Range: c.at(r), Path: path, Message: fmt.Sprintf(format, args...)})
}

// at is r, or the file alone where r has no file.
func (c *conv) at(r lang.Range) lang.Range {
	if r.Filename == "" {
		r.Filename = c.file
	}
	return r
}

// obj is a source object being read. Every field read is marked as seen;
// rest warns about the others, so that no field is dropped without a word.
type obj struct {
	c    *conv
	v    *lang.Value
	path string
	seen []bool
}

// object starts reading v, the value at path, which must be a map; it
// reports an error and returns nil otherwise. A nil or null v is absent:
// nil, and no error.
func (c *conv) object(v *lang.Value, path string) *obj {
	if absent(v) {
		return nil
	}
	if v.Kind != lang.Map {
		c.errorf(v.Range, path, "want an object, not %s", v.Describe())
		return nil
	}
	return &obj{c: c, v: v, path: path, seen: make([]bool, len(v.Fields))}
}

// absent reports whether v is missing or null.
func absent(v *lang.Value) bool { return v == nil || v.Kind == lang.Null }

// fold is how keys compare: without case, underscores and dashes, as Go's
// encoding/json reads Bacalhau's and Expanso's keys without case, and so
// that input_sources, InputSources and inputSources are one key.
func fold(key string) string {
	key = strings.ToLower(key)
	if strings.ContainsAny(key, "_-") {
		key = strings.NewReplacer("_", "", "-", "").Replace(key)
	}
	return key
}

// field returns the field key of o (any of the spellings keys, compared
// with fold) and marks it seen; nil when o is nil or has none. A field
// written twice, in two spellings or one, is an error at the second.
func (o *obj) field(keys ...string) *lang.Field {
	if o == nil {
		return nil
	}
	var found *lang.Field
	for i, f := range o.v.Fields {
		if !matches(f.Key, keys) {
			continue
		}
		o.seen[i] = true
		if found != nil {
			o.c.errorf(f.KeyRange, o.sub(f.Key), "%s is written twice (also as %s)", f.Key, found.Key)
			continue
		}
		found = f
	}
	return found
}

// matches reports whether key is one of keys, compared with fold.
func matches(key string, keys []string) bool {
	for _, k := range keys {
		if fold(key) == fold(k) {
			return true
		}
	}
	return false
}

// value returns the value of the field key (see field), nil when absent
// or null, with its source path.
func (o *obj) value(keys ...string) (*lang.Value, string) {
	f := o.field(keys...)
	if f == nil || absent(f.Value) {
		return nil, ""
	}
	return f.Value, o.sub(f.Key)
}

// sub is the source path of the field key of o.
func (o *obj) sub(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// drop marks the fields keys as seen and, when one is there and not
// empty, warns that it is dropped and why ("" drops it without a word).
func (o *obj) drop(why string, keys ...string) {
	for _, k := range keys {
		if v, p := o.value(k); v != nil && !empty(v) && why != "" {
			o.c.warnf(v.Range, p, "dropped: %s", why)
		}
	}
}

// rest warns about every field of o not read, saying why with why, which
// is given the key as written. A field for which why says "" is dropped
// without a word: the caller said why about the object holding it.
func (o *obj) rest(why func(key string) string) {
	if o == nil {
		return
	}
	for i, f := range o.v.Fields {
		if o.seen[i] {
			continue
		}
		o.seen[i] = true
		if absent(f.Value) || empty(f.Value) {
			continue
		}
		if w := why(f.Key); w != "" {
			o.c.warnf(f.KeyRange, o.sub(f.Key), "dropped: %s", w)
		}
	}
}

// empty reports whether v holds nothing: "", an empty list or map, false
// or 0. Dropping an empty field loses nothing, so it is not warned about.
func empty(v *lang.Value) bool {
	switch v.Kind {
	case lang.Null:
		return true
	case lang.String:
		return v.Str == ""
	case lang.List:
		return len(v.List) == 0
	case lang.Map:
		for _, f := range v.Fields {
			if !absent(f.Value) && !empty(f.Value) {
				return false
			}
		}
		return true
	case lang.Bool:
		return !v.Bool
	case lang.Number:
		f, err := strconv.ParseFloat(v.Number, 64)
		return err == nil && f == 0
	}
	return false
}

// str reads v, at path, as a string; numbers and booleans give their
// text, as a YAML author who wrote version: 1.2 means the string. Other
// kinds are an error.
func (c *conv) str(v *lang.Value, path string) (string, bool) {
	switch v.Kind {
	case lang.String:
		return v.Str, true
	case lang.Number:
		return v.Number, true
	case lang.Bool:
		return strconv.FormatBool(v.Bool), true
	}
	c.errorf(v.Range, path, "want a string, not %s", v.Describe())
	return "", false
}

// strs reads v, at path, as a list of strings.
func (c *conv) strs(v *lang.Value, path string) ([]string, bool) {
	if v.Kind != lang.List {
		c.errorf(v.Range, path, "want a list of strings, not %s", v.Describe())
		return nil, false
	}
	out := make([]string, 0, len(v.List))
	ok := true
	for i, e := range v.List {
		s, good := c.str(e, fmt.Sprintf("%s[%d]", path, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// list reads v, at path, as a list.
func (c *conv) list(v *lang.Value, path string) []*lang.Value {
	if v.Kind != lang.List {
		c.errorf(v.Range, path, "want a list, not %s", v.Describe())
		return nil
	}
	return v.List
}

// integer reads v, at path, as a whole number (a string of digits too).
func (c *conv) integer(v *lang.Value, path string) (int64, bool) {
	text := v.Number
	if v.Kind == lang.String {
		text = strings.TrimSpace(v.Str)
	} else if v.Kind != lang.Number {
		c.errorf(v.Range, path, "want a whole number, not %s", v.Describe())
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || f != float64(int64(f)) {
			c.errorf(v.Range, path, "want a whole number, not %s", v.Describe())
			return 0, false
		}
		n = int64(f)
	}
	return n, true
}

// boolean reads v, at path, as a boolean.
func (c *conv) boolean(v *lang.Value, path string) (bool, bool) {
	if v.Kind != lang.Bool {
		c.errorf(v.Range, path, "want true or false, not %s", v.Describe())
		return false, false
	}
	return v.Bool, true
}

// index is the source path of item i of the list at path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// has reports whether o has the field key, without marking it seen.
func (o *obj) has(key string) bool {
	if o == nil {
		return false
	}
	for _, f := range o.v.Fields {
		if fold(f.Key) == fold(key) && !absent(f.Value) {
			return true
		}
	}
	return false
}

// stringValue reads the field keys of o as a string: "" and false when
// it is absent or not a string (reported).
func (o *obj) stringValue(keys ...string) (string, *lang.Value, string) {
	v, p := o.value(keys...)
	if v == nil {
		return "", nil, ""
	}
	s, ok := o.c.str(v, p)
	if !ok {
		return "", nil, ""
	}
	return s, v, p
}
