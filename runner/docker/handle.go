package docker

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/runner"
)

// drainTimeout bounds how long the driver waits for the log stream to end
// after the container ended.
const drainTimeout = 10 * time.Second

// engineOutage is how long the driver keeps retrying to wait on a container
// while the engine does not answer before it gives up.
const engineOutage = time.Minute

// handle follows one container.
type handle struct {
	d              *Driver
	cli            *client.Client
	execID         string
	id             string // container id
	root           string
	copyOut        []string
	maxOut         int64 // Spec.MaxOutputSize: what copyOut may copy, 0 for no bound
	copied         int64 // what copyOut copied
	stdout, stderr io.Writer
	keep           bool
	memory         int64
	warnings       []string

	stopped  atomic.Bool // Stop was called
	logsDone chan struct{}
	logErr   error
	logStop  context.CancelFunc

	done chan struct{}
	res  runner.Result
	err  error
}

var _ runner.Handle = (*handle)(nil)

func (d *Driver) newHandle(cli *client.Client, spec *runner.Spec, id string, copyOut []string) *handle {
	h := &handle{
		d: d, cli: cli, execID: spec.ExecutionID, id: id, root: spec.Root, copyOut: copyOut, maxOut: spec.MaxOutputSize,
		stdout: spec.Stdout, stderr: spec.Stderr, keep: d.opts.KeepContainers,
		memory:   max(spec.Job.Task.Resources.Memory.Bytes(), minMemory),
		logsDone: make(chan struct{}),
		done:     make(chan struct{}),
	}
	if h.stdout == nil {
		h.stdout = io.Discard
	}
	if h.stderr == nil {
		h.stderr = io.Discard
	}
	return h
}

// Wait blocks until the container ended, its logs were drained and it was
// removed, or ctx is done. It may be called any number of times.
func (h *handle) Wait(ctx context.Context) (runner.Result, error) {
	select {
	case <-h.done:
		return h.res, h.err
	case <-ctx.Done():
		return runner.Result{}, ctx.Err()
	}
}

// Stop is the engine's stop: SIGTERM (or the image's stop signal), SIGKILL
// after grace rounded up to whole seconds. It returns when the container
// ended; stopping an ended or removed container is not an error.
func (h *handle) Stop(ctx context.Context, grace time.Duration) error {
	h.stopped.Store(true)
	select {
	case <-h.done:
		return nil
	default:
	}
	secs := max(int(math.Ceil(grace.Seconds())), 0)
	_, err := h.cli.ContainerStop(ctx, h.id, client.ContainerStopOptions{Timeout: &secs})
	if err == nil || cerrdefs.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("docker: stop container of execution %s: %w", h.execID, err)
}

// followLogs copies the container's output into the spec's writers until
// the stream ends (the container ended) or the monitor gives up on it.
// since is empty (from the start) or an engine timestamp.
func (h *handle) followLogs(ctx context.Context, since string) {
	defer h.d.wg.Done()
	defer close(h.logsDone)
	defer h.logStop()
	rc, err := h.cli.ContainerLogs(ctx, h.id, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: true, Since: since,
	})
	if err != nil {
		h.logErr = err
		return
	}
	defer rc.Close()
	if _, err := stdcopy.StdCopy(h.stdout, h.stderr, rc); err != nil && ctx.Err() == nil {
		h.logErr = err
	}
}

// monitor waits for the container to end, then builds the result, drains
// the logs, copies root-level outputs and removes the container. If the
// driver is closed first it leaves the container alone.
func (h *handle) monitor(bg context.Context) {
	defer h.d.wg.Done()
	defer close(h.done)
	defer h.d.untrack(h)
	st, err := h.waitEnded(bg)
	if err != nil {
		if bg.Err() != nil {
			err = fmt.Errorf("docker: driver closed before execution %s ended; its container keeps running and Recover finds it", h.execID)
		}
		h.err = err
		return
	}
	h.res = h.result(h.settleOOM(bg, st))
	timer := time.NewTimer(drainTimeout)
	select {
	case <-h.logsDone:
	case <-timer.C:
		h.logStop()
		<-h.logsDone
		h.note("logs did not end within %s of the exit and were cut", drainTimeout)
	case <-bg.Done():
		h.err = errClosed
		return
	}
	timer.Stop()
	if h.logErr != nil {
		h.note("logs: %v", h.logErr)
	}
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	h.copyOutputs(ctx)
	if !h.keep {
		_, err := h.cli.ContainerRemove(ctx, h.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			h.note("container %s not removed: %v", h.id, err)
		}
	}
}

