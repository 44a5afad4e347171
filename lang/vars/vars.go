// Package vars collects the variable values a user gives to the HCL and CUE
// frontends: MUSTER_VAR_<name> environment values, --var-file files and
// --var name=value flags, with that precedence (lowest first).
//
// It knows nothing about declarations: a frontend decides what a value
// means for the variable it declares (lang/hcl parses a text value by the
// declared type, lang/cue fills @tag attributes).
package vars

import (
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/muster-dev/muster/lang"
)

// Sources of text values, as Value.Source names them.
const (
	SourceFlag      = "--var"
	EnvPrefix       = "MUSTER_VAR_"
	maxVarFileBytes = 4 << 20
)

// Value is one variable value as the user gave it.
//
// A text value (FromText) comes from --var or the environment: the user
// typed characters, and the frontend reads Text by the declared type (a
// string variable takes it as is, others parse it as an expression). A var
// file value is already typed: Value holds it and Text is empty.
type Value struct {
	Name     string
	Text     string     // the text as typed, for --var and env values
	FromText bool       // true for --var and env: frontends parse Text by the declared type
	Value    cty.Value  // for var files: the typed value; for text values: cty.StringVal(Text)
	Source   string     // "--var", "MUSTER_VAR_name", or the var file path
	Range    lang.Range // position in the var file (the whole attribute), zero for --var/env
	// NameRange covers the name in a var file, zero for --var/env.
	NameRange lang.Range
}

// IsFlag reports whether v came from --var.
func (v Value) IsFlag() bool { return v.Source == SourceFlag }

// IsEnv reports whether v came from a MUSTER_VAR_ environment variable.
func (v Value) IsEnv() bool { return v.FromText && v.Source != SourceFlag }

// Collect gathers the variable values of opts by name. A later source
// overrides an earlier one: Env, then VarFiles in order, then Vars. The
// diagnostics report unreadable or invalid var files, each with its
// position; the values that could be read are returned regardless.
//
// Collect with zero Options returns an empty map and no diagnostics.
func Collect(opts lang.Options) (map[string]Value, lang.Diagnostics) {
	out := make(map[string]Value, len(opts.Env)+len(opts.Vars))
	var diags lang.Diagnostics
	for _, name := range sortedKeys(opts.Env) {
		text := opts.Env[name]
		out[name] = Value{Name: name, Text: text, FromText: true, Value: cty.StringVal(text), Source: EnvPrefix + name}
	}
	for _, path := range opts.VarFiles {
		vals, ds := ReadFile(path)
		diags = append(diags, ds...)
		for _, v := range vals {
			out[v.Name] = v
		}
	}
	for _, name := range sortedKeys(opts.Vars) {
		text := opts.Vars[name]
		out[name] = Value{Name: name, Text: text, FromText: true, Value: cty.StringVal(text), Source: SourceFlag}
	}
	return out, diags
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
