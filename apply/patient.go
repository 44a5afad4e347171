package apply

import (
	"context"

	"github.com/muster-dev/muster/state"
)

// patient is a Store that asks again, for up to unavailableFor, what the
// store answers unavailable (state.Unavailable: JetStream took nothing,
// as while a NATS cluster elects a stream leader): a rollout or a
// controller rides out the loss of a NATS server instead of breaking on
// it. Every other answer, error or not, passes through at once.
type patient struct{ Store }

// patiently calls f until it answers other than unavailable, ctx ends, or
// unavailableFor passed (state.AskAgain).
func patiently[T any](ctx context.Context, f func() (T, error)) (T, error) {
	return state.AskAgain(ctx, unavailableFor, state.Unavailable, f)
}

// patientErr is patiently for a call that returns only an error.
func patientErr(ctx context.Context, f func() error) error {
	_, err := patiently(ctx, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

func (p patient) Job(ctx context.Context, ns, name string) (state.JobStatus, error) {
	return patiently(ctx, func() (state.JobStatus, error) { return p.Store.Job(ctx, ns, name) })
}

func (p patient) Jobs(ctx context.Context) ([]state.JobStatus, error) {
	return patiently(ctx, func() ([]state.JobStatus, error) { return p.Store.Jobs(ctx) })
}

func (p patient) History(ctx context.Context, ns, name string) ([]state.Version, error) {
	return patiently(ctx, func() ([]state.Version, error) { return p.Store.History(ctx, ns, name) })
}

func (p patient) Spec(ctx context.Context, hash string) ([]byte, error) {
	return patiently(ctx, func() ([]byte, error) { return p.Store.Spec(ctx, hash) })
}

func (p patient) SensitivePaths(ctx context.Context, hash string) ([]string, error) {
	return patiently(ctx, func() ([]string, error) { return p.Store.SensitivePaths(ctx, hash) })
}

func (p patient) CommitVersion(ctx context.Context, ns, name, hash string, base uint64, st state.JobState) (state.JobStatus, error) {
	return patiently(ctx, func() (state.JobStatus, error) { return p.Store.CommitVersion(ctx, ns, name, hash, base, st) })
}

func (p patient) UpdateStatus(ctx context.Context, ns, name string, update func(*state.JobStatus) error) (state.JobStatus, error) {
	return patiently(ctx, func() (state.JobStatus, error) { return p.Store.UpdateStatus(ctx, ns, name, update) })
}

func (p patient) Executions(ctx context.Context, ns, name string) ([]state.Execution, error) {
	return patiently(ctx, func() ([]state.Execution, error) { return p.Store.Executions(ctx, ns, name) })
}

func (p patient) Execution(ctx context.Context, ns, name, id string) (state.Execution, error) {
	return patiently(ctx, func() (state.Execution, error) { return p.Store.Execution(ctx, ns, name, id) })
}

func (p patient) CreateExecution(ctx context.Context, x state.Execution) (state.Execution, error) {
	return patiently(ctx, func() (state.Execution, error) { return p.Store.CreateExecution(ctx, x) })
}

func (p patient) UpdateExecution(ctx context.Context, x state.Execution) (state.Execution, error) {
	return patiently(ctx, func() (state.Execution, error) { return p.Store.UpdateExecution(ctx, x) })
}

func (p patient) Rollout(ctx context.Context, ns, name string, version int) (state.Rollout, error) {
	return patiently(ctx, func() (state.Rollout, error) { return p.Store.Rollout(ctx, ns, name, version) })
}

func (p patient) Rollouts(ctx context.Context, ns, name string) ([]state.Rollout, error) {
	return patiently(ctx, func() ([]state.Rollout, error) { return p.Store.Rollouts(ctx, ns, name) })
}

func (p patient) PutRollout(ctx context.Context, r state.Rollout) error {
	return patientErr(ctx, func() error { return p.Store.PutRollout(ctx, r) })
}

func (p patient) AppendEvent(ctx context.Context, ev state.Event) error {
	return patientErr(ctx, func() error { return p.Store.AppendEvent(ctx, ev) })
}

func (p patient) Nodes(ctx context.Context) ([]state.Node, error) {
	return patiently(ctx, func() ([]state.Node, error) { return p.Store.Nodes(ctx) })
}

func (p patient) Node(ctx context.Context, id string) (state.Node, error) {
	return patiently(ctx, func() (state.Node, error) { return p.Store.Node(ctx, id) })
}

func (p patient) PutNode(ctx context.Context, n state.Node) (state.Node, error) {
	return patiently(ctx, func() (state.Node, error) { return p.Store.PutNode(ctx, n) })
}

func (p patient) CreateLaunch(ctx context.Context, l state.Launch) (state.Launch, error) {
	return patiently(ctx, func() (state.Launch, error) { return p.Store.CreateLaunch(ctx, l) })
}

func (p patient) UpdateLaunch(ctx context.Context, l state.Launch) (state.Launch, error) {
	return patiently(ctx, func() (state.Launch, error) { return p.Store.UpdateLaunch(ctx, l) })
}

func (p patient) Launches(ctx context.Context, ns, name string) ([]state.Launch, error) {
	return patiently(ctx, func() ([]state.Launch, error) { return p.Store.Launches(ctx, ns, name) })
}

func (p patient) Arm(ctx context.Context, ns, name string, a state.Armed) error {
	return patientErr(ctx, func() error { return p.Store.Arm(ctx, ns, name, a) })
}

func (p patient) Armed(ctx context.Context, ns, name string) (state.Armed, error) {
	return patiently(ctx, func() (state.Armed, error) { return p.Store.Armed(ctx, ns, name) })
}