// note appends a remark to the result's message.
func (h *handle) note(format string, args ...any) {
	h.res.Message += "; " + fmt.Sprintf(format, args...)
}

// waitEnded waits until the container is not running and returns its state.
// It rides out short engine outages (a restarted daemon drops the wait
// request) and gives up after engineOutage without an answer.
func (h *handle) waitEnded(ctx context.Context) (*container.State, error) {
	var failing time.Time
	for {
		wr := h.cli.ContainerWait(ctx, h.id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		var code int64
		var err error
		select {
		case r := <-wr.Result:
			code = r.StatusCode
		case err = <-wr.Error:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil || cerrdefs.IsNotFound(err) {
			ins, ierr := h.cli.ContainerInspect(ctx, h.id, client.ContainerInspectOptions{})
			switch {
			case ierr == nil && ins.Container.State != nil && !ins.Container.State.Running:
				return ins.Container.State, nil
			case ierr == nil && ins.Container.State != nil:
				continue // restarted meanwhile: wait again
			case err == nil:
				// Ended, but the state is gone (removed by someone else).
				return &container.State{ExitCode: int(code)}, nil
			case cerrdefs.IsNotFound(ierr):
				return nil, fmt.Errorf("docker: the container of execution %s was removed by someone else before it was seen ending", h.execID)
			}
			err = ierr
		}
		if failing.IsZero() {
			failing = time.Now()
		} else if time.Since(failing) > engineOutage {
			return nil, fmt.Errorf("docker: lost the engine while waiting on execution %s: %w", h.execID, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// oomSettle bounds how long settleOOM waits for the engine to note an
// out-of-memory kill.
const oomSettle = 2 * time.Second

// settleOOM returns st, or the container's state once the engine noted
// the out-of-memory kill st looks like: a container with a memory limit
// that the driver did not stop, killed by SIGKILL (exit code 137). Over
// cgroup v2 the engine learns of the OOM kill from an event that may come
// after the exit, so the state read at the exit can say OOMKilled false.
func (h *handle) settleOOM(ctx context.Context, st *container.State) *container.State {
	if st.OOMKilled || st.ExitCode != 128+9 || h.memory == 0 || h.stopped.Load() {
		return st
	}
	deadline := time.Now().Add(oomSettle)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return st
		case <-time.After(100 * time.Millisecond):
		}
		ins, err := h.cli.ContainerInspect(ctx, h.id, client.ContainerInspectOptions{})
		if err != nil || ins.Container.State == nil {
			return st
		}
		if ins.Container.State.OOMKilled {
			return ins.Container.State
		}
	}
	return st
}

// result says how the container ended. The engine reports a death by
// signal n as exit code 128+n, like a shell; the driver only reads it as a
// signal when it knows one was sent (Stop, or the OOM killer), since a
// program may exit with such a code itself.
func (h *handle) result(st *container.State) runner.Result {
	r := runner.Result{ExitCode: st.ExitCode, OOMKilled: st.OOMKilled}
	sig := ""
	if c := st.ExitCode; c > 128 && c < 128+65 && (st.OOMKilled || h.stopped.Load()) {
		sig = signalName(c - 128)
	}
	switch {
	case st.OOMKilled && sig != "":
		r.ExitCode, r.Signal = -1, sig
		r.Message = fmt.Sprintf("killed (%s) by the memory limit of %d MiB", sig, h.memory>>20)
	case st.OOMKilled:
		r.Message = fmt.Sprintf("exited with code %d after hitting the memory limit of %d MiB", st.ExitCode, h.memory>>20)
	case sig != "":
		r.ExitCode, r.Signal = -1, sig
		r.Message = fmt.Sprintf("stopped by %s", sig)
	default:
		r.Message = fmt.Sprintf("exited with code %d", st.ExitCode)
	}
	if st.Error != "" {
		r.Message += "; engine: " + st.Error
	}
	if len(h.warnings) > 0 {
		r.Message += "; engine warnings: " + strings.Join(h.warnings, "; ")
	}
	return r
}

// signalName names signal n the way runner.Result does ("SIGKILL").
func signalName(n int) string {
	switch n {
	case 1:
		return "SIGHUP"
	case 2:
		return "SIGINT"
	case 3:
		return "SIGQUIT"
	case 6:
		return "SIGABRT"
	case 9:
		return "SIGKILL"
	case 15:
		return "SIGTERM"
	}
	return fmt.Sprintf("signal %d", n)
}
