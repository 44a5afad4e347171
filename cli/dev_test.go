package cli

// Process-level tests of the long-lived control plane: `muster dev`,
// `muster server` and `muster agent` as separate processes on loopback, and
// other commands reaching them through the API.

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/testcerts"
	"github.com/muster-dev/muster/internal/wait"
)

// daemonProc is a muster process running in the background.
type daemonProc struct {
	t   *testing.T
	cmd *exec.Cmd
	out *lockedBuffer
}

// start runs muster args in the background and waits until its output
// matches ready.
func (c *musterCLI) start(ready string, args ...string) *daemonProc {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd, _, _ := c.command(ctx, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		c.t.Fatal(err)
	}
	p := &daemonProc{t: c.t, cmd: cmd, out: out}
	c.t.Cleanup(func() {
		p.signal(syscall.SIGTERM)
		// A process that does not stop within 15s of SIGTERM is killed.
		kill := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
		cmd.Wait()
		kill.Stop()
		cancel()
	})
	p.waitFor(ready)
	return p
}

func (p *daemonProc) signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(sig)
	}
}

// waitFor waits until the output matches the regexp re.
func (p *daemonProc) waitFor(re string) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	m, _ := wait.For(p.t, 30*time.Second, fmt.Sprintf("%q in the output of %s", re, strings.Join(p.cmd.Args, " ")), func() (string, bool) {
		out := p.out.String()
		if m := rx.FindStringSubmatch(out); m != nil {
			return m[len(m)-1], true
		}
		return "output:\n" + out, false
	})
	return m
}

// kill ends the process with SIGKILL, as a crash would.
func (p *daemonProc) kill() {
	p.signal(syscall.SIGKILL)
	p.cmd.Wait()
}

type execJSON struct {
	ID         string `json:"id"`
	JobVersion int    `json:"job_version"`
	NodeID     string `json:"node_id"`
	Previous   string `json:"previous_execution_id"`
	Next       string `json:"next_execution_id"`
	Status     struct {
		ComputeState stateType `json:"compute_state"`
		DesiredState stateType `json:"desired_state"`
	} `json:"status"`
}

// apiRE finds the API address a control plane prints when it serves.
const apiRE = `API on http://(\S+)`

// server starts `muster server` with args and returns it with its API
// address.
func (c *musterCLI) server(args ...string) (*daemonProc, string) {
	c.t.Helper()
	p := c.start(apiRE, append([]string{"server", "--listen", "127.0.0.1:0"}, args...)...)
	addr := p.waitFor(apiRE)
	if strings.HasPrefix(c.env, "MUSTER_NATS_URL=") {
		// Over a shared NATS server the API answers before the lead is
		// taken: wait for it.
		p.waitFor(`leading|standing by`)
	}
	return p, addr
}

// waitNodes waits until `muster nodes` lists n nodes whose line contains
// match.
func (c *musterCLI) waitNodes(n int, match string) {
	c.t.Helper()
	wait.For(c.t, 20*time.Second, fmt.Sprintf("%d nodes with %q", n, match), func() (string, bool) {
		out := c.ok("nodes").stdout
		return out, strings.Count(out, match) >= n
	})
}

// sameRunning checks that job has exactly one execution, want's, running.
func (c *musterCLI) sameRunning(job string, want execJSON, when string) {
	c.t.Helper()
	got := c.executions(job)
	if len(got) != 1 || got[0].ID != want.ID || got[0].Status.ComputeState != "running" {
		c.t.Fatalf("%s, executions:\n%s\nwant only %s, running", when, c.ok("executions", "--all", job).stdout, want.ID)
	}
}

// waitState polls `muster status JOB` until the job is in one of states.
func (c *musterCLI) waitState(job string, states ...string) statusJSON {
	c.t.Helper()
	st, _ := wait.For(c.t, 30*time.Second, fmt.Sprintf("%s to be %s", job, strings.Join(states, " or ")), func() (statusJSON, bool) {
		st := decode[[]statusJSON](c.t, c.ok("status", "-o", "json", job))[0]
		return st, slices.Contains(states, st.State)
	})
	return st
}

