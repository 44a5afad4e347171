package cli

// Services end to end: `muster dev` runs an HTTP service on dynamic ports
// and probes it; a version whose process runs but answers 500 fails its
// probe and the job goes back to the version before; a service that stops
// answering after its rollout is restarted.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

var (
	httpdOnce sync.Once
	httpdPath string
	httpdErr  error
)

// testHTTPD builds internal/testhttp, the service the tests run as a task.
func testHTTPD(t *testing.T) string {
	t.Helper()
	httpdOnce.Do(func() {
		dir, err := os.MkdirTemp("", "muster-testhttp")
		if err != nil {
			httpdErr = err
			return
		}
		httpdPath = filepath.Join(dir, "testhttp")
		out, err := exec.Command("go", "build", "-o", httpdPath, "github.com/muster-dev/muster/internal/testhttp").CombinedOutput()
		if err != nil {
			httpdErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if httpdErr != nil {
		t.Fatal(httpdErr)
	}
	return httpdPath
}

// probedJob is a two-execution service on a dynamic port with an http
// probe; its task answers status (FAIL_AFTER: 500 after that long).
const probedJob = `name: api
type: service
count: 2
task:
  engine: exec
  cmd: [%q]
  env: {STATUS: "%d", FAIL_AFTER: "%s"}
  ports: [{name: http}]
rollout:
  health_check:
    min_healthy_time: 300ms
    interval: 200ms
    deadline: 15s
    failure_threshold: 2
    probe: {http: {port: http, path: /healthz}, timeout: 150ms}
`

type portedExec struct {
	execJSON
	Ports map[string]int `json:"ports"`
}

func (c *musterCLI) portedExecutions(job string) []portedExec {
	c.t.Helper()
	return decode[[]portedExec](c.t, c.ok("executions", "--all", "-o", "json", job))
}

// running returns job's running executions of version v (any when 0).
func (c *musterCLI) running(job string, v int) []portedExec {
	var out []portedExec
	for _, x := range c.portedExecutions(job) {
		if x.Status.ComputeState == "running" && (v == 0 || x.JobVersion == v) {
			out = append(out, x)
		}
	}
	return out
}

// get answers GET path on 127.0.0.1:port with its status code.
func get(port int, path string) (int, error) {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestServiceProbeRollsBack(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	httpd := testHTTPD(t)
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	file := c.write("api.yaml", fmt.Sprintf(probedJob, httpd, 200, ""))
	r := c.ok("apply", "--auto-approve", file)
	if !strings.Contains(r.stdout, "version 1 running: 2 executions") {
		t.Fatalf("apply v1:\n%v", r)
	}
	v1 := c.running("api", 1)
	if len(v1) != 2 {
		t.Fatalf("v1 running: %+v", v1)
	}
	ports := []int{v1[0].Ports["http"], v1[1].Ports["http"]}
	if ports[0] == 0 || ports[0] == ports[1] || ports[0] < 20000 || ports[0] > 32000 {
		t.Fatalf("dynamic ports %v: want two distinct ports of the default range 20000-32000", ports)
	}
	for _, p := range ports {
		if code, err := get(p, "/"); err != nil || code != 200 {
			t.Errorf("the service on port %d: %d %v", p, code, err)
		}
	}
	st := c.ok("status", "api").stdout
	if !strings.Contains(st, "http=") || !strings.Contains(st, "http ok") {
		t.Errorf("status shows no ports or probes:\n%s", st)
	}
	hash1 := c.waitState("api", "running").Hash

	// Version 2 runs, but answers 500: its probe fails and the job goes
	// back to version 1's spec, both executions running.
	c.write("api.yaml", fmt.Sprintf(probedJob, httpd, 500, ""))
	r = c.run("apply", "--auto-approve", file)
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "500 Internal Server Error") || !strings.Contains(r.stdout+r.stderr, "http probe failed") {
		t.Fatalf("apply of a version answering 500 should fail naming the status:\n%v", r)
	}
	back := c.waitState("api", "rollout_failed", "running")
	if back.Hash != hash1 {
		t.Errorf("after the rollback the job's spec is %s, want version 1's %s", back.Hash, hash1)
	}
	wait.For(t, 20*time.Second, "two executions of version 1's spec running and answering", func() (string, bool) {
		xs := c.running("api", 0)
		var out []string
		ok := len(xs) == 2
		for _, x := range xs {
			code, err := get(x.Ports["http"], "/")
			out = append(out, fmt.Sprintf("%s v%d port %d: %d %v", x.ID, x.JobVersion, x.Ports["http"], code, err))
			ok = ok && code == 200
		}
		return strings.Join(out, "\n"), ok
	})
	for _, x := range c.portedExecutions("api") {
		if x.JobVersion == 2 && (x.Status.ComputeState == "running" || x.Status.DesiredState == "running") {
			t.Errorf("version 2 execution %s left %s/%s", x.ID, x.Status.ComputeState, x.Status.DesiredState)
		}
	}
	t.Logf("apply of version 2:\n%s%s", r.stdout, r.stderr)
}

func TestServiceStopsAnsweringRestarted(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	httpd := testHTTPD(t)
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	// Each execution answers for 3s, then 500: long enough to roll out,
	// then it must be restarted.
	file := c.write("api.yaml", fmt.Sprintf(probedJob, httpd, 200, "3s"))
	c.ok("apply", "--auto-approve", file)
	first := c.running("api", 1)
	if len(first) != 2 {
		t.Fatalf("running: %+v", first)
	}
	wait.For(t, 30*time.Second, "an execution that stopped answering to be stopped and replaced", func() (string, bool) {
		xs := c.portedExecutions("api")
		b, _ := json.Marshal(xs)
		return string(b), slices.ContainsFunc(xs, func(x portedExec) bool {
			return x.ID == first[0].ID && x.Status.ComputeState == "stopped" && x.Next != ""
		})
	})
	if out := c.ok("status", "api").stdout; !strings.Contains(out, "unhealthy") {
		t.Errorf("status does not say the execution went unhealthy:\n%s", out)
	}
}

// TestStaticPortPlacement: two executions of a job with a static host
// port cannot share the one node of `muster dev`: the plan says one
// cannot be placed.
func TestStaticPortPlacement(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	port := staticPort(t)
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	file := c.write("api.yaml", fmt.Sprintf(`name: api
type: service
count: 2
task:
  engine: exec
  cmd: [sleep, '60']
  ports: [{name: http, port: %d}]
rollout:
  health_check: {min_healthy_time: 200ms, interval: 100ms}
`, port))
	r := c.ok("plan", file)
	if want := fmt.Sprintf("2 executions want static port %d (http) but only 1 matching node can take one", port); !strings.Contains(r.stdout, want) {
		t.Errorf("the plan does not say the static port keeps an execution unplaced:\n%v", r)
	}
	c.ok("apply", "--auto-approve", file)
	st := c.waitState("api", "degraded")
	if !strings.Contains(st.Message, "1 of 2 executions running") {
		t.Errorf("status: %+v", st)
	}
	xs := c.running("api", 1)
	if len(xs) != 1 || xs[0].Ports["http"] != port {
		t.Errorf("running: %+v, want one execution on port %d", xs, port)
	}
}

// staticPort returns a port free now for a static host port, from
// 15000-19999: below the nodes' default dynamic range and far below Linux's
// ephemeral one (32768-60999), whose ports any outgoing connection of a
// process beside the test may take (a port from listening on :0 is one).
func staticPort(t *testing.T) int {
	t.Helper()
	for _, p := range rand.Perm(5000) {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 15000+p))
		if err == nil {
			l.Close()
			return 15000 + p
		}
	}
	t.Fatal("no free port in 15000-19999")
	return 0
}
