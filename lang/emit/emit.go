// Package emit writes jobs, given as value trees (lang.Value maps as the
// frontends make them), as source text in each of the four formats: the
// inverse of the frontends, for commands that make job files (muster
// import). Every format is laid out as muster fmt lays it out, fields in
// the order of the job spec (schema.Fields) and the keys of maps sorted, so
// that the same tree gives the same text. Compiling the text of any format
// gives back the tree's job: the same canonical bytes and hash.
package emit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

// Formats are the formats Write writes, in the order of docs/spec.md.
var Formats = []string{"yaml", "json", "hcl", "cue"}

// Options say what Write writes besides the jobs. The zero Options write
// the jobs alone (and the schema modeline of YAML).
type Options struct {
	// Comment is written as comment lines at the top of the file, in the
	// formats that have comments (all but JSON). Empty writes none.
	Comment string
}

// Write returns jobs as a file of format ("yaml", "json", "hcl" or
// "cue"). Every job must be a Map holding a string name (HCL writes it
// as the block label). Null fields are left out.
func Write(format string, jobs []*lang.Value, opts Options) ([]byte, error) {
	if len(jobs) == 0 {
		return nil, fmt.Errorf("no job to write")
	}
	sorted := make([]*lang.Value, len(jobs))
	for i, j := range jobs {
		if j == nil || j.Kind != lang.Map {
			return nil, fmt.Errorf("job %d is %s, not a map", i+1, j.Describe())
		}
		sorted[i] = ordered(j, "")
	}
	switch format {
	case "yaml":
		return writeYAML(sorted, opts)
	case "json":
		return writeJSON(sorted)
	case "hcl":
		return writeHCL(sorted, opts)
	case "cue":
		return writeCUE(sorted, opts)
	}
	return nil, fmt.Errorf("cannot write %q: want one of %s", format, strings.Join(Formats, ", "))
}

// ordered returns a copy of v, the value at the field path path ("" for
// the job, "task.inputs[]" for an item of a list), with null fields left
// out, the fields of objects in the order of schema.Fields (fields it
// does not know last, in their order) and the keys of maps sorted.
func ordered(v *lang.Value, path string) *lang.Value {
	switch v.Kind {
	case lang.List:
		out := *v
		out.List = make([]*lang.Value, 0, len(v.List))
		for _, e := range v.List {
			if e != nil && e.Kind != lang.Null {
				out.List = append(out.List, ordered(e, path+"[]"))
			}
		}
		return &out
	case lang.Map:
		out := *v
		out.Fields = make([]*lang.Field, 0, len(v.Fields))
		for _, f := range v.Fields {
			if f.Value == nil || f.Value.Kind == lang.Null {
				continue
			}
			g := *f
			g.Value = ordered(f.Value, join(path, f.Key))
			out.Fields = append(out.Fields, &g)
		}
		if isStringMap(path) {
			slices.SortStableFunc(out.Fields, func(a, b *lang.Field) int { return strings.Compare(a.Key, b.Key) })
		} else {
			slices.SortStableFunc(out.Fields, func(a, b *lang.Field) int { return rank(join(path, a.Key)) - rank(join(path, b.Key)) })
		}
		return &out
	}
	return v
}

// join extends the field path path with key.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// rank is the place of path in schema.Fields; fields it does not know
// come after all others.
func rank(path string) int {
	for i := range schema.Fields {
		if schema.Fields[i].Path == path {
			return i
		}
	}
	return len(schema.Fields)
}

// kindOf is the kind of the field at path, "" when the catalog does not
// know it.
func kindOf(path string) schema.Kind {
	if f, ok := schema.LookupField(path); ok {
		return f.Kind
	}
	return ""
}

// isStringMap reports whether the map at path is a map of strings
// (labels, meta, env, match_labels) rather than an object of fields.
func isStringMap(path string) bool { return kindOf(path) == schema.KindStringMap }

// isObjectList reports whether the list at path holds objects that HCL
// writes as repeated blocks (inputs, outputs, ports).
func isObjectList(path string) bool { return kindOf(path) == schema.KindObjectList }

// commentLines returns comment as lines, each after prefix.
func commentLines(comment, prefix string) string {
	if comment == "" {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		b.WriteString(strings.TrimRight(prefix+" "+line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}
