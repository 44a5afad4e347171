package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// Agent runs the executions assigned to one node: it prepares each
// execution's root, places its inputs, starts the driver, keeps its logs,
// stores its outputs as documents and records every state change in the
// store.
type Agent struct {
	// NodeID is the node this agent runs on.
	NodeID string
	// Dir holds one directory per execution: <Dir>/<id>/root is the
	// execution root, <Dir>/<id>/stdout.log and stderr.log its logs.
	Dir string
	// Store records executions and holds documents.
	Store *state.Store
	// Executions, when set, reads and records the agent's executions in
	// Store's stead: the control planes' gateway, for a node whose
	// credentials may not write them (remote.Gateway).
	Executions ExecutionStore
	// Drivers are the drivers the agent runs executions with, by engine;
	// nil means those registered at init (DefaultDrivers). Set it before
	// the first Run and leave it.
	Drivers *Drivers
	// Logs, when set, also receives every line the task prints, for live
	// progress.
	Logs func(executionID string) (stdout, stderr io.Writer)
	// Grace is how long Stop waits before killing; 10s when zero.
	Grace time.Duration
	// MaxOutputSize bounds, in bytes, what one execution may store as
	// output documents; DefaultMaxOutputSize (1 GiB) when zero. A file that
	// would pass it is not stored: it is recorded as skipped.
	MaxOutputSize int64
	// OutputTimeout bounds how long storing one execution's outputs may
	// take; DefaultOutputTimeout when zero. What is left when it passes,
	// or when the execution is stopped, is recorded as not collected.
	OutputTimeout time.Duration
	// PortRange is the node's free range of host ports, from which it
	// picks the dynamic ports of task.ports; the zero value means
	// DefaultPortRange (20000-32000). Set it before the first Run and
	// leave it. Static ports may lie outside it.
	PortRange PortRange

	// Log receives the agent's steps (an execution started, re-attached,
	// ended, or failed to be recorded); nil: dropped.
	Log *slog.Logger

	// hidden holds the texts of the sensitive values of the executions
	// running now, by execution id (see hide).
	hidden sync.Map
	// ports holds the host ports of the executions running now: no port
	// is handed to two of them.
	ports portTable
	// live holds the executions running now, by id (*liveExecution), for
	// Probe.
	live sync.Map
}

// drivers returns the agent's drivers: its own, or the defaults.
func (a *Agent) drivers() *Drivers {
	if a.Drivers != nil {
		return a.Drivers
	}
	return DefaultDrivers()
}

// ExecutionDir returns the directory of an execution.
func (a *Agent) ExecutionDir(id string) string { return filepath.Join(a.Dir, id) }

// LogPaths returns the paths of an execution's stdout and stderr logs.
func (a *Agent) LogPaths(id string) (stdout, stderr string) {
	d := a.ExecutionDir(id)
	return filepath.Join(d, "stdout.log"), filepath.Join(d, "stderr.log")
}

// Run runs execution e of job j to its end and returns the execution as
// last recorded. The error is about muster itself (the store, the disk);
// a task that fails is a Result, recorded in e.Status.
func (a *Agent) Run(ctx context.Context, e state.Execution, j *schema.Job) (state.Execution, Result, error) {
	done, err := a.hide(ctx, e.ID, j)
	if err != nil {
		return e, Result{}, err
	}
	defer done()
	x, res, err := a.run(ctx, e, j)
	res.Message = a.redact(e.ID, res.Message)
	return x, res, err
}

