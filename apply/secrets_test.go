package apply

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/state"
)

// seeing is a driver that notes the environment and the secret input file
// each execution saw, and fails the run with the value in its error when
// env FAIL is set, to check that no recorded message shows it.
type seeing struct {
	mu   sync.Mutex
	env  []string
	file []string
}

func (s *seeing) Name() string   { return "exec" }
func (s *seeing) Limits() string { return "none" }
func (s *seeing) Recover(context.Context, *runner.Spec) (runner.Handle, error) {
	return nil, runner.ErrNotRecoverable
}

func (s *seeing) Start(_ context.Context, sp *runner.Spec) (runner.Handle, error) {
	b, _ := os.ReadFile(filepath.Join(sp.Root, "run/key"))
	s.mu.Lock()
	s.env = append(s.env, sp.Env["DB"])
	s.file = append(s.file, string(b))
	s.mu.Unlock()
	return handle{}, nil
}

func TestSecretsReachOnlyTheRunner(t *testing.T) {
	h := newHarness(t, "n1")
	d := &seeing{}
	h.use(d)
	const job = "name: db\ntask: {engine: exec, cmd: [x], env: {DB: \"secret:default/db\"}, inputs: [{source: \"secret:default/key\", target: /run/key}]}\n"
	ctx := context.Background()
	key := make([]byte, state.SecretKeySize)
	rand.Read(key)
	if err := h.st.SetSecretKey(key); err != nil {
		t.Fatal(err)
	}

	out, j, _ := h.apply(job, false)
	if out.State != state.StateQueued || !strings.Contains(out.Message, "secret default/db does not exist") {
		t.Fatalf("without the secrets: %+v, want queued naming default/db", out)
	}
	if js := h.status(j); js.State != state.StateQueued || !strings.Contains(js.Message, "secret default/db does not exist") {
		t.Fatalf("job status %s %q", js.State, js.Message)
	}
	if len(d.env) != 0 {
		t.Fatalf("ran without its secrets: %v", d.env)
	}

	const dbValue, keyValue = "db-pa55-value", "tls-key-value"
	h.st.PutSecret(ctx, "default", "db", []byte(dbValue))
	out, _, _ = h.apply(job, false)
	if out.State != state.StateQueued || !strings.Contains(out.Message, "secret default/key does not exist") {
		t.Fatalf("with one secret of two: %+v", out)
	}
	h.st.PutSecret(ctx, "default", "key", []byte(keyValue))
	out, j, v := h.apply(job, false)
	if out.State != state.StateCompleted {
		t.Fatalf("with its secrets: %+v", out)
	}
	if len(d.env) != 1 || d.env[0] != dbValue || d.file[0] != keyValue {
		t.Fatalf("the task saw env %q and file %q", d.env, d.file)
	}
	xs, err := h.st.Executions(ctx, j.Namespace, j.Name)
	if err != nil {
		t.Fatal(err)
	}
	recorded, _ := json.Marshal(struct {
		X  []state.Execution
		E  []Event
		JS state.JobStatus
	}{xs, h.evs, h.status(j)})
	for _, v := range []string{dbValue, keyValue} {
		if strings.Contains(string(recorded), v) {
			t.Errorf("a record or event holds a secret's value:\n%s", recorded)
		}
	}
	for _, x := range xs {
		if x.JobVersion == v && len(x.Accessed) != 0 {
			t.Errorf("a secret input was recorded as accessed: %+v", x.Accessed)
		}
	}
}
