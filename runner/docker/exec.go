package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/runner"
)

var _ runner.Execer = (*handle)(nil)

// execPoll is how often Exec asks the engine for the exit code of a
// command whose output already ended.
const execPoll = 10 * time.Millisecond

// Exec runs cmd in the execution's container, as `docker exec` does: with
// the container's environment (Spec.Env, MUSTER_ROOT=/), user and working
// directory, cmd[0] found in the image's PATH. What it prints, stdout and
// stderr, goes to out. When ctx ends first, Exec stops reading and kills
// the command's process (by its host pid, which the engine reports: a
// local engine, and an agent allowed to signal it, as root is); a command
// that runs on regardless ends on its own. The engine reports a command
// it cannot start with an exit code (126, 127) and its reason as output.
func (h *handle) Exec(ctx context.Context, cmd []string, out io.Writer) (int, error) {
	select {
	case <-h.done:
		return -1, errors.New("the execution ended")
	default:
	}
	if len(cmd) == 0 {
		return -1, errors.New("no command")
	}
	created, err := h.cli.ExecCreate(ctx, h.id, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return -1, h.execErr(ctx, err)
	}
	att, err := h.cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return -1, h.execErr(ctx, err)
	}
	defer att.Close()
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(out, out, att.Reader)
		copied <- err
	}()
	select {
	case <-copied:
	case <-ctx.Done():
		att.Close() // ends the copy
		<-copied
		h.killExec(created.ID)
		return -1, ctx.Err()
	}
	// The output ends as the command exits; the engine may record its
	// exit code a moment later.
	for {
		ins, err := h.cli.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		switch {
		case err != nil:
			return -1, h.execErr(ctx, err)
		case !ins.Running:
			return ins.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			h.killExec(created.ID)
			return -1, ctx.Err()
		case <-time.After(execPoll):
		}
	}
}

// execErr is err of an exec request: ctx's error when ctx ended it.
func (h *handle) execErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("docker exec in the container of execution %s: %w", h.execID, err)
}

// killExec kills the process of exec id, if it still runs, by its host
// pid.
func (h *handle) killExec(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ins, err := h.cli.ExecInspect(ctx, id, client.ExecInspectOptions{})
	if err != nil || !ins.Running || ins.PID <= 0 {
		return
	}
	killPid(ins.PID)
}
