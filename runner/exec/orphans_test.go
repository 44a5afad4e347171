//go:build linux

package exec

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
)

// TestRecoverKillsOrphans: a new driver (a restarted node process) cannot
// re-attach to an exec execution, but it ends the process group the old one
// left running, so the replacement does not run beside it.
func TestRecoverKillsOrphans(t *testing.T) {
	root := filepath.Join(t.TempDir(), "x1", "root")
	os.MkdirAll(root, 0o755)
	j := &schema.Job{Name: "j", Namespace: "default", Task: schema.Task{Engine: schema.Exec, Cmd: []string{"sh", "-c", "sleep 100 & sleep 100"}}}
	var out bytes.Buffer
	spec := &runner.Spec{ExecutionID: "x1", Job: j, Root: root, Env: map[string]string{}, Stdout: &out, Stderr: &out}
	h, err := New().Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), pgidName)); err != nil {
		t.Fatalf("no process group note: %v", err)
	}
	_, err = New().Recover(context.Background(), spec)
	if !errors.Is(err, runner.ErrNotRecoverable) {
		t.Fatalf("Recover: %v, want ErrNotRecoverable", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.Wait(ctx)
	if err != nil {
		t.Fatalf("the orphaned group was not killed: %v", err)
	}
	if res.Signal != "KILL" && res.ExitCode == 0 {
		t.Errorf("result = %+v, want killed", res)
	}
	if _, err := New().Recover(context.Background(), spec); !errors.Is(err, runner.ErrNotRecoverable) {
		t.Errorf("second Recover: %v", err)
	}
}
