package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang/format"
)

func newFmt() *cobra.Command {
	var check bool
	var in inputFlags
	c := &cobra.Command{
		Use:   "fmt [--check] PATH...",
		Short: "Rewrite job files in their canonical layout",
		Long: `Fmt rewrites job files in their format's canonical layout: HCL with hclwrite
(after a syntax check), CUE with CUE's formatter, JSON and YAML re-indented
with two spaces (YAML comments are kept). Directories are searched
recursively. Files that do not parse are reported and left untouched.
Formatting never changes what a job means, nor its hash.

With --check nothing is written: unformatted files are listed and the exit
status is 1 when there are any. Standard input (-) is formatted to standard
output.`,
		Example: `  muster fmt jobs/
  muster fmt --check .   # in CI
  muster fmt --format hcl - < job.hcl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			paths, err := expandPaths(args)
			if err != nil {
				return err
			}
			failed, unformatted := false, 0
			for _, p := range paths {
				f, err := in.formatFor(p)
				if err != nil {
					return err
				}
				if f == "" {
					var ok bool
					if f, ok = compiler.FormatOf(p); !ok {
						fmt.Fprintf(c.ErrOrStderr(), "%s: unknown file type %q: use .yaml, .yml, .json, .hcl or .cue\n", p, filepath.Ext(p))
						failed = true
						continue
					}
				}
				src, err := compiler.ReadFile(p)
				if err != nil {
					fmt.Fprintf(c.ErrOrStderr(), "%s: %v\n", p, err)
					failed = true
					continue
				}
				out, diags := format.Source(p, string(f), src)
				if diags.HasErrors() {
					for _, d := range diags {
						writeText(c.ErrOrStderr(), d, p, src)
					}
					failed = true
					continue
				}
				if p == "-" {
					if !check {
						c.OutOrStdout().Write(out)
					} else if !bytes.Equal(out, src) {
						fmt.Fprintln(c.OutOrStdout(), p)
						unformatted++
					}
					continue
				}
				if bytes.Equal(out, src) {
					continue
				}
				unformatted++
				fmt.Fprintln(c.OutOrStdout(), p)
				if !check {
					if err := writeFileAtomic(p, out); err != nil {
						fmt.Fprintf(c.ErrOrStderr(), "%s: %v\n", p, err)
						failed = true
					}
				}
			}
			if failed || check && unformatted > 0 {
				return exitCode(exitError)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&check, "check", false, "list unformatted files and exit 1 if any; write nothing")
	c.Flags().StringVar(&in.format, "format", "", "format of standard input (-): yaml, json, hcl or cue")
	return c
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, keeping the file mode, so a crash never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".muster-fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