func (c *musterCLI) executions(job string) []execJSON {
	c.t.Helper()
	return decode[[]execJSON](c.t, c.ok("executions", "--all", "-o", "json", job))
}

func TestDevRunsServices(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	job := `name: web
type: service
count: 2
task:
  engine: exec
  cmd: [sh, -c, "echo serving $MUSTER_JOB_VERSION; exec sleep 300"]
  env: {V: "%s"}
rollout:
  health_check: {min_healthy_time: 300ms, interval: 100ms}
`
	file := c.write("web.yaml", fmt.Sprintf(job, "1"))
	r := c.ok("apply", "--auto-approve", file)
	if !strings.Contains(r.stdout, "version 1 running: 2 executions") {
		t.Fatalf("apply did not wait for the service to run:\n%v", r)
	}
	if st := c.waitState("web", "running"); st.Version != 1 {
		t.Fatalf("status: %+v", st)
	}
	if out := c.ok("logs", "web").stdout; strings.Count(out, "serving 1") != 2 {
		t.Errorf("logs through the API:\n%s", out)
	}

	c.write("web.yaml", fmt.Sprintf(job, "2"))
	c.ok("apply", "--auto-approve", file)
	running := map[int]int{}
	for _, x := range c.executions("web") {
		if x.Status.ComputeState == "running" {
			running[x.JobVersion]++
		} else if x.JobVersion == 1 && (x.Status.ComputeState != "stopped" || x.Status.DesiredState != "stopped") {
			t.Errorf("version 1 execution %s left %s/%s", x.ID, x.Status.ComputeState, x.Status.DesiredState)
		}
	}
	if running[2] != 2 || running[1] != 0 {
		t.Errorf("running executions by version after the update: %v, want 2 of version 2", running)
	}

	// A crash is restarted (restart_policy always for services).
	var victim string
	for _, x := range c.executions("web") {
		if x.Status.ComputeState == "running" {
			victim = x.ID
			break
		}
	}
	killTask(t, victim)
	wait.For(t, 20*time.Second, "execution "+victim+" to be restarted", func() ([]execJSON, bool) {
		xs := c.executions("web")
		return xs, slices.ContainsFunc(xs, func(x execJSON) bool {
			return x.Previous == victim && x.Status.ComputeState == "running"
		})
	})

	c.ok("stop", "web")
	for _, x := range c.executions("web") {
		if s := x.Status.ComputeState; s == "running" || s == "starting" || s == "pending" {
			t.Errorf("after stop, %s is %s", x.ID, s)
		}
	}
	if st := c.waitState("web", "stopped"); st.State != "stopped" {
		t.Fatal(st)
	}
	// Applying a stopped job starts it again, as the same version; with
	// --detach apply returns at once.
	if r := c.ok("apply", "--auto-approve", "--detach", file); !strings.Contains(r.stdout, "starting it again") || !strings.Contains(r.stdout, "rolling out version 2 in the control plane") {
		t.Errorf("apply --detach after stop:\n%v", r)
	}
	if st := c.waitState("web", "running"); st.Version != 2 {
		t.Errorf("after apply again: %+v", st)
	}
}

// killTask kills the process whose environment names execution id.
func killTask(t *testing.T, id string) {
	t.Helper()
	out, err := exec.Command("sh", "-c", `for p in /proc/[0-9]*; do if tr '\0' '\n' < $p/environ 2>/dev/null | grep -qx "MUSTER_EXECUTION_ID=`+id+`"; then echo ${p#/proc/}; fi; done`).Output()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		t.Fatalf("no process of execution %s: %v", id, err)
	}
	for _, pid := range strings.Fields(string(out)) {
		exec.Command("kill", "-9", pid).Run()
	}
}

