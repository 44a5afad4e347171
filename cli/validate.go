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
			results, err := compilePaths(c.Context(), args, &in, opts, true)
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
// versions of one job, to compare them. CUE and HCL files evaluate within
// the bounds of the environment (startBound). When ctx ends (a signal),
// compilePaths returns at once with the cause and the files in progress,
// without waiting for evaluations that cannot be stopped (the process ends
// them when it exits; worker processes are killed).
func compilePaths(ctx context.Context, args []string, in *inputFlags, opts lang.Options, oneJobSet bool) ([]compiler.Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	end, err := startBound(ctx, cancel)
	if err != nil {
		return nil, err
	}
	defer end()
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
		select {
		case <-finished: // every file was compiled all the same
		default:
			mu.Lock()
			defer mu.Unlock()
			return nil, stoppedError(ctx, slices.Sorted(maps.Keys(busy)))
		}
	}
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

// stoppedError says why compiling stopped and which files were in progress.
func stoppedError(ctx context.Context, busy []string) error {
	cause := context.Cause(ctx)
	if len(busy) == 0 {
		return fmt.Errorf("%w: stopped before every file was checked", cause)
	}
	return fmt.Errorf("%w: stopped while compiling %s", cause, strings.Join(busy, ", "))
}

// activeSandbox is the sandbox of the running compilation, if any, which a
// second signal kills before exiting.
var activeSandbox atomic.Pointer[compiler.Sandbox]

// startBound sets how the compiler bounds the evaluation of CUE and HCL
// files for one command, from the environment: the limits, and worker
// processes (this executable, started again) when MUSTER_EVAL_ISOLATE=1,
// killed when ctx ends. An in-process evaluation that keeps growing after
// it was left behind cancels the command. The returned func undoes it.
func startBound(ctx context.Context, cancel context.CancelCauseFunc) (end func(), err error) {
	limits, err := compiler.LimitsFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	isolate, err := compiler.IsolateFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	b := compiler.Bound{Limits: limits, Runaway: cancel}
	if !isolate {
		return compiler.SetBound(b), nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s=1: cannot find the muster executable to start workers from: %v", compiler.IsolateEnv, err)
	}
	b.Sandbox = compiler.NewSandbox(exe, limits, runtime.GOMAXPROCS(0))
	restore := compiler.SetBound(b)
	activeSandbox.Store(b.Sandbox)
	unwatch := context.AfterFunc(ctx, b.Sandbox.Close)
	return func() {
		unwatch()
		restore()
		activeSandbox.CompareAndSwap(b.Sandbox, nil)
		b.Sandbox.Close()
	}, nil
}

// boundHelp documents the bounds of CUE and HCL evaluation in the help of
// the commands that compile files.
var boundHelp = fmt.Sprintf(`
CUE and HCL files are programs: one that computes (more than plain data)
may evaluate for %v and grow memory by %d GiB, far more than a job file
needs. A file that passes a limit fails with an error naming it. The
environment sets the limits, and how files are evaluated:
  %s=30s   time per file (a Go duration)
  %s=2GiB   memory per file (bytes, or KiB, MiB, GiB)
  %s=1     evaluate each file in a worker process that is killed at
                          its limits, for files you do not trust: muster
                          cannot stop an evaluation inside its own process,
                          only leave it behind (and it stops the command when
                          that one keeps growing). Costs a process start and
                          about 0.1-0.5 ms per file.
An interrupt (Ctrl-C) or SIGTERM stops the compilation at once.`,
	compiler.DefaultTime, compiler.DefaultMemory>>30, compiler.TimeLimitEnv, compiler.MemoryLimitEnv, compiler.IsolateEnv)

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
