//go:build linux

package exec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// helperServe is the test binary as a service task: an HTTP server on
// every interface at $MUSTER_PORT_HTTP. /health answers with the status
// written in $MUSTER_ROOT/status (200 when there is none), /moved
// redirects, /slow answers after 10s. It prints "serving" once it listens.
func helperServe() {
	root := os.Getenv("MUSTER_ROOT")
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		code := 200
		if b, err := os.ReadFile(filepath.Join(root, "status")); err == nil {
			code, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		w.WriteHeader(code)
		fmt.Fprintln(w, "status", code)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/nowhere", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	l, err := net.Listen("tcp", ":"+os.Getenv("MUSTER_PORT_HTTP"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("serving")
	http.Serve(l, mux)
	os.Exit(0)
}

// serveJob is a service job of the helper server with a dynamic "http"
// port and an "idle" one nothing listens on.
func serveJob(t testing.TB) *schema.Job {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	j := job(self)
	j.Name, j.Type = "web", schema.Service
	j.Task.Env = map[string]string{"EXEC_TEST_HELPER": "serve"}
	j.Task.Ports = []schema.Port{{Name: "http"}, {Name: "idle"}}
	return j
}

// started is an execution running in the background through an agent.
type started struct {
	e    state.Execution // as recorded running
	stop context.CancelFunc
	done chan struct{}
	x    state.Execution // as it ended
	res  runner.Result
	err  error
}

// startService runs execution id of j through n's agent until the test
// ends, and returns once its task printed line.
func startService(t testing.TB, n *node, ctx context.Context, id string, j *schema.Job, line string) *started {
	t.Helper()
	ready := &notify{line: line, ready: make(chan struct{})}
	var mu sync.Mutex
	prev := n.a.Logs
	n.a.Logs = func(eid string) (io.Writer, io.Writer) {
		mu.Lock()
		defer mu.Unlock()
		if eid == id {
			return ready, io.Discard
		}
		if prev != nil {
			return prev(eid)
		}
		return io.Discard, io.Discard
	}
	e, err := n.st.CreateExecution(context.Background(), state.Execution{ID: id, JobID: j.Namespace + "/" + j.Name, JobVersion: 1, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(ctx)
	s := &started{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.x, s.res, s.err = n.a.Run(ctx, e, j)
	}()
	t.Cleanup(func() {
		stop()
		<-s.done
	})
	select {
	case <-ready.ready:
	case <-s.done:
		t.Fatalf("the execution ended before it printed %q: %+v %+v %v", line, s.x.Status, s.res, s.err)
	case <-time.After(30 * time.Second):
		t.Fatalf("the task did not print %q", line)
	}
	s.e, err = n.st.Execution(context.Background(), j.Namespace, j.Name, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// probe runs probe p against execution id: the agent probes with the job
// it runs the execution for, here the test's own j, changed between
// probes so that one process serves every case.
func probe(t testing.TB, a *runner.Agent, j *schema.Job, id string, p *schema.Probe) runner.ProbeResult {
	t.Helper()
	if p != nil && p.Timeout == 0 {
		p.Timeout = schema.DefaultProbeTimeout
	}
	j.Rollout.HealthCheck.Probe = p
	res, err := a.Probe(context.Background(), id)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	return res
}

func httpProbe(path string, status ...int) *schema.Probe {
	return &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: path, Status: status}}
}

func execProbe(timeout time.Duration, cmd ...string) *schema.Probe {
	return &schema.Probe{Exec: &schema.ExecProbe{Cmd: cmd}, Timeout: schema.Duration(timeout)}
}

// TestProbeExecTask probes a real exec service on its host port: http, tcp
// and exec probes, passing and failing, with what each says.
func TestProbeExecTask(t *testing.T) {
	n := newNode(t)
	// A range of its own: agents of other packages' tests, running at the
	// same time on the default range, could otherwise listen on the port
	// this test needs idle.
	n.a.PortRange = runner.PortRange{Lo: 17100, Hi: 17199}
	j := serveJob(t)
	j.Task.Env["TOKEN"] = "secret:default/tok"
	ctx := runner.WithSecrets(runner.WithSensitivePaths(context.Background(), nil), runner.Secrets{"default/tok": []byte("tok-value-4711")})
	s := startService(t, n, ctx, "svc1", j, "serving")
	port, idle := s.e.Ports["http"], s.e.Ports["idle"]
	if s.e.Status.ComputeState != state.ComputeRunning || port < 17100 || port > 17199 || idle < 17100 || idle > 17199 || port == idle {
		t.Fatalf("recorded %s with ports %v", s.e.Status.ComputeState, s.e.Ports)
	}
	base := "GET http://127.0.0.1:" + strconv.Itoa(port)
	root := filepath.Join(n.a.ExecutionDir("svc1"), "root")

	for _, c := range []struct {
		name   string
		status string // written to the root's status file first
		p      *schema.Probe
		ok     bool
		msg    string // the message, or its start when it ends in "*"
	}{
		{name: "http 200", p: httpProbe("/health"), ok: true, msg: base + "/health: 200 OK"},
		{name: "http 500", status: "500", p: httpProbe("/health"), msg: base + "/health: 500 Internal Server Error (want 2xx or 3xx)"},
		{name: "http 500 accepted", status: "500", p: httpProbe("/health", 200, 500), ok: true, msg: base + "/health: 500 Internal Server Error"},
		{name: "http 204 not listed", status: "204", p: httpProbe("/health", 200), msg: base + "/health: 204 No Content (want 200)"},
		{name: "http redirect is a status", p: httpProbe("/moved"), ok: true, msg: base + "/moved: 302 Found"},
		{name: "http redirect not accepted", p: httpProbe("/moved", 200, 201), msg: base + "/moved: 302 Found (want 200 or 201)"},
		{name: "http 404", p: httpProbe("/nowhere"), msg: base + "/nowhere: 404 Not Found (want 2xx or 3xx)"},
		{name: "http timeout", p: &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/slow"}, Timeout: schema.Duration(300 * time.Millisecond)},
			msg: base + "/slow: no answer within 300ms (timeout)"},
		{name: "http refused", p: &schema.Probe{HTTP: &schema.HTTPProbe{Port: "idle", Path: "/"}},
			msg: "GET http://127.0.0.1:" + strconv.Itoa(idle) + "/: connection refused"},
		{name: "tcp", p: &schema.Probe{TCP: &schema.TCPProbe{Port: "http"}}, ok: true, msg: "connected to 127.0.0.1:" + strconv.Itoa(port)},
		{name: "tcp refused", p: &schema.Probe{TCP: &schema.TCPProbe{Port: "idle"}}, msg: "connect to 127.0.0.1:" + strconv.Itoa(idle) + ": connection refused"},
		{name: "unknown port", p: &schema.Probe{TCP: &schema.TCPProbe{Port: "nope"}}, msg: "ports.nope: the execution has no such host port"},
		{name: "exec 0 in the task's environment", p: execProbe(0, "sh", "-c", `echo "port=$MUSTER_PORT_HTTP root=$MUSTER_ROOT"; pwd; echo "job=$MUSTER_JOB_NAME" >&2`), ok: true,
			msg: "exit code 0: port=" + strconv.Itoa(port) + " root=" + root + " | " + root + " | job=web"},
		{name: "exec 1", p: execProbe(0, "sh", "-c", "echo not ready; exit 1"), msg: "exit code 1: not ready"},
		{name: "exec silent", p: execProbe(0, "sh", "-c", "exit 7"), msg: "exit code 7"},
		{name: "exec not found", p: execProbe(0, "no-such-probe-program"), msg: `program "no-such-probe-program" not found in the node's PATH*`},
		{name: "exec sensitive", p: execProbe(0, "sh", "-c", `echo "token $TOKEN"; exit 2`), msg: "exit code 2: token (sensitive)"},
		{name: "exec output bounded", p: execProbe(0, "sh", "-c", `yes 0123456789 | head -c 5000; exit 3`), msg: "exit code 3: 0123456789 | 0123456789*"},
		{name: "no probe", ok: true, msg: "running; the job has no probe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(filepath.Join(root, "status"))
			if c.status != "" {
				write(t, filepath.Join(root, "status"), c.status)
			}
			res := probe(t, n.a, j, "svc1", c.p)
			match := res.Message == c.msg
			if pre, ok := strings.CutSuffix(c.msg, "*"); ok {
				match = strings.HasPrefix(res.Message, pre)
			}
			if res.OK != c.ok || !match || res.NotRunning || res.Kind != c.p.Kind() {
				t.Errorf("probe = %+v; want ok %v, kind %q, message %q", res, c.ok, c.p.Kind(), c.msg)
			}
			if c.p != nil && (res.Took <= 0 || res.Took > 5*time.Second) {
				t.Errorf("took %s", res.Took)
			}
			if strings.Contains(res.Message, "tok-value-4711") {
				t.Errorf("the message shows a secret: %s", res.Message)
			}
		})
	}
	t.Run("exec output length", func(t *testing.T) {
		res := probe(t, n.a, j, "svc1", execProbe(0, "sh", "-c", `yes 0123456789 | head -c 5000; exit 3`))
		if len(res.Message) > len("exit code 3: ")+runner.MaxProbeOutput+len(" …") || !strings.HasSuffix(res.Message, " …") {
			t.Errorf("a %d-byte message: %q", len(res.Message), res.Message)
		}
	})

	// An unknown execution, and this one once it ended, are not running.
	if res := probe(t, n.a, j, "no-such-execution", httpProbe("/health")); !res.NotRunning || res.OK || res.Message != "node n1 runs no execution no-such-execution" {
		t.Errorf("probe of an unknown execution = %+v", res)
	}
	s.stop()
	<-s.done
	if s.x.Ports["http"] != port {
		t.Errorf("the execution ended with ports %v", s.x.Ports)
	}
	if res := probe(t, n.a, j, "svc1", httpProbe("/health")); !res.NotRunning || res.OK {
		t.Errorf("probe of an ended execution = %+v", res)
	}
}

// TestExecProbeTimeoutKillsItsGroup: an exec probe that outlives its
// timeout fails in time, and the processes it started are killed with it.
func TestExecProbeTimeoutKillsItsGroup(t *testing.T) {
	n := newNode(t)
	j := serveJob(t)
	s := startService(t, n, context.Background(), "svc2", j, "serving")
	root := filepath.Join(n.a.ExecutionDir("svc2"), "root")
	start := time.Now()
	res := probe(t, n.a, j, "svc2", execProbe(300*time.Millisecond, "sh", "-c", `sleep 30 & echo $! > "$MUSTER_ROOT/bg.pid"; echo started; sleep 30`))
	took := time.Since(start)
	if res.OK || res.Message != "no exit within 300ms (timeout); killed: started" || took > 3*time.Second {
		t.Errorf("probe = %+v after %s", res, took)
	}
	b, err := os.ReadFile(filepath.Join(root, "bg.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	wait.Until(t, 5*time.Second, "the probe's background process to be killed", func() bool {
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) || zombie(pid)
	})
	// The task itself is untouched.
	if res := probe(t, n.a, j, "svc2", httpProbe("/health")); !res.OK {
		t.Errorf("the service after the probe's kill: %+v", res)
	}
	_ = s
}

// zombie reports whether pid is a zombie (killed, not yet reaped by its
// parent, here init or a subreaper).
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

// freeHostPort returns a port nothing listens on now.
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestStaticPortHeldByAnotherExecution: a second execution asking for the
// static port a running one holds fails at once, saying which holds it;
// once the first ended, the port is given again.
func TestStaticPortHeldByAnotherExecution(t *testing.T) {
	n := newNode(t)
	static := freeHostPort(t)
	j := serveJob(t)
	j.Task.Ports = []schema.Port{{Name: "http", Port: static}}
	first := startService(t, n, context.Background(), "first", j, "serving")
	if first.e.Ports["http"] != static {
		t.Fatalf("recorded ports %v, want http %d", first.e.Ports, static)
	}
	e, res := n.run(t, context.Background(), "second", j)
	want := fmt.Sprintf("node n1: ports.http: host port %d is held by execution first of job default/web on this node", static)
	if e.Status.ComputeState != state.ComputeFailed || e.Status.Message != want || res.Message != want || len(e.Ports) != 0 {
		t.Errorf("second execution: %s %q, ports %v (result %q); want failed %q", e.Status.ComputeState, e.Status.Message, e.Ports, res.Message, want)
	}
	// Another program of the host holding a static port fails it too.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	k := serveJob(t)
	k.Task.Ports = []schema.Port{{Name: "http", Port: busy}}
	e, _ = n.run(t, context.Background(), "third", k)
	if want := fmt.Sprintf("node n1: ports.http: host port %d cannot be bound on this node: address already in use", busy); e.Status.Message != want {
		t.Errorf("execution on a port the host holds: %q, want %q", e.Status.Message, want)
	}

	first.stop()
	<-first.done
	again := startService(t, n, context.Background(), "fourth", j, "serving")
	if again.e.Ports["http"] != static {
		t.Errorf("after the first ended, recorded ports %v", again.e.Ports)
	}
}

// TestConcurrentExecutionsNeverSharePorts runs many executions with two
// dynamic ports each at once through one agent, in a narrow range: while
// all run, no two hold one port, each recorded the ports its task sees,
// and once they ended every port is free again.
func TestConcurrentExecutionsNeverSharePorts(t *testing.T) {
	n := newNode(t)
	// Below Linux's ephemeral range (32768-60999), so no outgoing connection of
	// a test running beside this one holds a port of it; and at the top of the
	// default range, which other tests' nodes fill from the bottom.
	n.a.PortRange = runner.PortRange{Lo: 31940, Hi: 31979}
	const count = 16
	gate := filepath.Join(t.TempDir(), "go")
	j := job("sh", "-c", `echo "ports $MUSTER_PORT_A $MUSTER_PORT_B"; while [ ! -e "$GATE" ]; do sleep 0.05; done`)
	j.Name, j.Type = "many", schema.Service
	j.Task.Env = map[string]string{"GATE": gate}
	j.Task.Ports = []schema.Port{{Name: "a"}, {Name: "b"}}

	var mu sync.Mutex
	printed := map[string]string{}
	n.a.Logs = func(id string) (io.Writer, io.Writer) {
		return writerFunc(func(p []byte) {
			mu.Lock()
			printed[id] += string(p)
			mu.Unlock()
		}), io.Discard
	}
	type ran struct {
		e   state.Execution
		err error
	}
	results := make(chan ran, count)
	for i := 0; i < count; i++ {
		e, err := n.st.CreateExecution(context.Background(), state.Execution{ID: fmt.Sprintf("m%02d", i), JobID: "default/many", JobVersion: 1, NodeID: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			x, _, err := n.a.Run(context.Background(), e, j)
			results <- ran{x, err}
		}()
	}
	wait.Until(t, 60*time.Second, "every task to print its ports", func() bool {
		mu.Lock()
		defer mu.Unlock()
		k := 0
		for _, s := range printed {
			if strings.Contains(s, "\n") {
				k++
			}
		}
		return k == count
	})
	owner := map[int]string{}
	for i := 0; i < count; i++ {
		id := fmt.Sprintf("m%02d", i)
		x, err := n.st.Execution(context.Background(), "default", "many", id)
		if err != nil {
			t.Fatal(err)
		}
		if x.Status.ComputeState != state.ComputeRunning || len(x.Ports) != 2 {
			t.Fatalf("%s recorded %s with ports %v", id, x.Status.ComputeState, x.Ports)
		}
		mu.Lock()
		saw := strings.TrimSpace(printed[id])
		mu.Unlock()
		if want := fmt.Sprintf("ports %d %d", x.Ports["a"], x.Ports["b"]); saw != want {
			t.Errorf("%s printed %q, recorded %q", id, saw, want)
		}
		for _, p := range x.Ports {
			if p < n.a.PortRange.Lo || p > n.a.PortRange.Hi {
				t.Errorf("%s holds %d, outside the range", id, p)
			}
			if o, ok := owner[p]; ok {
				t.Errorf("port %d held by %s and %s at once", p, o, id)
			}
			owner[p] = id
		}
	}
	write(t, gate, "")
	for i := 0; i < count; i++ {
		select {
		case r := <-results:
			if r.err != nil || r.e.Status.ComputeState != state.ComputeComplete {
				t.Errorf("%s ended %s: %v", r.e.ID, r.e.Status.ComputeState, r.err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the executions did not end")
		}
	}
	// Every port is free again: one execution gets the whole range.
	k := job("true")
	k.Name, k.Type = "after", schema.Service
	for i := 0; i < 40; i++ {
		k.Task.Ports = append(k.Task.Ports, schema.Port{Name: fmt.Sprintf("p%02d", i)})
	}
	if x, _ := n.run(t, context.Background(), "after", k); x.Status.ComputeState != state.ComputeComplete || len(x.Ports) != 40 {
		t.Errorf("an execution of 40 ports after the others: %s %s, %d ports", x.Status.ComputeState, x.Status.Message, len(x.Ports))
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
