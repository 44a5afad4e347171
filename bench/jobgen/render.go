package jobgen

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"regexp"
	"strings"
)

// Format names a rendering.
type Format string

// The formats, with their file extensions.
const (
	YAML Format = "yaml"
	JSON Format = "json"
	HCL  Format = "hcl"
	CUE  Format = "cue"
)

// Formats lists every format.
var Formats = []Format{YAML, JSON, HCL, CUE}

// Render returns the file in format f.
func Render(file *File, f Format) []byte {
	switch f {
	case YAML:
		return RenderYAML(file, nil)
	case JSON:
		return RenderJSON(file)
	case HCL:
		return RenderHCL(file)
	case CUE:
		return RenderCUE(file)
	}
	panic("jobgen: unknown format " + string(f))
}

// style holds the layout choices of one file, fixed by its name so that a
// file renders the same way every time.
type style struct {
	flowSmall bool // YAML: small maps of scalars in flow style; CUE: a: b: c shorthand
}

func styleOf(f *File) style {
	h := fnv.New32a()
	h.Write([]byte(f.Base))
	return style{flowSmall: h.Sum32()%3 == 0}
}

// ---- YAML

var (
	plainYAML    = regexp.MustCompile(`^[A-Za-z/][A-Za-z0-9_./-]*$`)
	reservedYAML = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true, "true": true, "false": true, "null": true}
)

func yamlString(s string) string {
	if plainYAML.MatchString(s) && !reservedYAML[strings.ToLower(s)] {
		return s
	}
	return jsonString(s)
}

// RenderYAML renders the file as YAML, one document per job. header, when
// not empty, is written at the top of every document (bench/compile adds
// kind and apiVersion for kubeconform).
func RenderYAML(f *File, header []Member) []byte {
	var b bytes.Buffer
	st := styleOf(f)
	if f.Comment != "" {
		b.WriteString("# " + f.Comment + "\n")
	}
	for i, j := range f.Jobs {
		if i > 0 || f.Comment != "" && len(f.Jobs) > 1 {
			b.WriteString("---\n")
		}
		yamlMembers(&b, append(append([]Member(nil), header...), j.Members...), "", st)
	}
	return b.Bytes()
}

func yamlMembers(b *bytes.Buffer, ms []Member, indent string, st style) {
	for _, m := range ms {
		if m.Comment != "" {
			b.WriteString(indent + "# " + m.Comment + "\n")
		}
		b.WriteString(indent + yamlString(m.Key) + ":")
		yamlValue(b, m.Val, indent, st)
	}
}

// yamlValue writes v after "key:" (or after "- " for list items, which pass
// the indent of the item's members).
func yamlValue(b *bytes.Buffer, v *Node, indent string, st style) {
	switch v.Kind {
	case Obj:
		if len(v.Members) == 0 {
			b.WriteString(" {}\n")
			return
		}
		if st.flowSmall && len(v.Members) <= 3 && allScalars(v) {
			b.WriteString(" {")
			for i, m := range v.Members {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(yamlString(m.Key) + ": " + yamlScalar(m.Val))
			}
			b.WriteString("}\n")
			return
		}
		b.WriteString("\n")
		yamlMembers(b, v.Members, indent+"  ", st)
	case List:
		if len(v.List) == 0 {
			b.WriteString(" []\n")
			return
		}
		if allScalarItems(v) && flowLen(v) < 70 {
			b.WriteString(" [")
			for i, e := range v.List {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(yamlScalar(e))
			}
			b.WriteString("]\n")
			return
		}
		b.WriteString("\n")
		for _, e := range v.List {
			b.WriteString(indent + "  -")
			if e.Kind == Obj && len(e.Members) > 0 {
				// The first member follows "- ", the rest align with it.
				inner := indent + "    "
				for k, m := range e.Members {
					if k == 0 {
						b.WriteString(" " + yamlString(m.Key) + ":")
					} else {
						b.WriteString(inner + yamlString(m.Key) + ":")
					}
					yamlValue(b, m.Val, inner, st)
				}
				continue
			}
			yamlValue(b, e, indent+"  ", st)
		}
	default:
		b.WriteString(" " + yamlScalar(v) + "\n")
	}
}

func yamlScalar(v *Node) string {
	switch v.Kind {
	case Str:
		return yamlString(v.Text)
	case Bool:
		if v.Bool {
			return "true"
		}
		return "false"
	}
	return v.Text
}

func allScalars(v *Node) bool {
	for _, m := range v.Members {
		if m.Val.Kind == Obj || m.Val.Kind == List || m.Comment != "" {
			return false
		}
	}
	return true
}

func allScalarItems(v *Node) bool {
	for _, e := range v.List {
		if e.Kind == Obj || e.Kind == List {
			return false
		}
	}
	return true
}

func flowLen(v *Node) int {
	n := 0
	for _, e := range v.List {
		n += len(e.Text) + 4
	}
	return n
}

