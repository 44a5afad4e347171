package remote_test

import (
	"bytes"
	"context"
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
	a := &runner.Agent{NodeID: "n1", Dir: t.TempDir(), Store: ag, Grace: 2 * time.Second,
		Log: slog.New(slog.NewTextHandler(log, nil))}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- remote.Serve(sctx, ag.Conn(), a, remote.SpecsFrom(ag)) }()
	defer func() { stop(); <-served }()
	c := &cluster{t: t, st: cp, node: "n1", client: &remote.Client{NodeID: "n1", NC: cp.Conn(), Store: cp, Ping: ping}}
	wait.Until(t, 5*time.Second, "the agent to answer", func() bool {
		_, err := c.client.ReadLog(ctx, "none", "stdout", 0)
		return err == nil
	})

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
	waitStarted(t, c, during.ID)
	waitStarted(t, c, after.ID)

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
