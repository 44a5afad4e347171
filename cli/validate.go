package cli

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
)

func newValidate() *cobra.Command {
	var in inputFlags
	var out outputFlag
	c := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check job files against the job spec",
		Long: `Validate checks job files (YAML, JSON, HCL or CUE) against the job spec and
reports every problem of every file, each with file:line:col, the field path
and the source line. Directories are searched recursively for .yaml, .yml,
.json, .hcl and .cue files (hidden directories are skipped). Files are
checked in parallel.

Output formats:
  text     file:line:col: error: message (field.path) and a snippet
  json     a list of {file, line, column, end_line, end_column, severity, path, message}
  github   GitHub Actions workflow annotations

Exit status is 0 when every job is valid, 1 otherwise.`,
		Example: `  muster validate jobs/
  muster validate -o github web.yaml batch.hcl
  cat job.json | muster validate --format json -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			opts, err := in.options()
			if err != nil {
				return err
			}
			results, err := compilePaths(args, &in, opts, true)
			if err != nil {
				return err
			}
			return report(c, out.value, results)
		},
	}
	in.register(c)
	out.register(c, "text", "json", "github")
	return c
}

// compilePaths finds the job files of args and compiles them on GOMAXPROCS
// workers while the search goes on; the results come back in the order the
// files were found. A job written twice in one file is reported
// (compiler.CheckDuplicates); with oneJobSet the files are one set of jobs
// (to validate, plan or apply), and a job that two of them define
// differently is reported too. hash and compile may well be given two
// versions of one job, to compare them.
func compilePaths(args []string, in *inputFlags, opts lang.Options, oneJobSet bool) ([]compiler.Result, error) {
	type item struct {
		i      int
		path   string
		format compiler.Format
	}
	items := make(chan item, 256)
	var mu sync.Mutex
	done := map[int]compiler.Result{}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for it := range items {
				r := compiler.CompileFile(it.path, it.format, opts)
				mu.Lock()
				done[it.i] = r
				mu.Unlock()
			}
		})
	}
	n := 0
	err := walkPaths(args, func(p string) error {
		f, err := in.formatFor(p)
		if err != nil {
			return err
		}
		items <- item{n, p, f}
		n++
		return nil
	})
	close(items)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	results := make([]compiler.Result, n)
	for i := range results {
		results[i] = done[i]
	}
	if oneJobSet {
		compiler.CheckDuplicates(results)
		return results, nil
	}
	for i := range results {
		compiler.CheckDuplicates(results[i : i+1])
	}
	return results, nil
}

// report prints the diagnostics of results and fails when any is an error.
func report(c *cobra.Command, format string, results []compiler.Result) error {
	w := c.OutOrStdout()
	failed, jobs, errs := 0, 0, 0
	all := []diagJSON{}
	for _, r := range results {
		jobs += len(r.Jobs)
		if r.Diags.HasErrors() {
			failed++
		}
		for _, d := range r.Diags {
			if d.Severity != lang.Warning {
				errs++
			}
			switch format {
			case "json":
				all = append(all, toJSON(d))
			case "github":
				writeGitHub(w, d)
			default:
				writeText(w, d, r.File, r.Source)
			}
		}
	}
	if format == "json" {
		if err := writeJSON(w, all); err != nil {
			return err
		}
	}
	if format == "text" {
		if failed == 0 {
			fmt.Fprintf(c.ErrOrStderr(), "%s valid in %s\n", plural(jobs, "job"), plural(len(results), "file"))
		} else {
			fmt.Fprintf(c.ErrOrStderr(), "%s in %s of %s\n", plural(errs, "error"), plural(failed, "file"), plural(len(results), "file"))
		}
	}
	if failed > 0 {
		return exitCode(exitError)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
