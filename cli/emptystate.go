package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/state"
)

// emptyState is the state of a state directory that does not exist yet,
// as a command that only reads sees it: nothing is stored. Reads of one
// record fail with an error matching state.ErrNotFound, lists are empty,
// and writes are refused. It creates nothing.
type emptyState struct {
	dir string
}

var _ api.Backend = emptyState{}

// holdsState reports whether dir holds a muster state: it exists (as
// anything but a directory, which state.Open then refuses) or it has the
// JetStream store that the first command writing to it created. A missing
// or empty directory, or one that is something else (--state-dir ~), holds
// none, and reading it must not write a lock file and a store into it.
func holdsState(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	if !fi.IsDir() {
		return true
	}
	_, err = os.Lstat(filepath.Join(dir, "jetstream"))
	return err == nil
}

func (e emptyState) missing(what string, args ...any) error {
	return fmt.Errorf("%s %w (nothing is stored in %s yet)", fmt.Sprintf(what, args...), state.ErrNotFound, e.dir)
}

func (e emptyState) readOnly() error {
	return fmt.Errorf("nothing is stored in %s yet, and this command only reads", e.dir)
}

func (e emptyState) Job(_ context.Context, ns, name string) (state.JobStatus, error) {
	return state.JobStatus{}, e.missing("job %s/%s", ns, name)
}

func (e emptyState) Jobs(context.Context) ([]state.JobStatus, error) { return nil, nil }

func (e emptyState) History(_ context.Context, ns, name string) ([]state.Version, error) {
	return nil, e.missing("job %s/%s", ns, name)
}

func (e emptyState) Spec(_ context.Context, hash string) ([]byte, error) {
	return nil, e.missing("spec %s", hash)
}

func (e emptyState) ResolveSpec(_ context.Context, prefix string) (string, error) {
	return "", e.missing("spec %s", prefix)
}

func (e emptyState) ResolveDocument(_ context.Context, prefix string) (string, error) {
	return "", e.missing("document %s", prefix)
}

func (e emptyState) PutSpec(context.Context, []byte) (string, error) { return "", e.readOnly() }

func (e emptyState) SensitivePaths(context.Context, string) ([]string, error) { return nil, nil }

func (e emptyState) AddSensitivePaths(context.Context, string, []string) ([]string, error) {
	return nil, e.readOnly()
}

func (e emptyState) CommitVersion(context.Context, string, string, string, uint64, state.JobState) (state.JobStatus, error) {
	return state.JobStatus{}, e.readOnly()
}

func (e emptyState) Executions(_ context.Context, ns, name string) ([]state.Execution, error) {
	return nil, e.missing("job %s/%s", ns, name)
}

func (e emptyState) Rollouts(context.Context, string, string) ([]state.Rollout, error) {
	return nil, nil
}

func (e emptyState) Launches(context.Context, string, string) ([]state.Launch, error) {
	return nil, nil
}

func (e emptyState) JobEvents(context.Context, string, string, int) ([]state.Event, error) {
	return nil, nil
}

func (e emptyState) Nodes(context.Context) ([]state.Node, error) { return nil, nil }

func (e emptyState) PutNode(context.Context, state.Node) (state.Node, error) {
	return state.Node{}, e.readOnly()
}

func (e emptyState) PutDocument(context.Context, io.Reader) (string, int64, error) {
	return "", 0, e.readOnly()
}

func (e emptyState) Document(_ context.Context, hash string) (io.ReadCloser, error) {
	return nil, e.missing("document %s", hash)
}

func (e emptyState) Check(context.Context, func(string)) (state.CheckReport, error) {
	return state.CheckReport{}, nil
}
