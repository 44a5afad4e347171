package emit

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

// modeline points editors at the JSON Schema of jobs, as the examples do.
const modeline = "# yaml-language-server: $schema=" + schema.JSONSchemaID + "\n"

// writeYAML writes one document per job after the schema modeline and the
// comment.
func writeYAML(jobs []*lang.Value, opts Options) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(modeline)
	if c := commentLines(opts.Comment, "#"); c != "" {
		buf.WriteString("#\n")
		buf.WriteString(c)
	}
	// Long strings stay on one line: folding them keeps the value, but
	// not the look of what was written.
	enc, err := yaml.NewDumper(&buf, yaml.WithV3Defaults(), yaml.WithIndent(2), yaml.WithLineWidth(-1))
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if err := enc.Dump(yamlNode(j)); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// yamlNode converts v. Strings are tagged !!str, so that the encoder
// quotes those that would read as another type ("true", "1.5").
func yamlNode(v *lang.Value) *yaml.Node {
	switch v.Kind {
	case lang.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, f := range v.Fields {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.Key}, yamlNode(f.Value))
		}
		return n
	case lang.List:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if scalars(v) {
			n.Style = yaml.FlowStyle
		}
		for _, e := range v.List {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case lang.String:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.Str}
		if strings.Contains(v.Str, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n
	case lang.Number:
		tag := "!!int"
		if strings.ContainsAny(v.Number, ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v.Number}
	case lang.Bool:
		s := "false"
		if v.Bool {
			s = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: s}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

// scalars reports whether v is a short list of single-line strings and
// numbers, which reads best on one line: cmd: [sh, -c, "echo hi"].
func scalars(v *lang.Value) bool {
	width := 0
	for _, e := range v.List {
		switch e.Kind {
		case lang.String:
			if strings.Contains(e.Str, "\n") {
				return false
			}
			width += len(e.Str) + 2
		case lang.Number:
			width += len(e.Number) + 2
		default:
			return false
		}
	}
	return width <= 60
}
