package schema

import (
	"maps"
	"slices"
	"strings"
)

// JSONSchemaID is the $id of the published JSON Schema of one job.
const JSONSchemaID = "https://muster.dev/schema/job/v1.json"

// JSONSchema returns the JSON Schema (draft 2020-12) of one job, generated
// from Fields: pretty-printed with two-space indentation, keys in a fixed
// order, ending in a newline. The bytes are the same on every call; they are
// checked in as schema/muster.schema.json.
//
// The schema validates ONE job object: a YAML document, or a JSON file that
// holds one job. A JSON file holding an array of jobs validates item by item.
// It checks every rule a single value can express (types, enums, patterns,
// bounds, unknown fields, the rules that depend on the job type, engine and
// strategy); rules that need the whole list, such as unique input targets,
// are left to `muster validate`.
func JSONSchema() []byte {
	root := fieldSchema(&FieldInfo{Kind: KindObject}, "")
	head := newObj().
		set("$schema", "https://json-schema.org/draft/2020-12/schema").
		set("$id", JSONSchemaID).
		set("title", "muster job").
		set("description", "One muster job (spec "+APIVersion+"). A JSON file holding an array of jobs validates item by item; "+
			"a YAML file with several documents validates document by document.")
	head.keys = append(head.keys, root.keys...)
	for k, v := range root.vals {
		head.vals[k] = v
	}
	head.set("allOf", append(typeRules(), jobEngineRules()...))
	b := writeJSON(nil, head, "")
	return append(b, '\n')
}

// fieldSchema returns the schema of f, whose members are the catalog fields
// under path.
func fieldSchema(f *FieldInfo, path string) *obj {
	s := newObj()
	if f.Description != "" {
		s.set("description", strings.Join(slices.DeleteFunc([]string{f.Description, f.Conditions(), f.Rules},
			func(s string) bool { return s == "" }), " "))
	}
	if def := f.DefaultFor(DefaultType); def != nil {
		s.set("default", def)
	}
	switch f.Kind {
	case KindString:
		s.set("type", "string")
		if len(f.Enum) > 0 {
			s.set("enum", f.Enum)
		}
		stringRules(s, f.Pattern, f.MaxLength)
	case KindInt, KindNumber:
		s.set("type", map[Kind]string{KindInt: "integer", KindNumber: "number"}[f.Kind])
		bounds(s, f)
	case KindBool:
		s.set("type", "boolean")
	case KindDuration:
		s.set("anyOf", []any{
			newObj().set("type", "string").set("pattern", DurationPattern),
			newObj().set("type", "integer").set("minimum", 0).set("maximum", int(maxSeconds)),
		})
	case KindCPUs:
		s.set("anyOf", []any{
			bounds(newObj().set("type", "number"), f),
			newObj().set("type", "string").set("pattern", f.Pattern),
		})
	case KindMemory:
		s.set("type", "string").set("pattern", f.Pattern)
	case KindStringMap:
		keys := newObj()
		stringRules(keys, f.KeyPattern, f.MaxLength)
		switch len(f.ReservedKeys) {
		case 0:
		case 1:
			keys.set("not", newObj().set("pattern", f.ReservedKeys[0]))
		default:
			var alts []any
			for _, r := range f.ReservedKeys {
				alts = append(alts, newObj().set("pattern", r))
			}
			keys.set("not", newObj().set("anyOf", alts))
		}
		s.set("type", "object")
		if len(keys.keys) > 0 {
			s.set("propertyNames", keys)
		}
		s.set("additionalProperties", stringRules(newObj().set("type", "string"), f.Pattern, f.ValueMaxLength))
	case KindStringList:
		s.set("type", "array").set("items", stringRules(newObj().set("type", "string"), f.Pattern, 0))
	case KindIntList:
		s.set("type", "array").set("items", bounds(newObj().set("type", "integer"), f))
	case KindObject:
		objectRules(s, path)
	case KindObjectList:
		s.set("type", "array").set("items", objectRules(newObj(), path+"[]"))
	}
	if f.MinItems > 0 {
		s.set("minItems", f.MinItems)
	}
	if len(f.OneOf) > 0 {
		var alts []any
		for _, m := range f.OneOf {
			alts = append(alts, newObj().set("required", []string{m}))
		}
		s.set("oneOf", alts)
	}
	return s
}

