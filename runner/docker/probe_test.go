package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/docker/dockertest"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// lineWriter closes ready once line was written.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	line  string
	ready chan struct{}
	once  sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.line+"\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

// service is an agent over an embedded store running one docker
// execution in the background.
type service struct {
	a    *runner.Agent
	st   *state.Store
	j    *schema.Job
	e    state.Execution // as recorded running
	stop context.CancelFunc
	done chan struct{}
	x    state.Execution // as it ended
}

// serveJob is a service of the test image serving HTTP on addrs.
func serveJob(image string, mode schema.Network, ports []schema.Port, addrs ...string) *schema.Job {
	return &schema.Job{Name: "web", Namespace: "default", Type: schema.Service, Task: schema.Task{
		Engine: schema.Docker, Image: image, Entrypoint: []string{}, Network: mode,
		Env: map[string]string{}, Resources: schema.Resources{CPUs: 1, Memory: 64},
		Cmd: append([]string{"serve"}, addrs...), Ports: ports,
	}}
}

// startService runs j through a new agent until the test ends, and
// returns once the container serves.
func startService(t testing.TB, j *schema.Job) *service {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ready := &lineWriter{line: "serving", ready: make(chan struct{})}
	s := &service{st: st, j: j, done: make(chan struct{})}
	s.a = &runner.Agent{NodeID: "n1", Dir: filepath.Join(t.TempDir(), "executions"), Store: st, Grace: time.Second,
		Logs: func(string) (io.Writer, io.Writer) { return ready, io.Discard }}
	e, err := st.CreateExecution(ctx, state.Execution{ID: newID(t), JobID: "default/web", JobVersion: 1, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	s.stop = stop
	var res runner.Result
	var rerr error
	go func() {
		defer close(s.done)
		s.x, res, rerr = s.a.Run(rctx, e, j)
	}()
	t.Cleanup(func() {
		stop()
		<-s.done
	})
	select {
	case <-ready.ready:
	case <-s.done:
		logs, _ := s.a.ReadLog(ctx, e.ID, "stderr", 0)
		t.Fatalf("the container ended before it served: %s %s; %+v %v; stderr %s", s.x.Status.ComputeState, s.x.Status.Message, res, rerr, logs)
	case <-time.After(2 * time.Minute):
		t.Fatal("the container did not serve")
	}
	if s.e, err = st.Execution(ctx, "default", "web", e.ID); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *service) probe(t testing.TB, p *schema.Probe) runner.ProbeResult {
	t.Helper()
	if p.Timeout == 0 {
		p.Timeout = schema.DefaultProbeTimeout
	}
	// The agent probes with the job it runs the execution for: the test's
	// own, changed between probes so that one container serves them all.
	s.j.Rollout.HealthCheck.Probe = p
	res, err := s.a.Probe(context.Background(), s.e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestProbeBridgeContainer: a bridge container publishes its host ports,
// one to another port inside (to) and one to the same port; http and tcp
// probes reach it through them on 127.0.0.1, and exec probes run inside
// the container.
func TestProbeBridgeContainer(t *testing.T) {
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	s := startService(t, serveJob(image, schema.NetworkBridge, []schema.Port{{Name: "http", To: 8080}, {Name: "raw"}}, ":8080", ":${MUSTER_PORT_RAW}"))
	hp, raw := s.e.Ports["http"], s.e.Ports["raw"]
	if hp < 20000 || hp > 32000 || raw < 20000 || raw > 32000 || hp == raw {
		t.Fatalf("recorded ports %v", s.e.Ports)
	}
	ins, err := cli.ContainerInspect(context.Background(), ContainerName(s.e.ID), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	published := map[string]string{}
	for cp, bs := range ins.Container.HostConfig.PortBindings {
		for _, b := range bs {
			published[cp.String()] = b.HostIP.String() + "|" + b.HostPort
		}
	}
	want := map[string]string{"8080/tcp": "invalid IP|" + strconv.Itoa(hp), strconv.Itoa(raw) + "/tcp": "invalid IP|" + strconv.Itoa(raw)}
	if fmt.Sprint(published) != fmt.Sprint(want) {
		t.Errorf("published %v, want %v (every interface: no host IP)", published, want)
	}
	base := "GET http://127.0.0.1:" + strconv.Itoa(hp)
	for _, c := range []struct {
		name string
		p    *schema.Probe
		ok   bool
		msg  string // the message, or its start when it ends in "*"
	}{
		{"http through to", &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/health"}}, true, base + "/health: 200 OK"},
		{"http 500", &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/status/500"}}, false, base + "/status/500: 500 Internal Server Error (want 2xx or 3xx)"},
		{"http same port inside", &schema.Probe{HTTP: &schema.HTTPProbe{Port: "raw", Path: "/health"}}, true, "GET http://127.0.0.1:" + strconv.Itoa(raw) + "/health: 200 OK"},
		{"tcp", &schema.Probe{TCP: &schema.TCPProbe{Port: "http"}}, true, "connected to 127.0.0.1:" + strconv.Itoa(hp)},
		{"exec 0", &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"/app", "exit", "0"}}}, true, "exit code 0"},
		{"exec 1", &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"/app", "stderr", "not ready", "exit", "1"}}}, false, "exit code 1: not ready"},
		{"exec sees the container", &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"/app", "dial", "127.0.0.1:8080"}}}, true, "exit code 0: dial ok"},
		{"exec not found", &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"/no-such-program"}}}, false, "exit code 12*"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := s.probe(t, c.p)
			match := res.Message == c.msg
			if pre, ok := strings.CutSuffix(c.msg, "*"); ok {
				match = strings.HasPrefix(res.Message, pre)
			}
			if res.OK != c.ok || !match || res.Kind != c.p.Kind() || res.NotRunning {
				t.Errorf("probe = %+v; want ok %v, message %q", res, c.ok, c.msg)
			}
		})
	}
	t.Run("exec environment", func(t *testing.T) {
		res := s.probe(t, &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"/app", "env"}}})
		for _, w := range []string{"MUSTER_PORT_HTTP=" + strconv.Itoa(hp), "MUSTER_PORT_RAW=" + strconv.Itoa(raw), "MUSTER_ROOT=/", "cwd=/"} {
			if !res.OK || !strings.Contains(res.Message, w) {
				t.Errorf("probe = %+v; want %s in the message", res, w)
			}
		}
	})
	t.Run("exec timeout kills the command", func(t *testing.T) {
		start := time.Now()
		res := s.probe(t, &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"/app", "sleep", "60s"}}, Timeout: schema.Duration(500 * time.Millisecond)})
		if res.OK || !strings.HasPrefix(res.Message, "no exit within 500ms (timeout); killed") || time.Since(start) > 5*time.Second {
			t.Errorf("probe = %+v after %s", res, time.Since(start))
		}
		wait.Until(t, 10*time.Second, "the probe's command to be killed", func() bool {
			top, err := cli.ContainerTop(context.Background(), ContainerName(s.e.ID), client.ContainerTopOptions{})
			if err != nil {
				return false
			}
			for _, p := range top.Processes {
				if strings.Contains(strings.Join(p, " "), "sleep") {
					return false
				}
			}
			return true
		})
	})

	s.stop()
	<-s.done
	if res := s.probe(t, &schema.Probe{TCP: &schema.TCPProbe{Port: "http"}}); !res.NotRunning {
		t.Errorf("probe of the stopped container = %+v", res)
	}
	// Its host ports are free again.
	for _, p := range []int{hp, raw} {
		if l, err := net.Listen("tcp", ":"+strconv.Itoa(p)); err != nil {
			t.Errorf("port %d after the container ended: %v", p, err)
		} else {
			l.Close()
		}
	}
}

