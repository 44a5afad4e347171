package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/compiler"
)

func newCompile() *cobra.Command {
	var in inputFlags
	var out outputFlag
	var show bool
	c := &cobra.Command{
		Use:   "compile FILE...",
		Short: "Print the canonical spec of every job",
		Long: `Compile validates job files and prints the canonical spec of every job: every
default filled, every set sorted, every value in one spelling.

With -o json it prints exactly the bytes that are hashed (RFC 8785 canonical
JSON), one job per line; text output is the same document indented.
Nothing is printed unless every job is valid. Values of sensitive variables
show as (sensitive), and then the bytes do not hash (compile says so on
stderr); --show-sensitive prints them.
` + boundHelp,
		Example: `  muster compile web.yaml
  muster compile -o json web.hcl --var image=web:1.5 | sha256sum`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			jobs, err := compileArgs(c, &in, args, false)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			for _, j := range jobs {
				b := j.Spec.Canonical()
				if !show {
					if b, err = hideValues(c, j.Spec.Hash(), b, j.Sensitive, out.value == "json"); err != nil {
						return err
					}
				}
				if out.value == "json" {
					fmt.Fprintf(w, "%s\n", b)
					continue
				}
				var buf bytes.Buffer
				if err := json.Indent(&buf, b, "", "  "); err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\n", buf.Bytes())
			}
			return nil
		},
	}
	in.register(c)
	out.register(c, "text", "json")
	c.Flags().BoolVar(&show, "show-sensitive", false, "print the values of sensitive variables")
	return c
}

func newHash() *cobra.Command {
	var in inputFlags
	var out outputFlag
	c := &cobra.Command{
		Use:   "hash FILE...",
		Short: "Print the content address of every job",
		Long: `Hash validates job files and prints one line per job:

  sha256:<hex>  <namespace>/<name>

The hash is the SHA-256 of the job's canonical bytes (see 'muster compile -o
json'), so the same job written in any format, with defaults spelled out or
left out, has the same hash. A job reference is <namespace>/<name>@<hash>.
` + boundHelp,
		Example: `  muster hash examples/nightly-report/*
  muster hash -o json jobs/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			jobs, err := compileArgs(c, &in, args, false)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			type row struct {
				Hash      string `json:"hash"`
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
				Ref       string `json:"ref"`
				File      string `json:"file"`
			}
			rows := []row{}
			for _, j := range jobs {
				h := j.Spec.Hash()
				if out.value == "json" {
					rows = append(rows, row{h, j.Spec.Namespace, j.Spec.Name, j.Spec.Namespace + "/" + j.Spec.Name + "@" + h, j.Range.Filename})
					continue
				}
				fmt.Fprintf(w, "%s  %s/%s\n", h, j.Spec.Namespace, j.Spec.Name)
			}
			if out.value == "json" {
				return writeJSON(w, rows)
			}
			return nil
		},
	}
	in.register(c)
	out.register(c, "text", "json")
	return c
}

// compileArgs compiles every file of args, one set of jobs when oneJobSet
// (see compilePaths); on any error it prints all diagnostics to stderr and
// fails.
func compileArgs(c *cobra.Command, in *inputFlags, args []string, oneJobSet bool) ([]compiler.Job, error) {
	opts, err := in.options()
	if err != nil {
		return nil, err
	}
	results, err := compilePaths(c.Context(), args, in, opts, oneJobSet)
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("no job files found in %v", args)
	}
	var jobs []compiler.Job
	failed := false
	for _, r := range results {
		for _, d := range r.Diags {
			writeText(c.ErrOrStderr(), d, r.File, r.Source)
		}
		failed = failed || r.Diags.HasErrors()
		jobs = append(jobs, r.Jobs...)
	}
	if failed {
		return nil, exitCode(exitError)
	}
	return jobs, nil
}
