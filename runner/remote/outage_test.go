package remote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/internal/testport"
	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/state"
)

// natsServer runs a JetStream server with its state in dir on port (a
// free one when 0), as an external NATS server of a control plane.
func natsServer(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = server.RANDOM_PORT
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "outage", Host: "127.0.0.1", Port: port,
		JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// lockedLog is a log the test reads while the agent writes it.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// reconnecting are the options of a connection that rides out an outage,
// as the agent's and the control plane's are.
func reconnecting() []nats.Option {
	return []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}
}

// TestExecutionsOutliveANATSOutage runs two executions on an agent, shuts
// the NATS server down, ends one while it is down, starts a replacement on
// the same port and state, and ends the other: both run once, are not
// recorded lost, and end complete, each Run returning once.
func TestExecutionsOutliveANATSOutage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := natsServer(t, filepath.Join(dir, "nats"), 0)
	url := srv.ClientURL()
	port := srv.Addr().(*net.TCPAddr).Port

	cp, err := state.Connect(ctx, url, reconnecting()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	ag, err := state.Connect(ctx, url, reconnecting()...)
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	log := &lockedLog{}
	c := serveAgent(t, cp, ag, log, nil)

	// Each task counts its runs in a file and ends when the test creates
	// its end file.
	work := t.TempDir()
	task := func(name string) string {
		return "echo run >> " + filepath.Join(work, name+".runs") + "; echo started; " +
			"while [ ! -e " + filepath.Join(work, name+".end") + " ]; do sleep 0.05; done"
	}
	endTask := func(name string) {
		if err := os.WriteFile(filepath.Join(work, name+".end"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	during, jd := c.job(task("during"))
	after, ja := c.job(task("after"))
	doneDuring := c.runAsync(ctx, during, jd)
	doneAfter := c.runAsync(ctx, after, ja)
	waitStarted(t, c, during)
	waitStarted(t, c, after)

	srv.Shutdown()
	srv.WaitForShutdown()
	endTask("during")
	wait.Until(t, 30*time.Second, "the agent to wait for the store to record an end", func() bool {
		return strings.Contains(log.String(), "the end of an execution could not be recorded")
	})
	for _, d := range []<-chan ran{doneDuring, doneAfter} {
		select {
		case r := <-d:
			t.Fatalf("a run ended while NATS was down: %s (%s), %v", r.x.Status.ComputeState, r.x.Status.Message, r.err)
		default:
		}
	}

	natsServer(t, filepath.Join(dir, "nats"), port)
	r := ended(t, doneDuring)
	if r.err != nil || r.x.Status.ComputeState != state.ComputeComplete {
		t.Fatalf("the execution that ended during the outage: %s (%s), %v; want complete", r.x.Status.ComputeState, r.x.Status.Message, r.err)
	}
	endTask("after")
	r = ended(t, doneAfter)
	if r.err != nil || r.x.Status.ComputeState != state.ComputeComplete {
		t.Fatalf("the execution that ended after the outage: %s (%s), %v; want complete", r.x.Status.ComputeState, r.x.Status.Message, r.err)
	}
	for _, name := range []string{"during", "after"} {
		b, err := os.ReadFile(filepath.Join(work, name+".runs"))
		if err != nil || string(b) != "run\n" {
			t.Errorf("execution %q ran %q times, want once", name, b)
		}
	}
	for _, e := range []string{during.ID, after.ID} {
		if x := c.stored(state.Execution{ID: e, JobID: during.JobID}); x.Status.ComputeState != state.ComputeComplete {
			t.Errorf("the store has %s %s (%s), want complete", e, x.Status.ComputeState, x.Status.Message)
		}
	}
}

// natsCluster starts n JetStream servers routed into one cluster on
// loopback and returns them, with every bucket of the store created with
// a copy on each (as 'muster server --replicas 3' would).
func natsCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	routes := make([]string, n)
	ports := make([]int, n)
	for i := range ports {
		ports[i] = testport.Free(t)
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", ports[i])
	}
	srvs := make([]*server.Server, n)
	for i := range srvs {
		srv, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "muster", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			t.Fatal(err)
		}
		srv.Start()
		t.Cleanup(func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		})
		srvs[i] = srv
	}
	for _, srv := range srvs {
		if !srv.ReadyForConnections(10 * time.Second) {
			t.Fatal("a NATS server of the cluster did not start")
		}
	}
	nc, err := nats.Connect(srvs[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"specs", "jobs", "nodes", "executions", "leases", "sensitive"} {
		wait.For(t, 30*time.Second, "bucket "+b+" with 3 copies", func() (error, bool) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, History: 5, Storage: jetstream.FileStorage, Replicas: n})
			return err, err == nil || errors.Is(err, jetstream.ErrBucketExists)
		})
	}
	return srvs
}