// TestProbeHostContainer: a host-network container listens on its host
// port itself; nothing is published.
func TestProbeHostContainer(t *testing.T) {
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	s := startService(t, serveJob(image, schema.NetworkHost, []schema.Port{{Name: "http"}}, ":${MUSTER_PORT_HTTP}"))
	hp := s.e.Ports["http"]
	ins, err := cli.ContainerInspect(context.Background(), ContainerName(s.e.ID), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ins.Container.HostConfig.PortBindings); n != 0 {
		t.Errorf("a host-network container publishes %d ports", n)
	}
	res := s.probe(t, &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/health"}})
	if !res.OK || res.Message != "GET http://127.0.0.1:"+strconv.Itoa(hp)+"/health: 200 OK" {
		t.Errorf("probe = %+v", res)
	}
}

// TestRecoverHoldsRecordedPorts: an agent that re-attaches to a container
// an earlier process started holds the ports recorded on its execution
// again (a static port it holds is refused to another execution), and
// probes it.
func TestRecoverHoldsRecordedPorts(t *testing.T) {
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	static := l.Addr().(*net.TCPAddr).Port
	l.Close()
	j := serveJob(image, schema.NetworkBridge, []schema.Port{{Name: "http", Port: static, To: 8080}}, ":8080")
	j.Rollout.HealthCheck.Probe = &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/health"}, Timeout: schema.DefaultProbeTimeout}
	e, err := st.CreateExecution(ctx, state.Execution{ID: newID(t), JobID: "default/web", JobVersion: 1, NodeID: "n1", Ports: map[string]int{"http": static}})
	if err != nil {
		t.Fatal(err)
	}
	// Recorded running, as the earlier process left it.
	for _, to := range []state.ComputeState{state.ComputeStarting, state.ComputeRunning} {
		e.Status.ComputeState = to
		if e, err = st.UpdateExecution(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "executions")
	if err := os.MkdirAll(filepath.Join(dir, e.ID, "root"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An earlier process started it, and went away.
	first, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ready := &lineWriter{line: "serving", ready: make(chan struct{})}
	if _, err := first.Start(ctx, &runner.Spec{ExecutionID: e.ID, Job: j, Root: filepath.Join(dir, e.ID, "root"),
		Env: map[string]string{"MUSTER_PORT_HTTP": strconv.Itoa(static)}, Ports: e.Ports, Stdout: ready, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.ContainerRemove(context.Background(), ContainerName(e.ID), client.ContainerRemoveOptions{Force: true})
	})
	select {
	case <-ready.ready:
	case <-time.After(time.Minute):
		t.Fatal("the container did not serve")
	}
	first.Close()

	a := &runner.Agent{NodeID: "n1", Dir: dir, Store: st, Grace: time.Second}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan bool, 1)
	go func() {
		x, res, ok, err := a.Recover(rctx, e, j)
		if rctx.Err() == nil {
			t.Errorf("Recover returned before the test stopped it: ok %v, %v; %+v %+v", ok, err, x.Status, res)
		}
		done <- ok
	}()
	defer func() {
		stop()
		<-done
	}()
	res, _ := wait.For(t, time.Minute, "the re-attached container to answer its probe", func() (runner.ProbeResult, bool) {
		res, err := a.Probe(ctx, e.ID)
		return res, err == nil && res.OK
	})
	if res.Message != "GET http://127.0.0.1:"+strconv.Itoa(static)+"/health: 200 OK" {
		t.Errorf("probe = %+v", res)
	}
	// Another execution asking for the static port is refused: the agent
	// holds it for the re-attached one.
	k := serveJob(image, schema.NetworkBridge, []schema.Port{{Name: "p", Port: static}}, ":8080")
	k.Name = "other"
	x, err := st.CreateExecution(ctx, state.Execution{ID: newID(t), JobID: "default/other", JobVersion: 1, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	x, _, err = a.Run(ctx, x, k)
	if want := fmt.Sprintf("node n1: ports.p: host port %d is held by execution %s of job default/web on this node", static, e.ID); err != nil || x.Status.Message != want {
		t.Errorf("an execution asking for the held port: %q (%v), want %q", x.Status.Message, err, want)
	}
}

// BenchmarkProbe probes a bridge container through the agent, once per
// op: http and tcp through the published port (the engine's proxy), exec
// through the Engine API.
func BenchmarkProbe(b *testing.B) {
	cli := dockertest.Client(b)
	image := dockertest.AppImage(b, cli)
	s := startService(b, serveJob(image, schema.NetworkBridge, []schema.Port{{Name: "http", To: 8080}}, ":8080"))
	for _, c := range []struct {
		name string
		p    *schema.Probe
	}{
		{"http", &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/health"}}},
		{"tcp", &schema.Probe{TCP: &schema.TCPProbe{Port: "http"}}},
		{"exec", &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"/app", "exit", "0"}}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := s.probe(b, c.p); !res.OK {
					b.Fatalf("%+v", res)
				}
			}
		})
	}
}