// objectRules makes s the schema of an object whose members are the catalog
// fields directly under path ("" for the job itself).
func objectRules(s *obj, path string) *obj {
	props := newObj()
	var required []string
	for i := range Fields {
		f := &Fields[i]
		parent, name := splitPath(f.Path)
		if parent != path {
			continue
		}
		props.set(name, fieldSchema(f, f.Path))
		if f.Required {
			required = append(required, name)
		}
	}
	s.set("type", "object").set("properties", props)
	if len(required) > 0 {
		s.set("required", required)
	}
	s.set("additionalProperties", false)
	switch path {
	case "task":
		s.set("allOf", append(engineRules(), portRules()...))
	case "rollout":
		s.set("allOf", strategyRules())
	}
	return s
}

// splitPath splits "task.inputs[].source" into "task.inputs[]" and "source".
func splitPath(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '.')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

func stringRules(s *obj, pattern string, maxLength int) *obj {
	if pattern != "" {
		s.set("pattern", pattern)
	}
	if maxLength > 0 {
		s.set("maxLength", maxLength)
	}
	return s
}

func bounds(s *obj, f *FieldInfo) *obj {
	if f.Min != nil {
		if f.MinExclusive {
			s.set("exclusiveMinimum", *f.Min)
		} else {
			s.set("minimum", *f.Min)
		}
	}
	if f.Max != nil {
		s.set("maximum", *f.Max)
	}
	return s
}

// ifField is a condition that holds when the member key of an object is one
// of values; when absent is true it also holds when the member is absent.
func ifField(key string, values []string, absent bool) *obj {
	cond := newObj().set("enum", values)
	if len(values) == 1 {
		cond = newObj().set("const", values[0])
	}
	c := newObj().set("properties", newObj().set(key, cond))
	if !absent {
		c.set("required", []string{key})
	}
	return c
}

// nested sets the schema at the dotted path rel inside then, through
// "properties" at every level.
func nested(then *obj, rel string, leaf any) {
	parts := strings.Split(rel, ".")
	for _, p := range parts[:len(parts)-1] {
		then = then.child("properties").child(p)
	}
	then.child("properties").set(parts[len(parts)-1], leaf)
}

// typeRules are the rules and defaults of the job itself that depend on the
// job type: fields that exist only for some types, and type-dependent
// defaults. The default type also covers a job that does not write one.
func typeRules() []any {
	var rules []any
	for _, t := range []JobType{Batch, Ops, Service, Daemon} {
		then := newObj()
		for i := range Fields {
			f := &Fields[i]
			if len(f.Types) > 0 && !slices.Contains(f.Types, t) {
				nested(then, f.Path, false)
			}
			if def, ok := f.TypeDefaults[t]; ok && t != DefaultType {
				nested(then, f.Path, newObj().set("default", def))
			}
		}
		if len(then.keys) > 0 {
			rules = append(rules, newObj().set("if", ifField("type", []string{string(t)}, t == DefaultType)).set("then", then))
		}
	}
	return rules
}

// engineRules are the rules of a task that depend on its engine: fields
// that exist only for some engines, fields required for some, and patterns
// that hold for one.
func engineRules() []any {
	var rules []any
	for _, e := range []Engine{Docker, Exec, Wasm} {
		then := newObj()
		var required []string
		for i := range Fields {
			f := &Fields[i]
			rel, ok := strings.CutPrefix(f.Path, "task.")
			if !ok {
				continue
			}
			switch {
			case len(f.Engines) > 0 && !slices.Contains(f.Engines, e):
				nested(then, rel, false)
			case slices.Contains(f.RequiredFor, e):
				required = append(required, rel)
				s := newObj()
				if f.Kind == KindStringList {
					s.set("minItems", 1)
				} else {
					s.set("minLength", 1)
				}
				if p := f.EnginePattern[e]; p != "" {
					s.set("pattern", p)
				}
				nested(then, rel, s)
			}
		}
		if len(required) > 0 {
			then.set("required", required)
		}
		rules = append(rules, newObj().set("if", ifField("engine", []string{string(e)}, false)).set("then", then))
	}
	return rules
}

// jobEngineRules are the rules outside the task that depend on its engine:
// such fields (an exec probe) exist only for some engines.
func jobEngineRules() []any {
	var rules []any
	for _, e := range []Engine{Docker, Exec, Wasm} {
		then := newObj()
		for i := range Fields {
			f := &Fields[i]
			if strings.HasPrefix(f.Path, "task.") || len(f.Engines) == 0 || slices.Contains(f.Engines, e) {
				continue
			}
			nested(then, f.Path, false)
		}
		if len(then.keys) == 0 {
			continue
		}
		engine := ifField("engine", []string{string(e)}, false)
		cond := newObj().set("properties", newObj().set("task", engine)).set("required", []string{"task"})
		rules = append(rules, newObj().set("if", cond).set("then", then))
	}
	return rules
}

