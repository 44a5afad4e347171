// Package runner is the node side of muster: the drivers that run one
// execution each (exec, docker, wasm), registered by name, and what an
// execution needs around them (its root directory, environment, inputs,
// outputs and logs).
//
// # The execution root is a boundary
//
// Every execution has a private root directory, and nothing the agent or a
// driver does on a task's behalf reaches outside it. Inputs are placed,
// outputs collected, directories created and files copied through an
// os.Root, which resolves every path inside the root and never follows a
// symbolic link out of it: an absolute link, or a relative one that climbs
// above the root, is refused wherever it sits in a path. A link that stays
// inside is followed. Only regular files are read or written: a FIFO, a
// socket, a device or a directory where a file is expected is never opened
// for reading (checked with Lstat first, then opened non-blocking and
// checked again, so a file swapped meanwhile cannot block the agent either).
//
// An output the agent does not store is recorded on the execution
// (state.Execution.Skipped) with its reason, and the execution's status
// message says outputs were skipped: a link leaving the root, a file that
// is not regular, the node's limit on what one execution may store
// (Agent.MaxOutputSize, 1 GiB by default), or a stop that cut storing
// short. Storing honours the stop: it never outlives it.
//
// What a driver adds to the boundary is in its package documentation: the
// wasm driver shows the module only the root, through the same kind of
// confined file system; the docker driver mounts only real directories of
// the root and copies files out of a container as regular files only; the
// exec driver runs the task as the node's own user, which is not a sandbox
// (the task may read what that user may read), so there the boundary is
// that the agent never copies or writes anything outside the root for it.
//
// # Host ports and probes
//
// An agent hands every execution a host port per entry of task.ports and
// never one port to two of the executions it runs: static ports as
// written, dynamic ones from Agent.PortRange, each test-bound on the host
// first; a conflict fails the execution with a PortError naming the port.
// The ports are recorded on the execution (state.Execution.Ports) before
// it starts, passed to the driver (Spec.Ports) and to the task
// (MUSTER_PORT_<NAME>), let go when it ends and held again on Recover.
//
// Agent.Probe runs a job's rollout.health_check.probe against one of the
// executions the agent runs, with the job it runs it for: http and tcp on
// 127.0.0.1 and the execution's host port, exec through the driver's
// handle when it is an Execer. What a probe reports never shows the
// execution's sensitive values.
package runner

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// Spec is everything a driver needs to start one execution.
type Spec struct {
	// ExecutionID is unique across the cluster; drivers label what they
	// create with it so that Recover can find it again.
	ExecutionID string
	// Job is the normalized job; Job.Task says what to run.
	Job *schema.Job
	// Root is the execution's private directory on the node. Inputs are
	// already placed in it at their targets (exec and wasm: Root+target;
	// docker: bind-mounted at target). Output paths are read from it after
	// the run the same way.
	Root string
	// Env is the full environment of the task: task.env plus the MUSTER_*
	// variables of docs/spec.md section 4 (MUSTER_ROOT as the driver must show it
	// is set by the driver itself).
	Env map[string]string
	// Ports are the host ports the node gave the execution, by the names
	// of Job.Task.Ports (Env holds them too, as MUSTER_PORT_<NAME>); nil
	// when the task has none. A driver that isolates the network maps
	// them (docker bridge: host port to the entry's To, or to the same
	// port).
	Ports map[string]int
	// Stdout and Stderr receive the task's output as it is produced.
	Stdout, Stderr io.Writer
	// MaxOutputSize bounds, in bytes, what a driver copies into the root
	// for the execution's outputs (the docker driver's copy out of a
	// container); 0 means no bound. The agent sets its own limit here.
	MaxOutputSize int64
}

// Result is how an execution ended.
type Result struct {
	// ExitCode is the process exit code; -1 when it did not exit normally.
	ExitCode int
	// Signal names the signal that ended it, if any.
	Signal string
	// OOMKilled reports that the memory limit ended it.
	OOMKilled bool
	// Message says in words what happened, for the execution status.
	Message string
	// Skipped are the outputs the driver refused to place in the root
	// (the docker driver's copy out of a container: a link, a directory,
	// a file over the limit), with why. The agent records them on the
	// execution beside those it skips itself.
	Skipped []state.SkippedOutput
}

// Succeeded reports whether the execution ended with exit code 0.
func (r Result) Succeeded() bool { return r.ExitCode == 0 && r.Signal == "" && !r.OOMKilled }

// Handle is a started execution.
type Handle interface {
	// Wait blocks until the execution ends or ctx is done.
	Wait(ctx context.Context) (Result, error)
	// Stop asks the execution to end (SIGTERM or the engine's stop), and
	// kills it after grace. It is safe to call more than once and after the
	// execution ended.
	Stop(ctx context.Context, grace time.Duration) error
}

// Execer is a Handle that can run a command inside its execution's
// environment, for exec probes (rollout.health_check.probe.exec): in the
// container for docker, with the task's environment and working directory
// for exec. A Handle that cannot does not implement it (wasm).
type Execer interface {
	// Exec runs cmd (cmd[0] found as the task's own program would be) and
	// writes what it prints, stdout and stderr, to out; it returns once
	// cmd exited, with its exit code. When ctx ends first it kills what it
	// can of cmd and returns ctx's error. An error is also returned when
	// cmd could not be started at all (not found, the execution ended).
	Exec(ctx context.Context, cmd []string, out io.Writer) (exitCode int, err error)
}

// Driver runs executions of one engine.
type Driver interface {
	// Name is the task.engine value the driver serves.
	Name() string
	// Start starts the execution described by spec and returns at once.
	Start(ctx context.Context, spec *Spec) (Handle, error)
	// Recover re-attaches to an execution that an earlier process started,
	// when the engine keeps it alive across restarts (docker). It returns
	// ErrNotRecoverable when the driver cannot, or nothing is found.
	Recover(ctx context.Context, spec *Spec) (Handle, error)
	// Limits says what the driver enforces of task.resources on this node,
	// in words for users ("cpu and memory through cgroup v2").
	Limits() string
}

// ErrNotRecoverable is returned by Recover when there is nothing to attach
// to.
var ErrNotRecoverable = fmt.Errorf("execution cannot be recovered")
