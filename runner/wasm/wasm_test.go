package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/wasm"
	"github.com/muster-dev/muster/schema"
)

// progPath is the module built from testdata/prog, or "" with skipWhy.
var progPath, skipWhy string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "muster-wasm-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if err := buildProg(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// buildProg builds testdata/prog with GOOS=wasip1 GOARCH=wasm, or sets
// skipWhy when this toolchain cannot.
func buildProg(dir string) error {
	goBin, err := osexec.LookPath("go")
	if err != nil {
		skipWhy = "no go command to build the test module"
		return nil
	}
	out := filepath.Join(dir, "prog.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := osexec.CommandContext(ctx, goBin, "build", "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "prog")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(b, []byte("unsupported GOOS/GOARCH")) {
			skipWhy = "this toolchain cannot build wasip1/wasm: " + string(b)
			return nil
		}
		return fmt.Errorf("building testdata/prog for wasip1: %v\n%s", err, b)
	}
	progPath = out
	return nil
}

func needProg(t testing.TB) string {
	t.Helper()
	if progPath == "" {
		t.Skip(skipWhy)
	}
	return progPath
}

// syncBuffer is a bytes.Buffer safe to read while the module writes.
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

// driver is shared by the tests, as one node shares it: the module is
// compiled once.
var driver = wasm.New()

