package cli

// Process-level tests of who owns an execution: the node that runs it, not
// the control plane that placed it. Stopping, killing or pausing a control
// plane (`muster dev`, `muster server`) stops its driving of rollouts and
// nothing else: every task process on the node agents keeps its pid, and
// the control plane that comes next adopts the executions without
// restarting them.

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/muster-dev/muster/internal/wait"
)

// taskProc is a task process as the node runs it: its pid and its start
// time since boot (from /proc), so that a reused pid is not taken for the
// same process.
type taskProc struct {
	pid, start string
}

// taskProcs finds the task process of each execution of ids through the
// environment the exec driver gives it (MUSTER_EXECUTION_ID).
func taskProcs(t *testing.T, ids []string) map[string]taskProc {
	t.Helper()
	want := map[string]string{}
	for _, id := range ids {
		want["MUSTER_EXECUTION_ID="+id] = id
	}
	out := map[string]taskProc{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' {
			continue
		}
		env, err := os.ReadFile("/proc/" + pid + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if id, ok := want[kv]; ok {
				if start, ok := procStart(pid); ok {
					out[id] = taskProc{pid: pid, start: start}
				}
			}
		}
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			t.Fatalf("no task process of execution %s", id)
		}
	}
	return out
}

// procStart returns the start time of process pid (field 22 of its stat),
// false when it is gone or a zombie.
func procStart(pid string) (string, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", false
	}
	// The command name (field 2) may hold spaces: count after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || f[0] == "Z" {
		return "", false
	}
	return f[19], true
}

// alive reports whether p still runs as the same process.
func (p taskProc) alive() bool {
	start, ok := procStart(p.pid)
	return ok && start == p.start
}

// checkAlive fails t unless every task process of procs still runs with
// its pid.
func checkAlive(t *testing.T, procs map[string]taskProc, when string) {
	t.Helper()
	for id, p := range procs {
		if !p.alive() {
			t.Errorf("%s: the task of execution %s (pid %s) no longer runs", when, id, p.pid)
		}
	}
}

// ownedJob is a service of two executions on the agents (role=worker), so
// that a `muster dev` runs none of them on its own node.
const ownedJob = `name: svc
type: service
count: 2
selector: {match_labels: {role: worker}}
task: {engine: exec, cmd: [sh, -c, "exec sleep 300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`

// runningIDs returns the ids of job's executions, sorted, and fails t
// unless all of them run.
func (c *musterCLI) runningIDs(job string, args ...string) []string {
	c.t.Helper()
	var ids []string
	for _, x := range decode[[]execJSON](c.t, c.ok(append([]string{"executions", "--all", "-o", "json", job}, args...)...)) {
		ids = append(ids, x.ID+" "+string(x.Status.ComputeState))
	}
	sort.Strings(ids)
	return ids
}

// waitEvents waits until n of job's stored events (read with args, such
// as --addr) match re.
func (c *musterCLI) waitEvents(job, re string, n int, args ...string) {
	c.t.Helper()
	rx := regexp.MustCompile(re)
	wait.Until(c.t, wait.Default, fmt.Sprintf("%d events of %s matching %q", n, job, re), func() bool {
		st := decode[[]struct {
			Events []struct {
				Message string `json:"message"`
			} `json:"events"`
		}](c.t, c.ok(append([]string{"status", "-o", "json", job}, args...)...))[0]
		seen := 0
		for _, e := range st.Events {
			if rx.MatchString(e.Message) {
				seen++
			}
		}
		return seen >= n
	})
}

// stopAdopted stops job through the control plane that adopted its
// executions, and checks that their task processes end and that no other
// execution was ever made: the control plane controls the very processes
// that ran before it started.
func (c *musterCLI) stopAdopted(job string, ids []string, procs map[string]taskProc, args ...string) {
	c.t.Helper()
	c.ok(append([]string{"stop", job}, args...)...)
	wait.Until(c.t, wait.Default, "the adopted task processes to end", func() bool {
		for _, p := range procs {
			if p.alive() {
				return false
			}
		}
		return true
	})
	var want []string
	for _, id := range ids {
		want = append(want, strings.TrimSuffix(id, " running")+" stopped")
	}
	if got := c.runningIDs(job, args...); strings.Join(got, ",") != strings.Join(want, ",") {
		c.t.Errorf("executions after the stop: %v, want %v", got, want)
	}
}

