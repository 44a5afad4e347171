package vars

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v4"

	"github.com/muster-dev/muster/lang"
)

// Bounds of a YAML var file's values.
const (
	maxDepth = 64
	maxNodes = 1 << 20
)

func parseYAML(path string, src []byte) ([]Value, lang.Diagnostics) {
	var diags lang.Diagnostics
	if !utf8.Valid(src) {
		diags.Add(lang.Range{Filename: path, Start: lang.Pos{Line: 1, Column: 1}, End: lang.Pos{Line: 1, Column: 1}}, "",
			"var file %s is not valid UTF-8 text", path)
		return nil, diags
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file sets nothing
		}
		diags = append(diags, yamlError(path, err))
		return nil, diags
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		c := yamlConv{file: path}
		diags.Add(c.rng(&extra), "", "a var file holds one YAML document; remove the second one")
	} else if !errors.Is(err, io.EOF) {
		diags = append(diags, yamlError(path, err))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, diags
	}
	root := resolve(doc.Content[0])
	c := &yamlConv{file: path}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, diags
	}
	if root.Kind != yaml.MappingNode {
		diags.Add(c.rng(doc.Content[0]), "", "a YAML var file must be a mapping of variable names to values")
		return nil, diags
	}
	var out []Value
	seen := map[string]lang.Range{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			c.errorf(k, "a variable name must be a plain string")
			continue
		}
		kr := c.rng(k)
		if prev, dup := seen[k.Value]; dup {
			c.errorf(k, "variable %q is set twice (first at line %d)", k.Value, prev.Start.Line)
			continue
		}
		seen[k.Value] = kr
		before := len(c.diags)
		val := c.value(v, 0)
		if len(c.diags) > before {
			continue
		}
		r := kr
		r.End = c.rng(v).End
		out = append(out, Value{Name: k.Value, Value: val, Source: path, Range: r, NameRange: kr})
	}
	return out, append(diags, c.diags...)
}

func yamlError(path string, err error) lang.Diagnostic {
	d := lang.Diagnostic{Severity: lang.Error, Range: lang.Range{Filename: path}, Message: "invalid YAML: " + err.Error()}
	var le *yaml.LoadError
	if errors.As(err, &le) {
		p := lang.Pos{Line: le.Mark.Line, Column: le.Mark.Column, Byte: le.Mark.Index}
		if p.Line == 0 {
			p = lang.Pos{Line: 1, Column: 1}
		}
		d.Range.Start, d.Range.End = p, p
		msg := le.Message
		if le.ContextMsg != "" {
			msg = le.ContextMsg + ": " + msg
		}
		d.Message = "invalid YAML: " + msg
	}
	return d
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

type yamlConv struct {
	file  string
	diags lang.Diagnostics
	nodes int
}

func (c *yamlConv) rng(n *yaml.Node) lang.Range {
	start := lang.Pos{Line: n.Line, Column: n.Column}
	end := start
	if n.Kind == yaml.ScalarNode && !strings.Contains(n.Value, "\n") {
		w := utf8.RuneCountInString(n.Value)
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			w += 2
		}
		end.Column += w
	}
	return lang.Range{Filename: c.file, Start: start, End: end}
}

func (c *yamlConv) errorf(n *yaml.Node, format string, args ...any) {
	c.diags.Add(c.rng(n), "", format, args...)
}

func (c *yamlConv) value(n *yaml.Node, depth int) cty.Value {
	if depth > maxDepth {
		c.errorf(n, "nesting deeper than %d levels", maxDepth)
		return cty.DynamicVal
	}
	c.nodes++
	if c.nodes > maxNodes {
		if c.nodes == maxNodes+1 {
			c.errorf(n, "the file expands to more than %d nodes (aliases?)", maxNodes)
		}
		return cty.DynamicVal
	}
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		attrs := make(map[string]cty.Value, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				c.errorf(k, "a mapping key must be a plain string")
				continue
			}
			if _, dup := attrs[k.Value]; dup {
				c.errorf(k, "duplicate key %q", k.Value)
				continue
			}
			attrs[k.Value] = c.value(n.Content[i+1], depth+1)
		}
		return cty.ObjectVal(attrs)
	case yaml.SequenceNode:
		elems := make([]cty.Value, len(n.Content))
		for i, e := range n.Content {
			elems[i] = c.value(e, depth+1)
		}
		return cty.TupleVal(elems)
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	c.errorf(n, "unsupported YAML node")
	return cty.DynamicVal
}

func (c *yamlConv) scalar(n *yaml.Node) cty.Value {
	switch n.ShortTag() {
	case "!!null":
		return cty.NullVal(cty.DynamicPseudoType)
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			c.errorf(n, "invalid boolean %q", n.Value)
		}
		return cty.BoolVal(b)
	case "!!int":
		var i big.Int
		if _, ok := i.SetString(strings.ReplaceAll(n.Value, "_", ""), 0); !ok {
			c.errorf(n, "invalid integer %q", n.Value)
			return cty.DynamicVal
		}
		return cty.NumberVal(new(big.Float).SetInt(&i))
	case "!!float":
		text := strings.ReplaceAll(n.Value, "_", "")
		v, err := cty.ParseNumberVal(text)
		if err != nil {
			lv := strings.ToLower(text)
			if strings.Contains(lv, "inf") || strings.Contains(lv, "nan") {
				c.errorf(n, "%s is not a finite number", n.Value)
			} else {
				c.errorf(n, "invalid number %q", n.Value)
			}
			return cty.DynamicVal
		}
		return v
	case "!!str", "!!timestamp":
		return cty.StringVal(n.Value)
	}
	c.errorf(n, "unsupported YAML tag %s", n.Tag)
	return cty.DynamicVal
}
