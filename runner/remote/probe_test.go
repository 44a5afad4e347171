package remote_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// TestMain lets the test binary act as a service task (REMOTE_TEST_HELPER
// =serve): an HTTP server on $MUSTER_PORT_HTTP whose /health answers 200.
func TestMain(m *testing.M) {
	if os.Getenv("REMOTE_TEST_HELPER") == "serve" {
		l, err := net.Listen("tcp", ":"+os.Getenv("MUSTER_PORT_HTTP"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Println("serving")
		http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/health" {
				http.NotFound(w, r)
			}
		}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// service stores a service job of the helper server with a dynamic http
// port and an http probe, and creates an execution of it on the cluster's
// node.
func (c *cluster) service() (state.Execution, *schema.Job) {
	c.t.Helper()
	self, err := os.Executable()
	if err != nil {
		c.t.Fatal(err)
	}
	ctx := context.Background()
	j := &schema.Job{
		Name: "web",
		Type: schema.Service,
		Task: schema.Task{Engine: schema.Exec, Cmd: []string{self}, Env: map[string]string{"REMOTE_TEST_HELPER": "serve"},
			Ports: []schema.Port{{Name: "http"}}},
	}
	schema.Normalize(j)
	j.Rollout.HealthCheck.Probe = &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/health"}, Timeout: schema.DefaultProbeTimeout}
	if _, err := c.st.PutSpec(ctx, j.Canonical()); err != nil {
		c.t.Fatal(err)
	}
	e, err := c.st.CreateExecution(ctx, state.Execution{ID: fmt.Sprintf("e%d", ids.Add(1)), JobID: "default/web", JobVersion: 1, NodeID: c.node})
	if err != nil {
		c.t.Fatal(err)
	}
	return e, j
}

// TestProbeThroughTheNode runs a service on node n1, an agent with a
// node's credentials behind NATS, and probes it through the client: the
// agent probes with the job it runs, on the host port it recorded. No
// other node's agent probes it, nor can a node reach another's subject.
//
// The agent is handed the job directly, as OpRun hands it the job decoded
// from the request's canonical spec: what is tested here is OpProbe.
func TestProbeThroughTheNode(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	e, j := c.service()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan ran, 1)
	go func() {
		x, res, err := c.a.Run(runner.WithSensitivePaths(ctx, nil), e, j)
		done <- ran{x, res, err}
	}()
	waitStarted(t, c, e)

	res, _ := wait.For(t, 10*time.Second, "the probe to pass", func() (runner.ProbeResult, bool) {
		res, err := c.client.Probe(context.Background(), e.ID)
		return res, err == nil && res.OK
	})
	port := c.stored(e).Ports["http"]
	if res.Kind != "http" || res.Message != "GET http://127.0.0.1:"+strconv.Itoa(port)+"/health: 200 OK" || res.Took <= 0 || res.NotRunning {
		t.Errorf("probe = %+v (recorded port %d)", res, port)
	}
	if res, err := c.client.Probe(context.Background(), "no-such-execution"); err != nil || !res.NotRunning || res.OK {
		t.Errorf("probe of an unknown execution = %+v, %v", res, err)
	}
	// A bound shorter than the probe's own timeout still gets an answer.
	short, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	if res, err := c.client.Probe(short, e.ID); err != nil || !res.OK {
		t.Errorf("probe within 1.5s = %+v, %v", res, err)
	}
	cancel()

	// Node n2, with an agent of its own on the same control plane, runs no
	// such execution: asked through its subject, it says so.
	n2 := &cluster{t: t, st: c.st, node: "n2", client: &remote.Client{NodeID: "n2", NC: c.st.Conn(), Store: c.st, Ping: ping}}
	n2.serve()
	if res, err := n2.client.Probe(context.Background(), e.ID); err != nil || !res.NotRunning || res.OK || res.Message != "node n2 runs no execution "+e.ID {
		t.Errorf("probe of n1's execution through n2 = %+v, %v", res, err)
	}
	// With n2's credentials, n1's probe subject can be neither served nor
	// asked.
	_, tok, err := c.st.CreateToken(context.Background(), state.TokenSpec{Namespace: state.AllNamespaces, Role: state.RoleNode, Node: "n2"})
	if err != nil {
		t.Fatal(err)
	}
	violations := make(chan error, 4)
	nc, err := nats.Connect(c.st.ClientURL(), nats.UserInfo("n2", tok), nats.CustomInboxPrefix(state.NodeInbox("n2")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(remote.NodeSubject("n1", remote.OpProbe))
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	if res, err := c.client.Probe(context.Background(), e.ID); err != nil || !res.OK {
		t.Errorf("probe through n1 with n2 listening = %+v, %v", res, err)
	}
	if m, err := sub.NextMsg(500 * time.Millisecond); err == nil {
		t.Errorf("n2 received n1's probe request: %s", m.Data)
	}
	if _, err := nc.Request(remote.NodeSubject("n1", remote.OpProbe), []byte(`{"execution_id":"`+e.ID+`"}`), time.Second); err == nil {
		t.Error("n2 asked n1's agent for a probe and got an answer")
	}
	select {
	case err := <-violations:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("n2's connection: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the server did not refuse n2's subscription to n1's subject")
	}

	stop()
	if r := ended(t, done); r.x.Status.ComputeState != state.ComputeStopped {
		t.Errorf("the service ended %s: %s", r.x.Status.ComputeState, r.x.Status.Message)
	}
	if res, err := c.client.Probe(context.Background(), e.ID); err != nil || !res.NotRunning {
		t.Errorf("probe once it ended = %+v, %v", res, err)
	}
	none := &remote.Client{NodeID: "n3", NC: c.st.Conn(), Store: c.st}
	if _, err := none.Probe(context.Background(), e.ID); err == nil || err.Error() != "probe execution "+e.ID+": no agent answers for node n3" {
		t.Errorf("probe of a node no agent serves: %v", err)
	}
}

// BenchmarkProbe probes an exec service through the client, NATS and the
// agent, once per op: what a control plane's probe costs beyond the
// node's own (runner/exec's BenchmarkProbe).
func BenchmarkProbe(b *testing.B) {
	c := newCluster(b, "n1")
	c.serve()
	e, j := c.service()
	j.Rollout.HealthCheck.Probe = &schema.Probe{TCP: &schema.TCPProbe{Port: "http"}, Timeout: schema.DefaultProbeTimeout}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.a.Run(runner.WithSensitivePaths(ctx, nil), e, j)
	}()
	b.Cleanup(func() { stop(); <-done })
	for _, c2 := range []struct {
		name string
		p    *schema.Probe
	}{
		{"http", &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/health"}}},
		{"tcp", &schema.Probe{TCP: &schema.TCPProbe{Port: "http"}}},
		{"exec", &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"true"}}}},
	} {
		b.Run(c2.name, func(b *testing.B) {
			c2.p.Timeout = schema.DefaultProbeTimeout
			j.Rollout.HealthCheck.Probe = c2.p
			// The service may still be starting.
			for i := 0; ; i++ {
				if res, err := c.client.Probe(context.Background(), e.ID); err == nil && res.OK {
					break
				} else if i == 200 {
					b.Fatalf("%+v %v", res, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.client.Probe(context.Background(), e.ID)
				if err != nil || !res.OK {
					b.Fatalf("%+v %v", res, err)
				}
			}
		})
	}
}
