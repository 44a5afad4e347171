package compiler

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/cue"
	"github.com/muster-dev/muster/lang/hcl"
	"github.com/muster-dev/muster/lang/json"
	"github.com/muster-dev/muster/lang/yaml"
)

// Format names a job file format.
type Format string

// The formats of docs/spec.md section 1.
const (
	YAML Format = "yaml"
	JSON Format = "json"
	HCL  Format = "hcl"
	CUE  Format = "cue"
)

// Formats lists every format, in the order the docs present them.
var Formats = []Format{YAML, JSON, HCL, CUE}

var parsers = map[Format]lang.Parser{
	YAML: yaml.Parse,
	JSON: json.Parse,
	HCL:  hcl.Parse,
	CUE:  cue.Parse,
}

// FormatOf returns the format of a file name by its extension.
func FormatOf(name string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return YAML, true
	case ".json":
		return JSON, true
	case ".hcl":
		return HCL, true
	case ".cue":
		return CUE, true
	}
	return "", false
}

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case YAML, JSON, HCL, CUE:
		return f, nil
	case "yml":
		return YAML, nil
	}
	return "", fmt.Errorf("unknown format %q: use yaml, json, hcl or cue", s)
}
