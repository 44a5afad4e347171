package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// quoteDriver fails every start with an error that quotes the task's env
// DB and the input file /k, as a careless driver might.
type quoteDriver struct{ trueDriver }

func (quoteDriver) Start(_ context.Context, sp *Spec) (Handle, error) {
	path := filepath.Join(sp.Root, "k")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fi, _ := os.Stat(path)
	return nil, fmt.Errorf("saw DB=%s and k=%s (mode %v)", sp.Env["DB"], b, fi.Mode().Perm())
}

func secretJob(t *testing.T) *schema.Job {
	t.Helper()
	src := "name: s\ntask:\n  engine: exec\n  cmd: [\"true\"]\n  env: {DB: \"secret:default/db\"}\n  inputs:\n  - {source: \"secret:default/k\", target: /k}\n"
	res := compiler.Compile("s.yaml", []byte(src), compiler.YAML, lang.Options{})
	if res.Diags.HasErrors() {
		t.Fatal(res.Diags)
	}
	return res.Jobs[0].Spec
}

// TestAgentPlacesAndHidesSecrets: the agent puts the secrets handed to it
// in the task's environment and input files (owner-only), and no message
// it records or returns shows them; without them it fails naming the
// secret.
func TestAgentPlacesAndHidesSecrets(t *testing.T) {
	j := secretJob(t)
	st := openStore(t)
	ctx := context.Background()
	if _, err := st.PutSpec(ctx, j.Canonical()); err != nil {
		t.Fatal(err)
	}
	a := &Agent{NodeID: "n", Dir: t.TempDir(), Store: st, Drivers: NewDrivers(quoteDriver{})}
	for _, c := range []struct {
		name    string
		secrets Secrets
		want    string
	}{
		{"handed", Secrets{"default/db": []byte("db-value-77"), "default/k": []byte("key-value-88")},
			"saw DB=(sensitive) and k=(sensitive) (mode -rw-------)"},
		{"not handed", nil, "secret default/k was not handed to this agent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, err := st.CreateExecution(ctx, state.Execution{ID: "x-" + strings.ReplaceAll(c.name, " ", "-"), JobID: "default/s", JobVersion: 1, NodeID: "n",
				Status: state.ExecutionStatus{ComputeState: state.ComputePending, DesiredState: state.DesiredRunning}})
			if err != nil {
				t.Fatal(err)
			}
			x, r, err := a.Run(WithSecrets(ctx, c.secrets), x, j)
			if err != nil {
				t.Fatal(err)
			}
			if x.Status.ComputeState != state.ComputeFailed || !strings.Contains(x.Status.Message, c.want) {
				t.Fatalf("execution %s: %q, want failed saying %q", x.Status.ComputeState, x.Status.Message, c.want)
			}
			for _, s := range []string{x.Status.Message, r.Message} {
				if strings.Contains(s, "db-value-77") || strings.Contains(s, "key-value-88") {
					t.Errorf("a message shows a secret: %s", s)
				}
			}
			if len(x.Accessed) != 0 {
				t.Errorf("a secret input was recorded as accessed: %+v", x.Accessed)
			}
		})
	}
}

// doneDriver runs every task to exit 0 at once, leaving a file of its own
// beside the inputs.
type doneDriver struct{ trueDriver }

type doneHandle struct{}

func (doneHandle) Wait(context.Context) (Result, error)      { return Result{}, nil }
func (doneHandle) Stop(context.Context, time.Duration) error { return nil }

func (doneDriver) Start(_ context.Context, sp *Spec) (Handle, error) {
	return doneHandle{}, os.WriteFile(filepath.Join(sp.Root, "run", "made"), []byte("made by the task"), 0o644)
}

// TestSecretInputIsNoOutput: a secret input file is removed once the task
// ran, before the outputs are collected, even from a directory that is an
// output.
func TestSecretInputIsNoOutput(t *testing.T) {
	src := "name: o\ntask:\n  engine: exec\n  cmd: [\"true\"]\n  inputs:\n  - {source: \"secret:default/k\", target: /run/key}\n  outputs:\n  - {path: /run}\n"
	res := compiler.Compile("o.yaml", []byte(src), compiler.YAML, lang.Options{})
	if res.Diags.HasErrors() {
		t.Fatal(res.Diags)
	}
	j := res.Jobs[0].Spec
	st := openStore(t)
	ctx := context.Background()
	if _, err := st.PutSpec(ctx, j.Canonical()); err != nil {
		t.Fatal(err)
	}
	a := &Agent{NodeID: "n", Dir: t.TempDir(), Store: st, Drivers: NewDrivers(doneDriver{})}
	x, err := st.CreateExecution(ctx, state.Execution{ID: "o1", JobID: "default/o", JobVersion: 1, NodeID: "n",
		Status: state.ExecutionStatus{ComputeState: state.ComputePending, DesiredState: state.DesiredRunning}})
	if err != nil {
		t.Fatal(err)
	}
	x, _, err = a.Run(WithSecrets(ctx, Secrets{"default/k": []byte("key-value-99")}), x, j)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status.ComputeState != state.ComputeComplete {
		t.Fatalf("execution %s: %s", x.Status.ComputeState, x.Status.Message)
	}
	var paths []string
	for _, o := range x.Outputs {
		paths = append(paths, o.Path)
	}
	if len(paths) != 1 || paths[0] != "/run/made" {
		t.Errorf("outputs %v, want only /run/made", paths)
	}
	if _, err := os.Stat(filepath.Join(a.ExecutionDir("o1"), "root", "run", "key")); !os.IsNotExist(err) {
		t.Errorf("the secret input file stays in the root: %v", err)
	}
}
