// Package gendocs renders the field reference of docs/jobspec.md from the
// catalog schema.Fields, so that the reference, the JSON Schema and the Go
// model cannot drift apart. Only the part of the file between Begin and End
// is generated; the rest is written by hand. Its test keeps the checked-in
// file up to date: MUSTER_UPDATE=1 go test ./internal/gendocs/ rewrites it.
package gendocs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/muster-dev/muster/schema"
)

// Begin and End are the lines that enclose the generated reference in
// docs/jobspec.md.
const (
	Begin = "<!-- BEGIN GENERATED FIELDS: edit schema/fields.go, then run MUSTER_UPDATE=1 go test ./internal/gendocs/ -->"
	End   = "<!-- END GENERATED FIELDS -->"
)

// section is one table of the reference: an object and its members.
type section struct {
	path  string // "" for the job itself, else the object's path
	title string
	intro string
}

// Reference returns the generated Markdown: one table per object of a job,
// in catalog order, each row a field with its type, default and rules.
func Reference() []byte {
	sections := []section{{path: "", title: "Job", intro: "The top level of a job."}}
	for _, f := range schema.Fields {
		switch f.Kind {
		case schema.KindObject:
			sections = append(sections, section{path: f.Path, title: "`" + f.Path + "`", intro: f.Description})
		case schema.KindObjectList:
			sections = append(sections, section{path: f.Path + "[]", title: "`" + f.Path + "[]`", intro: "Each item of `" + f.Path + "`."})
		}
	}
	var b bytes.Buffer
	for i, s := range sections {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", s.title, s.intro)
		b.WriteString("| field | type | default | meaning and rules |\n|---|---|---|---|\n")
		for _, f := range schema.Fields {
			if parent(f.Path) != s.path {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Path, cell(typeOf(&f)), cell(defaultOf(&f)), cell(rulesOf(&f)))
		}
	}
	return b.Bytes()
}

// parent returns the path of the object holding the field at p.
func parent(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// cell escapes the pipes of a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// anchor is the GitHub anchor of a section heading "`path`".
func anchor(path string) string {
	return "#" + strings.NewReplacer(".", "", "[", "", "]", "").Replace(path)
}

func typeOf(f *schema.FieldInfo) string {
	switch {
	case len(f.Enum) > 0:
		return "enum"
	case f.Kind == schema.KindObject:
		return "[object](" + anchor(f.Path) + ")"
	case f.Kind == schema.KindObjectList:
		return "[list of object](" + anchor(f.Path+"[]") + ")"
	}
	return string(f.Kind)
}

func defaultOf(f *schema.FieldInfo) string {
	switch {
	case f.Required:
		return "required"
	case f.DefaultText != "":
		return f.DefaultText
	case f.Default == nil && f.AddedAfterV1:
		return "absent"
	case f.Default == nil:
		return "—"
	}
	s := value(f.Default)
	if len(f.TypeDefaults) == 0 {
		return s
	}
	byValue := map[string][]string{}
	var order []string
	for _, t := range []schema.JobType{schema.Batch, schema.Ops, schema.Service, schema.Daemon} {
		v := value(f.DefaultFor(t))
		if byValue[v] == nil {
			order = append(order, v)
		}
		byValue[v] = append(byValue[v], string(t))
	}
	parts := make([]string, len(order))
	for i, v := range order {
		parts[i] = v + " for " + strings.Join(byValue[v], ", ")
	}
	return strings.Join(parts, "; ")
}

// value prints a default as a code span: strings without quotes unless
// empty, everything else as JSON.
func value(v any) string {
	if s, ok := v.(string); ok && s != "" {
		return "`" + s + "`"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return "`" + string(b) + "`"
}

func rulesOf(f *schema.FieldInfo) string {
	parts := []string{f.Description}
	if len(f.Enum) > 1 {
		parts = append(parts, "One of "+codeList(f.Enum)+".")
	}
	if f.Pattern != "" && len(f.Pattern) <= 40 {
		parts = append(parts, "Matches `"+f.Pattern+"`.")
	}
	if f.KeyPattern != "" && len(f.KeyPattern) <= 40 {
		parts = append(parts, "Keys match `"+f.KeyPattern+"`.")
	}
	if f.MaxLength > 0 {
		parts = append(parts, fmt.Sprintf("At most %d characters.", f.MaxLength))
	}
	if r := rangeOf(f); r != "" {
		parts = append(parts, r)
	}
	parts = append(parts, f.Conditions(), f.Rules)
	if f.AddedAfterV1 {
		parts = append(parts, "Added after the first release of `muster/v1`: while it is "+
			map[bool]string{true: "empty", false: "absent"}[f.Default != nil]+
			", the canonical form leaves it out, so jobs written before it keep their hash.")
	}
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " ")
}

func codeList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = "`" + s + "`"
	}
	return strings.Join(q, ", ")
}

// rangeOf says the numeric bounds of f in words; the 2^53 bound of every
// integer is said once, in the hand-written part.
func rangeOf(f *schema.FieldInfo) string {
	num := func(p *float64) string { return fmt.Sprint(*p) }
	hasMax := f.Max != nil && *f.Max != schema.MaxSafeInt && !math.IsInf(*f.Max, 1)
	each := ""
	if f.Kind == schema.KindIntList {
		each = "Each "
	}
	switch {
	case f.Min == nil && f.Max == nil:
		return ""
	case each != "" && hasMax && f.Min != nil:
		return each + "from " + num(f.Min) + " to " + num(f.Max) + "."
	case f.MinExclusive && hasMax:
		return "Greater than " + num(f.Min) + " and at most " + num(f.Max) + "."
	case hasMax && f.Min != nil:
		return "From " + num(f.Min) + " to " + num(f.Max) + "."
	case f.Min != nil:
		return "At least " + num(f.Min) + "."
	}
	return "At most " + num(f.Max) + "."
}

// Splice returns doc with the lines between Begin and End replaced by
// generated.
func Splice(doc, generated []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(Begin+"\n"))
	j := bytes.Index(doc, []byte("\n"+End))
	if i < 0 || j < i {
		return nil, errors.New("the markers " + Begin + " and " + End + " are missing or out of order")
	}
	start := i + len(Begin) + 1
	var out bytes.Buffer
	out.Write(doc[:start])
	out.WriteString("\n")
	out.Write(generated)
	out.WriteString("\n")
	out.Write(doc[j+1:])
	return out.Bytes(), nil
}