func TestCanaryWaitsForPromoteAcrossAgents(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	_, addr := c.server()
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		cfg := c.write(n+".yaml", fmt.Sprintf("id: %s\nlabels: {role: worker}\n", n))
		c.start(`joined`, "agent", "--server", addr, "--node-config", cfg, "--dir", "agent-"+n)
	}
	c.waitNodes(4, "role=worker")
	job := `name: report
type: ops
selector: {match_labels: {role: worker}}
task: {engine: exec, cmd: [sh, -c, "echo report %d from $MUSTER_NODE_ID"]}
rollout: {strategy: canary, canary_count: 1, max_parallel: 50}
`
	// The first version has nothing to protect: it does not pause.
	file := c.write("report.yaml", fmt.Sprintf(job, 1))
	if r := c.ok("apply", "--auto-approve", file); strings.Contains(r.stdout, "muster promote") {
		t.Fatalf("the first version stopped at the canary:\n%v", r)
	}
	c.waitState("report", "completed")
	c.write("report.yaml", fmt.Sprintf(job, 2))
	r := c.ok("apply", "--auto-approve", file)
	if !strings.Contains(r.stdout, "muster promote default/report") {
		t.Fatalf("apply did not stop at the canary:\n%v", r)
	}
	c.waitState("report", "rollout_paused")
	v2 := func() []execJSON {
		var out []execJSON
		for _, x := range c.executions("report") {
			if x.JobVersion == 2 {
				out = append(out, x)
			}
		}
		return out
	}
	if n := len(v2()); n != 1 {
		t.Fatalf("%d executions while paused at the canary, want 1", n)
	}
	c.ok("promote", "report")
	c.waitState("report", "completed")
	nodes := map[string]int{}
	for _, x := range v2() {
		if x.Status.ComputeState != "complete" {
			t.Errorf("%s on %s: %s", x.ID, x.NodeID, x.Status.ComputeState)
		}
		nodes[x.NodeID]++
	}
	if len(nodes) != 4 {
		t.Errorf("executions per node: %v, want one on each of the 4 agents", nodes)
	}
	for n, k := range nodes {
		if k != 1 {
			t.Errorf("node %s ran %d executions, want 1 (the canary is not run again)", n, k)
		}
	}
	if out := c.ok("logs", "report").stdout; strings.Count(out, "report 2 from n") != 4 {
		t.Errorf("logs read through the agents:\n%s", out)
	}
}

