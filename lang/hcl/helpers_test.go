package hcl

import (
	"strconv"
	"strings"

	"github.com/muster-dev/muster/lang"
)

// dump prints a value tree compactly: {k:v,...}, [a,b], "s", 1, true, null.
func dump(v *lang.Value) string {
	var b strings.Builder
	dumpTo(&b, v)
	return b.String()
}

func dumpTo(b *strings.Builder, v *lang.Value) {
	if v == nil {
		b.WriteString("<nil>")
		return
	}
	switch v.Kind {
	case lang.Null:
		b.WriteString("null")
	case lang.Bool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case lang.Number:
		b.WriteString(v.Number)
	case lang.String:
		b.WriteString(strconv.Quote(v.Str))
	case lang.List:
		b.WriteByte('[')
		for i, e := range v.List {
			if i > 0 {
				b.WriteByte(',')
			}
			dumpTo(b, e)
		}
		b.WriteByte(']')
	case lang.Map:
		b.WriteByte('{')
		for i, f := range v.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Key)
			b.WriteByte(':')
			dumpTo(b, f.Value)
		}
		b.WriteByte('}')
	}
}

// diagLines prints diagnostics as "line:col: severity: message (path)",
// without the file name.
func diagLines(ds lang.Diagnostics) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		s := d.Error()
		if d.Range.Filename != "" {
			s = strings.TrimPrefix(s, d.Range.Filename+":")
		}
		out[i] = s
	}
	return out
}
