package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/selector"
	"go.yaml.in/yaml/v4"
)

// nodeFile reads the small YAML or JSON files about nodes (a node config,
// an inventory) and gathers their problems as lang diagnostics, each at
// file:line:col with the field path it concerns ("labels.zone",
// "[2].id"), printed as the diagnostics of job files are.
type nodeFile struct {
	path  string
	diags lang.Diagnostics
}

// errorf records an error at n (or at the file when n is nil) about the
// field at path.
func (f *nodeFile) errorf(n *yaml.Node, path, format string, args ...any) {
	f.diags.Add(f.rng(n), path, format, args...)
}

// rng is the range of n: its first character, through the end of a
// scalar on one line.
func (f *nodeFile) rng(n *yaml.Node) lang.Range {
	r := lang.Range{Filename: f.path}
	if n == nil || n.Line <= 0 {
		return r
	}
	r.Start = lang.Pos{Line: n.Line, Column: n.Column}
	r.End = r.Start
	if n.Kind == yaml.ScalarNode && !strings.Contains(n.Value, "\n") {
		w := utf8.RuneCountInString(n.Value)
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			w += 2
		}
		r.End.Column += w
	}
	return r
}

// at records an error at a position found by a parser.
func (f *nodeFile) at(p lang.Pos, format string, args ...any) {
	f.diags.Add(lang.Range{Filename: f.path, Start: p, End: p}, "", format, args...)
}

// err returns the diagnostics in file order as an error (lang.Diagnostics),
// nil when there is none.
func (f *nodeFile) err() error {
	f.diags.Sort()
	return f.diags.Err()
}

// load parses the file (JSON is read as the YAML it is) and returns its one
// document's root node, nil for an empty file. An error reading the file
// is returned as it is; a problem of its content is a diagnostic.
func (f *nodeFile) load() (*yaml.Node, error) {
	src, err := os.ReadFile(f.path)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(f.path), ".json") {
		// YAML is laxer than JSON (trailing commas, bare words): hold a
		// .json file to JSON.
		var v any
		if err := json.Unmarshal(src, &v); err != nil {
			f.jsonError(src, err)
			return nil, f.err()
		}
		// Outside strings a JSON tab is plain space, and inside strings it
		// must be escaped; YAML rejects tabs as indentation.
		src = bytes.ReplaceAll(src, []byte{'\t'}, []byte{' '})
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		f.loadError(src, err)
		return nil, f.err()
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			f.loadError(src, err)
			return nil, f.err()
		}
		f.errorf(&more, "", "the file must hold one document")
		return nil, f.err()
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

// jsonError places a JSON syntax error at its line and column.
func (f *nodeFile) jsonError(src []byte, err error) {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		f.at(lang.Pos{}, "invalid JSON: %v", err)
		return
	}
	off := min(int(se.Offset), len(src))
	if off > 0 {
		off-- // Offset counts the bad byte itself
	}
	f.at(posAt(src, off), "invalid JSON: %s", se.Error())
}

func (f *nodeFile) loadError(src []byte, err error) {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		f.at(lang.Pos{}, "invalid YAML or JSON: %v", err)
		return
	}
	p := lang.Pos{Line: le.Mark.Line, Column: le.Mark.Column, Byte: le.Mark.Index}
	if p.Line <= 0 {
		p = posAt(src, le.Mark.Index)
	}
	f.at(p, "invalid YAML or JSON: %s", le.Message)
}

// posAt returns the line and column (in characters) of byte offset off.
func posAt(src []byte, off int) lang.Pos {
	off = max(0, min(off, len(src)))
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return lang.Pos{Line: 1 + bytes.Count(src[:off], []byte{'\n'}), Column: 1 + utf8.RuneCount(src[start:off]), Byte: off}
}

// fields walks a mapping node, calling fn for each key among allowed and
// reporting any other key. what names the mapping in messages, path is
// its field path.
func (f *nodeFile) fields(n *yaml.Node, what, path string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		f.errorf(n, path, "%s must be a mapping (%s), not %s", what, strings.Join(allowed, ", "), kindOf(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch first, dup := seen[k.Value]; {
		case !contains(allowed, k.Value):
			f.errorf(k, join(path, k.Value), "unknown field %q in %s: want %s", k.Value, what, strings.Join(allowed, ", "))
		case dup:
			f.errorf(k, join(path, k.Value), "field %q given twice in %s (first at line %d)", k.Value, what, first)
		default:
			seen[k.Value] = k.Line
			fn(k.Value, k, v)
		}
	}
}

// str reads a string scalar.
func (f *nodeFile) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		f.errorf(n, path, "%s must be a string, not %s", lastKey(path), kindOf(n))
		return "", false
	}
	return n.Value, true
}

// labels reads a mapping of label keys to values at path, validating both.
// Scalar values are taken as written (`zone: 1` is "1"); null is "".
func (f *nodeFile) labels(n *yaml.Node, path string) map[string]string {
	out := map[string]string{}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return out
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n, path, "labels must be a mapping of label keys to values, not %s", kindOf(n))
		return out
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			f.errorf(k, path, "a label key must be a string, not %s", kindOf(k))
			continue
		}
		kpath := join(path, k.Value)
		if err := selector.ValidateKey(k.Value); err != nil {
			f.errorf(k, kpath, "%v", err)
			continue
		}
		if line, dup := first[k.Value]; dup {
			f.errorf(k, kpath, "label %q given twice (first at line %d)", k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		val := ""
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
		case v.Kind == yaml.ScalarNode:
			val = v.Value
		default:
			f.errorf(v, kpath, "label %s must have a string value, not %s", k.Value, kindOf(v))
			continue
		}
		if err := selector.ValidateValue(val); err != nil {
			f.errorf(v, kpath, "%v", err)
			continue
		}
		out[k.Value] = val
	}
	return out
}

// join appends key to a field path, as job diagnostics write them.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lastKey is the last key of a path: id for [2].id.
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!str":
		return "a string"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return "a scalar"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
