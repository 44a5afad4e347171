// Package yaml is the YAML frontend: every document of a file (separated by
// ---) is one job mapping; empty documents are skipped. It reads the file
// into go.yaml.in/yaml/v4 nodes and converts them into the lang value tree,
// keeping each node's line and column.
//
// Scalars resolve with the YAML 1.2 core schema (only true and false are
// booleans). Anchors, aliases and merge keys (<<) are supported; alias
// expansion is bounded so that a small file cannot expand into a huge tree.
// Duplicate keys stay in the tree, where the validator reports them.
//
// Most job files go through a faster parser of their common subset
// (fast.go), which builds the same trees and falls back to yaml.v4 for
// the whole file on anything it does not read.
package yaml

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/muster-dev/muster/lang"
)

// MaxDepth bounds the nesting of a job's tree.
const MaxDepth = 64

// maxNodes bounds the nodes one document may expand to through aliases.
const maxNodes = 1 << 20

// maxText bounds the bytes of scalars one document may expand to through
// aliases: a million aliases of one long string would otherwise make a
// tree, and a canonical form, of gigabytes from a small file. A file
// without aliases holds at most its own size (compiler.MaxFileSize).
const maxText = 64 << 20

// Parse reads every job of a YAML file. It satisfies lang.Parser.
func Parse(filename string, src []byte, _ lang.Options) ([]*lang.Value, lang.Diagnostics) {
	var diags lang.Diagnostics
	if !utf8.Valid(src) {
		diags = append(diags, invalidUTF8(filename, src))
		return nil, diags
	}
	if useFast {
		if jobs, ok := fastParse(filename, src); ok {
			return jobs, nil
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var jobs []*lang.Value
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			diags = append(diags, loadError(filename, src, err))
			break
		}
		c := converter{file: filename}
		v := c.document(&doc)
		diags = append(diags, c.diags...)
		if v != nil {
			jobs = append(jobs, v)
		}
	}
	return jobs, diags
}

func invalidUTF8(filename string, src []byte) lang.Diagnostic {
	line, col, off := 1, 1, 0
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		if r == utf8.RuneError && n <= 1 {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		src, off = src[n:], off+n
	}
	p := lang.Pos{Line: line, Column: col, Byte: off}
	return lang.Diagnostic{Severity: lang.Error, Range: lang.Range{Filename: filename, Start: p, End: p},
		Message: "the file is not valid UTF-8 text (is it binary?)"}
}

// loadError turns an error of yaml.v4 into a diagnostic at its position.
// The reader's errors (a control character such as NUL, say) carry only a
// byte offset, which is turned into a line and column of src.
func loadError(filename string, src []byte, err error) lang.Diagnostic {
	d := lang.Diagnostic{Severity: lang.Error, Range: lang.Range{Filename: filename}, Message: "invalid YAML: " + err.Error()}
	var le *yaml.LoadError
	if errors.As(err, &le) {
		p := lang.Pos{Line: le.Mark.Line, Column: le.Mark.Column, Byte: le.Mark.Index}
		if p.Line == 0 {
			p = posAt(src, le.Mark.Index)
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

// posAt returns the line and column of byte offset off in src (1:1 when
// off is outside it). Line breaks are LF, CR LF and a lone CR, as in YAML;
// columns count characters.
func posAt(src []byte, off int) lang.Pos {
	if off < 0 || off > len(src) {
		return lang.Pos{Line: 1, Column: 1}
	}
	line, col := 1, 1
	for i := 0; i < off; {
		r, n := utf8.DecodeRune(src[i:])
		switch {
		case r == '\n', r == '\r' && (i+1 >= len(src) || src[i+1] != '\n'):
			line, col = line+1, 1
		case r == '\r':
			// the CR of a CR LF: the LF ends the line
		default:
			col++
		}
		i += n
	}
	return lang.Pos{Line: line, Column: col, Byte: off}
}

type converter struct {
	file  string
	diags lang.Diagnostics
	nodes int
	text  int // bytes of scalars so far
	// tooBig is set once the document passed maxNodes or maxText.
	tooBig bool
}

func (c *converter) rng(n *yaml.Node) lang.Range {
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

func (c *converter) errorf(n *yaml.Node, path, format string, args ...any) {
	c.diags.Add(c.rng(n), path, format, args...)
}

// document converts one document; it returns nil for an empty document or
// one that is not a mapping (after reporting it).
func (c *converter) document(doc *yaml.Node) *lang.Value {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	if resolve(root).Kind != yaml.MappingNode {
		c.errorf(root, "", "a YAML document must be one job mapping (name: ..., task: ...), not %s", kindName(resolve(root)))
		return nil
	}
	return c.value(root, "", 0)
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "a scalar"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *converter) value(n *yaml.Node, path string, depth int) *lang.Value {
	if depth > MaxDepth {
		c.errorf(n, path, "nesting deeper than %d levels", MaxDepth)
		return &lang.Value{Kind: lang.Null, Range: c.rng(n)}
	}
	c.nodes++
	if res := resolve(n); res.Kind == yaml.ScalarNode {
		c.text += len(res.Value)
	}
	if c.nodes > maxNodes || c.text > maxText {
		if !c.tooBig {
			c.tooBig = true
			c.errorf(n, path, "the document expands to more than %d nodes or %d MiB of text (aliases?)", maxNodes, maxText>>20)
		}
		return &lang.Value{Kind: lang.Null, Range: lang.Range{Filename: c.file, Start: lang.Pos{Line: n.Line, Column: n.Column}}}
	}
	r := c.rng(n)
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		v := &lang.Value{Kind: lang.Map, Range: r}
		c.mapping(n, v, path, depth)
		for _, f := range v.Fields {
			extend(&v.Range, f.Value.Range)
		}
		return v
	case yaml.SequenceNode:
		v := &lang.Value{Kind: lang.List, Range: r, List: make([]*lang.Value, 0, len(n.Content))}
		for i, e := range n.Content {
			ev := c.value(e, path+"["+strconv.Itoa(i)+"]", depth+1)
			extend(&v.Range, ev.Range)
			v.List = append(v.List, ev)
		}
		return v
	case yaml.ScalarNode:
		v := c.scalar(n, path)
		v.Range = r
		return v
	}
	c.errorf(n, path, "unsupported YAML node")
	return &lang.Value{Kind: lang.Null, Range: r}
}

// extend stretches r to end where child ends, when that is later. YAML
// nodes carry only their start; a collection ends where its last child does.
func extend(r *lang.Range, child lang.Range) {
	e := child.End
	if e.Line > r.End.Line || e.Line == r.End.Line && e.Column > r.End.Column {
		r.End = e
	}
}

func (c *converter) mapping(n *yaml.Node, v *lang.Value, path string, depth int) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.errorf(k, path, "a mapping key must be a plain string, not %s", kindName(resolve(k)))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, val)
			continue
		}
		key := k.Value
		v.Fields = append(v.Fields, &lang.Field{Key: key, KeyRange: c.rng(k), Value: c.value(val, join(path, key), depth+1)})
	}
	for _, m := range merges {
		c.merge(m, v, path, depth)
	}
}