// TestControlPlaneEndLeavesAgentTasks stops `muster dev` and `muster
// server` (SIGTERM) and kills them (SIGKILL) while two executions of a
// service run on a node agent: the task processes keep their pids, and the
// control plane started again over the same state adopts them without
// starting anything.
func TestControlPlaneEndLeavesAgentTasks(t *testing.T) {
	skipReliability(t)
	for _, mode := range []string{"server", "dev"} {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
			t.Run(mode+"/"+sig.String(), func(t *testing.T) {
				t.Parallel()
				c := newCLI(t, "MUSTER_STATE_DIR=.muster")
				cp := c.start(apiRE, mode, "--listen", "127.0.0.1:0")
				addr := cp.waitFor(apiRE)
				c.start(`joined`, "agent", "--server", addr, "--node-id", "w1", "--label", "role=worker", "--dir", "agent-w1", "--heartbeat", "500ms")
				c.waitNodes(1, "role=worker")
				c.ok("apply", "--auto-approve", c.write("svc.yaml", ownedJob))
				c.waitState("svc", "running")
				ids := c.runningIDs("svc")
				if len(ids) != 2 || !strings.HasSuffix(ids[0], " running") || !strings.HasSuffix(ids[1], " running") {
					t.Fatalf("before the %s: executions %v, want 2 running", sig, ids)
				}
				procs := taskProcs(t, []string{strings.Fields(ids[0])[0], strings.Fields(ids[1])[0]})

				if sig == syscall.SIGKILL {
					cp.kill()
				} else {
					cp.signal(sig)
					if err := cp.cmd.Wait(); err != nil {
						t.Fatalf("muster %s after SIGTERM: %v\n%s", mode, err, cp.out.String())
					}
				}
				checkAlive(t, procs, "with no control plane")

				c.start(apiRE, mode, "--listen", "127.0.0.1:0")
				c.waitEvents("svc", `taken over after a control plane restart`, 1)
				if st := c.waitState("svc", "running"); st.Version != 1 {
					t.Fatalf("after the restart: %+v", st)
				}
				checkAlive(t, procs, "after the restart")
				if got := c.runningIDs("svc"); strings.Join(got, ",") != strings.Join(ids, ",") {
					t.Fatalf("executions after the restart: %v, want the same %v", got, ids)
				}
				c.stopAdopted("svc", ids, procs)
			})
		}
	}
}

// TestPausedLeaderStandsDown pauses the leading `muster server` (SIGSTOP)
// past its lease while a service runs on an agent: the server standing by
// takes over and adopts the executions; the paused one, continued, learns
// that it lost the lease and stands by, alive, touching nothing; when the
// new leader stops, it leads again and adopts the same task processes.
func TestPausedLeaderStandsDown(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	ns := startNATS(t)
	c := newCLI(t, "MUSTER_NATS_URL="+ns.ClientURL())
	first, addr1 := c.server("--lease-ttl", "1500ms")
	second := c.start(`standing by`, "server", "--listen", "127.0.0.1:0", "--lease-ttl", "1500ms")
	addr2 := second.waitFor(apiRE)
	c.start(`joined`, "agent", "--server", addr1, "--node-id", "w1", "--label", "role=worker", "--dir", "agent", "--heartbeat", "500ms")
	c.ok("apply", "--auto-approve", "--addr", addr1, c.write("svc.yaml", ownedJob))
	ids := c.runningIDs("svc")
	if len(ids) != 2 || !strings.HasSuffix(ids[0], " running") || !strings.HasSuffix(ids[1], " running") {
		t.Fatalf("before the pause: executions %v, want 2 running", ids)
	}
	procs := taskProcs(t, []string{strings.Fields(ids[0])[0], strings.Fields(ids[1])[0]})

	first.signal(syscall.SIGSTOP)
	second.waitFor(`now leading`)
	c.waitEvents("svc", `taken over after a control plane restart`, 1, "--addr", addr2)
	first.signal(syscall.SIGCONT)
	first.waitFor(`lost the lead`)
	first.waitFor(`(?s)lost the lead.*standing by`)
	if err := first.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the demoted server exited: %v\n%s", err, first.out.String())
	}
	checkAlive(t, procs, "after the paused leader came back")
	if got := c.runningIDs("svc", "--addr", addr2); strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("executions after the paused leader came back: %v, want the same %v", got, ids)
	}
	// Demoted, it still serves the API: reads from the shared store.
	if r := c.run("status", "--addr", addr1, "svc"); r.code != 0 || !strings.Contains(r.stdout, "running") {
		t.Errorf("status through the demoted server: %v", r)
	}

	// The other one stops: the demoted one leads again and adopts the same
	// processes.
	second.signal(syscall.SIGTERM)
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("second server after SIGTERM: %v\n%s", err, second.out.String())
	}
	wait.Until(t, wait.Default, "the demoted server to lead again", func() bool {
		return strings.Count(first.out.String(), "now leading") >= 1
	})
	c.waitEvents("svc", `taken over after a control plane restart`, 2, "--addr", addr1)
	checkAlive(t, procs, "after the lead came back")
	c.stopAdopted("svc", ids, procs, "--addr", addr1)
}
