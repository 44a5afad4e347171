package cli

// Process-level tests of what an operator sees: a task's stderr streamed by
// apply through 'muster dev', the logs of a restarted execution read
// through it, and a command that waits for a busy state directory.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// TestDevApplyStreamsStderr: through 'muster dev', apply prints what a
// task writes to stderr as it does running it itself ("  <id> ! line"),
// beside its stdout ("  <id> | line"), sensitive values hidden; and logs
// --previous reads the execution a restart replaced through the API.
func TestDevApplyStreamsStderr(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	flag := c.dir + "/ran"
	file := c.write("flaky.yaml", fmt.Sprintf(`name: flaky
task:
  engine: exec
  cmd: [sh, -c, "if [ -f %[1]s ]; then echo second run; echo all good >&2; else touch %[1]s; echo first run; echo it broke >&2; exit 3; fi"]
`, flag))
	r := c.ok("apply", "--auto-approve", file)
	for _, re := range []string{
		`(?m)^  (x[0-9a-f]+) \| first run$`,
		`(?m)^  (x[0-9a-f]+) ! it broke$`,
		`(?m)^  (x[0-9a-f]+) \| second run$`,
		`(?m)^  (x[0-9a-f]+) ! all good$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("apply through muster dev lacks %s:\n%s", re, r.stdout)
		}
	}
	first := regexp.MustCompile(`(?m)^  (x[0-9a-f]+) ! it broke$`).FindStringSubmatch(r.stdout)
	second := regexp.MustCompile(`(?m)^  (x[0-9a-f]+) ! all good$`).FindStringSubmatch(r.stdout)
	if first == nil || second == nil || first[1] == second[1] {
		t.Fatalf("want two executions, the failed one and its restart:\n%s", r.stdout)
	}

	if out := c.ok("logs", "--previous", "--stderr", "flaky").stdout; out != "it broke\n" {
		t.Errorf("logs --previous --stderr through muster dev = %q, want the failed run's stderr", out)
	}
	if out := c.ok("logs", "--stderr", "flaky").stdout; out != "all good\n" {
		t.Errorf("logs --stderr through muster dev = %q, want the restart's stderr", out)
	}
	if out := c.ok("logs", "--execution", first[1], "flaky").stdout; out != "first run\n" {
		t.Errorf("logs --execution %s = %q", first[1], out)
	}
}

// TestLockWaitSaysWhom: while a one-shot apply holds the state directory,
// another command says at once whom it waits for (the apply's pid and
// command) and how to change the wait; with a short --lock-timeout it gives
// up naming the holder, with the default it goes on once the apply ends.
func TestLockWaitSaysWhom(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	gate := c.dir + "/go"
	file := c.write("slow.yaml", fmt.Sprintf(`name: slow
task:
  engine: exec
  cmd: [sh, -c, "echo holding; while [ ! -f %s ]; do sleep 0.05; done"]
`, gate))
	apply := c.start(`holding`, "apply", "--auto-approve", file)
	pid := apply.cmd.Process.Pid

	start := time.Now()
	r := c.run("status", "--lock-timeout", "300ms")
	if r.code != 1 {
		t.Fatalf("status while apply holds the directory: %v", r)
	}
	holder := fmt.Sprintf("process %d (muster apply, started ", pid)
	waiting := "waiting for " + holder
	if !strings.Contains(r.stderr, waiting) || !strings.Contains(r.stderr, "--lock-timeout") {
		t.Errorf("stderr does not say whom it waits for (%q):\n%s", waiting, r.stderr)
	}
	if !strings.Contains(r.stderr, "is in use by "+holder) || !strings.Contains(r.stderr, "waited 300ms") {
		t.Errorf("the error does not name the holder and the wait:\n%s", r.stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("status with --lock-timeout 300ms took %s", d)
	}

	// A waiting command says so at once, and goes on when the holder ends.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd, stdout, stderr := c.command(ctx, "status", "slow")
	out := &lockedBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 20*time.Second, "the waiting status to say so", func() (string, bool) {
		s := out.String()
		return s, strings.Contains(s, waiting)
	})
	c.write("go", "")
	res := finish(t, []string{"status", "slow"}, cmd.Wait(), stdout, stderr)
	if res.code != 0 || !strings.Contains(res.stdout, "default/slow") {
		t.Fatalf("status after the apply ended: %v\nstderr: %s", res, out.String())
	}
	apply.waitFor(`version 1 completed`)
}
