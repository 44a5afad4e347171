//go:build unix

package exec

import (
	"context"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
)

// copyDrain bounds how long the logs of an execution are read after its
// process group is gone: only a process that escaped the group (setsid)
// and the cgroup can hold the pipes open longer.
const copyDrain = 2 * time.Second

// copyJob copies one pipe from the process to the spec's writer.
type copyJob struct {
	r *os.File
	w io.Writer
}

// handle is one started process group.
type handle struct {
	cmd    *osexec.Cmd
	pgid   int
	root   string        // the execution root, whose pgid note run removes
	cg     *cgroup       // nil when limits are not enforced
	memory schema.Memory // the memory limit, for the OOM message
	copies []copyJob
	copied sync.WaitGroup
	// What an exec probe runs with (Exec): the task's environment, its
	// working directory and the PATH its program was found in.
	env  []string
	dir  string
	path string

	mu     sync.Mutex // held while signalling, and while reaping
	reaped bool       // the pid, and so the group id, may be reused

	done chan struct{}
	res  runner.Result
}

var _ runner.Handle = (*handle)(nil)

func (h *handle) startCopies() {
	for _, c := range h.copies {
		h.copied.Add(1)
		go func() {
			defer h.copied.Done()
			io.Copy(c.w, c.r)
		}()
	}
}

func (h *handle) closeReaders() {
	for _, c := range h.copies {
		c.r.Close()
	}
}

// run waits for the program to exit, kills what it left in its group and
// cgroup, collects its logs and records the result.
func (h *handle) run() {
	defer forgetPgid(h.root)
	pid := h.cmd.Process.Pid
	var err error
	if waitExited(pid) {
		// The leader is a zombie: the group id is still ours to signal.
		h.mu.Lock()
		h.killRest()
		err = h.cmd.Wait()
		h.reaped = true
		h.mu.Unlock()
	} else {
		err = h.cmd.Wait()
		h.mu.Lock()
		h.killRest()
		h.reaped = true
		h.mu.Unlock()
	}
	if len(h.copies) > 0 {
		drained := make(chan struct{})
		go func() { h.copied.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(copyDrain):
			h.closeReaders()
			<-drained
		}
		h.closeReaders()
	}
	oom := false
	if h.cg != nil {
		oom = h.cg.oomKilled()
		h.cg.remove()
	}
	h.res = result(h.cmd.ProcessState, err, oom, h.memory)
	close(h.done)
}

// killRest kills what is left of the execution once its program exited.
func (h *handle) killRest() {
	syscall.Kill(-h.pgid, syscall.SIGKILL)
	if h.cg != nil {
		h.cg.kill()
	}
}

// result says how the program ended.
func result(ps *os.ProcessState, err error, oom bool, memory schema.Memory) runner.Result {
	if ps == nil {
		return runner.Result{ExitCode: -1, OOMKilled: oom, Message: fmt.Sprintf("waiting for the process: %v", err)}
	}
	var r runner.Result
	ws, _ := ps.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		r.ExitCode = -1
		r.Signal = signalName(ws.Signal())
		r.Message = "killed by signal " + r.Signal
	default:
		r.ExitCode = ps.ExitCode()
		r.Message = fmt.Sprintf("exited with code %d", r.ExitCode)
	}
	if oom {
		r.OOMKilled = true
		r.Message = fmt.Sprintf("out of memory (limit %s)", memory)
	}
	return r
}

// signalName names a signal the way users know it: "KILL", "TERM".
func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return strings.TrimPrefix(n, "SIG")
	}
	return fmt.Sprintf("%d", int(s))
}

// Wait blocks until the execution ends or ctx is done.
func (h *handle) Wait(ctx context.Context) (runner.Result, error) {
	select {
	case <-h.done:
		return h.res, nil
	case <-ctx.Done():
		return runner.Result{}, ctx.Err()
	}
}

// Stop sends SIGTERM to the process group, SIGKILL (to the group and the
// cgroup) after grace or when ctx ends first, and returns once the
// execution ended or ctx is done.
func (h *handle) Stop(ctx context.Context, grace time.Duration) error {
	select {
	case <-h.done:
		return nil
	default:
	}
	h.signal(syscall.SIGTERM)
	if grace > 0 {
		t := time.NewTimer(grace)
		select {
		case <-h.done:
			t.Stop()
			return nil
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	h.signal(syscall.SIGKILL)
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signal sends sig to the process group while it is still ours, and kills
// the cgroup with SIGKILL.
func (h *handle) signal(sig syscall.Signal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reaped {
		return
	}
	syscall.Kill(-h.pgid, sig)
	if sig == syscall.SIGKILL && h.cg != nil {
		h.cg.kill()
	}
}