// merge adds the fields of a merge key's mapping(s) that v does not set.
func (c *converter) merge(m *yaml.Node, v *lang.Value, path string, depth int) {
	// A merge may name the mapping it sits in (a: &x {<<: *x}): count every
	// merge against the depth and node bounds so that it cannot recurse
	// without end.
	c.nodes++
	if depth > MaxDepth || c.nodes > maxNodes {
		c.errorf(m, path, "merge keys (<<) nest deeper than %d levels or expand to more than %d nodes: does a mapping merge itself?", MaxDepth, maxNodes)
		return
	}
	src := resolve(m)
	var maps []*yaml.Node
	switch src.Kind {
	case yaml.MappingNode:
		maps = []*yaml.Node{src}
	case yaml.SequenceNode:
		for _, e := range src.Content {
			maps = append(maps, resolve(e))
		}
	}
	for _, mm := range maps {
		if mm.Kind != yaml.MappingNode {
			c.errorf(m, path, "a merge key (<<) takes a mapping or a list of mappings")
			return
		}
		tmp := &lang.Value{Kind: lang.Map}
		c.mapping(mm, tmp, path, depth+1)
		for _, f := range tmp.Fields {
			if v.Get(f.Key) == nil {
				v.Fields = append(v.Fields, f)
			}
		}
	}
}

func (c *converter) scalar(n *yaml.Node, path string) *lang.Value {
	switch n.ShortTag() {
	case "!!null":
		return &lang.Value{Kind: lang.Null}
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			c.errorf(n, path, "invalid boolean %q", n.Value)
		}
		return &lang.Value{Kind: lang.Bool, Bool: b}
	case "!!int":
		text := strings.ReplaceAll(n.Value, "_", "")
		var i big.Int
		if _, ok := i.SetString(text, 0); !ok {
			c.errorf(n, path, "invalid integer %q", n.Value)
			return &lang.Value{Kind: lang.Null}
		}
		return &lang.Value{Kind: lang.Number, Number: i.String()}
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			lv := strings.ToLower(n.Value)
			if strings.Contains(lv, "inf") || strings.Contains(lv, "nan") {
				c.errorf(n, path, "%s is not a finite number", n.Value)
				return &lang.Value{Kind: lang.Null}
			}
			c.errorf(n, path, "invalid number %q", n.Value)
			return &lang.Value{Kind: lang.Null}
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			c.errorf(n, path, "%s is not a finite number", n.Value)
			return &lang.Value{Kind: lang.Null}
		}
		return &lang.Value{Kind: lang.Number, Number: jsonNumber(n.Value, f)}
	case "!!str", "!!timestamp":
		return &lang.Value{Kind: lang.String, Str: n.Value}
	case "!!binary":
		c.errorf(n, path, "binary values (!!binary) are not supported")
		return &lang.Value{Kind: lang.Null}
	}
	c.errorf(n, path, "unsupported YAML tag %s", n.Tag)
	return &lang.Value{Kind: lang.Null}
}

// jsonNumber keeps the literal when it is already JSON number syntax, so no
// precision is lost, and otherwise prints f.
func jsonNumber(lit string, f float64) string {
	if isJSONNumber(lit) {
		return lit
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		st := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - st
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