// portRules are the rules of task.ports that depend on the engine and the
// network together: a docker task on the network none (the default) has no
// ports, and only a docker task on the bridge network maps a port to
// another inside its container (to).
func portRules() []any {
	none := newObj().
		set("properties", newObj().
			set("engine", newObj().set("const", string(Docker))).
			set("network", newObj().set("const", string(NetworkNone)))).
		set("required", []string{"engine"})
	bridge := newObj().
		set("properties", newObj().
			set("engine", newObj().set("const", string(Docker))).
			set("network", newObj().set("const", string(NetworkBridge)))).
		set("required", []string{"engine", "network"})
	noTo := newObj().set("properties", newObj().set("ports", newObj().set("items", newObj().set("properties", newObj().set("to", false)))))
	return []any{
		newObj().set("if", none).set("then", newObj().set("properties", newObj().set("ports", newObj().set("maxItems", 0)))),
		newObj().set("if", bridge).set("else", noTo),
	}
}

// strategyRules are the rules of a rollout that depend on its strategy: the
// canary sizes exist only for the canary strategy, at most one of them is
// non-zero, and canary_count is at least 1 unless canary_percent is set. A rollout that does not name a strategy gets a type-dependent
// default that is never canary, so it is in the else branch.
func strategyRules() []any {
	then, els := newObj(), newObj()
	var strategies []string
	for i := range Fields {
		f := &Fields[i]
		if len(f.Strategies) == 0 {
			continue
		}
		var these []string
		for _, s := range f.Strategies {
			these = append(these, string(s))
		}
		if strategies != nil && !slices.Equal(strategies, these) {
			panic("schema: the strategy-restricted fields must share their strategies")
		}
		strategies = these
		nested(els, strings.TrimPrefix(f.Path, "rollout."), false)
	}
	both := newObj().
		set("properties", newObj().
			set("canary_count", newObj().set("minimum", 1)).
			set("canary_percent", newObj().set("minimum", 1))).
		set("required", []string{"canary_count", "canary_percent"})
	then.set("not", both)
	// canary_count may be 0 only beside a non-zero canary_percent, as the
	// canonical form writes it.
	then.set("if", newObj().
		set("properties", newObj().set("canary_percent", newObj().set("minimum", 1))).
		set("required", []string{"canary_percent"}))
	then.set("else", newObj().set("properties", newObj().set("canary_count", newObj().set("minimum", 1))))
	return []any{newObj().set("if", ifField("strategy", strategies, false)).set("then", then).set("else", els)}
}

// obj is a JSON object that keeps its keys in insertion order, so that the
// generated schema reads top-down. The zero obj is not usable: use newObj.
type obj struct {
	keys []string
	vals map[string]any
}

func newObj() *obj { return &obj{vals: map[string]any{}} }

// set sets key to v, keeping the position of a key already present.
func (o *obj) set(key string, v any) *obj {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
	return o
}

// child returns the object at key, creating it when absent.
func (o *obj) child(key string) *obj {
	if c, ok := o.vals[key].(*obj); ok {
		return c
	}
	c := newObj()
	o.set(key, c)
	return c
}

// writeJSON appends v pretty-printed with two-space indentation. Strings and
// numbers are written as RFC 8785 writes them; maps in sorted key order.
func writeJSON(b []byte, v any, indent string) []byte {
	inner := indent + "  "
	switch v := v.(type) {
	case *obj:
		if len(v.keys) == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, inner...)
			b = appendString(b, k)
			b = append(b, ": "...)
			b = writeJSON(b, v.vals[k], inner)
		}
		return append(append(append(b, '\n'), indent...), '}')
	case map[string]string:
		o := newObj()
		for _, k := range slices.Sorted(maps.Keys(v)) {
			o.set(k, v[k])
		}
		return writeJSON(b, o, indent)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return writeJSON(b, items, indent)
	case []any:
		if len(v) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, inner...)
			b = writeJSON(b, e, inner)
		}
		return append(append(append(b, '\n'), indent...), ']')
	case float64:
		return appendNumber(b, v)
	default:
		return AppendJCS(b, v)
	}
}