// ---- JSON

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// RenderJSON renders the file as JSON: one object, or an array of objects
// when the file holds several jobs.
func RenderJSON(f *File) []byte {
	var b bytes.Buffer
	if len(f.Jobs) == 1 {
		jsonValue(&b, f.Jobs[0], "")
	} else {
		b.WriteString("[\n")
		for i, j := range f.Jobs {
			b.WriteString("  ")
			jsonValue(&b, j, "  ")
			if i < len(f.Jobs)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("]")
	}
	b.WriteString("\n")
	return b.Bytes()
}

func jsonValue(b *bytes.Buffer, v *Node, indent string) {
	inner := indent + "  "
	switch v.Kind {
	case Obj:
		if len(v.Members) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, m := range v.Members {
			b.WriteString(inner + jsonString(m.Key) + ": ")
			jsonValue(b, m.Val, inner)
			if i < len(v.Members)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case List:
		if len(v.List) == 0 {
			b.WriteString("[]")
			return
		}
		if allScalarItems(v) && flowLen(v) < 70 {
			b.WriteString("[")
			for i, e := range v.List {
				if i > 0 {
					b.WriteString(", ")
				}
				jsonValue(b, e, inner)
			}
			b.WriteString("]")
			return
		}
		b.WriteString("[\n")
		for i, e := range v.List {
			b.WriteString(inner)
			jsonValue(b, e, inner)
			if i < len(v.List)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "]")
	case Str:
		b.WriteString(jsonString(v.Text))
	case Bool:
		b.WriteString(yamlScalar(v))
	default:
		b.WriteString(v.Text)
	}
}

// ---- HCL

var hclIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// hclBlocks are the object paths HCL writes as blocks; hclRepeated the
// lists of objects it writes as repeated singular blocks.
var (
	hclBlocks   = map[string]bool{"selector": true, "task": true, "task.resources": true, "rollout": true, "rollout.health_check": true, "timeouts": true}
	hclRepeated = map[string]string{"task.inputs": "input", "task.outputs": "output"}
)

func hclString(s string) string { return `"` + escapeHCL(s) + `"` }

func hclKey(k string) string {
	if hclIdent.MatchString(k) {
		return k
	}
	return hclString(k)
}

// RenderHCL renders the file as HCL: variable and locals blocks for the
// file's variables, then one job block per job.
func RenderHCL(f *File) []byte {
	var b bytes.Buffer
	if f.Comment != "" {
		b.WriteString("# " + f.Comment + "\n\n")
	}
	var locals []Var
	for _, v := range f.Vars {
		if v.Local {
			locals = append(locals, v)
			continue
		}
		b.WriteString("variable " + hclString(v.Name) + " {\n  type    = string\n  default = " + hclString(v.Value) + "\n}\n\n")
	}
	if len(locals) > 0 {
		b.WriteString("locals {\n")
		for _, v := range locals {
			b.WriteString("  " + v.Name + " = " + hclString(v.Value) + "\n")
		}
		b.WriteString("}\n\n")
	}
	for i, j := range f.Jobs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("job " + hclString(j.Get("name").Text) + " {\n")
		var rest []Member
		for _, m := range j.Members {
			if m.Key != "name" {
				rest = append(rest, m)
			}
		}
		hclBody(&b, rest, "", "  ")
		b.WriteString("}\n")
	}
	return b.Bytes()
}

func hclBody(b *bytes.Buffer, ms []Member, path, indent string) {
	width := 0
	for _, m := range ms {
		if !hclIsBlock(join(path, m.Key)) {
			width = max(width, len(hclKey(m.Key)))
		}
	}
	for _, m := range ms {
		p := join(path, m.Key)
		if m.Comment != "" {
			b.WriteString(indent + "# " + m.Comment + "\n")
		}
		switch {
		case hclBlocks[p]:
			b.WriteString(indent + m.Key + " {\n")
			hclBody(b, m.Val.Members, p, indent+"  ")
			b.WriteString(indent + "}\n")
		case hclRepeated[p] != "":
			for _, e := range m.Val.List {
				b.WriteString(indent + hclRepeated[p] + " {\n")
				hclBody(b, e.Members, p+"[]", indent+"  ")
				b.WriteString(indent + "}\n")
			}
		default:
			k := hclKey(m.Key)
			b.WriteString(indent + k + strings.Repeat(" ", max(0, width-len(k))) + " = ")
			hclValue(b, m.Val, indent)
			b.WriteString("\n")
		}
	}
}

func hclIsBlock(p string) bool { return hclBlocks[p] || hclRepeated[p] != "" }

func hclValue(b *bytes.Buffer, v *Node, indent string) {
	switch v.Kind {
	case Obj:
		if len(v.Members) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		width := 0
		for _, m := range v.Members {
			width = max(width, len(hclKey(m.Key)))
		}
		for _, m := range v.Members {
			k := hclKey(m.Key)
			b.WriteString(indent + "  " + k + strings.Repeat(" ", width-len(k)) + " = ")
			hclValue(b, m.Val, indent+"  ")
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case List:
		b.WriteString("[")
		for i, e := range v.List {
			if i > 0 {
				b.WriteString(", ")
			}
			hclValue(b, e, indent)
		}
		b.WriteString("]")
	case Str:
		if v.Var != "" {
			ref := "var." + v.Var
			if v.VarLocal {
				ref = "local." + v.Var
			}
			if v.VarPrefix == "" {
				b.WriteString(ref)
			} else {
				b.WriteString(`"` + escapeHCL(v.VarPrefix) + "${" + ref + `}"`)
			}
			return
		}
		b.WriteString(hclString(v.Text))
	default:
		b.WriteString(yamlScalar(v))
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// ---- CUE

var cueIdent = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

var cueKeywords = map[string]bool{"package": true, "import": true, "for": true, "in": true, "if": true, "let": true, "true": true, "false": true, "null": true, "div": true, "mod": true, "quo": true, "rem": true}

func cueString(s string) string { return `"` + escapeCUE(s) + `"` }

func cueKey(k string) string {
	if cueIdent.MatchString(k) && !cueKeywords[k] {
		return k
	}
	return cueString(k)
}

// cueVarRef is how CUE refers to a file variable: a let name for variables,
// a hidden field for locals.
func cueVarRef(name string, local bool) string {
	if local {
		return "_" + name
	}
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// RenderCUE renders the file as CUE: a single job as the top-level value,
// several jobs as a list in the field jobs. Variables are let declarations
// and hidden fields.
func RenderCUE(f *File) []byte {
	var b bytes.Buffer
	st := styleOf(f)
	if f.Comment != "" {
		b.WriteString("// " + f.Comment + "\n\n")
	}
	for _, v := range f.Vars {
		if v.Local {
			b.WriteString(cueVarRef(v.Name, true) + ": " + cueString(v.Value) + "\n")
		} else {
			b.WriteString("let " + cueVarRef(v.Name, false) + " = " + cueString(v.Value) + "\n")
		}
	}
	if len(f.Vars) > 0 {
		b.WriteString("\n")
	}
	if len(f.Jobs) == 1 {
		cueMembers(&b, f.Jobs[0].Members, "", st)
		return b.Bytes()
	}
	b.WriteString("jobs: [")
	for i, j := range f.Jobs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{\n")
		cueMembers(&b, j.Members, "\t", st)
		b.WriteString("}")
	}
	b.WriteString("]\n")
	return b.Bytes()
}

func cueMembers(b *bytes.Buffer, ms []Member, indent string, st style) {
	for _, m := range ms {
		if m.Comment != "" {
			b.WriteString(indent + "// " + m.Comment + "\n")
		}
		b.WriteString(indent + cueKey(m.Key) + ": ")
		v := m.Val
		// The shorthand a: b: c for an object of one field.
		for st.flowSmall && v.Kind == Obj && len(v.Members) == 1 && v.Members[0].Comment == "" {
			b.WriteString(cueKey(v.Members[0].Key) + ": ")
			v = v.Members[0].Val
		}
		cueValue(b, v, indent)
		b.WriteString("\n")
	}
}

func cueValue(b *bytes.Buffer, v *Node, indent string) {
	switch v.Kind {
	case Obj:
		if len(v.Members) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		cueMembers(b, v.Members, indent+"\t", style{})
		b.WriteString(indent + "}")
	case List:
		if len(v.List) == 0 {
			b.WriteString("[]")
			return
		}
		if allScalarItems(v) {
			b.WriteString("[")
			for i, e := range v.List {
				if i > 0 {
					b.WriteString(", ")
				}
				cueValue(b, e, indent)
			}
			b.WriteString("]")
			return
		}
		b.WriteString("[")
		for i, e := range v.List {
			if i > 0 {
				b.WriteString(", ")
			}
			cueValue(b, e, indent)
		}
		b.WriteString("]")
	case Str:
		if v.Var != "" {
			ref := cueVarRef(v.Var, v.VarLocal)
			if v.VarPrefix == "" {
				b.WriteString(ref)
			} else {
				b.WriteString(`"` + escapeCUE(v.VarPrefix) + `\(` + ref + `)"`)
			}
			return
		}
		b.WriteString(cueString(v.Text))
	default:
		b.WriteString(yamlScalar(v))
	}
}

// BenchSeed and BenchFiles fix the corpus the go test benchmarks share, so
// that their numbers compare across stages and runs.
const (
	BenchSeed  = 1
	BenchFiles = 256
)

// Sources renders the first n files of the corpus of seed in format f.
func Sources(seed uint64, n int, f Format) [][]byte {
	out := make([][]byte, n)
	for i, file := range Generate(seed, n) {
		out[i] = Render(file, f)
	}
	return out
}
