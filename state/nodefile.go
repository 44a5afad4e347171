package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/selector"
	"go.yaml.in/yaml/v4"
)

// nodeFile reads the small YAML or JSON files about nodes (a node config,
// an inventory) and gathers their errors, each as "file:line:col: message".
type nodeFile struct {
	path string
	errs []error
}

// errorf records an error at n (or at the file when n is nil).
func (f *nodeFile) errorf(n *yaml.Node, format string, args ...any) {
	pos := f.path
	if n != nil && n.Line > 0 {
		pos = fmt.Sprintf("%s:%d:%d", f.path, n.Line, n.Column)
	}
	f.errs = append(f.errs, fmt.Errorf("%s: %s", pos, fmt.Sprintf(format, args...)))
}

func (f *nodeFile) err() error { return errors.Join(f.errs...) }

// load parses the file (JSON is read as the YAML it is) and returns its one
// document's root node, nil for an empty file.
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
			return nil, f.jsonError(src, err)
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
		return nil, f.loadError(err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, f.loadError(err)
		}
		f.errorf(&more, "the file must hold one document")
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
func (f *nodeFile) jsonError(src []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: invalid JSON: %w", f.path, err)
	}
	off := min(int(se.Offset), len(src))
	line := 1 + bytes.Count(src[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(src[:off], '\n')
	if off > 0 {
		col-- // Offset counts the bad byte itself
	}
	return fmt.Errorf("%s:%d:%d: invalid JSON: %s", f.path, line, max(col, 1), se.Error())
}

func (f *nodeFile) loadError(err error) error {
	var le *yaml.LoadError
	if errors.As(err, &le) && le.Mark.Line > 0 {
		return fmt.Errorf("%s:%d:%d: invalid YAML or JSON: %s", f.path, le.Mark.Line, le.Mark.Column, le.Message)
	}
	return fmt.Errorf("%s: invalid YAML or JSON: %w", f.path, err)
}

// fields walks a mapping node, calling fn for each key among allowed and
// reporting any other key.
func (f *nodeFile) fields(n *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		f.errorf(n, "%s must be a mapping (%s), not %s", what, strings.Join(allowed, ", "), kindOf(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !contains(allowed, k.Value):
			f.errorf(k, "unknown field %q in %s: want %s", k.Value, what, strings.Join(allowed, ", "))
		case seen[k.Value]:
			f.errorf(k, "field %q given twice in %s", k.Value, what)
		default:
			seen[k.Value] = true
			fn(k.Value, k, v)
		}
	}
}

// str reads a string scalar.
func (f *nodeFile) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		f.errorf(n, "%s must be a string, not %s", what, kindOf(n))
		return "", false
	}
	return n.Value, true
}

// labels reads a mapping of label keys to values, validating both. Scalar
// values are taken as written (`zone: 1` is "1"); null is "".
func (f *nodeFile) labels(n *yaml.Node, what string) map[string]string {
	out := map[string]string{}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return out
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n, "%s must be a mapping of label keys to values, not %s", what, kindOf(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			f.errorf(k, "%s: a label key must be a string, not %s", what, kindOf(k))
			continue
		}
		if err := selector.ValidateKey(k.Value); err != nil {
			f.errorf(k, "%s: %v", what, err)
			continue
		}
		if _, dup := out[k.Value]; dup {
			f.errorf(k, "%s: label %q given twice", what, k.Value)
			continue
		}
		val := ""
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
		case v.Kind == yaml.ScalarNode:
			val = v.Value
		default:
			f.errorf(v, "%s: label %s must have a string value, not %s", what, k.Value, kindOf(v))
			continue
		}
		if err := selector.ValidateValue(val); err != nil {
			f.errorf(v, "%s: label %s: %v", what, k.Value, err)
			continue
		}
		out[k.Value] = val
	}
	return out
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
