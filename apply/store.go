package apply

import (
	"context"

	"github.com/muster-dev/muster/state"
)

// Store is what the engine and the controller read and write: job
// statuses, versions and specs, executions, rollout records, events and
// nodes. *state.Store (NATS JetStream) is the one muster runs on; tests
// give a fake that keeps the same rules (compare-and-set revisions, the
// transition tables of package state) in memory. Every method is safe for
// concurrent use.
type Store interface {
	Job(ctx context.Context, ns, name string) (state.JobStatus, error)
	Jobs(ctx context.Context) ([]state.JobStatus, error)
	History(ctx context.Context, ns, name string) ([]state.Version, error)
	Spec(ctx context.Context, hash string) ([]byte, error)
	SensitivePaths(ctx context.Context, hash string) ([]string, error)
	CommitVersion(ctx context.Context, ns, name, hash string, baseRevision uint64, st state.JobState) (state.JobStatus, error)
	UpdateStatus(ctx context.Context, ns, name string, update func(*state.JobStatus) error) (state.JobStatus, error)

	Executions(ctx context.Context, ns, name string) ([]state.Execution, error)
	Execution(ctx context.Context, ns, name, id string) (state.Execution, error)
	CreateExecution(ctx context.Context, x state.Execution) (state.Execution, error)
	UpdateExecution(ctx context.Context, x state.Execution) (state.Execution, error)

	Rollout(ctx context.Context, ns, name string, version int) (state.Rollout, error)
	Rollouts(ctx context.Context, ns, name string) ([]state.Rollout, error)
	PutRollout(ctx context.Context, r state.Rollout) error
	AppendEvent(ctx context.Context, ev state.Event) error

	// The launches of periodic jobs (see state.Launch) and since when a
	// job's schedule counts (state.Armed).
	CreateLaunch(ctx context.Context, l state.Launch) (state.Launch, error)
	UpdateLaunch(ctx context.Context, l state.Launch) (state.Launch, error)
	Launches(ctx context.Context, ns, name string) ([]state.Launch, error)
	Arm(ctx context.Context, ns, name string, a state.Armed) error
	Armed(ctx context.Context, ns, name string) (state.Armed, error)

	Nodes(ctx context.Context) ([]state.Node, error)
	Node(ctx context.Context, id string) (state.Node, error)
	PutNode(ctx context.Context, n state.Node) (state.Node, error)
	// WatchNodes sends every node as it is, then each change, until ctx
	// ends (see state.Store.WatchNodes).
	WatchNodes(ctx context.Context) (<-chan state.NodeEvent, error)
	// WatchJobs sends each change of a job's status from now on (see
	// state.Store.WatchJobs).
	WatchJobs(ctx context.Context) (<-chan state.JobEvent, error)
}

var _ Store = (*state.Store)(nil)
