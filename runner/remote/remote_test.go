package remote_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nats-io/nats.go"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	_ "github.com/muster-dev/muster/runner/exec"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

const ping = 200 * time.Millisecond

// cluster is a control plane store and one node agent reached through a
// second connection, as a separate process would.
type cluster struct {
	t      testing.TB
	st     *state.Store // the control plane's
	agent  *state.Store // the agent's connection
	a      *runner.Agent
	node   string
	client *remote.Client
	stop   context.CancelFunc // ends Serve
	served chan error         // Serve's result
}

func newCluster(t testing.TB, node string) *cluster {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir(), state.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gw, err := remote.ServeGateway(st.Conn(), st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Unsubscribe() })
	c := &cluster{
		t:      t,
		st:     st,
		node:   node,
		client: &remote.Client{NodeID: node, NC: st.Conn(), Store: st, Ping: ping},
	}
	return c
}

// serve starts the agent of the cluster's node.
func (c *cluster) serve() {
	c.t.Helper()
	ctx := context.Background()
	// The agent connects as its node does, with a node's credentials.
	_, tok, err := c.st.CreateToken(ctx, state.TokenSpec{Namespace: state.AllNamespaces, Role: state.RoleNode, Node: c.node})
	if err != nil {
		c.t.Fatal(err)
	}
	agent, err := state.Connect(ctx, c.st.ClientURL(), nats.UserInfo(c.node, tok), nats.CustomInboxPrefix(state.NodeInbox(c.node)))
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := agent.PutNode(ctx, state.Node{ID: c.node, Status: state.NodeReady, LastSeen: time.Now()}); err != nil {
		c.t.Fatal(err)
	}
	a := &runner.Agent{NodeID: c.node, Dir: c.t.TempDir(), Store: agent, Grace: 2 * time.Second,
		Drivers: runner.DefaultDrivers().With(reattach{}), Executions: remote.Gateway{NC: agent.Conn(), NodeID: c.node}}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- remote.Serve(sctx, agent.Conn(), a, remote.SpecsFrom(agent)) }()
	c.agent, c.a, c.stop, c.served = agent, a, stop, served
	c.t.Cleanup(func() {
		stop()
		<-served
		agent.Close()
	})
	// Serve subscribes in its goroutine: wait until it answers.
	wait.For(c.t, 5*time.Second, "the agent to answer", func() (error, bool) {
		_, err := c.client.ReadLog(ctx, "none", "stdout", 0)
		return err, err == nil
	})
}

var ids atomic.Int64

