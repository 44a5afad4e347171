package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// fencedJob is a service whose second version pauses after its canary:
// its rollout stays under way, in the leader, until 'muster promote'.
const fencedJob = `name: svc
type: service
count: 2
selector: {match_labels: {role: worker}}
task: {engine: exec, cmd: [sh, -c, "exec sleep 300 # v%d"]}
rollout: {strategy: canary, canary_count: 1, health_check: {min_healthy_time: 200ms, interval: 100ms}}
`

// jobRecord is what the store shows of a job: its status and its events.
type jobRecord struct {
	Revision uint64 `json:"revision"`
	State    string `json:"state"`
	Message  string `json:"message"`
	Events   []struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
		State   string `json:"state"`
		Phase   string `json:"phase,omitempty"`
	} `json:"events"`
}

// settled reports whether every execution the new leader took over since
// its last "resumed at" event has gone healthy: its slots record each
// step, so until then the job's events still grow.
func (r jobRecord) settled() bool {
	taken, healthy := 0, 0
	for _, ev := range r.Events {
		switch {
		case strings.Contains(ev.Message, "resumed at"):
			taken, healthy = 0, 0
		case strings.HasPrefix(ev.Message, "taken over from an earlier control plane"):
			taken++
		case ev.Phase == "healthy":
			healthy++
		}
	}
	return taken > 0 && healthy >= taken
}

// TestResumedLeaderIsFenced: the leader is paused (SIGSTOP) with a canary
// rollout under way for longer than --lease-ttl; the NATS server expires
// its lease, the standby takes over and records the rollout as it found
// it. Resumed (SIGCONT), the old leader may still try to write before it
// learns that it lost the lead: the store refuses every such write, it
// logs so and stands by, its rollout ends without recording an end, and
// the job keeps exactly what the new leader recorded.
func TestResumedLeaderIsFenced(t *testing.T) {
	c, first, second, addr1 := twoServers(t, "w1", "w2")
	file := c.write("svc.yaml", fmt.Sprintf(fencedJob, 1))
	c.ok("apply", "--auto-approve", "--addr", addr1, file)
	c.waitState("svc", "running")
	c.write("svc.yaml", fmt.Sprintf(fencedJob, 2))
	if r := c.ok("apply", "--auto-approve", "--addr", addr1, file); !strings.Contains(r.stdout, "muster promote") {
		t.Fatalf("version 2 did not pause at its canary:\n%v", r)
	}
	c.waitState("svc", "rollout_paused")

	first.signal(syscall.SIGSTOP)
	addr2 := second.waitFor(apiRE)
	c.waitEvents("svc", `resumed at`, 1, "--addr", addr2)
	took, _ := wait.For(t, 30*time.Second, "the new leader's taken-over executions to be healthy", func() (jobRecord, bool) {
		r := c.record("svc", addr2)
		return r, r.settled()
	})
	if took.State != "rollout_paused" {
		t.Fatalf("the new leader took the job over as %s (%s), want rollout_paused", took.State, took.Message)
	}

	first.signal(syscall.SIGCONT)
	first.waitFor(`(?s)lost the lead.*standing by`)
	// Its rollout ends here without a word to the store (it knows it
	// was deposed), or with a write the store refuses (it did not yet).
	refused := first.waitFor(`(a write to the store failed[^\n]*no longer leads|a rollout stopped here: another control plane leads now)`)
	if after := c.record("svc", addr2); !reflect.DeepEqual(after, took) {
		t.Errorf("the resumed leader changed the job (it logged %q):\nafter the takeover %+v\nnow %+v", refused, took, after)
	}
	for _, line := range strings.Split(first.out.String(), "\n") {
		if strings.Contains(line, "a write to the store failed") && !strings.Contains(line, "no longer leads") {
			t.Errorf("a write of the first server failed for another reason than the fence: %s", line)
		}
	}
	if strings.Contains(second.out.String(), "a write to the store failed") {
		t.Errorf("a write of the new leader failed:\n%s", second.out.String())
	}
	// The new leader goes on with the rollout it took over.
	c.ok("promote", "--addr", addr2, "svc")
	c.waitState("svc", "running")
}

// record reads what the store shows of job through the control plane at
// addr.
func (c *musterCLI) record(job, addr string) jobRecord {
	c.t.Helper()
	return decode[[]jobRecord](c.t, c.ok("status", "-o", "json", "--addr", addr, job))[0]
}

// waitingJob is a batch job whose task runs until the file %s exists.
const waitingJob = `name: wait
type: batch
selector: {match_labels: {role: worker}}
task: {engine: exec, cmd: [sh, -c, "while [ ! -e %s ]; do sleep 0.1; done"]}
`

// TestApplyFollowsTheRolloutToTheNewLeader: 'muster apply' follows a
// rollout at the leading control plane, which is paused past its lease;
// the other takes the rollout over and, continued, the first stands down.
// The apply goes on following (the events the new leader stores) and ends
// with the rollout, not with the deposed leader's interrupted one.
func TestApplyFollowsTheRolloutToTheNewLeader(t *testing.T) {
	c, first, second, addr1 := twoServers(t, "w1")
	end := filepath.Join(c.dir, "end")
	file := c.write("wait.yaml", fmt.Sprintf(waitingJob, end))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := c.command(ctx, "apply", "--auto-approve", "--addr", addr1, file)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	wait.Until(t, wait.Default, "the task to run", func() bool {
		r := c.run("executions", "--all", "wait")
		return r.code == 0 && strings.Contains(r.stdout, "running")
	})

	first.signal(syscall.SIGSTOP)
	second.waitFor(`now leading`)
	first.signal(syscall.SIGCONT)
	first.waitFor(`(?s)lost the lead.*standing by`)
	wait.Until(t, wait.Default, "apply to follow the new leader", func() bool {
		return strings.Contains(out.String(), "stopped leading")
	})
	select {
	case err := <-exited:
		t.Fatalf("apply ended before its rollout did (%v):\n%s", err, out.String())
	default:
	}
	if err := os.WriteFile(end, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("apply after the handover: %v\n%s%s%s", err, out.String(), stdout, stderr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("apply did not end within a minute of its task:\n%s", out.String())
	}
	if st := c.waitState("wait", "completed"); st.State != "completed" {
		t.Fatalf("job state %s, want completed", st.State)
	}
	// The task ran once: the deposed leader left it running and the new
	// one re-attached, neither stopped it nor started another.
	if x := c.executions("wait"); len(x) != 1 || x[0].Status.ComputeState != "complete" {
		t.Fatalf("executions %+v, want one, complete\napply:\n%s", x, out.String())
	}
}

// twoServers starts two 'muster server's sharing a NATS server, with
// --lease-ttl 2s, the first leading, and an agent labelled role=worker for
// each of nodes, joined at the first.
func twoServers(t *testing.T, nodes ...string) (c *musterCLI, first, second *daemonProc, addr1 string) {
	t.Helper()
	skipReliability(t)
	t.Parallel()
	ns := startNATS(t)
	c = newCLI(t, "MUSTER_NATS_URL="+ns.ClientURL())
	first, addr1 = c.server("--lease-ttl", "2s")
	second = c.start(`standing by`, "server", "--listen", "127.0.0.1:0", "--lease-ttl", "2s")
	for _, n := range nodes {
		c.start(`joined`, "agent", "--server", addr1, "--node-id", n, "--label", "role=worker", "--dir", "agent-"+n, "--heartbeat", "500ms")
	}
	c.waitNodes(len(nodes), "role=worker")
	return c, first, second, addr1
}
