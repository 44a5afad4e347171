// Package format rewrites job files in their format's canonical layout, as
// `muster fmt` does: HCL with hclwrite after a syntax check, CUE with CUE's
// formatter, JSON re-indented with two spaces keeping key order, YAML
// re-indented with two spaces keeping comments where go.yaml.in/yaml/v4
// keeps them. It never changes what a file means.
package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	cueformat "cuelang.org/go/cue/format"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"go.yaml.in/yaml/v4"

	"github.com/muster-dev/muster/lang"
	langjson "github.com/muster-dev/muster/lang/json"
	langyaml "github.com/muster-dev/muster/lang/yaml"
)

// Source returns src formatted in format ("yaml", "json", "hcl" or "cue").
// A file that does not parse is returned unchanged with its diagnostics.
func Source(filename, format string, src []byte) ([]byte, lang.Diagnostics) {
	switch format {
	case "yaml":
		return formatYAML(filename, src)
	case "json":
		return formatJSON(filename, src)
	case "hcl":
		return formatHCL(filename, src)
	case "cue":
		return formatCUE(filename, src)
	}
	var diags lang.Diagnostics
	diags.Add(lang.Range{Filename: filename}, "", "cannot format %q files", format)
	return src, diags
}

func formatJSON(filename string, src []byte) ([]byte, lang.Diagnostics) {
	if _, diags := langjson.Parse(filename, src, lang.Options{}); hasSyntaxError(diags) {
		return src, diags
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(src), "", "  "); err != nil {
		var diags lang.Diagnostics
		diags.Add(lang.Range{Filename: filename}, "", "invalid JSON: %v", err)
		return src, diags
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// hasSyntaxError reports errors that are about the text, not about jobs
// (those have no field path).
func hasSyntaxError(diags lang.Diagnostics) bool {
	for _, d := range diags {
		if d.Path == "" && d.Severity != lang.Warning {
			return true
		}
	}
	return false
}

func formatYAML(filename string, src []byte) ([]byte, lang.Diagnostics) {
	if _, diags := langyaml.Parse(filename, src, lang.Options{}); hasSyntaxError(diags) {
		return src, diags
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = enc.Encode(&doc)
		}
		if err != nil {
			var diags lang.Diagnostics
			diags.Add(lang.Range{Filename: filename}, "", "cannot format YAML: %v", err)
			return src, diags
		}
	}
	if err := enc.Close(); err != nil {
		var diags lang.Diagnostics
		diags.Add(lang.Range{Filename: filename}, "", "cannot format YAML: %v", err)
		return src, diags
	}
	return buf.Bytes(), nil
}

func formatHCL(filename string, src []byte) ([]byte, lang.Diagnostics) {
	_, hd := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if hd.HasErrors() {
		var diags lang.Diagnostics
		for _, d := range hd {
			if d.Severity != hcl.DiagError {
				continue
			}
			r := lang.Range{Filename: filename}
			if d.Subject != nil {
				r.Start = lang.Pos{Line: d.Subject.Start.Line, Column: d.Subject.Start.Column, Byte: d.Subject.Start.Byte}
				r.End = lang.Pos{Line: d.Subject.End.Line, Column: d.Subject.End.Column, Byte: d.Subject.End.Byte}
			}
			msg := d.Summary
			if d.Detail != "" {
				msg += ": " + d.Detail
			}
			diags.Add(r, "", "%s", msg)
		}
		return src, diags
	}
	return hclwrite.Format(src), nil
}

func formatCUE(filename string, src []byte) ([]byte, lang.Diagnostics) {
	out, err := cueformat.Source(src)
	if err != nil {
		var diags lang.Diagnostics
		msg := strings.TrimSpace(err.Error())
		diags.Add(lang.Range{Filename: filename}, "", "invalid CUE: %s", msg)
		return src, diags
	}
	return out, nil
}
