package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
)

// inputFlags are the flags of every command that reads job files.
type inputFlags struct {
	vars     []string
	varFiles []string
	format   string
}

func (f *inputFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.vars, "var", nil, "set an HCL variable or CUE @tag: `name=value` (repeatable)")
	c.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variables from a .hcl, .yaml or .json `file` (repeatable)")
	c.Flags().StringVar(&f.format, "format", "", "format of standard input (-): yaml, json, hcl or cue")
}

// options builds the frontend options from the flags and MUSTER_VAR_*.
func (f *inputFlags) options() (lang.Options, error) {
	opts := lang.Options{Env: map[string]string{}, Vars: map[string]string{}, VarFiles: f.varFiles}
	for _, kv := range os.Environ() {
		if rest, ok := strings.CutPrefix(kv, "MUSTER_VAR_"); ok {
			k, v, _ := strings.Cut(rest, "=")
			if k != "" {
				opts.Env[k] = v
			}
		}
	}
	for _, kv := range f.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return opts, fmt.Errorf("--var %q: want name=value", kv)
		}
		opts.Vars[k] = v
	}
	return opts, nil
}

// formatFor returns the --format for path: required for "-", optional
// otherwise (the extension decides).
func (f *inputFlags) formatFor(path string) (compiler.Format, error) {
	if f.format == "" {
		if path == "-" {
			return "", fmt.Errorf("reading standard input (-) needs --format yaml, json, hcl or cue")
		}
		return "", nil
	}
	return compiler.ParseFormat(f.format)
}
