package emit

import (
	"bytes"
	"encoding/json"

	"github.com/muster-dev/muster/lang"
)

// writeJSON writes one job object, or an array of them, indented by two
// spaces.
func writeJSON(jobs []*lang.Value) ([]byte, error) {
	var buf bytes.Buffer
	if len(jobs) == 1 {
		if err := jsonValue(&buf, jobs[0], ""); err != nil {
			return nil, err
		}
	} else {
		buf.WriteString("[\n  ")
		for i, j := range jobs {
			if i > 0 {
				buf.WriteString(",\n  ")
			}
			if err := jsonValue(&buf, j, "  "); err != nil {
				return nil, err
			}
		}
		buf.WriteString("\n]")
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// jsonValue writes v at the indentation indent.
func jsonValue(buf *bytes.Buffer, v *lang.Value, indent string) error {
	switch v.Kind {
	case lang.Map:
		if len(v.Fields) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{")
		for i, f := range v.Fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString("\n" + indent + "  ")
			jsonString(buf, f.Key)
			buf.WriteString(": ")
			if err := jsonValue(buf, f.Value, indent+"  "); err != nil {
				return err
			}
		}
		buf.WriteString("\n" + indent + "}")
	case lang.List:
		if len(v.List) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteString("[")
		for i, e := range v.List {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString("\n" + indent + "  ")
			if err := jsonValue(buf, e, indent+"  "); err != nil {
				return err
			}
		}
		buf.WriteString("\n" + indent + "]")
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
	return nil
}

// jsonString writes s quoted, without escaping <, > and &.
func jsonString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}
