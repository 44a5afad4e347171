//go:build linux

package exec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/exec"
	"github.com/muster-dev/muster/schema"
)

// TestMain lets the test binary act as a task: a memory hog for the
// enforced-limit test, a maker of socket files for the boundary tests, an
// HTTP server for the probe tests.
func TestMain(m *testing.M) {
	if os.Getenv("EXEC_TEST_HELPER") == "socket" {
		helperSocket()
	}
	if os.Getenv("EXEC_TEST_HELPER") == "serve" {
		helperServe()
	}
	if os.Getenv("EXEC_TEST_HELPER") == "hog" {
		var keep [][]byte
		for i := 0; i < 1024; i++ { // up to 1 GiB, touched page by page
			b := make([]byte, 1<<20)
			for j := range b {
				if j%4096 == 0 {
					b[j] = 1
				}
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep), "MiB")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe to read while the task writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func job(cmd ...string) *schema.Job {
	return &schema.Job{
		Name: "j", Namespace: "default",
		Task: schema.Task{
			Engine: schema.Exec, Cmd: cmd, Env: map[string]string{},
			Resources: schema.Resources{CPUs: 1, Memory: 256},
		},
	}
}

func spec(t testing.TB, j *schema.Job) (*runner.Spec, *syncBuffer, *syncBuffer) {
	t.Helper()
	var out, errb syncBuffer
	return &runner.Spec{
		ExecutionID: "exec-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Job:         j,
		Root:        t.TempDir(),
		Env: map[string]string{
			"MUSTER_JOB_NAME":     j.Name,
			"MUSTER_NAMESPACE":    j.Namespace,
			"MUSTER_EXECUTION_ID": "e1",
			"MUSTER_NODE_ID":      "n1",
			"MUSTER_JOB_VERSION":  "1",
		},
		Stdout: &out,
		Stderr: &errb,
	}, &out, &errb
}

func run(t *testing.T, s *runner.Spec) runner.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	h, err := exec.New().Start(ctx, s)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	res, err := h.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return res
}

func TestRegistered(t *testing.T) {
	d, ok := runner.Lookup("exec")
	if !ok {
		t.Fatal("exec driver not registered")
	}
	if _, err := d.Recover(context.Background(), &runner.Spec{}); !errors.Is(err, runner.ErrNotRecoverable) {
		t.Errorf("Recover = %v, want ErrNotRecoverable", err)
	}
	// A second exec driver in the program is a programming error, not a
	// replacement of the first.
	func() {
		defer func() {
			if v, _ := recover().(string); !strings.Contains(v, `driver "exec" registered twice`) {
				t.Errorf("registering a second exec driver panicked with %q, want a duplicate-name panic", v)
			}
		}()
		runner.Register(exec.New())
	}()
	if again, _ := runner.Lookup("exec"); again != d {
		t.Error("the refused registration replaced the exec driver")
	}
}

func TestWritesOutputUnderRoot(t *testing.T) {
	s, out, _ := spec(t, job("sh", "-c", `mkdir -p "$MUSTER_ROOT/out" && echo "hello from $MUSTER_JOB_NAME" > "$MUSTER_ROOT/out/result.txt" && echo done`))
	res := run(t, s)
	if !res.Succeeded() || res.Message != "exited with code 0" {
		t.Fatalf("result = %+v", res)
	}
	b, err := os.ReadFile(filepath.Join(s.Root, "out", "result.txt"))
	if err != nil || string(b) != "hello from j\n" {
		t.Fatalf("out/result.txt = %q, %v", b, err)
	}
	if out.String() != "done\n" {
		t.Errorf("stdout = %q", out.String())
	}
}

func TestEnvironmentIsExactlyTheSpec(t *testing.T) {
	t.Setenv("EXEC_TEST_LEAK", "must not reach the task")
	j := job("env")
	s, out, _ := spec(t, j)
	s.Env["GREETING"] = "hi there"
	s.Env["PATH"] = "/nowhere"          // reserved: the node's PATH wins
	s.Env["MUSTER_ROOT"] = "/somewhere" // the driver sets it
	if res := run(t, s); !res.Succeeded() {
		t.Fatalf("result = %+v", res)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		got = append(got, line)
	}
	slices.Sort(got)
	want := []string{
		"GREETING=hi there",
		"HOME=" + s.Root,
		"MUSTER_EXECUTION_ID=e1",
		"MUSTER_JOB_NAME=j",
		"MUSTER_JOB_VERSION=1",
		"MUSTER_NAMESPACE=default",
		"MUSTER_NODE_ID=n1",
		"MUSTER_ROOT=" + s.Root,
		"PATH=" + os.Getenv("PATH"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("environment:\n got %q\nwant %q", got, want)
	}

	// task.env may set HOME.
	s, out, _ = spec(t, job("sh", "-c", `echo "$HOME"`))
	s.Env["HOME"] = "/home/task"
	run(t, s)
	if out.String() != "/home/task\n" {
		t.Errorf("HOME = %q, want the task's", out.String())
	}
}

func TestExitCodes(t *testing.T) {
	for _, code := range []int{0, 1, 3, 255} {
		s, _, _ := spec(t, job("sh", "-c", "exit "+strconv.Itoa(code)))
		res := run(t, s)
		want := fmt.Sprintf("exited with code %d", code)
		if res.ExitCode != code || res.Signal != "" || res.OOMKilled || res.Message != want || res.Succeeded() != (code == 0) {
			t.Errorf("exit %d: result = %+v", code, res)
		}
	}
	s, _, _ := spec(t, job("sh", "-c", "kill -9 $$"))
	res := run(t, s)
	if res.ExitCode != -1 || res.Signal != "KILL" || res.Message != "killed by signal KILL" || res.Succeeded() {
		t.Errorf("killed: result = %+v", res)
	}
}

func TestStdoutStderr(t *testing.T) {
	script := `echo out1; echo err1 >&2; echo out2; echo err2 >&2`
	// Through pipes, into buffers.
	s, out, errb := spec(t, job("sh", "-c", script))
	run(t, s)
	if out.String() != "out1\nout2\n" || errb.String() != "err1\nerr2\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}
	// One writer for both: one pipe, in order.
	s, out, _ = spec(t, job("sh", "-c", script))
	s.Stderr = s.Stdout
	run(t, s)
	if out.String() != "out1\nerr1\nout2\nerr2\n" {
		t.Errorf("combined %q", out.String())
	}
	// Straight into files, as the agent passes them.
	s, _, _ = spec(t, job("sh", "-c", script))
	dir := t.TempDir()
	fo, _ := os.Create(filepath.Join(dir, "stdout.log"))
	fe, _ := os.Create(filepath.Join(dir, "stderr.log"))
	s.Stdout, s.Stderr = fo, fe
	run(t, s)
	fo.Close()
	fe.Close()
	bo, _ := os.ReadFile(fo.Name())
	be, _ := os.ReadFile(fe.Name())
	if string(bo) != "out1\nout2\n" || string(be) != "err1\nerr2\n" {
		t.Errorf("files: stdout %q, stderr %q", bo, be)
	}
	// No writers: output is discarded.
	s, _, _ = spec(t, job("sh", "-c", script))
	s.Stdout, s.Stderr = nil, nil
	if res := run(t, s); !res.Succeeded() {
		t.Errorf("nil writers: %+v", res)
	}
}

func TestWorkdirAndInputs(t *testing.T) {
	s, out, _ := spec(t, job("sh", "-c", `pwd -P; cat data.txt; cat "$MUSTER_ROOT/in/data.txt"`))
	s.Job.Task.Workdir = "/in"
	if err := os.MkdirAll(filepath.Join(s.Root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.Root, "in", "data.txt"), []byte("input\n"), 0o644)
	run(t, s)
	root, _ := filepath.EvalSymlinks(s.Root)
	if want := root + "/in\ninput\ninput\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}

	// A workdir that does not exist yet is created; no workdir is the root.
	s, out, _ = spec(t, job("pwd"))
	s.Job.Task.Workdir = "/a/b"
	run(t, s)
	if got := strings.TrimSpace(out.String()); got != filepath.Join(s.Root, "a", "b") {
		t.Errorf("pwd = %q", got)
	}
	s, out, _ = spec(t, job("pwd"))
	run(t, s)
	if got := strings.TrimSpace(out.String()); got != s.Root {
		t.Errorf("pwd = %q, want the root", got)
	}

	// A relative program with a slash is a file in the working directory.
	s, out, _ = spec(t, job("./bin/tool", "arg"))
	os.MkdirAll(filepath.Join(s.Root, "bin"), 0o755)
	os.WriteFile(filepath.Join(s.Root, "bin", "tool"), []byte("#!/bin/sh\necho tool \"$@\"\n"), 0o755)
	if res := run(t, s); !res.Succeeded() || out.String() != "tool arg\n" {
		t.Errorf("./bin/tool: %+v, %q", res, out.String())
	}
}

func TestStartErrors(t *testing.T) {
	d := exec.New()
	ctx := context.Background()
	s, _, _ := spec(t, job("no-such-program-muster"))
	if _, err := d.Start(ctx, s); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing program: %v", err)
	}
	s, _, _ = spec(t, job())
	if _, err := d.Start(ctx, s); err == nil {
		t.Error("empty cmd started")
	}
	s, _, _ = spec(t, job("true"))
	s.Root = "relative"
	if _, err := d.Start(ctx, s); err == nil {
		t.Error("relative root accepted")
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	wait.Until(t, 5*time.Second, fmt.Sprintf("process %d to die", pid), func() bool { return !alive(pid) })
}

// startAndReadPid starts s, whose task prints a background pid first.
func startAndReadPid(t *testing.T, s *runner.Spec, out *syncBuffer) (runner.Handle, int) {
	t.Helper()
	h, err := exec.New().Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	wait.Until(t, 5*time.Second, "the task to print a pid", func() bool { return strings.Contains(out.String(), "\n") })
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil || !alive(pid) {
		t.Fatalf("pid %q: %v", out.String(), err)
	}
	return h, pid
}

func TestStopKillsTheProcessGroup(t *testing.T) {
	s, out, _ := spec(t, job("sh", "-c", `sleep 100 & echo $!; sleep 100`))
	h, grandchild := startAndReadPid(t, s, out)
	start := time.Now()
	if err := h.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	res, err := h.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Signal != "TERM" || res.ExitCode != -1 || res.Message != "killed by signal TERM" {
		t.Errorf("result = %+v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("SIGTERM took %v", d)
	}
	waitDead(t, grandchild)
	// Stop after the end, and twice, is fine.
	if err := h.Stop(context.Background(), time.Second); err != nil {
		t.Error(err)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	// Ignored signals stay ignored across exec: neither sh nor sleep die
	// of SIGTERM.
	s, out, _ := spec(t, job("sh", "-c", `trap "" TERM; sleep 100 & echo $!; sleep 100`))
	h, grandchild := startAndReadPid(t, s, out)
	start := time.Now()
	if err := h.Stop(context.Background(), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	res, _ := h.Wait(context.Background())
	if res.Signal != "KILL" {
		t.Errorf("result = %+v, want killed by KILL", res)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Errorf("stopped after %v, want just after the 200ms grace", d)
	}
	waitDead(t, grandchild)
}

func TestLeftoversAreKilledWhenTheProgramExits(t *testing.T) {
	// The background sleep holds the stdout pipe: Wait must not hang on it.
	s, out, _ := spec(t, job("sh", "-c", `sleep 100 & echo $!`))
	start := time.Now()
	res := run(t, s)
	if !res.Succeeded() {
		t.Fatalf("result = %+v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Wait took %v", d)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	waitDead(t, pid)
}

func TestWaitContext(t *testing.T) {
	s, _, _ := spec(t, job("sleep", "100"))
	h, err := exec.New().Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(context.Background(), 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want the context's error", err)
	}
	// Start's context does not bound the process.
	sctx, scancel := context.WithCancel(context.Background())
	s, _, _ = spec(t, job("sh", "-c", "sleep 0.2; exit 4"))
	h2, err := exec.New().Start(sctx, s)
	if err != nil {
		t.Fatal(err)
	}
	scancel()
	if res, _ := h2.Wait(context.Background()); res.ExitCode != 4 {
		t.Errorf("after Start's context ended: %+v", res)
	}
}

func TestLimits(t *testing.T) {
	d := exec.New()
	limits := d.Limits()
	t.Logf("Limits: %s", limits)
	if !d.Enforced() {
		if !strings.HasPrefix(limits, "cpu and memory are not enforced: cgroup v2 is not writable here (") {
			t.Errorf("Limits = %q", limits)
		}
		// The job runs anyway, without limits.
		s, _, _ := spec(t, job("true"))
		s.Job.Task.Resources = schema.Resources{CPUs: 0.5, Memory: 64}
		if res := run(t, s); !res.Succeeded() {
			t.Errorf("result = %+v", res)
		}
		t.Skip("cgroup v2 is not writable here: the OOM kill cannot be tested")
	}
	if !strings.HasPrefix(limits, "cpu and memory through cgroup v2") {
		t.Errorf("Limits = %q", limits)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := spec(t, job(self))
	s.Env["EXEC_TEST_HELPER"] = "hog"
	s.Job.Task.Resources = schema.Resources{CPUs: 1, Memory: 64}
	res := run(t, s)
	if !res.OOMKilled || res.Message != "out of memory (limit 64M)" || res.Succeeded() {
		t.Errorf("memory hog: %+v", res)
	}
	// Under the limit it runs to the end.
	s, out, _ := spec(t, job("sh", "-c", "cat /proc/self/cgroup"))
	res = run(t, s)
	if !res.Succeeded() || !strings.Contains(out.String(), "/exec-"+s.ExecutionID) {
		t.Errorf("not in its cgroup: %+v %q", res, out.String())
	}
}

var _ io.Writer = (*syncBuffer)(nil)
