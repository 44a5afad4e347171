// Package runner is the node side of muster: the drivers that run one
// execution each (exec, docker, wasm), registered by name, and what an
// execution needs around them (its root directory, environment, inputs,
// outputs and logs).
package runner

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/muster-dev/muster/schema"
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
	// variables of SPEC section 4 (MUSTER_ROOT as the driver must show it
	// is set by the driver itself).
	Env map[string]string
	// Stdout and Stderr receive the task's output as it is produced.
	Stdout, Stderr io.Writer
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

var (
	mu      sync.RWMutex
	drivers = map[string]Driver{}
)

// Register makes a driver available by its name. Registering a name twice
// replaces the first.
func Register(d Driver) {
	mu.Lock()
	defer mu.Unlock()
	drivers[d.Name()] = d
}

// Lookup returns the driver registered under name.
func Lookup(name string) (Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := drivers[name]
	return d, ok
}

// Names lists the registered drivers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(drivers))
	for n := range drivers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