func TestDaemonStartsOnJoiningAgent(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	_, addr := c.server()
	cfg := c.write("a.yaml", "id: node-a\nlabels: {tier: edge}\n")
	c.start(`joined`, "agent", "--addr", addr, "--node-config", cfg, "--dir", "agent-a")
	c.waitNodes(1, "node-a")
	file := c.write("edge.yaml", `name: edge
type: daemon
selector: {match_labels: {tier: edge}}
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	c.ok("apply", "--auto-approve", file)
	// This one finds the server through the state directory it holds.
	c.start(`joined`, "agent", "--node-id", "node-b", "--label", "tier=edge", "--dir", "agent-b")
	wait.For(t, 30*time.Second, "the daemon to run on node-a and the joining node-b", func() (map[string]bool, bool) {
		on := map[string]bool{}
		for _, x := range c.executions("edge") {
			if x.Status.ComputeState == "running" {
				on[x.NodeID] = true
			}
		}
		return on, on["node-a"] && on["node-b"]
	})
}

func TestDevKilledMidRolloutResumes(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	file := c.write("batch.yaml", `name: crunch
type: batch
count: 4
task: {engine: exec, cmd: [sh, -c, "sleep 1; echo crunched"]}
rollout: {strategy: rolling, max_parallel: 50}
`)
	// Record and start the rollout, then kill the control plane while its
	// first executions run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd, _, _ := c.command(ctx, "apply", "--auto-approve", file)
	out := newWatchWriter(" starting\n")
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 20*time.Second, "apply to say an execution is starting", func() (string, bool) {
		return out.String(), out.sawMark()
	})
	wait.Until(t, 20*time.Second, "an execution of crunch to run", func() bool {
		return slices.ContainsFunc(c.executions("crunch"), func(x execJSON) bool { return x.Status.ComputeState == "running" })
	})
	dev.kill()
	cmd.Wait()

	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	st := c.waitState("crunch", "completed", "failed", "rollout_failed")
	if st.State != "completed" || st.Version != 1 {
		t.Fatalf("after the restart: version %d %s (%s)", st.Version, st.State, st.Message)
	}
	complete := 0
	for _, x := range c.executions("crunch") {
		switch x.Status.ComputeState {
		case "complete":
			complete++
		case "lost":
			if x.Next != "" {
				t.Errorf("lost execution %s was replaced by %s: the replacement is a new slot, not a restart", x.ID, x.Next)
			}
		default:
			t.Errorf("execution %s left %s", x.ID, x.Status.ComputeState)
		}
	}
	t.Logf("executions after the restart:\n%s", c.ok("executions", "--all", "crunch").stdout)
	if complete != 4 {
		t.Errorf("%d complete executions, want exactly count 4 (none lost, none run twice)\n%s", complete, c.ok("executions", "--all", "crunch").stdout)
	}
}

func TestServiceMovesOffALostAgent(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	_, addr := c.server("--node-ttl", "1500ms")
	agents := map[string]*daemonProc{}
	for _, n := range []string{"na", "nb"} {
		cfg := c.write(n+".yaml", fmt.Sprintf("id: %s\n", n))
		agents[n] = c.start(`joined`, "agent", "--server", addr, "--node-config", cfg, "--dir", "agent-"+n, "--heartbeat", "300ms")
	}
	file := c.write("svc.yaml", `name: svc
type: service
count: 2
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	c.waitNodes(2, "\nn")
	c.ok("apply", "--auto-approve", file)
	on := func() map[string]int {
		m := map[string]int{}
		for _, x := range c.executions("svc") {
			if x.Status.ComputeState == "running" {
				m[x.NodeID]++
			}
		}
		return m
	}
	before := on()
	if before["na"]+before["nb"] != 2 {
		t.Fatalf("running before the loss: %v", before)
	}
	lost := "nb"
	if before["nb"] == 0 {
		lost = "na"
	}
	agents[lost].kill()
	other := map[string]string{"na": "nb", "nb": "na"}[lost]
	wait.For(t, 30*time.Second, "both executions to run on "+other+" after node "+lost+" was lost", func() (map[string]int, bool) {
		m := on()
		return m, m[lost] == 0 && len(m) == 1 && m[other] == 2
	})
	down := regexp.MustCompile(lost + `\s+down`)
	wait.For(t, 10*time.Second, "muster nodes to show "+lost+" down", func() (string, bool) {
		out := c.ok("nodes").stdout
		return out, down.MatchString(out)
	})
	lostOnes := 0
	for _, x := range c.executions("svc") {
		if x.NodeID == lost && x.Status.ComputeState == "lost" {
			lostOnes++
		}
	}
	if lostOnes == 0 {
		t.Errorf("no execution on %s is recorded lost:\n%s", lost, c.ok("executions", "--all", "svc").stdout)
	}
}

func TestTokenRequiredBeyondLoopback(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	if r := c.run("dev", "--listen", "0.0.0.0:0"); r.code != 1 || !strings.Contains(r.stderr, "MUSTER_TOKEN") {
		t.Fatalf("dev beyond loopback without a token: %v", r)
	}
	// Beyond loopback takes TLS too (see TestTLSServerBeyondLoopback).
	certs := testcerts.New(t)
	tc := newCLI(t, "MUSTER_TOKEN=s3cret")
	tc.dir = c.dir
	dev := tc.start(apiTLSRE, "dev", "--listen", "0.0.0.0:0", "--state-dir", ".muster", "--tls-cert", certs.Cert, "--tls-key", certs.Key)
	_, port, _ := strings.Cut(dev.waitFor(apiTLSRE), "]:")
	if port == "" {
		_, port, _ = strings.Cut(dev.waitFor(apiTLSRE), ":")
	}
	addr := "127.0.0.1:" + port
	if r := c.run("status", "--addr", addr, "--tls-ca", certs.CA); r.code != 1 || !strings.Contains(r.stderr, "MUSTER_TOKEN") {
		t.Errorf("status without the token: %v", r)
	}
	if r := tc.run("status", "--addr", addr, "--tls-ca", certs.CA); r.code != 0 {
		t.Errorf("status with the token: %v", r)
	}
}

func TestAgentsOutliveAServerRestart(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	srv, addr := c.server()
	cfg := c.write("a.yaml", "id: node-a\n")
	agent := c.start(`joined`, "agent", "--server", addr, "--node-config", cfg, "--dir", "agent-a", "--heartbeat", "500ms")
	c.waitNodes(1, "node-a")
	file := c.write("svc.yaml", `name: svc
type: service
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	c.ok("apply", "--auto-approve", file)
	before := c.executions("svc")
	if len(before) != 1 || before[0].Status.ComputeState != "running" {
		t.Fatalf("before the restart: %+v", before)
	}

	// A crash of the control plane does not stop what the agent runs; the
	// next control plane (on the same NATS port) takes it over.
	srv.kill()
	c.server()
	// The job reads running from before the crash: what says the new
	// control plane took the execution over (or replaced it) is its event.
	c.waitEvent("svc", "taken over after a control plane restart")
	c.waitState("svc", "running")
	c.sameRunning("svc", before[0], "after the restart")
	// The agent goes first, while its control plane still answers.
	agent.signal(syscall.SIGTERM)
	agent.cmd.Wait()
	if x := c.executions("svc")[0]; x.Status.ComputeState != "stopped" {
		t.Errorf("an agent that stops records its executions stopped; got %s", x.Status.ComputeState)
	}
}

func TestLogsFollowUntilTheEnd(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	file := c.write("tick.yaml", `name: tick
task: {engine: exec, cmd: [sh, -c, "for i in 1 2 3 4; do echo tick $i; sleep 0.3; done"]}
`)
	c.ok("apply", "--auto-approve", "--detach", file)
	// Follows the execution while it runs, and returns when it ended.
	start := time.Now()
	r := c.ok("logs", "--follow", "tick")
	if r.stdout != "tick 1\ntick 2\ntick 3\ntick 4\n" {
		t.Errorf("logs --follow printed %q", r.stdout)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("logs --follow returned after %s: it did not wait for the execution", d)
	}
	if st := c.waitState("tick", "completed"); st.Version != 1 {
		t.Error(st)
	}
}

func TestServersOnSharedNATSTakeTurns(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	ns := startNATS(t)
	c := newCLI(t, "MUSTER_NATS_URL="+ns.ClientURL())
	first, addr1 := c.server("--lease-ttl", "1500ms")
	second := c.start(`standing by`, "server", "--listen", "127.0.0.1:0", "--lease-ttl", "1500ms")
	if strings.Contains(second.out.String(), "leading") {
		t.Fatalf("a second server leads while the first does:\n%s", second.out.String())
	}
	addr2 := second.waitFor(apiRE)
	c.start(`joined`, "agent", "--server", addr1, "--node-id", "worker", "--dir", "agent")
	file := c.write("svc.yaml", `name: svc
type: service
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	c.ok("apply", "--auto-approve", "--addr", addr1, file)
	before := c.executions("svc")

	// The one standing by serves the whole API: a job applied through it
	// is rolled out by the leader, and its progress followed through it.
	other := c.write("other.yaml", `name: other
type: service
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	c.ok("apply", "--auto-approve", "--addr", addr2, other)
	if st := decode[[]statusJSON](t, c.ok("status", "-o", "json", "--addr", addr2, "other"))[0]; st.State != "running" {
		t.Errorf("a job applied through the server standing by: %+v", st)
	}
	if strings.Contains(second.out.String(), "leading") {
		t.Fatalf("the server standing by took the lead:\n%s", second.out.String())
	}

	// The leader dies; the one standing by takes over once the lease
	// expired, and keeps the agent's execution.
	first.kill()
	second.waitFor(`now leading`)
	if !strings.Contains(second.out.String(), "now leading") {
		t.Errorf("the second server does not say it leads:\n%s", second.out.String())
	}
	c.waitEvent("svc", "taken over after a control plane restart")
	st := decode[[]statusJSON](t, c.ok("status", "-o", "json", "--addr", addr2, "svc"))[0]
	if st.State != "running" {
		t.Errorf("status through the new leader: %+v", st)
	}
	c.sameRunning("svc", before[0], "after the takeover")
}

func TestTakenListenAddress(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	addr := dev.waitFor(apiRE)
	other := newCLI(t, "MUSTER_STATE_DIR=.muster")
	if r := other.run("dev", "--listen", addr); r.code != 1 || !strings.Contains(r.stderr, "is taken (another muster dev or server?)") {
		t.Errorf("a second dev on a taken address: %v", r)
	}
}
