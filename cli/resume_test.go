package cli

// Process-level tests of rollouts across control plane restarts: `muster
// dev` with three `muster agent` processes, restarted with SIGKILL and
// SIGTERM, and the commands that say how rollouts went.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// devCluster is `muster dev` with three agents whose nodes carry
// role=worker; jobs that select role=worker run only on the agents, whose
// executions outlive the control plane.
type devCluster struct {
	*musterCLI
	dev    *daemonProc
	agents []*daemonProc
}

func newDevCluster(t *testing.T) *devCluster {
	t.Helper()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	d := &devCluster{musterCLI: c}
	d.dev = c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	for _, n := range []string{"w1", "w2", "w3"} {
		d.agents = append(d.agents, c.start(`joined`, "agent", "--node-id", n, "--label", "role=worker", "--dir", "agent-"+n, "--heartbeat", "1s"))
	}
	c.waitNodes(3, "role=worker")
	return d
}

// stopAgents stops the agents while the control plane still answers them
// (they record their executions stopped); tests defer it.
func (d *devCluster) stopAgents() {
	for _, a := range d.agents {
		a.signal(syscall.SIGTERM)
	}
	for _, a := range d.agents {
		a.cmd.Wait()
	}
}

// restart ends `muster dev` with sig (SIGKILL: a crash; SIGTERM: a clean
// stop) and starts another over the same state directory.
func (d *devCluster) restart(sig syscall.Signal) {
	d.t.Helper()
	if sig == syscall.SIGKILL {
		d.dev.kill()
	} else {
		d.dev.signal(sig)
		d.dev.cmd.Wait()
	}
	d.dev = d.start(apiRE, "dev", "--listen", "127.0.0.1:0")
}