// run is Run once the job's sensitive values are known.
func (a *Agent) run(ctx context.Context, e state.Execution, j *schema.Job) (state.Execution, Result, error) {
	driver, ok := a.drivers().Lookup(string(j.Task.Engine))
	if !ok {
		return a.fail(ctx, e, fmt.Sprintf("no %s driver on node %s (have: %v)", j.Task.Engine, a.NodeID, a.drivers().Names()))
	}
	// Host ports first, so that the execution is recorded starting with
	// them; they are let go when the run ends, however it ends.
	ports, err := a.ports.reserve(e.ID, j, a.PortRange)
	if err != nil {
		return a.fail(ctx, e, fmt.Sprintf("node %s: %v", a.NodeID, err))
	}
	defer a.ports.release(e.ID)
	e.Ports = ports
	// State writes must land even when a stop comes meanwhile: the stop is
	// recorded after them.
	e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeStarting, "preparing the execution root")
	if err != nil {
		return e, Result{}, err
	}
	if err := state.CheckExecutionID(e.ID); err != nil {
		return e, Result{}, err
	}
	dir := a.ExecutionDir(e.ID)
	root := filepath.Join(dir, "root")
	// The execution's directory and its root are new as a rule: two
	// mkdirs, and MkdirAll only when they do not do (Dir is missing, or
	// one of them is there already).
	err = os.Mkdir(dir, 0o755)
	if err == nil {
		err = os.Mkdir(root, 0o755)
	}
	if err != nil {
		err = os.MkdirAll(root, 0o755)
	}
	if err != nil {
		return e, Result{}, err
	}
	// The root must be a directory of its own, not a link to one.
	r, err := OpenRoot(root)
	if err != nil {
		return e, Result{}, err
	}
	r.Close()
	defer removeSecretInputs(root, j) // on every way out; finish removes them earlier
	accessed, err := a.placeInputs(ctx, root, j)
	if err != nil {
		return a.fail(ctx, e, err.Error())
	}
	e.Accessed = accessed

	stdout, stderr, err := a.openLogs(e.ID)
	if err != nil {
		return e, Result{}, err
	}
	defer stdout.Close()
	defer stderr.Close()
	var so, se io.Writer = stdout, stderr
	if a.Logs != nil {
		lo, le := a.Logs(e.ID)
		so, se = io.MultiWriter(stdout, lo), io.MultiWriter(stderr, le)
	}

	env := a.env(e, j)
	if err := secretEnv(ctx, j, env); err != nil {
		return a.fail(ctx, e, err.Error())
	}
	spec := &Spec{ExecutionID: e.ID, Job: j, Root: root, Env: env, Ports: e.Ports, Stdout: so, Stderr: se, MaxOutputSize: a.maxOutputSize()}
	runCtx := ctx
	if t := j.Timeouts.Execution; t > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, time.Duration(t))
		defer cancel()
	}
	h, err := driver.Start(runCtx, spec)
	if err != nil && ctx.Err() != nil {
		e.Status.DesiredState = state.DesiredStopped
		e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeStopped, "stopped before it started")
		return e, Result{ExitCode: -1, Message: "stopped"}, err
	}
	if err != nil {
		return a.fail(ctx, e, fmt.Sprintf("%s driver: %v", j.Task.Engine, err))
	}
	defer a.goLive(e, j, h)()
	if e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeRunning, "running"); err != nil {
		a.log(e).Error("the execution started but could not be recorded running; stopping it", "err", err)
		h.Stop(context.Background(), a.grace())
		return e, Result{}, err
	}
	a.log(e).Info("execution running", "engine", string(j.Task.Engine))
	return a.finish(ctx, runCtx, e, j, h, root)
}

// Recover re-attaches to execution e, which an earlier process started and
// did not see end, when its driver keeps executions alive across processes
// (docker), and waits for it as Run does. ok is false when there is nothing
// to re-attach to; the caller then replaces the execution.
func (a *Agent) Recover(ctx context.Context, e state.Execution, j *schema.Job) (_ state.Execution, _ Result, ok bool, _ error) {
	done, err := a.hide(ctx, e.ID, j)
	if err != nil {
		return e, Result{}, false, err
	}
	defer done()
	x, res, ok, err := a.recover(ctx, e, j)
	res.Message = a.redact(e.ID, res.Message)
	return x, res, ok, err
}

// recover is Recover once the job's sensitive values are known.
func (a *Agent) recover(ctx context.Context, e state.Execution, j *schema.Job) (_ state.Execution, _ Result, ok bool, _ error) {
	driver, found := a.drivers().Lookup(string(j.Task.Engine))
	if !found {
		return e, Result{}, false, nil
	}
	if state.CheckExecutionID(e.ID) != nil {
		return e, Result{}, false, nil
	}
	dir := a.ExecutionDir(e.ID)
	root := filepath.Join(dir, "root")
	if _, err := os.Stat(dir); err != nil {
		// This node no longer has the execution (reinstalled, cleaned):
		// nothing to re-attach to.
		return e, Result{}, false, nil
	}
	stdout, stderr, err := a.openLogs(e.ID)
	if err != nil {
		return e, Result{}, false, err
	}
	defer stdout.Close()
	defer stderr.Close()
	// The task holds its recorded host ports already: they are held here
	// again before anything else may pick them.
	if err := a.ports.restore(e.ID, j, e.Ports); err != nil {
		a.log(e).Error("re-attaching to an execution whose host ports another execution of this node holds", "err", err)
	}
	defer a.ports.release(e.ID)
	spec := &Spec{ExecutionID: e.ID, Job: j, Root: root, Env: a.env(e, j), Ports: e.Ports, Stdout: stdout, Stderr: stderr, MaxOutputSize: a.maxOutputSize()}
	h, err := driver.Recover(ctx, spec)
	if err != nil {
		return e, Result{}, false, nil
	}
	defer a.goLive(e, j, h)()
	if e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeRunning, "re-attached after a control plane restart"); err != nil {
		a.log(e).Error("re-attached, but the execution could not be recorded running; stopping it", "err", err)
		h.Stop(context.Background(), a.grace())
		return e, Result{}, true, err
	}
	a.log(e).Info("re-attached to an execution")
	e, res, err := a.finish(ctx, ctx, e, j, h, root)
	return e, res, true, err
}

