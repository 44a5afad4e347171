//go:build unix

package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	osexec "os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/muster-dev/muster/runner"
)

var _ runner.Execer = (*handle)(nil)

// execWaitDelay bounds how long Exec reads a command's output once its
// process group is gone (a process that left the group may hold it open).
const execWaitDelay = time.Second

// Exec runs cmd as the task's own program runs: cmd[0] found the same way
// (the node's PATH for a bare name, relative to the working directory for
// a relative path), in the task's working directory, with exactly the
// task's environment (Spec.Env with its MUSTER_* variables, PATH, HOME,
// MUSTER_ROOT). It runs in a process group of its own, killed whole
// (SIGKILL) when ctx ends first, and what it leaves in its group when it
// exits is killed too (on Linux, where the agent can wait for the
// leader's exit without reaping it). It is not put in the execution's cgroup: a probe
// does not count against the task's limits, nor is it killed by them.
func (h *handle) Exec(ctx context.Context, cmd []string, out io.Writer) (int, error) {
	select {
	case <-h.done:
		return -1, errors.New("the execution ended")
	default:
	}
	if len(cmd) == 0 {
		return -1, errors.New("no command")
	}
	prog, err := lookPath(cmd[0], h.path)
	if err != nil {
		return -1, err
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	c := &osexec.Cmd{
		Path:        prog,
		Args:        cmd,
		Dir:         h.dir,
		Env:         h.env,
		Stdout:      out,
		Stderr:      out,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
		WaitDelay:   execWaitDelay,
	}
	if err := c.Start(); err != nil {
		return -1, fmt.Errorf("start %s: %w", cmd[0], err)
	}
	g := &group{pgid: c.Process.Pid}
	waited := make(chan error, 1)
	go func() {
		if waitExited(g.pgid) {
			g.kill() // the leader is a zombie: the group is still ours
		}
		err := c.Wait()
		g.reaped()
		waited <- err
	}()
	select {
	case err := <-waited:
		if c.ProcessState == nil {
			return -1, err
		}
		if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, fmt.Errorf("killed by signal %s", signalName(ws.Signal()))
		}
		return c.ProcessState.ExitCode(), nil
	case <-ctx.Done():
		g.kill()
		<-waited
		return -1, ctx.Err()
	}
}

// group is the process group of one command, signalled only until its
// leader is reaped (its id may then be reused).
type group struct {
	mu   sync.Mutex
	pgid int
	gone bool
}

func (g *group) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.gone {
		syscall.Kill(-g.pgid, syscall.SIGKILL)
	}
}

func (g *group) reaped() {
	g.mu.Lock()
	g.gone = true
	g.mu.Unlock()
}
