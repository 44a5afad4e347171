// Package cli is the muster command line: one cobra command per verb of
// docs/spec.md section 5, thin over the stage packages. Main is the whole program.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
)

// Exit codes of docs/spec.md section 5.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
)

// exitError is returned by a command that already printed its problem and
// only needs the process to exit with a code.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs muster with os.Args and returns the process exit code. Started
// as an evaluation worker (compiler.IsWorker), it serves its parent's CUE
// and HCL files instead.
func Main() int {
	if compiler.IsWorker() {
		return compiler.ServeWorker(os.Stdin, os.Stdout)
	}
	if os.Getenv("GOGC") == "" {
		// A muster command is short-lived and its live heap small (about
		// 10 MB validating thousands of files): collecting less often
		// saves 10-15% of CPU at little cost in memory.
		debug.SetGCPercent(400)
	}
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	// Interrupt and terminate cancel the command's context: a rollout
	// stops its executions and records where it stopped, so that the next
	// apply resumes it; a compilation stops its workers. A second signal
	// exits at once.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	stop := handleSignals(sigs, cancel, stderr, exitNow)
	defer stop()
	err := root.ExecuteContext(ctx)
	var code exitCode
	var diags lang.Diagnostics // of a node config or an inventory
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &diags) && diags.HasErrors():
		for _, d := range diags {
			writeText(stderr, d, "", nil)
		}
		return exitError
	default:
		fmt.Fprintf(stderr, "muster: %v\n", err)
		return exitError
	}
}

// handleSignals cancels the command with the first signal of sigs, naming
// it, and calls exit at the second. The returned func stops it.
func handleSignals(sigs <-chan os.Signal, cancel context.CancelCauseFunc, stderr io.Writer, exit func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		received := 0
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				received++
				if received == 1 {
					cancel(fmt.Errorf("%s received", signalName(s)))
					continue
				}
				fmt.Fprintf(stderr, "muster: %s received again: exiting at once\n", signalName(s))
				exit()
				return
			}
		}
	}()
	return func() { close(done) }
}

// exitNow ends the process at a second signal, killing the evaluation
// workers first.
func exitNow() {
	if s := activeSandbox.Load(); s != nil {
		s.Close()
	}
	os.Exit(exitError)
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "muster",
		Short: "Compile, validate, plan and apply declarative jobs",
		Long: `muster compiles job files written in YAML, JSON, HCL or CUE into validated,
normalized, content-addressed specs, plans rollouts against stored state and
applies them.

The same job written in any format compiles to the same canonical bytes and
the same sha256 spec hash.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       thisVersion().String(),
	}
	root.SetVersionTemplate("muster {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newValidate(),
		newCompile(),
		newHash(),
		newFmt(),
		newSchema(),
		newImport(),
		newPlan(),
		newApply(),
		newHistory(),
		newGet(),
		newStatus(),
		newNodes(),
		newPromote(),
		newLaunch(),
		newExecutions(),
		newLogs(),
		newStop(),
		newRollback(),
		newRollout(),
		newDoc(),
		newDev(),
		newServer(),
		newAgent(),
		newDoctor(),
		newToken(),
		newSecret(),
		newVersion(),
	)
	addCompletions(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%v\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	return root
}
