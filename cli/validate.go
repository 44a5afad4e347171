package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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

Exit status is 0 when every job is valid, 1 otherwise.
` + boundHelp,
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
			results, err := compilePaths(c.Context(), args, &in, opts)
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
// files were found. CUE and HCL files evaluate in a sandbox of worker
// processes, within the limits of MUSTER_EVAL_TIMEOUT and
// MUSTER_EVAL_MEMORY. When ctx ends (a signal), the workers are killed and
// compilePaths returns at once with the cause and the files in progress.
func compilePaths(ctx context.Context, args []string, in *inputFlags, opts lang.Options) ([]compiler.Result, error) {
	sb, err := startSandbox(ctx)
	if err != nil {
		return nil, err
	}
	defer sb()
	type item struct {
		i      int
		path   string
		format compiler.Format
	}
	items := make(chan item, 256)
	var mu sync.Mutex
	done := map[int]compiler.Result{}
	busy := map[string]bool{}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for it := range items {
				if ctx.Err() != nil {
					continue
				}
				mu.Lock()
				busy[it.path] = true
				mu.Unlock()
				r := compiler.CompileFile(it.path, it.format, opts)
				mu.Lock()
				done[it.i] = r
				delete(busy, it.path)
				mu.Unlock()
			}
		})
	}
	n := 0
	err = walkPaths(args, func(p string) error {
		f, err := in.formatFor(p)
		if err != nil {
			return err
		}
		select {
		case items <- item{n, p, f}:
		case <-ctx.Done():
			return ctx.Err()
		}
		n++
		return nil
	})
	close(items)
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		mu.Lock()
		defer mu.Unlock()
		return nil, stoppedError(ctx, slices.Sorted(maps.Keys(busy)))
	}
	if err != nil {
		return nil, err
	}
	results := make([]compiler.Result, n)
	for i := range results {
		results[i] = done[i]
	}
	return results, nil
}

// stoppedError says why compiling stopped and which files were in progress.
func stoppedError(ctx context.Context, busy []string) error {
	cause := context.Cause(ctx)
	if len(busy) == 0 {
		return fmt.Errorf("%w: stopped before every file was checked", cause)
	}
	return fmt.Errorf("%w: stopped while compiling %s", cause, strings.Join(busy, ", "))
}

// activeSandbox is the sandbox of the running compilation, which a second
// signal kills before exiting.
var activeSandbox atomic.Pointer[compiler.Sandbox]

// startSandbox makes the compiler evaluate CUE and HCL files in worker
// processes (this executable, started again) for one command, and kills
// them when ctx ends. The returned func ends the sandbox.
func startSandbox(ctx context.Context) (end func(), err error) {
	limits, err := compiler.LimitsFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find the muster executable to evaluate CUE and HCL files in: %v", err)
	}
	sb := compiler.NewSandbox(exe, limits, runtime.GOMAXPROCS(0))
	restore := compiler.UseSandbox(sb)
	activeSandbox.Store(sb)
	unwatch := context.AfterFunc(ctx, sb.Close)
	return func() {
		unwatch()
		restore()
		activeSandbox.CompareAndSwap(sb, nil)
		sb.Close()
	}, nil
}

// boundHelp documents the limits of CUE and HCL evaluation in the help of
// the commands that compile files.
var boundHelp = fmt.Sprintf(`
CUE and HCL files are programs: one that computes (more than plain data) is
evaluated in a worker process that may run for %v and hold %d GiB of
memory, far more than a job file needs. A file that passes a limit fails
with an error naming it. Raise the limits with the environment:
  %s=30s   time per file (a Go duration)
  %s=2GiB   memory per file (bytes, or KiB, MiB, GiB)
An interrupt (Ctrl-C) or SIGTERM stops the compilation at once.`,
	compiler.DefaultTime, compiler.DefaultMemory>>30, compiler.TimeLimitEnv, compiler.MemoryLimitEnv)

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
