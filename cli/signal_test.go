package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// cueBomb is the comprehension of the issue: 10^12 sums, which ran for 11
// minutes and ignored SIGINT and SIGTERM.
const cueBomb = `import "list"

_a: list.Range(0, 1000000, 1)
_b: [for x in _a for y in _a {x + y}]
name: "web"
description: "\(len(_b))"
task: {engine: "exec", cmd: ["run"]}
`

// TestSignalStopsValidate sends SIGINT, then SIGTERM, to `muster validate
// bomb.cue` while it evaluates the bomb (with a time limit far away), in
// this process and in a worker (MUSTER_EVAL_ISOLATE=1): the command must
// exit 1 within a second or two, saying why and what it was compiling, and
// leave no worker behind.
func TestSignalStopsValidate(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("watches the worker through /proc")
	}
	exe, err := exec.LookPath("muster") // set up by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bomb.cue"), []byte(cueBomb), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sig     syscall.Signal
		isolate string
	}{{syscall.SIGINT, "0"}, {syscall.SIGTERM, "0"}, {syscall.SIGINT, "1"}, {syscall.SIGTERM, "1"}} {
		sig := c.sig
		t.Run(sig.String()+"/isolate="+c.isolate, func(t *testing.T) {
			cmd := exec.Command(exe, "validate", "bomb.cue")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "MUSTER_EVAL_TIMEOUT=10m", "MUSTER_EVAL_ISOLATE="+c.isolate)
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			worker := waitEvaluating(t, cmd.Process.Pid, c.isolate == "1", exited)

			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitErr, _ := wait.For(t, 10*time.Second, fmt.Sprintf("muster to exit after %v", sig), func() (error, bool) {
				select {
				case err := <-exited:
					return err, true
				default:
					return errors.New("still running; stderr:\n" + stderr.String()), false
				}
			})
			took := time.Since(sent)
			t.Logf("exited %v after %v", took.Round(time.Millisecond), sig)
			if took > 2*time.Second {
				t.Errorf("muster took %v to exit after %v", took, sig)
			}
			var exit *exec.ExitError
			if !errors.As(waitErr, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1", waitErr)
			}
			name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
			if want := "muster: " + name + " received: stopped while compiling bomb.cue\n"; stderr.String() != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want)
			}
			if state := procState(worker); worker != cmd.Process.Pid && state != "" && state != "Z" {
				t.Errorf("the worker %d is still there (state %s)", worker, state)
			}
		})
	}
}

// waitEvaluating waits until muster (process pid), or with isolate its
// child (an evaluation worker), has used half a second of CPU: far more
// than starting takes, so it evaluates the bomb. It returns the pid of the
// process that evaluates.
func waitEvaluating(t *testing.T, pid int, isolate bool, exited <-chan error) int {
	t.Helper()
	p, _ := wait.For(t, 30*time.Second, "a worker to evaluate the bomb", func() (int, bool) {
		select {
		case err := <-exited:
			t.Fatalf("muster exited before evaluating: %v", err)
		default:
		}
		evaluators := []int{pid}
		if isolate {
			evaluators = children(pid)
		}
		for _, p := range evaluators {
			if cpuTicks(p) >= 50 {
				return p, true
			}
		}
		return 0, false
	})
	return p
}

// children lists the child processes of pid, from every one of its threads.
func children(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// statFields returns the fields of /proc/pid/stat after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

// cpuTicks is the user and system time pid has used, in clock ticks.
func cpuTicks(pid int) int {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}

// procState is the state letter of pid, or "" when there is no such
// process.
func procState(pid int) string {
	if f := statFields(pid); len(f) > 0 {
		return f[0]
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for the writes of exec and the reads
// of the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecondSignalExits: the first signal cancels the command with a cause
// that names it; the second exits at once.
func TestSecondSignalExits(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	exited := make(chan struct{})
	var stderr syncBuffer
	stop := handleSignals(sigs, cancel, &stderr, func() { close(exited) })
	defer stop()

	sigs <- syscall.SIGTERM
	wait.Until(t, 5*time.Second, "the first signal to cancel the command", func() bool { return ctx.Err() != nil })
	if got := context.Cause(ctx).Error(); got != "SIGTERM received" {
		t.Errorf("cause %q", got)
	}
	if ctx.Err() != context.Canceled {
		t.Errorf("ctx.Err() = %v", ctx.Err())
	}
	select {
	case <-exited:
		t.Fatal("exited at the first signal")
	default:
	}
	sigs <- os.Interrupt
	wait.Until(t, 5*time.Second, "the second signal to exit", func() bool {
		select {
		case <-exited:
			return true
		default:
			return false
		}
	})
	if got := stderr.String(); got != "muster: SIGINT received again: exiting at once\n" {
		t.Errorf("stderr %q", got)
	}
}
