package importer

import (
	"strconv"
	"strings"

	"github.com/muster-dev/muster/lang"
)

// The muster job is built as a value tree, the form a frontend parses a
// job file into, so that it goes through the validator as any job file
// does. Every value keeps the range of the source value it came from:
// what the validator finds wrong points into the source file.

// job is a muster job being built.
type job struct {
	root *lang.Value
}

func newJob() *job { return &job{root: &lang.Value{Kind: lang.Map}} }

// node returns the map at the dotted path, made (empty) where missing.
func (j *job) node(path string) *lang.Value {
	v := j.root
	if path == "" {
		return v
	}
	for _, k := range strings.Split(path, ".") {
		f := v.Get(k)
		if f == nil {
			f = &lang.Field{Key: k, Value: &lang.Value{Kind: lang.Map}}
			v.Fields = append(v.Fields, f)
		}
		v = f.Value
	}
	return v
}

// set puts v at the dotted path, replacing what was there.
func (j *job) set(path string, v *lang.Value) {
	parent, key := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, key = path[:i], path[i+1:]
	}
	m := j.node(parent)
	if f := m.Get(key); f != nil {
		f.Value = v
		return
	}
	m.Fields = append(m.Fields, &lang.Field{Key: key, KeyRange: v.Range, Value: v})
}

// get returns the value at the dotted path, nil when there is none.
func (j *job) get(path string) *lang.Value {
	v := j.root
	for _, k := range strings.Split(path, ".") {
		f := v.Get(k)
		if f == nil {
			return nil
		}
		v = f.Value
	}
	return v
}

// add appends v to the list at the dotted path.
func (j *job) add(path string, v *lang.Value) {
	l := j.get(path)
	if l == nil {
		l = &lang.Value{Kind: lang.List, Range: v.Range}
		j.set(path, l)
	}
	l.List = append(l.List, v)
}

// put sets key of the map at the dotted path to v. When the key is there
// already it changes nothing and returns the value it holds.
func (j *job) put(path, key string, keyRange lang.Range, v *lang.Value) *lang.Value {
	m := j.node(path)
	if f := m.Get(key); f != nil {
		return f.Value
	}
	m.Fields = append(m.Fields, &lang.Field{Key: key, KeyRange: keyRange, Value: v})
	return nil
}

// text is a string value from r.
func text(s string, r lang.Range) *lang.Value {
	return &lang.Value{Kind: lang.String, Str: s, Range: r}
}

// number is a number value from r, written as its shortest decimal form.
func number(f float64, r lang.Range) *lang.Value {
	return &lang.Value{Kind: lang.Number, Number: strconv.FormatFloat(f, 'f', -1, 64), Range: r}
}

// integer is a whole number value from r.
func integerValue(n int64, r lang.Range) *lang.Value {
	return &lang.Value{Kind: lang.Number, Number: strconv.FormatInt(n, 10), Range: r}
}

// flag is a boolean value from r.
func flag(b bool, r lang.Range) *lang.Value { return &lang.Value{Kind: lang.Bool, Bool: b, Range: r} }

// texts is a list of strings from r.
func texts(ss []string, r lang.Range) *lang.Value {
	l := &lang.Value{Kind: lang.List, Range: r, List: make([]*lang.Value, len(ss))}
	for i, s := range ss {
		l.List[i] = text(s, r)
	}
	return l
}

// object is a map value from r with the fields kv (key, value, ...).
func object(r lang.Range, kv ...any) *lang.Value {
	m := &lang.Value{Kind: lang.Map, Range: r}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Fields = append(m.Fields, &lang.Field{Key: kv[i].(string), KeyRange: r, Value: kv[i+1].(*lang.Value)})
	}
	return m
}
