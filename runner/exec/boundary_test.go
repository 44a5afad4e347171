//go:build linux

package exec_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/exec"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// secret is what the node keeps outside every execution root.
const secret = "node secret: must never leave the node\n"

// helperSocket leaves a Unix socket file at os.Args[1] (the test binary as
// a task step: sh cannot make one).
func helperSocket() {
	l, err := net.Listen("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	os.Exit(0)
}

// node is an agent over an embedded store, beside a victim directory.
type node struct {
	a      *runner.Agent
	st     *state.Store
	victim string
}

func newNode(t testing.TB) *node {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base := t.TempDir()
	n := &node{a: &runner.Agent{NodeID: "n1", Dir: filepath.Join(base, "executions"), Store: st, Grace: time.Second}, st: st, victim: filepath.Join(base, "victim")}
	os.MkdirAll(n.victim, 0o755)
	os.WriteFile(filepath.Join(n.victim, "secret"), []byte(secret), 0o644)
	os.WriteFile(filepath.Join(n.victim, "keep"), []byte("keep"), 0o644)
	return n
}

// run runs execution id of j through the agent, bounded by the test's own
// deadline: an agent that blocks fails the test instead of hanging it.
func (n *node) run(t *testing.T, ctx context.Context, id string, j *schema.Job) (state.Execution, runner.Result) {
	t.Helper()
	e, err := n.st.CreateExecution(context.Background(), state.Execution{ID: id, JobID: j.Namespace + "/" + j.Name, JobVersion: 1, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		e   state.Execution
		res runner.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		e, res, err := n.a.Run(ctx, e, j)
		done <- result{e, res, err}
	}()
	bound, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Run: %v", r.err)
		}
		return r.e, r.res
	case <-bound.Done():
		t.Fatal("the agent blocked")
	}
	return state.Execution{}, runner.Result{}
}

// check asserts that the victim directory is as it was and that the store
// holds neither the secret nor the node's /etc/passwd or /etc/shadow.
func (n *node) check(t *testing.T, e state.Execution) {
	t.Helper()
	ctx := context.Background()
	entries, _ := os.ReadDir(n.victim)
	if len(entries) != 2 {
		t.Errorf("the victim directory holds %d entries, want 2", len(entries))
	}
	for name, want := range map[string]string{"secret": secret, "keep": "keep"} {
		if b, err := os.ReadFile(filepath.Join(n.victim, name)); err != nil || string(b) != want {
			t.Errorf("victim/%s = %q, %v", name, b, err)
		}
	}
	for _, p := range []string{filepath.Join(n.victim, "secret"), "/etc/passwd", "/etc/shadow"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		if has, _ := n.st.HasDocument(ctx, schema.HashPrefix+hex.EncodeToString(sum[:])); has {
			t.Errorf("the document store holds %s", p)
		}
	}
	for _, d := range e.Outputs {
		rc, err := n.st.Document(ctx, d.Hash)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte("node secret")) || bytes.Contains(b, []byte("root:")) {
			t.Errorf("output %s holds a node file", d.Path)
		}
	}
}

func outputPaths(e state.Execution) string {
	var ps []string
	for _, d := range e.Outputs {
		ps = append(ps, d.Path)
	}
	sort.Strings(ps)
	return strings.Join(ps, " ")
}

