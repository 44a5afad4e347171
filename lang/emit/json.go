package emit

import (
	"bytes"
	"encoding/json"

	"github.com/muster-dev/muster/lang"
)

// writeJSON writes one job object, or an array of them, in the order of
// their fields, indented by two spaces as 'muster fmt' indents JSON
// (json.Indent).
func writeJSON(jobs []*lang.Value) ([]byte, error) {
	var compact bytes.Buffer
	if len(jobs) == 1 {
		jsonValue(&compact, jobs[0])
	} else {
		compact.WriteByte('[')
		for i, j := range jobs {
			if i > 0 {
				compact.WriteByte(',')
			}
			jsonValue(&compact, j)
		}
		compact.WriteByte(']')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// jsonValue writes v as compact JSON, keeping the order of its fields.
func jsonValue(buf *bytes.Buffer, v *lang.Value) {
	switch v.Kind {
	case lang.Map:
		buf.WriteByte('{')
		for i, f := range v.Fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			jsonString(buf, f.Key)
			buf.WriteByte(':')
			jsonValue(buf, f.Value)
		}
		buf.WriteByte('}')
	case lang.List:
		buf.WriteByte('[')
		for i, e := range v.List {
			if i > 0 {
				buf.WriteByte(',')
			}
			jsonValue(buf, e)
		}
		buf.WriteByte(']')
	case lang.String:
		jsonString(buf, v.Str)
	case lang.Number:
		buf.WriteString(v.Number)
	case lang.Bool:
		if v.Bool {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	default:
		buf.WriteString("null")
	}
}

// jsonString writes s quoted, without escaping <, > and &.
func jsonString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}
