package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// settle bounds every wait for the cluster to reach a state after a
// failure: several node and lease TTLs, and a rollout of a few waves.
const settle = 60 * time.Second

// job is the service the scenarios roll: three executions, one wave at a
// time, each healthy after a second.
const (
	job        = "web"
	count      = 3
	minHealthy = time.Second
)

// status is the part of `muster status -o json JOB` the tests read.
type status struct {
	Version int       `json:"version"`
	State   StateType `json:"state"`
}

// jobStatus reads job's status through whichever control plane answers.
func jobStatus(c *Cluster, name string) (status, error) {
	r := c.Muster("status", "-o", "json", name)
	if r.Err != nil {
		return status{}, fmt.Errorf("%s", r)
	}
	var list []status
	if err := json.Unmarshal([]byte(r.Stdout), &list); err == nil && len(list) == 1 {
		return list[0], nil
	}
	var one status
	if err := json.Unmarshal([]byte(r.Stdout), &one); err != nil {
		return status{}, fmt.Errorf("%s: %w", r, err)
	}
	return one, nil
}

// waitRolledOut waits until job runs version v with want executions, all
// of v, each one task process on an agent, and no other task process
// anywhere; it returns the count.
func waitRolledOut(t *testing.T, c *Cluster, v, want int) Count {
	t.Helper()
	var n Count
	seen, waited := wait.For(t, settle, fmt.Sprintf("%s to run %d executions of version %d, and only those", job, want, v), func() (string, bool) {
		st, err := jobStatus(c, job)
		if err != nil {
			return err.Error(), false
		}
		if n, err = c.Count(job); err != nil {
			return err.Error(), false
		}
		ok := st.Version == v && st.State == "running" && n.Running == want &&
			n.ByVersion[fmt.Sprint(v)] == want && n.TotalProcesses() == want
		return fmt.Sprintf("status %+v; %s", st, n), ok
	})
	t.Logf("rolled out after %s: %s", waited.Round(time.Millisecond), seen)
	return n
}

// applyOK applies version v of the job through the leader and waits for
// it to roll out.
func applyOK(t *testing.T, c *Cluster, v int) Count {
	t.Helper()
	if r := c.Muster("apply", "--auto-approve", c.ServiceJob(job, count, fmt.Sprint(v), minHealthy)); r.Err != nil {
		t.Fatal(r)
	}
	return waitRolledOut(t, c, v, count)
}

// applyInBackground starts applying version v through control plane x
// and returns a function that waits for the command and says how it ended.
func applyInBackground(t *testing.T, c *Cluster, x *Container, v int) func() string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := c.Command(ctx, x, "apply", "--auto-approve", c.ServiceJob(job, count, fmt.Sprint(v), minHealthy))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return func() string {
		err := cmd.Wait()
		return fmt.Sprintf("apply of version %d through %s: %v\n%s", v, x.Alias, err, out.String())
	}
}

// waitMidRollout waits until version v runs alongside the version before.
func waitMidRollout(t *testing.T, c *Cluster, v int) Count {
	t.Helper()
	var n Count
	wait.For(t, settle, fmt.Sprintf("version %d to run alongside version %d", v, v-1), func() (string, bool) {
		var err error
		if n, err = c.Count(job); err != nil {
			return err.Error(), false
		}
		return n.String(), n.ByVersion[fmt.Sprint(v)] >= 1 && n.ByVersion[fmt.Sprint(v-1)] >= 1
	})
	t.Logf("mid-rollout: %s", n)
	return n
}

// rolling is the most executions that may run at once while a version
// replaces n's: all of them, and the new ones of one wave, which replaces
// every execution of one node.
func rolling(n Count) int {
	most := 0
	for _, k := range n.ByNode {
		most = max(most, k)
	}
	return n.Running + most
}

// checkWatch fails t when the watcher saw more running executions than
// bound, more than one control plane saying it leads for longer than a
// lease's TTL (a deposed leader says so until its next renewal or write
// is refused; its writes are fenced meanwhile), or any duplicate slot.
func checkWatch(t *testing.T, c *Cluster, w *Watcher, bound int) {
	t.Helper()
	w.Stop()
	t.Logf("watched: %s", w)
	if w.MaxRunning > bound {
		t.Errorf("up to %d executions ran at once, want at most %d", w.MaxRunning, bound)
	}
	if w.LongestOverlap > c.opts.LeaseTTL {
		t.Errorf("%d control planes said they led at once for %s, longer than the lease TTL %s", w.MaxLeaders, w.LongestOverlap, c.opts.LeaseTTL)
	}
	if len(w.Duplicates) > 0 {
		t.Errorf("an execution and its replacement ran at once: %v", w.Duplicates)
	}
}

// checkReplicas fails t unless every stream has want replicas.
func checkReplicas(t *testing.T, c *Cluster, want int) {
	t.Helper()
	ss, err := c.Streams()
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if len(ss) == 0 {
		t.Fatal("no streams")
	}
	for _, s := range ss {
		if s.Replicas != want {
			t.Errorf("stream %s has %d replicas, want %d", s.Name, s.Replicas, want)
		}
	}
	t.Logf("streams: %+v", ss)
}