// TestAgentKeepsExecOutputsInTheRoot: an exec task plants absolute,
// relative and mid-path links to node files, a FIFO, a socket, a
// directory where a file is expected and a file over the node's limit
// among its outputs. Only its own regular files are stored; the rest is
// recorded with why, and nothing blocks.
func TestAgentKeepsExecOutputsInTheRoot(t *testing.T) {
	n := newNode(t)
	n.a.MaxOutputSize = 64 << 10
	id := "exec-boundary"
	root := filepath.Join(n.a.ExecutionDir(id), "root")
	relFrom := func(from, to string) string {
		r, err := filepath.Rel(filepath.Join(root, from), to)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		`set -e`,
		`cd "$MUSTER_ROOT"`,
		`mkdir -p out tree/sub dir-as-file`,
		`echo ok > out/ok.txt`,
		`ln -s ok.txt out/inside`,
		`ln -s "$VICTIM/secret" out/abs`,
		`ln -s "$REL_SECRET" out/rel`,
		`ln -s /etc/passwd out/passwd`,
		`ln -s /etc/shadow out/shadow`,
		`ln -s "$VICTIM" mid`,
		`ln -s "$REL_VICTIM" midrel`,
		`mkfifo out/fifo`,
		`EXEC_TEST_HELPER=socket "$HELPER" out/sock`,
		`head -c 100000 /dev/zero > out/huge`,
		`echo a > dir-as-file/a.txt`,
		`mkfifo dir-as-file/fifo`,
		`ln -s "$VICTIM/secret" dir-as-file/abs`,
		`echo planted`,
	}, "\n")
	j := job("sh", "-c", script)
	j.Task.Env = map[string]string{
		"VICTIM": n.victim, "HELPER": self,
		"REL_SECRET": relFrom("out", filepath.Join(n.victim, "secret")),
		"REL_VICTIM": relFrom(".", n.victim),
	}
	for _, p := range []string{"/out/ok.txt", "/out/inside", "/out/abs", "/out/rel", "/out/passwd", "/out/shadow",
		"/mid/secret", "/midrel/secret", "/out/fifo", "/out/sock", "/out/huge", "/dir-as-file"} {
		j.Task.Outputs = append(j.Task.Outputs, schema.Output{Path: p})
	}
	e, res := n.run(t, context.Background(), id, j)
	if !res.Succeeded() || e.Status.ComputeState != state.ComputeComplete {
		b, _ := os.ReadFile(filepath.Join(n.a.ExecutionDir(id), "stderr.log"))
		t.Fatalf("result %+v, execution %+v; stderr %s", res, e.Status, b)
	}
	if got, want := outputPaths(e), "/dir-as-file/a.txt /out/inside /out/ok.txt"; got != want {
		t.Errorf("stored %s, want %s", got, want)
	}
	got := map[string]string{}
	for _, s := range e.Skipped {
		got[s.Path] = s.Reason
	}
	for p, want := range map[string]string{
		"/out/abs":          "symlink /out/abs leaves the execution root",
		"/out/rel":          "symlink /out/rel leaves the execution root",
		"/out/passwd":       "symlink /out/passwd leaves the execution root",
		"/out/shadow":       "symlink /out/shadow leaves the execution root",
		"/mid/secret":       "symlink /mid leaves the execution root",
		"/midrel/secret":    "symlink /midrel leaves the execution root",
		"/out/fifo":         "not a regular file (fifo)",
		"/out/sock":         "not a regular file (socket)",
		"/out/huge":         "output limit 64K reached",
		"/dir-as-file/fifo": "not a regular file (fifo)",
		"/dir-as-file/abs":  "symlink /dir-as-file/abs leaves the execution root",
	} {
		if !strings.HasPrefix(got[p], want) {
			t.Errorf("skipped %s: %q, want %q", p, got[p], want)
		}
	}
	if len(got) != 11 {
		t.Errorf("skipped %v", e.Skipped)
	}
	if !strings.Contains(e.Status.Message, "11 outputs skipped") {
		t.Errorf("status message %q does not say outputs were skipped", e.Status.Message)
	}
	stored, err := n.st.Execution(context.Background(), "default", "j", id)
	if err != nil || len(stored.Skipped) != 11 {
		t.Errorf("the stored execution has %d skipped outputs (%v)", len(stored.Skipped), err)
	}
	n.check(t, e)
}

// notify is a log writer that closes ready once the task printed line.
type notify struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	line  string
	ready chan struct{}
	once  sync.Once
}

func (w *notify) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.line+"\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

// TestAgentStopCutsOutputs: outputs of a stopped execution are recorded as
// not collected, and the stop is not held up by storing them.
func TestAgentStopCutsOutputs(t *testing.T) {
	n := newNode(t)
	ready := &notify{line: "written", ready: make(chan struct{})}
	n.a.Logs = func(string) (io.Writer, io.Writer) { return ready, io.Discard }
	j := job("sh", "-c", `mkdir -p "$MUSTER_ROOT/out"; mkfifo "$MUSTER_ROOT/out/fifo"; echo r > "$MUSTER_ROOT/out/r.txt"; echo written; exec sleep 100`)
	j.Task.Outputs = []schema.Output{{Path: "/out"}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ready.ready
		cancel()
	}()
	e, _ := n.run(t, ctx, "exec-stopped", j)
	if e.Status.ComputeState != state.ComputeStopped {
		t.Fatalf("state %+v", e.Status)
	}
	if len(e.Outputs) != 0 || len(e.Skipped) != 1 || e.Skipped[0].Reason != "not collected: the execution was stopped" {
		t.Errorf("outputs %v skipped %v", e.Outputs, e.Skipped)
	}
	if !strings.Contains(e.Status.Message, "1 output skipped") {
		t.Errorf("status message %q", e.Status.Message)
	}
}

// TestWorkdirStaysInTheRoot: task.workdir is made through the root, so a
// link on its way cannot make the driver create directories on the node.
func TestWorkdirStaysInTheRoot(t *testing.T) {
	victim := t.TempDir()
	for _, link := range []string{victim, "../" + filepath.Base(victim)} {
		s, _, _ := spec(t, job("true"))
		if err := os.Symlink(link, filepath.Join(s.Root, "w")); err != nil {
			t.Fatal(err)
		}
		s.Job.Task.Workdir = "/w/sub"
		if h, err := exec.New().Start(context.Background(), s); err == nil {
			h.Wait(context.Background())
			t.Errorf("workdir through a link to %s: started", link)
		}
		if entries, _ := os.ReadDir(victim); len(entries) != 0 {
			t.Fatalf("the driver created %s in the victim directory", entries[0].Name())
		}
	}
}
