package lang

// Kind says which of the JSON-like shapes a Value holds.
type Kind uint8

// The kinds of Value. The zero Kind is Null.
const (
	Null Kind = iota
	Bool
	Number
	String
	List
	Map
)

var kindNames = [...]string{"null", "bool", "number", "string", "list", "map"}

// String names the kind as users see it in errors ("string", "map", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Value is one node of a parsed job file. Exactly the member that matches Kind
// is meaningful. A nil *Value means the field is absent.
//
// Number keeps the literal text in JSON number syntax (for example "10",
// "0.5", "1e3") so that the validator decides how to read it and can reject
// integers that do not fit exactly.
type Value struct {
	Kind  Kind
	Range Range
	// Sensitive marks a value that came from a sensitive variable: no
	// message may show it.
	Sensitive bool
	Bool      bool
	Number    string
	Str       string
	List      []*Value
	Fields    []*Field
}

// Field is one entry of a Map value. KeyRange covers the key as written.
type Field struct {
	Key      string
	KeyRange Range
	Value    *Value
}

// Get returns the field named key of a Map value, or nil.
func (v *Value) Get(key string) *Field {
	if v == nil || v.Kind != Map {
		return nil
	}
	for _, f := range v.Fields {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// Describe names what v holds for error messages, such as `string "abc"` or
// "list".
func (v *Value) Describe() string {
	if v == nil {
		return "nothing"
	}
	switch v.Kind {
	case String:
		s := v.Str
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return "string " + quote(s)
	case Number:
		return "number " + v.Number
	case Bool:
		if v.Bool {
			return "bool true"
		}
		return "bool false"
	}
	return v.Kind.String()
}

func quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'x', "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}