// finish waits for a started execution, stores its outputs and records how
// it ended.
func (a *Agent) finish(ctx, runCtx context.Context, e state.Execution, j *schema.Job, h Handle, root string) (state.Execution, Result, error) {
	res, err := h.Wait(runCtx)
	if err == nil {
		a.live.Delete(e.ID) // it ended: probes find it no more
	}
	if err != nil {
		// The context ended first: a timeout or a stop. The task gets its
		// grace period; meanwhile the execution shows as stopping.
		if ctx.Err() != nil {
			e.Status.DesiredState = state.DesiredStopped
			if x, err := a.update(context.WithoutCancel(ctx), e, state.ComputeStopping, "stopping"); err == nil {
				e = x
			}
		}
		h.Stop(context.Background(), a.grace())
		res, _ = h.Wait(context.Background())
		a.live.Delete(e.ID)
		switch {
		case errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
			res.Message = fmt.Sprintf("timed out after %s (timeouts.execution)", j.Timeouts.Execution)
			res.ExitCode = -1
		default:
			res.Message, res.ExitCode = "stopped", -1
		}
	}
	// Storing ends with a stop, and is bounded in time: a stopped
	// execution records its outputs as not collected.
	removeSecretInputs(root, j)
	octx, cancel := a.outputContext(ctx)
	outputs, skipped, cut, oerr := a.storeOutputs(octx, root, j)
	cancel()
	e.Outputs = outputs
	e.Skipped = append(res.Skipped, skipped...)
	note := skipNote(e.Skipped)
	switch {
	case oerr != nil:
		e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeFailed, "storing outputs: "+oerr.Error()+note)
		res.ExitCode, res.Message = -1, "storing outputs: "+oerr.Error()
	case ctx.Err() != nil && (cut || !res.Succeeded()):
		msg := orText(res.Message, "stopped")
		if res.Succeeded() {
			msg = "stopped while storing outputs"
		}
		e.Status.DesiredState = state.DesiredStopped
		e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeStopped, msg+note)
	case res.Succeeded():
		e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeComplete, orText(res.Message, "exited with code 0")+note)
	default:
		e, err = a.update(context.WithoutCancel(ctx), e, state.ComputeFailed, orText(res.Message, "exited with code "+strconv.Itoa(res.ExitCode))+note)
	}
	if err != nil {
		a.log(e).Error("the end of an execution could not be recorded", "exit_code", res.ExitCode, "err", err)
	} else {
		a.log(e).Info("execution ended", "state", string(e.Status.ComputeState), "exit_code", res.ExitCode, "message", e.Status.Message)
	}
	return e, res, err
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (a *Agent) grace() time.Duration {
	if a.Grace > 0 {
		return a.Grace
	}
	return 10 * time.Second
}

// env is the task environment of docs/spec.md section 4, less MUSTER_ROOT, which
// the driver sets as the task sees it: task.env, the MUSTER_* variables of
// the execution and MUSTER_PORT_<NAME> for each of its host ports
// (e.Ports).
func (a *Agent) env(e state.Execution, j *schema.Job) map[string]string {
	env := make(map[string]string, len(j.Task.Env)+5+len(e.Ports))
	for k, v := range j.Task.Env {
		env[k] = v
	}
	env["MUSTER_JOB_NAME"] = j.Name
	env["MUSTER_NAMESPACE"] = j.Namespace
	env["MUSTER_EXECUTION_ID"] = e.ID
	env["MUSTER_NODE_ID"] = a.NodeID
	env["MUSTER_JOB_VERSION"] = strconv.Itoa(e.JobVersion)
	for name, port := range e.Ports {
		env[PortEnv(name)] = strconv.Itoa(port)
	}
	return env
}

// update records e in compute state with msg. When the store does not take
// it, it returns e as it was to be recorded, at its old revision, so that
// a caller may record it again once the store is back (remote.Serve does).
func (a *Agent) update(ctx context.Context, e state.Execution, compute state.ComputeState, msg string) (state.Execution, error) {
	e.Status.ComputeState = compute
	e.Status.Message = a.redact(e.ID, msg)
	x, err := a.ExecutionStore().UpdateExecution(ctx, e)
	if err != nil {
		return e, err
	}
	return x, nil
}

// ExecutionStore reads and records one execution of a node.
type ExecutionStore interface {
	Execution(ctx context.Context, ns, name, id string) (state.Execution, error)
	UpdateExecution(ctx context.Context, e state.Execution) (state.Execution, error)
}

// ExecutionStore is where the agent reads and records its executions:
// Executions, else Store.
func (a *Agent) ExecutionStore() ExecutionStore {
	if a.Executions != nil {
		return a.Executions
	}
	return a.Store
}

func (a *Agent) fail(ctx context.Context, e state.Execution, msg string) (state.Execution, Result, error) {
	e, err := a.update(context.WithoutCancel(ctx), e, state.ComputeFailed, msg)
	return e, Result{ExitCode: -1, Message: a.redact(e.ID, msg)}, err
}
