package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner/docker/dockertest"
)

// TestApplyDocker applies a docker batch job end to end through the CLI, on
// an image built from scratch in the test: the task sees its environment,
// writes an output that becomes a document, and a failing new version rolls
// back.
func TestApplyDocker(t *testing.T) {
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	write := func(name, cmd string) string {
		p := filepath.Join(dir, name)
		job := fmt.Sprintf(`name: boxed
task:
  engine: docker
  image: %q
  cmd: [%s]
  env: {GREETING: hi}
  outputs: [{path: /out/result.txt}]
`, image, cmd)
		if err := os.WriteFile(p, []byte(job), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	muster := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := run(append(args, "--state-dir", stateDir), strings.NewReader(""), &out, &out)
		return out.String(), code
	}

	v1 := write("v1.yaml", `env, write, /out/result.txt, "made in a box"`)
	out, code := muster("apply", "--auto-approve", v1)
	if code != 0 {
		t.Fatalf("apply v1: exit %d\n%s", code, out)
	}
	for _, want := range []string{"GREETING=hi", "MUSTER_ROOT=/", "MUSTER_JOB_NAME=boxed", "MUSTER_JOB_VERSION=1", "version 1 completed", "output /out/result.txt: sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	js, _ := muster("executions", "-o", "json", "boxed")
	var execs []struct {
		Outputs []struct{ Hash string } `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(js), &execs); err != nil || len(execs) != 1 || len(execs[0].Outputs) != 1 {
		t.Fatalf("executions: %v\n%s", err, js)
	}
	doc, code := muster("doc", "get", execs[0].Outputs[0].Hash)
	if code != 0 || doc != "made in a box" {
		t.Errorf("output document = %q (exit %d)", doc, code)
	}

	v2 := write("v2.yaml", `exit, "3"`)
	out, code = muster("apply", "--auto-approve", v2)
	if code == 0 || !strings.Contains(out, "rolled back to the spec of version 1") {
		t.Errorf("apply v2: exit %d, want a rollback:\n%s", code, out)
	}
}

// TestDockerSurvivesControlPlaneRestart kills the apply process while its
// docker execution runs: the container keeps running, and the next apply
// re-attaches to it instead of starting a second one.
func TestDockerSurvivesControlPlaneRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a process mid-rollout")
	}
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	bin := musterBin(t)
	dir := t.TempDir()
	job := filepath.Join(dir, "long.yaml")
	os.WriteFile(job, []byte(fmt.Sprintf("name: long\ntask:\n  engine: docker\n  image: %q\n  cmd: [sleep, 3s, hello]\n", image)), 0o644)
	stateDir := filepath.Join(dir, "state")

	first := osexec.Command(bin, "apply", "--auto-approve", "--state-dir", stateDir, job)
	firstOut := &lockedBuffer{}
	first.Stdout, first.Stderr = firstOut, firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Process.Kill() })
	wait.For(t, 20*time.Second, "the container to start", func() (string, bool) {
		out := firstOut.String()
		return out, strings.Contains(out, "| tick")
	})
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()

	second := osexec.Command(bin, "apply", "--auto-approve", "--state-dir", stateDir, job)
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "re-attached") || !strings.Contains(string(out), "version 1 completed") {
		t.Errorf("second apply did not re-attach:\n%s", out)
	}
	var list bytes.Buffer
	run([]string{"executions", "-o", "json", "long", "--state-dir", stateDir}, strings.NewReader(""), &list, &list)
	if n := strings.Count(list.String(), `"id"`); n != 1 {
		t.Errorf("%d executions, want the one re-attached:\n%s", n, list.String())
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDockerServiceReattachedByDev runs a docker service under muster dev,
// kills dev with SIGKILL, and checks that the next dev re-attaches to the
// same container instead of starting another.
func TestDockerServiceReattachedByDev(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a control plane")
	}
	dc := dockertest.Client(t)
	image := dockertest.AppImage(t, dc)
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(`API on http://(\S+)`, "dev", "--listen", "127.0.0.1:0")
	file := c.write("svc.yaml", fmt.Sprintf(`name: svc
type: service
task: {engine: docker, image: %q, cmd: [sleep, 10m]}
rollout: {health_check: {min_healthy_time: 300ms, interval: 100ms}}
`, image))
	c.ok("apply", "--auto-approve", file)
	before := c.executions("svc")
	if len(before) != 1 || before[0].Status.ComputeState != "running" {
		t.Fatalf("before the kill: %+v", before)
	}
	dev.kill()

	c.start(`API on http://(\S+)`, "dev", "--listen", "127.0.0.1:0")
	c.waitState("svc", "running")
	c.sameRunning("svc", before[0], "after the restart")
	if out := c.ok("executions", "svc").stdout; !strings.Contains(out, "re-attached") {
		t.Errorf("the execution does not say it was re-attached:\n%s", out)
	}
	c.ok("stop", "svc")
	if x := c.executions("svc")[0]; x.Status.ComputeState != "stopped" {
		t.Errorf("after stop: %s", x.Status.ComputeState)
	}
}