// TestExecutionOutlivesTheLossOfItsNATSServer runs an execution on an
// agent that knows every URL of a 3-server cluster and is connected to the
// first; the control plane is connected to the second. The first server is
// shut down while the execution runs: the agent moves to another server,
// and the execution runs on, once, and is reported complete.
func TestExecutionOutlivesTheLossOfItsNATSServer(t *testing.T) {
	ctx := context.Background()
	srvs := natsCluster(t, 3)
	urls := make([]string, len(srvs))
	for i, s := range srvs {
		urls[i] = s.ClientURL()
	}
	cp, err := state.Connect(ctx, urls[1], reconnecting()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	ag, err := state.Connect(ctx, strings.Join(urls, ","), append(reconnecting(), nats.DontRandomize())...)
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	if got := ag.Conn().ConnectedUrl(); got != urls[0] {
		t.Fatalf("the agent connected to %s, want the first server %s", got, urls[0])
	}
	c := serveAgent(t, cp, ag, nil, nil)

	work := t.TempDir()
	runs, end := filepath.Join(work, "runs"), filepath.Join(work, "end")
	e, j := c.job("echo run >> " + runs + "; echo started; while [ ! -e " + end + " ]; do sleep 0.05; done")
	done := c.runAsync(ctx, e, j)
	waitStarted(t, c, e)

	srvs[0].Shutdown()
	srvs[0].WaitForShutdown()
	wait.Until(t, 20*time.Second, "the agent to reconnect to another server", func() bool {
		u := ag.Conn().ConnectedUrl()
		return ag.Conn().IsConnected() && u != urls[0]
	})
	// The agent answers again, now through another server.
	wait.Until(t, 20*time.Second, "the agent to answer through the cluster", func() bool {
		_, err := c.client.ReadLog(ctx, e.ID, "stdout", 0)
		return err == nil
	})
	select {
	case r := <-done:
		t.Fatalf("the run ended with the agent's NATS server: %s (%s), %v", r.x.Status.ComputeState, r.x.Status.Message, r.err)
	default:
	}
	if err := os.WriteFile(end, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := ended(t, done)
	if r.err != nil || r.x.Status.ComputeState != state.ComputeComplete {
		t.Fatalf("the execution ended %s (%s), %v; want complete", r.x.Status.ComputeState, r.x.Status.Message, r.err)
	}
	if b, err := os.ReadFile(runs); err != nil || string(b) != "run\n" {
		t.Errorf("the execution ran %q times, want once", b)
	}
	if x := c.stored(e); x.Status.ComputeState != state.ComputeComplete {
		t.Errorf("the store has %s (%s), want complete", x.Status.ComputeState, x.Status.Message)
	}
}

// cut is a TCP forwarder to a NATS server that the test can cut and
// restore on the same address, as a network partition between an agent and
// its server would.
type cut struct {
	t      *testing.T
	addr   string // where it listens
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
}

func newCut(t *testing.T, target string) *cut {
	c := &cut{t: t, target: target}
	c.listen("127.0.0.1:0")
	t.Cleanup(c.sever)
	return c
}

func (c *cut) listen(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.l, c.addr = l, l.Addr().String()
	c.mu.Unlock()
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", c.target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

// sever closes the listener and every connection through it.
func (c *cut) sever() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.l != nil {
		c.l.Close()
		c.l = nil
	}
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// restore listens again on the same address.
func (c *cut) restore() { c.listen(c.addr) }

// TestAgentStopsWhatWasRecordedLostMeanwhile cuts an agent off NATS while
// it runs an execution, has the control plane record the execution lost
// meanwhile (it would replace it), and restores the agent's connection:
// the agent stops the execution rather than run it beside its
// replacement.
func TestAgentStopsWhatWasRecordedLostMeanwhile(t *testing.T) {
	ctx := context.Background()
	srv := natsServer(t, t.TempDir(), 0)
	proxy := newCut(t, srv.Addr().String())
	cp, err := state.Connect(ctx, srv.ClientURL(), reconnecting()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	ag, err := state.Connect(ctx, "nats://"+proxy.addr, append(reconnecting(), nats.IgnoreDiscoveredServers())...)
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	log := &lockedLog{}
	c := serveAgent(t, cp, ag, log, nil)
	e, j := c.job("echo started; sleep 300")
	done := c.runAsync(ctx, e, j)
	waitStarted(t, c, e)

	proxy.sever()
	// The control plane counts the agent gone and records the execution
	// lost.
	r := ended(t, done)
	if r.x.Status.ComputeState != state.ComputeLost {
		t.Fatalf("the run of an agent cut off ended %s (%s), %v; want lost", r.x.Status.ComputeState, r.x.Status.Message, r.err)
	}
	running := func() bool { return agentRuns(cp, e.ID) }
	proxy.restore()
	wait.Until(t, 20*time.Second, "the agent to stop the execution recorded lost", func() bool { return !running() })
	if !strings.Contains(log.String(), "stopping an execution the control plane recorded ended") {
		t.Errorf("the agent did not say why it stopped the execution; log:\n%s", log.String())
	}
	if x := c.stored(e); x.Status.ComputeState != state.ComputeLost {
		t.Errorf("the store has %s (%s), want lost as the control plane recorded it", x.Status.ComputeState, x.Status.Message)
	}
}

// TestRecheckStopsWhatWasRecordedLost: an agent whose connection never
// broke, but whose store was out of reach for a while (a short partition),
// is told to look again; it stops an execution the control plane recorded
// lost meanwhile.
func TestRecheckStopsWhatWasRecordedLost(t *testing.T) {
	ctx := context.Background()
	srv := natsServer(t, t.TempDir(), 0)
	cp, err := state.Connect(ctx, srv.ClientURL(), reconnecting()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	ag, err := state.Connect(ctx, srv.ClientURL(), reconnecting()...)
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	recheck := make(chan struct{}, 1)
	c := serveAgent(t, cp, ag, nil, recheck)
	e, j := c.job("echo started; sleep 300")
	c.runAsync(ctx, e, j)
	waitStarted(t, c, e)
	running := func() bool { return agentRuns(cp, e.ID) }
	x := c.stored(e)
	x.Status.ComputeState, x.Status.Message = state.ComputeLost, "the node went silent"
	if _, err := cp.UpdateExecution(ctx, x); err != nil {
		t.Fatal(err)
	}
	if !running() {
		t.Fatal("the agent stopped the execution before it was told to look again")
	}
	recheck <- struct{}{}
	wait.Until(t, 20*time.Second, "the agent to stop the execution recorded lost", func() bool { return !running() })
}

// serveAgent serves node n1 with an agent on the store connection ag
// (logging to log when not nil, rechecking on recheck when not nil) until
// the test ends, and returns the cluster of control plane cp with it,
// once the agent answers.
func serveAgent(t *testing.T, cp, ag *state.Store, log io.Writer, recheck chan struct{}) *cluster {
	t.Helper()
	a := &runner.Agent{NodeID: "n1", Dir: t.TempDir(), Store: ag, Grace: 2 * time.Second}
	if log != nil {
		a.Log = slog.New(slog.NewTextHandler(log, nil))
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- remote.ServeWith(ctx, ag.Conn(), a, remote.SpecsFrom(ag), remote.ServeOptions{Recheck: recheck})
	}()
	t.Cleanup(func() { stop(); <-served })
	c := &cluster{t: t, st: cp, node: "n1", client: &remote.Client{NodeID: "n1", NC: cp.Conn(), Store: cp, Ping: ping}}
	wait.Until(t, 10*time.Second, "the agent to answer", func() bool {
		_, err := c.client.ReadLog(context.Background(), "none", "stdout", 0)
		return err == nil
	})
	return c
}

// agentRuns asks node n1's agent, through cp, whether it runs execution
// id; an agent that does not answer yet counts as running it.
func agentRuns(cp *state.Store, id string) bool {
	m, err := cp.Conn().Request(remote.NodeSubject("n1", remote.OpRunning), []byte(`{"execution_id":"`+id+`"}`), 2*time.Second)
	if err != nil {
		return true
	}
	var rr remote.RunningReply
	return json.Unmarshal(m.Data, &rr) != nil || rr.Running
}