// job stores an exec job running sh -c script and creates an execution of
// it on the cluster's node.
func (c *cluster) job(script string) (state.Execution, *schema.Job) {
	c.t.Helper()
	ctx := context.Background()
	j := &schema.Job{
		Name:          "remote",
		Type:          schema.Batch,
		RestartPolicy: schema.Never,
		Task:          schema.Task{Engine: schema.Exec, Cmd: []string{"sh", "-c", script}},
	}
	schema.Normalize(j)
	if _, err := c.st.PutSpec(ctx, j.Canonical()); err != nil {
		c.t.Fatal(err)
	}
	e, err := c.st.CreateExecution(ctx, state.Execution{
		ID:         fmt.Sprintf("e%d", ids.Add(1)),
		JobID:      j.Namespace + "/" + j.Name,
		JobVersion: 1,
		NodeID:     c.node,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return e, j
}

// stored reads an execution back from the control plane's store.
func (c *cluster) stored(e state.Execution) state.Execution {
	c.t.Helper()
	ns, name, _ := e.JobRef()
	x, err := c.st.Execution(context.Background(), ns, name, e.ID)
	if err != nil {
		c.t.Fatal(err)
	}
	return x
}

// readAll reads a whole log through the client.
func readAll(t *testing.T, c *remote.Client, id, stream string) string {
	t.Helper()
	var b []byte
	for {
		chunk, err := c.ReadLog(context.Background(), id, stream, int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk) == 0 {
			return string(b)
		}
		b = append(b, chunk...)
	}
}

func TestRunToEnd(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	tests := []struct {
		name           string
		script         string
		state          state.ComputeState
		code           int
		stdout, stderr string
	}{
		{"echo", "echo hello; echo oops >&2", state.ComputeComplete, 0, "hello\n", "oops\n"},
		{"exit 3", "echo before; exit 3", state.ComputeFailed, 3, "before\n", ""},
		{"env", `echo "$MUSTER_NODE_ID $MUSTER_EXECUTION_ID"`, state.ComputeComplete, 0, "n1 ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, j := c.job(tt.script)
			x, res, err := c.client.Run(context.Background(), e, j)
			if err != nil {
				t.Fatal(err)
			}
			if x.Status.ComputeState != tt.state || res.ExitCode != tt.code {
				t.Fatalf("ended %s with %+v (%s), want %s with exit code %d", x.Status.ComputeState, res, x.Status.Message, tt.state, tt.code)
			}
			if got := c.stored(e); got.Revision != x.Revision || got.Status != x.Status {
				t.Errorf("Run returned revision %d %+v, the store has %d %+v", x.Revision, x.Status, got.Revision, got.Status)
			}
			if got := readAll(t, c.client, e.ID, "stdout"); !strings.HasPrefix(got, tt.stdout) {
				t.Errorf("stdout %q, want it to start with %q", got, tt.stdout)
			}
			if got := readAll(t, c.client, e.ID, "stderr"); got != tt.stderr {
				t.Errorf("stderr %q, want %q", got, tt.stderr)
			}
		})
	}
}

func TestReadLogErrors(t *testing.T) {
	c := newCluster(t, "n1")
	if _, err := c.client.ReadLog(context.Background(), "e1", "stdout", 0); err == nil || !strings.Contains(err.Error(), "no agent answers for node n1") {
		t.Fatalf("ReadLog with no agent: %v", err)
	}
	c.serve()
	if _, err := c.client.ReadLog(context.Background(), "e1", "journal", 0); err == nil || !strings.Contains(err.Error(), "want stdout or stderr") {
		t.Fatalf("ReadLog of a bad stream: %v", err)
	}
}

func TestCancelStops(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	e, j := c.job("echo started; sleep 30")
	ctx, cancel := context.WithCancel(context.Background())
	done := c.runAsync(ctx, e, j)
	waitStarted(t, c, e)
	t0 := time.Now()
	cancel()
	r := ended(t, done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.x.Status.ComputeState != state.ComputeStopped || r.res.Succeeded() {
		t.Fatalf("ended %s with %+v, want stopped", r.x.Status.ComputeState, r.res)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("stopping took %s", d)
	}
}

// ran is what Client.Run returned.
type ran struct {
	x   state.Execution
	res runner.Result
	err error
}

// runAsync runs e through the client in a goroutine, so that the test's
// own goroutine can wait for conditions (and fail) while it runs.
func (c *cluster) runAsync(ctx context.Context, e state.Execution, j *schema.Job) <-chan ran {
	done := make(chan ran, 1)
	go func() {
		x, res, err := c.client.Run(ctx, e, j)
		done <- ran{x, res, err}
	}()
	return done
}

// ended waits for the end of a run of runAsync.
func ended(t *testing.T, done <-chan ran) ran {
	t.Helper()
	r, _ := wait.For(t, wait.Default, "the run to end", func() (ran, bool) {
		select {
		case r := <-done:
			return r, true
		default:
			return ran{}, false
		}
	})
	return r
}

// waitStarted waits until the task printed its first line and the store
// has it running.
func waitStarted(t *testing.T, c *cluster, e state.Execution) {
	t.Helper()
	wait.Until(t, 10*time.Second, "the task to start", func() bool {
		b, err := c.client.ReadLog(context.Background(), e.ID, "stdout", 0)
		return err == nil && len(b) > 0
	})
	// The task writes before the agent records it running: a test that
	// then takes the store away must wait for that record.
	ns, name, _ := e.JobRef()
	wait.Until(t, 10*time.Second, "the store to record the task running", func() bool {
		x, err := c.st.Execution(context.Background(), ns, name, e.ID)
		return err == nil && x.Status.ComputeState == state.ComputeRunning
	})
}

func TestAgentDies(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	e, j := c.job("echo started; sleep 30")
	done := c.runAsync(context.Background(), e, j)
	waitStarted(t, c, e)
	// As a killed process: the connection goes first, the executions are
	// left to themselves.
	died := time.Now()
	c.agent.Close()
	c.stop()
	r := ended(t, done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if x := r.x; x.Status.ComputeState != state.ComputeLost || !strings.Contains(x.Status.Message, "the agent of node n1 stopped answering") {
		t.Fatalf("ended %s (%s) with %+v, want lost", x.Status.ComputeState, x.Status.Message, r.res)
	}
	if d := time.Since(died); d > 5*ping+2*time.Second {
		t.Errorf("the loss took %s to notice with pings every %s", d, ping)
	}
	if got := c.stored(e); got.Status.ComputeState != state.ComputeLost {
		t.Errorf("the store has %s", got.Status.ComputeState)
	}
	if err := <-c.served; !errors.Is(err, context.Canceled) && err != nil && !strings.Contains(err.Error(), "closed") {
		t.Errorf("Serve: %v", err)
	}
	c.served <- nil // for the cleanup
}

func TestAgentShutsDown(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	e, j := c.job("echo started; sleep 30")
	done := c.runAsync(context.Background(), e, j)
	waitStarted(t, c, e)
	c.stop()
	r := ended(t, done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if x := r.x; x.Status.ComputeState != state.ComputeStopped {
		t.Fatalf("ended %s (%s), want stopped by the agent's end", x.Status.ComputeState, x.Status.Message)
	}
	if err := <-c.served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	c.served <- nil
}

func TestNoAgent(t *testing.T) {
	c := newCluster(t, "n1")
	e, j := c.job("echo never")
	t0 := time.Now()
	x, res, err := c.client.Run(context.Background(), e, j)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status.ComputeState != state.ComputeLost || x.Status.Message != "no agent answers for node n1" || res.ExitCode != -1 {
		t.Fatalf("ended %s (%s) with %+v, want lost", x.Status.ComputeState, x.Status.Message, res)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("took %s", d)
	}
	if _, _, ok, err := c.client.Recover(context.Background(), e, j); ok || err != nil {
		t.Errorf("Recover with no agent: ok %v, %v", ok, err)
	}
}

// TestRefused sends an agent an execution of another node: it refuses
// it, and the execution is recorded failed.
func TestRefused(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	e, j := c.job("echo never")
	e.NodeID = "n2"
	x, res, err := c.client.Run(context.Background(), e, j)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status.ComputeState != state.ComputeFailed || !strings.Contains(x.Status.Message, "refused") || res.ExitCode != -1 {
		t.Fatalf("ended %s (%s) with %+v, want failed", x.Status.ComputeState, x.Status.Message, res)
	}
}

func TestSpecsFrom(t *testing.T) {
	c := newCluster(t, "n1")
	_, j := c.job("echo x")
	got, err := remote.SpecsFrom(c.st)(context.Background(), j.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != j.Hash() {
		t.Errorf("read back %s, want %s", got.Hash(), j.Hash())
	}
	if _, err := remote.SpecsFrom(c.st)(context.Background(), "sha256:"+strings.Repeat("0", 64)); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("missing spec: %v", err)
	}
}

// TestLargeLog reads a log bigger than a NATS message can carry.
func TestLargeLog(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	const size = 3 << 20
	e, j := c.job(fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a", size))
	if x, _, err := c.client.Run(context.Background(), e, j); err != nil || x.Status.ComputeState != state.ComputeComplete {
		t.Fatalf("Run: %s (%s), %v", x.Status.ComputeState, x.Status.Message, err)
	}
	got := readAll(t, c.client, e.ID, "stdout")
	if len(got) != size || strings.Trim(got, "a") != "" {
		t.Fatalf("read %d bytes, want %d times a", len(got), size)
	}
}

// TestCancelAnyTime stops executions at every stage of their start: each
// ends, with no error and not left half-way in the store, whatever the
// agent was doing then. (A stop while the exec driver starts the process
// is recorded failed with "context canceled" by runner.Agent itself, so
// failed is accepted besides stopped.)
func TestCancelAnyTime(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	for d := time.Duration(0); d <= 60*time.Millisecond; d += 4 * time.Millisecond {
		e, j := c.job("sleep 30")
		ctx, cancel := context.WithTimeout(context.Background(), d)
		x, res, err := c.client.Run(ctx, e, j)
		cancel()
		if err != nil {
			t.Fatalf("cancelled after %s: %v", d, err)
		}
		if st := x.Status.ComputeState; st != state.ComputeStopped && st != state.ComputeFailed || res.Succeeded() {
			t.Fatalf("cancelled after %s: ended %s (%s) with %+v, want stopped", d, x.Status.ComputeState, x.Status.Message, res)
		}
	}
}

// TestSpecMustMatchItsHash sends an agent a run request whose spec is not
// the one its hash names: the agent refuses it and runs nothing.
func TestSpecMustMatchItsHash(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	e, j := c.job("echo never")
	other := &schema.Job{Name: "remote", Task: schema.Task{Engine: schema.Exec, Cmd: []string{"sh", "-c", "echo swapped"}}}
	schema.Normalize(other)
	req := remote.RunRequest{Execution: e, SpecHash: j.Hash(), Spec: other.Canonical()}
	b, _ := json.Marshal(req)
	m, err := c.st.Conn().Request(remote.NodeSubject("n1", remote.OpRun), b, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var reply remote.StartReply
	if err := json.Unmarshal(m.Data, &reply); err != nil || reply.Accepted || !strings.Contains(reply.Error, "reads back as") {
		t.Fatalf("reply %+v (%v), want a refusal naming the mismatch", reply, err)
	}
}

// TestLostRunRequestIsSentAgain: a run request that reaches no agent (a
// subscriber swallows it, as a NATS server the agent was leaving would)
// is sent again once the agent answers, and the execution runs once.
func TestLostRunRequestIsSentAgain(t *testing.T) {
	defer remote.SetRunAttempt(300 * time.Millisecond)()
	c := newCluster(t, "n1")
	swallowed := make(chan struct{}, 8)
	hole, err := c.st.Conn().Subscribe(remote.NodeSubject("n1", remote.OpRun), func(*nats.Msg) { swallowed <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	e, j := c.job("echo ran")
	done := c.runAsync(context.Background(), e, j)
	select {
	case <-swallowed:
	case <-time.After(10 * time.Second):
		t.Fatal("the run request never came")
	}
	hole.Unsubscribe()
	c.serve()
	r := ended(t, done)
	if r.err != nil || r.x.Status.ComputeState != state.ComputeComplete || r.res.ExitCode != 0 {
		t.Fatalf("ended %s (%s) with %+v, %v; want complete", r.x.Status.ComputeState, r.x.Status.Message, r.res, r.err)
	}
	if got := readAll(t, c.client, e.ID, "stdout"); got != "ran\n" {
		t.Errorf("stdout %q, want the task to have run once", got)
	}
}

// TestRunAskedTwiceRunsOnce: a run request for an execution the agent runs
// already (the client asked again) is answered accepted, and the task
// runs once.
func TestRunAskedTwiceRunsOnce(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	e, j := c.job("echo started; sleep 2")
	done := c.runAsync(context.Background(), e, j)
	waitStarted(t, c, e)
	spec := j.Canonical()
	req, _ := json.Marshal(remote.RunRequest{Execution: e, KVRevision: e.StoredRevision(), SpecHash: schema.HashBytes(spec), Spec: spec})
	m, err := c.st.Conn().Request(remote.NodeSubject("n1", remote.OpRun), req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var reply remote.StartReply
	if err := json.Unmarshal(m.Data, &reply); err != nil || !reply.Accepted || reply.Error != "" {
		t.Errorf("the second request got %s (%v), want accepted", m.Data, err)
	}
	if r := ended(t, done); r.err != nil || r.x.Status.ComputeState != state.ComputeComplete {
		t.Fatalf("ended %s (%s), %v; want complete", r.x.Status.ComputeState, r.x.Status.Message, r.err)
	}
	if got := readAll(t, c.client, e.ID, "stdout"); got != "started\n" {
		t.Errorf("stdout %q, want the task to have run once", got)
	}
}
