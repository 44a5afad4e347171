//go:build !unix

package exec

import (
	"context"
	"errors"

	"github.com/muster-dev/muster/runner"
)

// Driver would run exec tasks; there is none off Unix.
type Driver struct{}

var _ runner.Driver = (*Driver)(nil)

func init() { runner.Register(New()) }

// New returns a driver that refuses every execution.
func New() *Driver { return &Driver{} }

// Name is "exec".
func (d *Driver) Name() string { return "exec" }

// Start fails: the exec driver needs a Unix node.
func (d *Driver) Start(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	return nil, errors.New("exec: the exec driver runs on Unix nodes only")
}

// Recover returns runner.ErrNotRecoverable.
func (d *Driver) Recover(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	return nil, runner.ErrNotRecoverable
}

// Limits says nothing is enforced.
func (d *Driver) Limits() string { return "nothing: the exec driver runs on Unix nodes only" }