func spec(t testing.TB, image string, cmd ...string) (*runner.Spec, *syncBuffer, *syncBuffer) {
	t.Helper()
	var out, errb syncBuffer
	return &runner.Spec{
		ExecutionID: "e1",
		Job: &schema.Job{Name: "j", Namespace: "default", Task: schema.Task{
			Engine: schema.Wasm, Image: image, Cmd: cmd, Env: map[string]string{},
			Resources: schema.Resources{CPUs: 1, Memory: 256},
		}},
		Root: t.TempDir(),
		Env: map[string]string{
			"MUSTER_JOB_NAME":     "j",
			"MUSTER_NAMESPACE":    "default",
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
	// A bound on a hang, not a measure: under the race detector on a
	// loaded machine, compiling and running a module took more than 20s.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h, err := driver.Start(ctx, s)
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
	d, ok := runner.Lookup("wasm")
	if !ok {
		t.Fatal("wasm driver not registered")
	}
	if _, err := d.Recover(context.Background(), &runner.Spec{}); !errors.Is(err, runner.ErrNotRecoverable) {
		t.Errorf("Recover = %v", err)
	}
	if l := d.Limits(); !strings.Contains(l, "cpu is not enforced") || !strings.Contains(l, "4G") {
		t.Errorf("Limits = %q", l)
	}
}

func TestFilesEnvArgsExitCode(t *testing.T) {
	prog := needProg(t)
	s, out, errb := spec(t, prog, "io", "two words")
	s.Env["GREETING"] = "hi"
	s.Env["MUSTER_ROOT"] = "/elsewhere" // the driver sets it
	t.Setenv("WASM_TEST_LEAK", "must not reach the module")
	os.MkdirAll(filepath.Join(s.Root, "in"), 0o755)
	os.WriteFile(filepath.Join(s.Root, "in", "input.txt"), []byte("the input\n"), 0o644)

	res := run(t, s)
	if res.ExitCode != 3 || res.Message != "exited with code 3" || res.Succeeded() || res.OOMKilled {
		t.Errorf("result = %+v (stderr %q)", res, errb.String())
	}
	x, err := os.ReadFile(filepath.Join(s.Root, "out", "x"))
	if want := "the input|hi|" + prog + " io two words"; string(x) != want || err != nil {
		t.Errorf("/out/x = %q, %v; want %q", x, err, want)
	}
	wantEnv := strings.Join([]string{
		"GREETING=hi",
		"MUSTER_EXECUTION_ID=e1",
		"MUSTER_JOB_NAME=j",
		"MUSTER_JOB_VERSION=1",
		"MUSTER_NAMESPACE=default",
		"MUSTER_NODE_ID=n1",
		"MUSTER_ROOT=/",
		"PWD=/",
	}, "\n") + "\n"
	if out.String() != wantEnv {
		t.Errorf("environment:\n%s\nwant:\n%s", out.String(), wantEnv)
	}
	if errb.String() != "to stderr\n" {
		t.Errorf("stderr = %q", errb.String())
	}
}

func TestWorkdirAndIsolation(t *testing.T) {
	prog := needProg(t)
	s, out, _ := spec(t, prog, "pwd")
	s.Job.Task.Workdir = "/data"
	os.MkdirAll(filepath.Join(s.Root, "data"), 0o755)
	os.WriteFile(filepath.Join(s.Root, "data", "data.txt"), []byte("relative\n"), 0o644)
	if res := run(t, s); !res.Succeeded() {
		t.Fatalf("result = %+v", res)
	}
	if want := "/data <nil>\nrelative <nil>\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
}

func TestStopEndsABusyLoop(t *testing.T) {
	prog := needProg(t)
	for _, mode := range []string{"busy", "sleep"} {
		t.Run(mode, func(t *testing.T) {
			s, out, _ := spec(t, prog, mode)
			h, err := driver.Start(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			wait.Until(t, 15*time.Second, "the module to start", func() bool { return out.String() != "" })
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := h.Stop(ctx, time.Minute); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Stop took %v", d)
			}
			res, err := h.Wait(context.Background())
			if err != nil || res.ExitCode != -1 || res.Message != "stopped" || res.Succeeded() {
				t.Errorf("result = %+v, %v", res, err)
			}
			if err := h.Stop(context.Background(), 0); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

func TestMemoryHogFailsCleanly(t *testing.T) {
	prog := needProg(t)
	s, out, errb := spec(t, prog, "hog")
	s.Job.Task.Resources.Memory = 64
	res := run(t, s)
	if !res.OOMKilled || res.Message != "out of memory (limit 64M)" || res.Succeeded() {
		t.Errorf("result = %+v\nstdout %q\nstderr %.300q", res, out.String(), errb.String())
	}
	if testing.Verbose() {
		t.Logf("result %+v, stdout tail %q, stderr head %.120q", res, out.String()[max(0, len(out.String())-30):], errb.String())
	}
	if !strings.Contains(out.String(), "32 MiB") {
		t.Errorf("the hog did not get far: %q", out.String())
	}
	// The same module runs again, with a bigger limit, right after.
	s, out, _ = spec(t, prog, "hello")
	if res := run(t, s); !res.Succeeded() || out.String() != "hello\n" {
		t.Errorf("hello after the hog: %+v %q", res, out.String())
	}
}

func TestGoPanicExitCode(t *testing.T) {
	prog := needProg(t)
	s, _, errb := spec(t, prog, "trap")
	res := run(t, s)
	if res.ExitCode != 2 || res.OOMKilled || res.Message != "exited with code 2" {
		t.Errorf("result = %+v", res)
	}
	if !strings.Contains(errb.String(), "nil pointer dereference") {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestParallelRuns(t *testing.T) {
	prog := needProg(t)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, out, _ := spec(t, prog, "hello")
			h, err := driver.Start(context.Background(), s)
			if err != nil {
				errs <- err.Error()
				return
			}
			res, _ := h.Wait(context.Background())
			if !res.Succeeded() || out.String() != "hello\n" {
				errs <- fmt.Sprintf("run %d: %+v %q", i, res, out.String())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ image, want string }{
		{"", "task.image"},
		{"https://example.com/m.wasm", "fetched by the node before Start"},
		{"sha256:" + strings.Repeat("a", 64), "fetched by the node before Start"},
		{"relative.wasm", "absolute path"},
		{"/no/such/module.wasm", "no such file"},
		{"/", "not a file"},
	} {
		s, _, _ := spec(t, tc.image)
		if _, err := driver.Start(ctx, s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("image %q: %v, want an error with %q", tc.image, err, tc.want)
		}
	}

	// A custom Resolve maps fetched modules to where the node put them.
	d := wasm.New()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.wasm"), trapModule(1, false), 0o644)
	d.Resolve = func(ctx context.Context, image string) (string, error) {
		if strings.HasPrefix(image, "sha256:") {
			return filepath.Join(dir, "m.wasm"), nil
		}
		return wasm.DefaultResolve(ctx, image)
	}
	s, _, _ := spec(t, "sha256:"+strings.Repeat("b", 64))
	h, err := d.Start(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := h.Wait(ctx); res.ExitCode != -1 || !strings.HasPrefix(res.Message, "trapped: wasm error: unreachable") {
		t.Errorf("result = %+v", res)
	}

	// Bytes that are not a module fail the execution, not the node.
	os.WriteFile(filepath.Join(dir, "bad.wasm"), []byte("not wasm"), 0o644)
	s, _, _ = spec(t, filepath.Join(dir, "bad.wasm"))
	h, err = d.Start(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := h.Wait(ctx); res.ExitCode != -1 || !strings.Contains(res.Message, "compiling the module") {
		t.Errorf("result = %+v", res)
	}
}

// trapModule is a hand-assembled module exporting a memory of minPages and
// a _start that traps (unreachable). With grow, _start first grows the
// memory by 2000 pages (125 MiB) and traps only when that fails.
func trapModule(minPages byte, grow bool) []byte {
	body := []byte{0x00, 0x00, 0x0b} // no locals; unreachable; end
	if grow {
		body = []byte{0x00,
			0x41, 0xd0, 0x0f, // i32.const 2000
			0x40, 0x00, // memory.grow
			0x41, 0x7f, // i32.const -1
			0x46,       // i32.eq
			0x04, 0x40, // if
			0x00, // unreachable
			0x0b, // end
			0x0b, // end
		}
	}
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	m = append(m, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00)             // type: () -> ()
	m = append(m, 0x03, 0x02, 0x01, 0x00)                         // func 0: type 0
	m = append(m, 0x05, 0x03, 0x01, 0x00, minPages)               // memory: min pages, no max
	m = append(m, 0x07, 0x13, 0x02)                               // exports:
	m = append(m, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00) // _start: func 0
	m = append(m, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00) // memory: memory 0
	m = append(m, 0x0a, byte(len(body)+2), 0x01, byte(len(body))) // code
	return append(m, body...)
}

func TestHandAssembledModules(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A trap: exit code -1, the wasm stack trace on stderr.
	s, _, errb := spec(t, write("trap.wasm", trapModule(1, false)))
	res := run(t, s)
	if res.ExitCode != -1 || res.OOMKilled || !strings.HasPrefix(res.Message, "trapped: wasm error: unreachable") {
		t.Errorf("trap: %+v", res)
	}
	if !strings.Contains(errb.String(), "wasm stack trace") {
		t.Errorf("trap stderr %q", errb.String())
	}
	// A grow past the limit fails, and the failure is an OOM.
	s, _, _ = spec(t, write("grow.wasm", trapModule(1, true)))
	s.Job.Task.Resources.Memory = 64
	res = run(t, s)
	if !res.OOMKilled || res.Message != "out of memory (limit 64M)" {
		t.Errorf("grow past 64M: %+v", res)
	}
	// Within the limit it succeeds.
	s, _, _ = spec(t, filepath.Join(dir, "grow.wasm"))
	s.Job.Task.Resources.Memory = 256
	if res := run(t, s); !res.Succeeded() {
		t.Errorf("grow within 256M: %+v", res)
	}
	// A module that needs more memory to start than the limit does not start.
	s, _, _ = spec(t, write("big.wasm", trapModule(0x7f, false))) // 127 pages
	s.Job.Task.Resources.Memory = 4
	res = run(t, s)
	if !res.OOMKilled || res.Message != "out of memory (limit 4M): the module needs 8M to start" {
		t.Errorf("big initial memory: %+v", res)
	}
}

func TestWaitContext(t *testing.T) {
	prog := needProg(t)
	s, _, _ := spec(t, prog, "sleep")
	h, err := driver.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(context.Background(), 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v", err)
	}
}