// running returns the running executions of job by version: ids, sorted.
func (d *devCluster) running(job string) map[int][]string {
	d.t.Helper()
	out := map[int][]string{}
	for _, x := range d.executions(job) {
		if x.Status.ComputeState == "running" {
			out[x.JobVersion] = append(out[x.JobVersion], x.ID)
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out
}

// waitRunning waits until job runs n executions of version.
func (d *devCluster) waitRunning(job string, version, n int) []string {
	d.t.Helper()
	got, _ := wait.For(d.t, 30*time.Second, fmt.Sprintf("%s to run %d executions of version %d", job, n, version), func() (map[int][]string, bool) {
		got := d.running(job)
		return got, len(got[version]) == n
	})
	return got[version]
}

// rolloutJSON is the part of a rollout record these tests read.
type rolloutJSON struct {
	Version        int    `json:"version"`
	Wave           int    `json:"wave"`
	WavesDone      int    `json:"waves_done"`
	Healthy        int    `json:"healthy"`
	State          string `json:"state"`
	Outcome        string `json:"outcome"`
	RolledBackTo   int    `json:"rolled_back_to"`
	RolledBackFrom int    `json:"rolled_back_from"`
}

// story reads `muster status -o json JOB`: the latest rollout record and
// the events.
func (d *musterCLI) story(job string) (rolloutJSON, []string) {
	d.t.Helper()
	st := decode[[]struct {
		Rollout rolloutJSON `json:"rollout"`
		Events  []struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"events"`
	}](d.t, d.ok("status", "-o", "json", job))[0]
	var evs []string
	for _, e := range st.Events {
		evs = append(evs, e.Kind+": "+e.Message)
	}
	return st.Rollout, evs
}

// waitEvent waits until job's newest events hold one containing text.
func (d *musterCLI) waitEvent(job, text string) {
	d.t.Helper()
	wait.For(d.t, 30*time.Second, fmt.Sprintf("an event of %s that says %q", job, text), func() (string, bool) {
		_, evs := d.story(job)
		all := strings.Join(evs, "\n")
		return all, strings.Contains(all, text)
	})
}

// pids returns the process id of each execution's task.
func pids(t *testing.T, ids []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, id := range ids {
		b, err := exec.Command("sh", "-c", `for p in /proc/[0-9]*; do if tr '\0' '\n' < $p/environ 2>/dev/null | grep -qx "MUSTER_EXECUTION_ID=`+id+`"; then echo ${p#/proc/}; fi; done`).Output()
		if err != nil || strings.TrimSpace(string(b)) == "" {
			t.Fatalf("no process of execution %s: %v", id, err)
		}
		out[id] = strings.TrimSpace(string(b))
	}
	return out
}

// webJob is a service of count 4 on the agents, a canary of one execution
// and waves of one node.
const webJob = `name: web
type: service
count: 4
selector: {match_labels: {role: worker}}
task:
  engine: exec
  cmd: [sh, -c, "exec sleep 300"]
  env: {V: "%d"}
rollout:
  strategy: canary
  canary_count: 1
  max_parallel: 34
  health_check: {min_healthy_time: 300ms, interval: 100ms}
`

// canaryPaused applies version 1 (which does not pause: it is the first)
// and version 2 of webJob, and checks that apply returned at the canary
// pause, saying how to promote, with one execution of version 2 beside the
// four of version 1.
func (d *devCluster) canaryPaused() {
	d.t.Helper()
	file := d.write("web.yaml", fmt.Sprintf(webJob, 1))
	r := d.ok("apply", "--auto-approve", file)
	if strings.Contains(r.stdout, "muster promote") || !strings.Contains(r.stdout, "version 1 running: 4 executions on 3 nodes") {
		d.t.Fatalf("the first version is not held at its canary:\n%v", r)
	}
	d.waitRunning("web", 1, 4)
	d.write("web.yaml", fmt.Sprintf(webJob, 2))
	r = d.ok("apply", "--auto-approve", file)
	if !strings.Contains(r.stdout, "run 'muster promote default/web' to continue") {
		d.t.Fatalf("apply of a canary did not return at the pause with the promote hint:\n%v", r)
	}
	if !strings.Contains(r.stdout, "canary: 1 of 4 executions") {
		d.t.Errorf("the plan does not say the canary counts executions:\n%s", r.stdout)
	}
	d.waitState("web", "rollout_paused")
	// canary_count counts executions: one of version 2, not one node's
	// worth; 'executions' shows version 1's, which keep running.
	byVersion := map[int]int{}
	for _, x := range decode[[]execJSON](d.t, d.ok("executions", "-o", "json", "web")) {
		if x.Status.ComputeState == "running" {
			byVersion[x.JobVersion]++
		}
	}
	if byVersion[1] != 4 || byVersion[2] != 1 {
		d.t.Fatalf("'executions' at the canary pause shows running %v, want 4 of version 1 and 1 of version 2\n%s", byVersion, d.ok("executions", "--all", "web").stdout)
	}
	if r := d.run("rollout", "status", "web"); r.code != 0 || !strings.Contains(r.stdout, "paused for promote") {
		d.t.Errorf("rollout status of a paused canary: %v", r)
	}
}

func TestCanaryPromotedSurvivesDevRestarts(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	d := newDevCluster(t)
	defer d.stopAgents()
	d.canaryPaused()
	d.ok("promote", "web")
	if st := d.waitState("web", "running"); st.Version != 2 {
		t.Fatalf("after promote: %+v", st)
	}
	ids := d.waitRunning("web", 2, 4)
	before := pids(t, ids)
	total := len(d.executions("web"))
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		d.restart(sig)
		d.waitEvent("web", "taken over after a control plane restart")
		if st := d.waitState("web", "running"); st.Version != 2 {
			t.Fatalf("after %s: %+v", sig, st)
		}
		got := d.running("web")
		if len(got) != 1 || strings.Join(got[2], " ") != strings.Join(ids, " ") {
			t.Fatalf("after %s: running %v, want the same %v", sig, got, ids)
		}
		if now := pids(t, ids); fmt.Sprint(now) != fmt.Sprint(before) {
			t.Fatalf("after %s: processes %v, want the same %v (nothing restarted)", sig, now, before)
		}
		if n := len(d.executions("web")); n != total {
			t.Fatalf("after %s: %d executions, want the %d there were", sig, n, total)
		}
		if rec, _ := d.story("web"); rec.Version != 2 || rec.Outcome != "completed" || rec.WavesDone != 4 {
			t.Fatalf("after %s: rollout record %+v", sig, rec)
		}
		if r := d.run("rollout", "status", "web"); r.code != 0 || !strings.Contains(r.stdout, "completed") {
			t.Errorf("after %s: rollout status %v", sig, r)
		}
	}
	out := d.ok("history", "web").stdout
	for _, want := range []string{"version 1  ", "  completed\n", "version 2  "} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
}

func TestPausedCanarySurvivesDevRestart(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	d := newDevCluster(t)
	defer d.stopAgents()
	d.canaryPaused()
	before := d.running("web")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		d.restart(sig)
		d.waitEvent("web", "resumed at wave 1")
		st := d.waitState("web", "rollout_paused")
		if !strings.Contains(st.Message, "muster promote default/web") {
			t.Errorf("after %s the paused job says %q", sig, st.Message)
		}
		if got := d.running("web"); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("after %s: running %v, want the same %v", sig, got, before)
		}
		if rec, _ := d.story("web"); rec.State != "rollout_paused" || rec.Outcome != "" || rec.WavesDone != 1 {
			t.Fatalf("after %s: rollout record %+v", sig, rec)
		}
	}
	r := d.ok("promote", "web")
	if !strings.Contains(r.stdout, "version 2 running: 4 executions") {
		t.Errorf("promote after the restarts:\n%v", r)
	}
	got := d.waitRunning("web", 2, 4)
	if !strings.Contains(strings.Join(got, " "), before[2][0]) {
		t.Errorf("the canary %s was replaced: running %v", before[2][0], got)
	}
	if n := len(d.running("web")[1]); n != 0 {
		t.Errorf("%d executions of version 1 still run after promote", n)
	}
}

func TestRolloutResumesAtItsWave(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	d := newDevCluster(t)
	defer d.stopAgents()
	// Three waves of one node; each execution takes two seconds to be
	// healthy, so the control plane goes in the middle of wave 2: once
	// stopped cleanly (version 1), once killed (version 2).
	job := `name: slow
type: service
count: 3
selector: {match_labels: {role: worker}}
task: {engine: exec, cmd: [sleep, "300"], env: {V: "%d"}}
rollout:
  max_parallel: 34
  health_check: {min_healthy_time: 2s, interval: 100ms}
`
	for _, step := range []struct {
		version int
		sig     syscall.Signal
	}{{1, syscall.SIGTERM}, {2, syscall.SIGKILL}} {
		v := step.version
		file := d.write("slow.yaml", fmt.Sprintf(job, v))
		d.ok("apply", "--auto-approve", "--detach", file)
		wait.For(t, 30*time.Second, fmt.Sprintf("version %d to reach wave 2 with 2 executions running", v), func() (rolloutJSON, bool) {
			rec, _ := d.story("slow")
			return rec, rec.Version == v && rec.Wave == 2 && len(d.running("slow")[v]) == 2
		})
		before := d.running("slow")[v]
		d.restart(step.sig)
		// A loaded machine may finish wave 2 while the control plane
		// shuts down: the rollout then resumes at wave 3.
		rec, _ := d.story("slow")
		if rec.Version != v || rec.Wave < 2 || rec.Wave > 3 || rec.WavesDone != rec.Wave-1 {
			t.Fatalf("record after %s: %+v, want version %d at wave 2 (or 3)", step.sig, rec, v)
		}
		t.Logf("after %s the record says %+v", step.sig, rec)
		d.waitEvent("slow", fmt.Sprintf("resumed at wave %d", rec.Wave))
		if st := d.waitState("slow", "running", "degraded", "rollout_failed", "failed"); st.State != "running" || st.Version != v {
			t.Fatalf("after %s: %+v", step.sig, st)
		}
		got := d.running("slow")
		n := 0
		for _, x := range d.executions("slow") {
			if x.JobVersion == v {
				n++
			}
		}
		if len(got[v]) != 3 || n != 3 || len(got) != 1 {
			t.Fatalf("after %s: running %v, want 3 executions of version %d and no others\n%s\n%s", step.sig, got, v, d.ok("executions", "--all", "slow").stdout, d.ok("status", "slow").stdout)
		}
		for _, id := range before {
			if !strings.Contains(strings.Join(got[v], " "), id) {
				t.Errorf("after %s: execution %s of waves 1 and 2 was replaced", step.sig, id)
			}
		}
		if rec, _ := d.story("slow"); rec.Outcome != "completed" || rec.WavesDone != 3 || rec.Healthy != 3 {
			t.Errorf("after %s: record at the end: %+v", step.sig, rec)
		}
	}
}

func TestRolloutStatusAndHistorySayHowRolloutsEnded(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	job := `name: report
count: 2
task: {engine: exec, cmd: [sh, -c, "%s"]}
`
	file := c.write("report.yaml", fmt.Sprintf(job, "sleep 1; echo ok"))
	c.ok("apply", "--auto-approve", "--detach", file)
	// status -w and rollout status follow the rollout to its end.
	if r := c.run("status", "-w", "report"); r.code != 0 || !strings.Contains(r.stdout, "Following the rollout") || !strings.Contains(r.stdout, "report version 1: completed") {
		t.Fatalf("status -w of a rollout that completes: %v", r)
	}
	if r := c.run("rollout", "status", "report"); r.code != 0 {
		t.Fatalf("rollout status of a completed rollout: %v", r)
	}
	for _, x := range c.executions("report") {
		if x.Status.ComputeState != "complete" || x.Status.DesiredState != "stopped" {
			t.Errorf("execution %s: %s, desired %s; an execution that ended is not desired running", x.ID, x.Status.ComputeState, x.Status.DesiredState)
		}
	}

	// Version 2 runs; 'muster rollback' brings version 1's spec back as
	// version 3, which rolls version 2 back.
	c.write("report.yaml", fmt.Sprintf(job, "echo two"))
	c.ok("apply", "--auto-approve", file)
	c.ok("rollback", "report")
	if st := c.waitState("report", "completed"); st.Version != 3 {
		t.Fatalf("after the rollback: %+v", st)
	}
	if r := c.run("rollout", "status", "report"); r.code != 0 || !strings.Contains(r.stdout, "completed (rolled back from v2)") {
		t.Errorf("rollout status after the rollback: %v", r)
	}

	// Version 4 fails and is rolled back automatically; rollout status,
	// started while it rolls out, follows it to that end: exit status 1.
	c.write("report.yaml", fmt.Sprintf(job, "sleep 1; exit 1"))
	c.ok("apply", "--auto-approve", "--detach", file)
	r := c.run("rollout", "status", "-o", "json", "report")
	var end struct {
		Version  int    `json:"version"`
		Outcome  string `json:"outcome"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &end); err != nil || r.code != 1 || end.Version != 4 || end.Outcome != "rolled_back" || end.ExitCode != 1 {
		t.Fatalf("rollout status of a failed version: %+v, %v\n%v", end, err, r)
	}
	out := c.ok("history", "report").stdout
	for _, want := range []string{
		`version 1  sha256:\S+  \S+  completed\n`,
		`version 2  sha256:\S+  \S+  rolled back to v3\n`,
		`version 3  sha256:\S+  \S+  completed \(rolled back from v2\)\n`,
		`version 4  sha256:\S+  \S+  failed, rolled back to v5\n`,
	} {
		if !regexpMatch(want, out) {
			t.Errorf("history lacks %s:\n%s", want, out)
		}
	}
	// A batch job's automatic rollback records the stable spec as the
	// current version without running it again: the job stays failed.
	if r := c.run("rollout", "status", "report"); r.code != 1 {
		t.Errorf("rollout status of a job left rollout_failed: %v", r)
	}

	// A stopped rollout ends with exit status 1.
	c.write("report.yaml", fmt.Sprintf(job, "sleep 300"))
	c.ok("apply", "--auto-approve", "--detach", file)
	c.waitState("report", "deploying")
	c.ok("stop", "report")
	if r := c.run("rollout", "status", "report"); r.code != 1 || !strings.Contains(r.stdout, "stopped") {
		t.Errorf("rollout status of a stopped rollout: %v", r)
	}
	if out := c.ok("history", "report").stdout; !regexpMatch(`version 6  sha256:\S+  \S+  stopped\n`, out) {
		t.Errorf("history of a stopped version:\n%s", out)
	}
	if r := c.run("status", "-w"); r.code != 1 || !strings.Contains(r.stderr, "--watch follows the rollout of one job") {
		t.Errorf("status -w without a job: %v", r)
	}
	if os.Getenv("MUSTER_TEST_VERBOSE") != "" {
		t.Log(c.ok("status", "report").stdout)
	}
}

// regexpMatch reports whether the multi-line text holds a match of re.
func regexpMatch(re, text string) bool { return regexp.MustCompile(re).MatchString(text) }

func TestQueuedAndPausedBatchSurviveDevRestarts(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	d := &devCluster{musterCLI: c, dev: c.start(apiRE, "dev", "--listen", "127.0.0.1:0")}
	defer d.stopAgents()
	// A batch job's canary counts executions: one of two runs, then the
	// rollout pauses.
	batch := `name: crunch
count: 2
rollout: {strategy: canary, canary_count: 1}
task: {engine: exec, cmd: [echo, "%d"]}
`
	file := c.write("crunch.yaml", fmt.Sprintf(batch, 1))
	c.ok("apply", "--auto-approve", file)
	c.write("crunch.yaml", fmt.Sprintf(batch, 2))
	if r := c.ok("apply", "--auto-approve", file); !strings.Contains(r.stdout, "muster promote default/crunch") {
		t.Fatalf("no pause:\n%v", r)
	}
	// A service no node can take is queued.
	gpu := c.write("gpu.yaml", `name: gpu
type: service
selector: {match_labels: {gpu: "yes"}}
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	c.ok("apply", "--auto-approve", "--detach", gpu)
	c.waitState("gpu", "queued")
	v2 := func() (n int) {
		for _, x := range c.executions("crunch") {
			if x.JobVersion == 2 && x.Status.ComputeState == "complete" {
				n++
			}
		}
		return n
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		d.restart(sig)
		if st := c.waitState("crunch", "rollout_paused", "completed", "deploying"); st.State != "rollout_paused" || v2() != 1 {
			t.Fatalf("after %s: crunch %s with %d executions of version 2, want paused after 1", sig, st.State, v2())
		}
		if st := c.waitState("gpu", "queued", "running", "failed"); st.State != "queued" {
			t.Fatalf("after %s: gpu %s (%s)", sig, st.State, st.Message)
		}
	}
	c.ok("promote", "crunch")
	if st := c.waitState("crunch", "completed"); st.Version != 2 || v2() != 2 {
		t.Errorf("after promote: %+v with %d executions of version 2, want 2 (the canary not run again)", st, v2())
	}
	d.agents = append(d.agents, c.start(`joined`, "agent", "--node-id", "g1", "--label", "gpu=yes", "--dir", "agent-g1", "--heartbeat", "1s"))
	if st := c.waitState("gpu", "running"); st.Version != 1 {
		t.Errorf("gpu after its node joined: %+v", st)
	}
}