// TestDoneMeans is the smoke test of a cluster: every stream muster makes
// is kept on the three NATS servers, and with the server leading the jobs
// stream stopped, a new version still rolls out to every execution.
func TestDoneMeans(t *testing.T) {
	c := New(t, Options{Servers: 1, Agents: 2})
	before := applyOK(t, c, 1)
	checkReplicas(t, c, 3)

	leader := c.StreamLeader(JobsStream)
	t.Logf("stopping %s, the leader of %s", leader.Alias, JobsStream)
	leader.Stop()
	w := c.Watch(job)
	applyOK(t, c, 2)
	checkWatch(t, c, w, rolling(before))
}

// TestJetStreamLeaderKilledMidRollout kills the NATS server leading the
// jobs stream while a rolling update runs: the rollout completes.
func TestJetStreamLeaderKilledMidRollout(t *testing.T) {
	c := New(t, Options{})
	before := applyOK(t, c, 1)
	w := c.Watch(job)
	done := applyInBackground(t, c, c.WaitLeader(), 2)
	waitMidRollout(t, c, 2)
	leader := c.StreamLeader(JobsStream)
	t.Logf("killing %s, the leader of %s", leader.Alias, JobsStream)
	leader.Kill()
	waitRolledOut(t, c, 2, count)
	t.Log(done())
	checkWatch(t, c, w, rolling(before))
}

// TestControlPlaneKilledMidRollout kills the leading control plane while
// a rolling update runs: the other takes over and completes the rollout,
// and no execution runs twice.
func TestControlPlaneKilledMidRollout(t *testing.T) {
	c := New(t, Options{})
	first := applyOK(t, c, 1)
	leader := c.WaitLeader()
	w := c.Watch(job)
	done := applyInBackground(t, c, leader, 2)
	before := waitMidRollout(t, c, 2)
	t.Logf("killing %s, the leading control plane", leader.Alias)
	leader.Kill()
	next := c.WaitLeader()
	if next == leader {
		t.Fatalf("%s still leads after it was killed", leader.Alias)
	}
	after := waitRolledOut(t, c, 2, count)
	t.Logf("%s; before the kill: %s, after: %s", done(), before, after)
	checkWatch(t, c, w, rolling(first))
}

// TestAgentPartitionedPastNodeTTL cuts one agent off from everything for
// longer than the node TTL: its executions are replaced on the other
// nodes; when it returns, the copies it kept running are stopped, and
// never do two executions of one slot run by the state.
func TestAgentPartitionedPastNodeTTL(t *testing.T) {
	c := New(t, Options{})
	before := applyOK(t, c, 1)
	var victim *Container
	for _, a := range c.Agents {
		if before.ByNode[a.Alias] > 0 {
			victim = a
			break
		}
	}
	w := c.Watch(job)
	t.Logf("partitioning %s, which runs %d executions", victim.Alias, before.ByNode[victim.Alias])
	victim.Partition()
	replaced, waited := wait.For(t, settle, "the executions of "+victim.Alias+" to be replaced elsewhere", func() (string, bool) {
		n, err := c.Count(job)
		if err != nil {
			return err.Error(), false
		}
		return n.String(), n.Running == count && n.ByNode[victim.Alias] == 0
	})
	t.Logf("replaced after %s: %s", waited.Round(time.Millisecond), replaced)
	victim.Heal()
	healed, waited := wait.For(t, settle, "the copies on "+victim.Alias+" to stop", func() (string, bool) {
		n, err := c.Count(job)
		if err != nil {
			return err.Error(), false
		}
		return n.String(), n.Running == count && n.TotalProcesses() == count && n.Processes[victim.Alias] == 0
	})
	t.Logf("healed after %s: %s", waited.Round(time.Millisecond), healed)
	checkWatch(t, c, w, count)
}

// TestNATSMinorityPartitioned cuts one NATS server off: within a few
// lease TTLs the control plane answers again (its connection to the lost
// server is found dead and it moves to another), a new version rolls out,
// and after healing another does.
func TestNATSMinorityPartitioned(t *testing.T) {
	c := New(t, Options{})
	before := applyOK(t, c, 1)
	minority := c.StreamLeader(JobsStream)
	t.Logf("partitioning %s, the leader of %s", minority.Alias, JobsStream)
	w := c.Watch(job)
	minority.Partition()
	blind := wait.Until(t, 4*c.opts.LeaseTTL+10*time.Second, "the control plane to answer without "+minority.Alias, func() bool {
		_, err := jobStatus(c, job)
		return err == nil
	})
	t.Logf("the API answered again %s after the partition", blind.Round(time.Millisecond))
	applyOK(t, c, 2)
	checkWatch(t, c, w, rolling(before))
	minority.Heal()
	// Right after the heal the healed server catches up; the nodes are
	// listed again within seconds.
	back := wait.Until(t, settle, "the nodes listed after the heal", func() bool {
		return c.Muster("nodes").Err == nil
	})
	t.Logf("nodes listed again %s after the heal", back.Round(time.Millisecond))
	applyOK(t, c, 3)
}
