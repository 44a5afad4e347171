package emit

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/muster-dev/muster/lang"
)

// writeHCL writes one job "NAME" { } block per job, as docs/spec.md
// section 1 lays jobs out in HCL: scalars, lists and maps of strings are
// attributes, objects are blocks, and lists of objects are repeated
// blocks named in the singular (inputs is input { } blocks). hclwrite
// formats it and escapes "${" and "%{" in strings.
func writeHCL(jobs []*lang.Value, opts Options) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for i, j := range jobs {
		name := j.Get("name")
		if name == nil || name.Value.Kind != lang.String {
			return nil, fmt.Errorf("job %d has no name: HCL writes it as the label of its job block", i+1)
		}
		if i > 0 {
			body.AppendNewline()
		}
		block := body.AppendNewBlock("job", []string{name.Value.Str})
		if err := hclBody(block.Body(), j, ""); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	buf.WriteString(commentLines(opts.Comment, "#"))
	if buf.Len() > 0 {
		buf.WriteByte('\n')
	}
	buf.Write(hclwrite.Format(f.Bytes()))
	return buf.Bytes(), nil
}

// hclBody writes the fields of the object v, at path, into body:
// attributes first, then blocks, each in their order.
func hclBody(body *hclwrite.Body, v *lang.Value, path string) error {
	var blocks []*lang.Field
	attrs := 0
	for _, fl := range v.Fields {
		p := join(path, fl.Key)
		if path == "" && fl.Key == "name" {
			continue // the label of the job block
		}
		if isBlock(fl.Value, p) {
			blocks = append(blocks, fl)
			continue
		}
		val, err := ctyValue(fl.Value)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		body.SetAttributeValue(fl.Key, val)
		attrs++
	}
	for i, fl := range blocks {
		p := join(path, fl.Key)
		if attrs > 0 || i > 0 {
			body.AppendNewline() // a blank line before a block, but at the top of a body
		}
		if fl.Value.Kind == lang.List {
			singular := strings.TrimSuffix(fl.Key, "s")
			for i, item := range fl.Value.List {
				if i > 0 {
					body.AppendNewline()
				}
				if err := hclBody(body.AppendNewBlock(singular, nil).Body(), item, p+"[]"); err != nil {
					return err
				}
			}
			continue
		}
		if err := hclBody(body.AppendNewBlock(fl.Key, nil).Body(), fl.Value, p); err != nil {
			return err
		}
	}
	return nil
}

// isBlock reports whether the field at path holding v is written as a
// block (an object) or as repeated blocks (a list of objects).
func isBlock(v *lang.Value, path string) bool {
	switch v.Kind {
	case lang.Map:
		return !isStringMap(path)
	case lang.List:
		return isObjectList(path) && len(v.List) > 0
	}
	return false
}

// ctyValue converts a scalar, a list of scalars or a map of strings.
func ctyValue(v *lang.Value) (cty.Value, error) {
	switch v.Kind {
	case lang.String:
		return cty.StringVal(v.Str), nil
	case lang.Bool:
		return cty.BoolVal(v.Bool), nil
	case lang.Number:
		return cty.ParseNumberVal(v.Number)
	case lang.List:
		if len(v.List) == 0 {
			return cty.EmptyTupleVal, nil
		}
		items := make([]cty.Value, len(v.List))
		for i, e := range v.List {
			c, err := ctyValue(e)
			if err != nil {
				return cty.NilVal, err
			}
			items[i] = c
		}
		return cty.TupleVal(items), nil
	case lang.Map:
		if len(v.Fields) == 0 {
			return cty.EmptyObjectVal, nil
		}
		attrs := make(map[string]cty.Value, len(v.Fields))
		for _, f := range v.Fields {
			c, err := ctyValue(f.Value)
			if err != nil {
				return cty.NilVal, err
			}
			attrs[f.Key] = c
		}
		return cty.ObjectVal(attrs), nil
	}
	return cty.NullVal(cty.DynamicPseudoType), nil
}
