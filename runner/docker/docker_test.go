package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/docker/dockertest"
	"github.com/muster-dev/muster/schema"
)

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
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

// engine returns a driver, a raw client and the test image, or skips.
func engine(t testing.TB, opts Options) (*Driver, *client.Client, string) {
	t.Helper()
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, cli, image
}

func newID(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// newSpec is a docker spec of the test image with cmd.
func newSpec(t testing.TB, image string, cmd ...string) (*runner.Spec, *syncBuffer, *syncBuffer) {
	id := newID(t)
	job := &schema.Job{
		APIVersion: "muster/v1", Name: "t", Namespace: "default", Type: schema.Batch,
		Task: schema.Task{
			Engine: schema.Docker, Image: image, Entrypoint: []string{}, Cmd: cmd,
			Env: map[string]string{"FOO": "bar"}, Network: schema.NetworkNone,
			Resources: schema.Resources{CPUs: 1, Memory: 256},
		},
	}
	var stdout, stderr syncBuffer
	return &runner.Spec{
		ExecutionID: id, Job: job, Root: t.TempDir(),
		Env: map[string]string{
			"FOO": "bar", "MUSTER_JOB_NAME": "t", "MUSTER_NAMESPACE": "default", "MUSTER_EXECUTION_ID": id,
			"MUSTER_NODE_ID": "node-1", "MUSTER_JOB_VERSION": "3",
		},
		Stdout: &stdout, Stderr: &stderr,
	}, &stdout, &stderr
}

// run starts spec and waits for it, bounded.
func run(t testing.TB, d *Driver, spec *runner.Spec) runner.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := d.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// gone asserts that the execution's container was removed.
func gone(t testing.TB, cli *client.Client, execID string) {
	t.Helper()
	_, err := cli.ContainerInspect(context.Background(), ContainerName(execID), client.ContainerInspectOptions{})
	if !cerrdefs.IsNotFound(err) {
		t.Errorf("container of %s still there (inspect: %v)", execID, err)
	}
}

func TestImageDefaultsEnvAndCleanup(t *testing.T) {
	d, cli, image := engine(t, Options{})
	spec, out, _ := newSpec(t, image)
	res := run(t, d, spec)
	if !res.Succeeded() || out.String() != "hello from app\n" {
		t.Fatalf("result %+v, stdout %q", res, out)
	}
	gone(t, cli, spec.ExecutionID)

	spec, out, _ = newSpec(t, image, "env")
	spec.Job.Task.Workdir = "/work"
	if res := run(t, d, spec); !res.Succeeded() {
		t.Fatalf("env: %+v", res)
	}
	for _, want := range []string{
		"FOO=bar", "MUSTER_ROOT=/", "MUSTER_JOB_NAME=t", "MUSTER_NAMESPACE=default",
		"MUSTER_EXECUTION_ID=" + spec.ExecutionID, "MUSTER_NODE_ID=node-1", "MUSTER_JOB_VERSION=3", "cwd=/work",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestEntrypointCmdExitCodeStderr(t *testing.T) {
	d, _, image := engine(t, Options{})
	spec, out, _ := newSpec(t, image, "args", "x", "y")
	if res := run(t, d, spec); !res.Succeeded() || out.String() != "args=/app args x y\n" {
		t.Fatalf("cmd override: %+v %q", res, out)
	}
	spec, out, _ = newSpec(t, image, "x", "y")
	spec.Job.Task.Entrypoint = []string{"/other", "args"}
	if res := run(t, d, spec); !res.Succeeded() || out.String() != "args=/other args x y\n" {
		t.Fatalf("entrypoint override: %+v %q", res, out)
	}
	spec, out, errOut := newSpec(t, image, "hello", "stderr", "oops", "exit", "3")
	res := run(t, d, spec)
	if res.ExitCode != 3 || res.Succeeded() || res.Signal != "" || res.Message != "exited with code 3" {
		t.Fatalf("exit 3: %+v", res)
	}
	if out.String() != "hello from app\n" || errOut.String() != "oops\n" {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
}

func TestInputsAndOutputs(t *testing.T) {
	d, _, image := engine(t, Options{})
	spec, out, errOut := newSpec(t, image,
		"read", "/in/data.txt", "tryw", "/in/data.txt",
		"write", "/out/result.txt", "r1",
		"write", "/out/sub/deep.txt", "r2",
		"write", "/top.txt", "r3",
		"read", "/both.txt", "write", "/both.txt", "rewritten")
	spec.Job.Task.Inputs = []schema.Input{
		{Source: "sha256:x", Target: "/both.txt"},
		{Source: "file:///somewhere", Target: "/in/data.txt"},
	}
	spec.Job.Task.Outputs = []schema.Output{
		{Path: "/both.txt"}, {Path: "/missing.txt"}, {Path: "/out/result.txt"}, {Path: "/out/sub/deep.txt"}, {Path: "/top.txt"},
	}
	// The caller places inputs at Root+target before Start.
	for p, data := range map[string]string{"in/data.txt": "input data", "both.txt": "original"} {
		os.MkdirAll(filepath.Join(spec.Root, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(spec.Root, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := run(t, d, spec)
	if !res.Succeeded() {
		t.Fatalf("%+v stdout %q stderr %q", res, out, errOut)
	}
	if want := "input data\ntryw /in/data.txt: error\noriginal\n"; out.String() != want {
		t.Errorf("stdout %q, want %q (inputs read-only)", out, want)
	}
	for p, want := range map[string]string{
		"out/result.txt": "r1", "out/sub/deep.txt": "r2", "top.txt": "r3", "both.txt": "rewritten", "in/data.txt": "input data",
	} {
		b, err := os.ReadFile(filepath.Join(spec.Root, p))
		if err != nil || string(b) != want {
			t.Errorf("Root/%s = %q, %v; want %q", p, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(spec.Root, "missing.txt")); !os.IsNotExist(err) {
		t.Errorf("missing output: %v", err)
	}
	if strings.Contains(res.Message, ";") {
		t.Errorf("message has remarks: %q", res.Message)
	}

	// An input that is not in place is refused before anything runs.
	spec, _, _ = newSpec(t, image)
	spec.Job.Task.Inputs = []schema.Input{{Source: "sha256:x", Target: "/in/absent"}}
	if _, err := d.Start(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "input /in/absent is not in place") {
		t.Fatalf("absent input: %v", err)
	}
}

func TestNetwork(t *testing.T) {
	d, _, image := engine(t, Options{})
	spec, out, _ := newSpec(t, image, "netifs", "dial", "1.1.1.1:53")
	start := time.Now()
	if res := run(t, d, spec); !res.Succeeded() {
		t.Fatalf("%+v", res)
	}
	lines := strings.Split(out.String(), "\n")
	if lines[0] != "netifs=lo" || !strings.HasPrefix(lines[1], "dial error:") {
		t.Fatalf("network none: %q", out)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("network none took %s", el)
	}
	spec, out, _ = newSpec(t, image, "netifs")
	spec.Job.Task.Network = schema.NetworkBridge
	if res := run(t, d, spec); !res.Succeeded() || !strings.Contains(out.String(), "eth0") {
		t.Fatalf("bridge: %+v %q", res, out)
	}
}

func TestLimitsAndLabels(t *testing.T) {
	d, cli, image := engine(t, Options{KeepContainers: true})
	spec, _, _ := newSpec(t, image)
	spec.Job.Task.Resources = schema.Resources{CPUs: 0.5, Memory: 64}
	run(t, d, spec)
	ins, err := cli.ContainerInspect(context.Background(), ContainerName(spec.ExecutionID), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(context.Background(), ins.Container.ID, client.ContainerRemoveOptions{Force: true})
	hc, cfg := ins.Container.HostConfig, ins.Container.Config
	if hc.NanoCPUs != 5e8 || hc.Memory != 64<<20 || hc.MemorySwap != 64<<20 || hc.NetworkMode != "none" {
		t.Errorf("host config: cpus %d memory %d swap %d network %s", hc.NanoCPUs, hc.Memory, hc.MemorySwap, hc.NetworkMode)
	}
	want := map[string]string{LabelExecutionID: spec.ExecutionID, LabelJob: "default/t", LabelVersion: "3"}
	for k, v := range want {
		if cfg.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cfg.Labels[k], v)
		}
	}
	if ins.Container.Name != "/muster-"+spec.ExecutionID {
		t.Errorf("name %q", ins.Container.Name)
	}
}

func TestOOMKilled(t *testing.T) {
	d, _, image := engine(t, Options{})
	spec, out, _ := newSpec(t, image, "alloc", "200")
	spec.Job.Task.Resources.Memory = 16
	res := run(t, d, spec)
	if !res.OOMKilled || res.Succeeded() || res.Signal != "SIGKILL" || !strings.Contains(res.Message, "memory limit of 16 MiB") {
		t.Fatalf("%+v stdout %q", res, out)
	}
}

func TestStop(t *testing.T) {
	d, cli, image := engine(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		step, sig string
		min       time.Duration
	}{{"sleep", "SIGTERM", 0}, {"ignoreterm", "SIGKILL", time.Second}} {
		spec, out, _ := newSpec(t, image, c.step, "30s")
		h, err := d.Start(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, out, "tick 1\n")
		start := time.Now()
		if err := h.Stop(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
		res, err := h.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		if res.Signal != c.sig || res.ExitCode != -1 || res.Succeeded() || el < c.min || el > 10*time.Second {
			t.Errorf("%s: %+v after %s", c.step, res, el)
		}
		if err := h.Stop(ctx, time.Second); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		gone(t, cli, spec.ExecutionID)
	}
}

func TestMissingImage(t *testing.T) {
	d, cli, image := engine(t, Options{})
	// An entrypoint the image lacks fails Start and leaves no container.
	spec, _, _ := newSpec(t, image)
	spec.Job.Task.Entrypoint = []string{"/nope"}
	if _, err := d.Start(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "start container for execution") {
		t.Fatalf("bad entrypoint: %v", err)
	}
	gone(t, cli, spec.ExecutionID)

	spec, _, _ = newSpec(t, "muster-test/absent:never")
	_, err := d.Start(context.Background(), spec)
	var missing *ImageMissingError
	if !errors.As(err, &missing) || err.Error() != "image muster-test/absent:never is not present on this node and muster does not pull; load or build it first" {
		t.Fatalf("err = %v", err)
	}
}

// TestRecover starts a long container with one driver, lets that driver go
// as a dying control plane would, and recovers the same container with a
// new driver: no duplicate, logs keep flowing, Wait and Stop work.
func TestRecover(t *testing.T) {
	_, cli, image := engine(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	d1, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, out1, _ := newSpec(t, image, "sleep", "30s")
	h1, err := d1.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, out1, "tick 2\n")
	d1.Close() // the control plane dies
	if _, err := h1.Wait(ctx); err == nil || !strings.Contains(err.Error(), "Recover finds it") {
		t.Fatalf("Wait after Close: %v", err)
	}

	d2, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if _, err := d2.Start(ctx, spec); err == nil || !strings.Contains(err.Error(), "already has a container") {
		t.Fatalf("second Start of the same execution: %v", err)
	}
	var out2 syncBuffer
	spec2 := *spec
	spec2.Stdout = &out2
	h2, err := d2.Recover(ctx, &spec2)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := d2.Recover(ctx, &spec2); h != h2 {
		t.Error("a second Recover on the same driver made a second handle")
	}
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", LabelExecutionID+"="+spec.ExecutionID)})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("containers of the execution: %d, %v", len(list.Items), err)
	}
	// Logs replay from the start and keep flowing past what d1 saw.
	seen := strings.Count(out1.String(), "tick")
	waitFor(t, &out2, "tick "+strconv.Itoa(seen+3)+"\n")
	if !strings.HasPrefix(out2.String(), "tick 1\n") {
		t.Errorf("recovered logs do not start at the container's start: %.40q", out2.String())
	}
	if err := h2.Stop(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	res, err := h2.Wait(ctx)
	if err != nil || res.Signal != "SIGTERM" {
		t.Fatalf("recovered Wait: %+v, %v", res, err)
	}
	if s := out2.String(); !strings.HasSuffix(s, "got SIGTERM\n") {
		t.Errorf("recovered logs end %q", s[max(0, len(s)-40):])
	}
	gone(t, cli, spec.ExecutionID)
	if _, err := d2.Recover(ctx, spec); !errors.Is(err, runner.ErrNotRecoverable) {
		t.Fatalf("Recover after removal: %v", err)
	}
}

// TestRecoverEnded recovers a container that ended while no control plane
// watched: Wait reports its exit code and the container is removed.
func TestRecoverEnded(t *testing.T) {
	_, cli, image := engine(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d1, err := New(Options{KeepContainers: true})
	if err != nil {
		t.Fatal(err)
	}
	spec, _, _ := newSpec(t, image, "hello", "exit", "7")
	h1, err := d1.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	h1.Wait(ctx)
	d1.Close()
	d2, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	var out syncBuffer
	spec.Stdout = &out
	h, err := d2.Recover(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Wait(ctx)
	if err != nil || res.ExitCode != 7 || out.String() != "hello from app\n" {
		t.Fatalf("%+v %v %q", res, err, out.String())
	}
	gone(t, cli, spec.ExecutionID)
	if _, err := d2.Recover(ctx, &runner.Spec{ExecutionID: newID(t), Job: spec.Job}); !errors.Is(err, runner.ErrNotRecoverable) {
		t.Fatalf("Recover of nothing: %v", err)
	}
}

// TestRecoverSince resumes the logs from a timestamp instead of replaying
// them from the start.
func TestRecoverSince(t *testing.T) {
	_, _, image := engine(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d1, err := New(Options{KeepContainers: true})
	if err != nil {
		t.Fatal(err)
	}
	spec, out1, _ := newSpec(t, image, "hello", "ignoreterm", "500ms", "stderr", "late")
	h1, err := d1.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, out1, "hello from app\n")
	since := time.Now()
	h1.Wait(ctx)
	d1.Close()
	d2, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	var out, errOut syncBuffer
	spec.Stdout, spec.Stderr = &out, &errOut
	h, err := d2.RecoverSince(ctx, spec, since)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.Wait(ctx); err != nil || !res.Succeeded() {
		t.Fatalf("%+v %v", res, err)
	}
	if strings.Contains(out.String(), "hello") || errOut.String() != "late\n" {
		t.Fatalf("logs since %s: stdout %q stderr %q", since, out.String(), errOut.String())
	}
}

func TestUnreachableEngine(t *testing.T) {
	host := "unix://" + filepath.Join(t.TempDir(), "no.sock")
	if _, err := New(Options{Host: host}); err == nil || !strings.HasPrefix(err.Error(), "docker engine not reachable at "+host+": ") {
		t.Fatalf("New: %v", err)
	}
	d := &Driver{opts: Options{Host: host}} // as registered: lazy
	job := &schema.Job{Name: "t", Namespace: "default", Task: schema.Task{Engine: schema.Docker, Image: "x"}}
	_, err := d.Start(context.Background(), &runner.Spec{ExecutionID: "e", Job: job})
	if err == nil || !strings.HasPrefix(err.Error(), "docker engine not reachable at "+host+": ") {
		t.Fatalf("lazy Start: %v", err)
	}
	if _, err := d.Recover(context.Background(), &runner.Spec{ExecutionID: "e", Job: job}); err == nil || errors.Is(err, runner.ErrNotRecoverable) {
		t.Fatalf("Recover without engine should fail, retryably: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	drv, ok := runner.Lookup("docker")
	if !ok {
		t.Fatal("docker driver not registered")
	}
	if drv.Limits() != "cpus and memory enforced by the Docker Engine" {
		t.Errorf("Limits() = %q", drv.Limits())
	}
}

func waitFor(t testing.TB, b *syncBuffer, s string) {
	t.Helper()
	wait.For(t, 15*time.Second, fmt.Sprintf("%q in the output", s), func() (string, bool) {
		out := b.String()
		return out, strings.Contains(out, s)
	})
}
