package compiler

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/lang"
)

// TestMain lets this test binary serve as the sandbox's worker, as muster's
// main does.
func TestMain(m *testing.M) {
	if IsWorker() {
		os.Exit(ServeWorker(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// testSandbox returns a sandbox of this test binary's workers, closed when
// the test ends.
func testSandbox(t testing.TB, l Limits) *Sandbox {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("no executable to start workers from: %v", err)
	}
	s := NewSandbox(exe, l, runtime.GOMAXPROCS(0))
	t.Cleanup(s.Close)
	return s
}

// TestSandboxTimeLimit stops the comprehension of the issue at its time
// limit, and the next file still compiles (in a new worker).
func TestSandboxTimeLimit(t *testing.T) {
	s := testSandbox(t, Limits{Time: time.Second, Memory: 1 << 30})
	start := time.Now()
	_, ds := s.evaluate(CUE, "bomb.cue", []byte(cueTimeBomb), lang.Options{})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the bomb was stopped after %v; the limit is 1s", took)
	}
	wantBound(t, ds, "bomb.cue", "CUE evaluation passed its 1s time limit")
	wantBound(t, ds, "bomb.cue", TimeLimitEnv)
	trees, ds := s.evaluate(CUE, "good.cue", []byte(goodCUE), lang.Options{})
	if len(trees) != 1 || len(ds) != 0 {
		t.Fatalf("after the bomb, a good file gives %d jobs and %v", len(trees), ds)
	}
}

// TestSandboxMemoryLimit stops files that allocate too much: one builtin
// call asking for a terabyte (which would crash muster in-process), a list
// that grows, and HCL that joins or doubles strings.
func TestSandboxMemoryLimit(t *testing.T) {
	cases := []struct {
		name, file, src string
		want            []string // any of
	}{
		{"one huge allocation", "repeat.cue", cueRepeatBomb, []string{"CUE evaluation passed its 256 MiB memory limit"}},
		{"a list that grows", "list.cue", cueListBomb, []string{"CUE evaluation passed its 256 MiB memory limit"}},
		{"HCL join", "join.hcl", hclBomb, []string{"HCL evaluation passed its 256 MiB memory limit", "HCL evaluation passed its 20s time limit"}},
		{"HCL doubling locals", "double.hcl", hclDoubling(40), []string{"HCL evaluation passed its 256 MiB memory limit", "HCL evaluation passed its 20s time limit"}},
	}
	s := testSandbox(t, Limits{Time: 20 * time.Second, Memory: 256 << 20})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, ds := s.evaluate(formatOf(c.file), c.file, []byte(c.src), lang.Options{})
			t.Logf("stopped after %v: %v", time.Since(start).Round(time.Millisecond), ds)
			if len(ds) != 1 {
				t.Fatalf("want one error, got %v", ds)
			}
			ok := false
			for _, w := range c.want {
				ok = ok || strings.Contains(ds[0].Message, w)
			}
			if !ok {
				t.Errorf("message %q says none of %q", ds[0].Message, c.want)
			}
			wantBound(t, ds, c.file, "")
		})
	}
	if trees, ds := s.evaluate(CUE, "good.cue", []byte(goodCUE), lang.Options{}); len(trees) != 1 || len(ds) != 0 {
		t.Fatalf("after the bombs, a good file gives %d jobs and %v", len(trees), ds)
	}
}

// TestSandboxClose ends an evaluation in progress at once, and the worker
// with it.
func TestSandboxClose(t *testing.T) {
	s := testSandbox(t, Limits{Time: time.Minute})
	done := make(chan lang.Diagnostics, 1)
	go func() {
		_, ds := s.evaluate(CUE, "bomb.cue", []byte(cueTimeBomb), lang.Options{})
		done <- ds
	}()
	w := waitBusyWorker(t, s)
	start := time.Now()
	s.Close()
	ds, _ := wait.For(t, 5*time.Second, "the evaluation to end after Close", func() (lang.Diagnostics, bool) {
		select {
		case ds := <-done:
			return ds, true
		default:
			return nil, false
		}
	})
	wantBound(t, ds, "bomb.cue", "CUE evaluation was stopped")
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	if w.cmd.ProcessState == nil {
		t.Errorf("the worker was not reaped")
	}
	if _, ds := s.evaluate(CUE, "good.cue", []byte(goodCUE), lang.Options{}); !strings.Contains(ds.Error(), "stopped") {
		t.Errorf("after Close, evaluate gives %v", ds)
	}
}

// waitBusyWorker waits until s has started a worker, and returns it.
func waitBusyWorker(t *testing.T, s *Sandbox) *worker {
	t.Helper()
	w, _ := wait.For(t, 10*time.Second, "a worker to start", func() (*worker, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for w := range s.live {
			return w, true
		}
		return nil, false
	})
	return w
}

// TestSandboxWorkerCrash reports a worker that dies for another reason
// than a limit, with what it said.
func TestSandboxWorkerCrash(t *testing.T) {
	s := testSandbox(t, Limits{})
	_, ds := s.evaluate(Format("nonsense"), "x.cue", []byte("a: 1\n"), lang.Options{})
	wantBound(t, ds, "x.cue", "the evaluator stopped unexpectedly (please report it): muster evaluation worker: unknown format")
}

// TestSandboxBudget refuses an answer larger than the parent accepts: 80
// references to a string of a megabyte are cheap for the worker (one
// string) and 80 MiB of text for the parent.
func TestSandboxBudget(t *testing.T) {
	s := testSandbox(t, Limits{})
	src := "import \"strings\"\n_s: strings.Repeat(\"x\", 1000000)\nname: \"web\"\ntask: {engine: \"exec\", cmd: [" +
		strings.Repeat("_s, ", 80) + "]}\n"
	_, ds := s.evaluate(CUE, "big.cue", []byte(src), lang.Options{})
	wantBound(t, ds, "big.cue", "the file evaluates to more than")
}

// TestSandboxAgreesWithInProcess evaluates every CUE and HCL example and
// golden case in a worker and in this process: the trees and diagnostics
// must be the same (the protocol carries everything).
func TestSandboxAgreesWithInProcess(t *testing.T) {
	type input struct {
		name, file string
		src        []byte
		opts       lang.Options
		dir        string
	}
	var inputs []input
	examples, _ := filepath.Glob(filepath.Join(examplesDir, "*", "*"))
	for _, p := range examples {
		if f, ok := FormatOf(p); ok && (f == CUE || f == HCL) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, input{name: p, file: filepath.Base(p), src: src})
		}
	}
	goldens, _ := filepath.Glob(filepath.Join("testdata", "*", "*.txtar"))
	for _, p := range goldens {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in := input{name: p}
		for _, f := range ar.Files {
			switch {
			case f.Name == "in.cue" || f.Name == "in.hcl":
				in.file, in.src = f.Name, f.Data
			case f.Name == "vars":
				in.opts.Vars = keyValues(t, f.Data)
			case f.Name == "env":
				in.opts.Env = keyValues(t, f.Data)
			case strings.HasPrefix(f.Name, "vars."):
				if in.dir == "" {
					in.dir = t.TempDir()
				}
				if err := os.WriteFile(filepath.Join(in.dir, f.Name), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				in.opts.VarFiles = append(in.opts.VarFiles, filepath.Join(in.dir, f.Name))
			}
		}
		if in.file != "" {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) < 30 {
		t.Fatalf("only %d CUE and HCL inputs", len(inputs))
	}
	s := testSandbox(t, Limits{})
	var wg sync.WaitGroup
	for _, in := range inputs {
		wg.Go(func() {
			f := formatOf(in.file)
			wantTrees, wantDiags := parsers[f](in.file, in.src, in.opts)
			trees, diags := s.evaluate(f, in.file, in.src, in.opts)
			if !reflect.DeepEqual(trees, wantTrees) {
				t.Errorf("%s: the worker's trees differ from this process's", in.name)
			}
			if !reflect.DeepEqual(diags, wantDiags) {
				t.Errorf("%s: the worker's diagnostics differ:\n%v\nwant:\n%v", in.name, diags, wantDiags)
			}
		})
	}
	wg.Wait()
}

const benchHCL = `job "web" {
  type = "service"
  count = 3
  labels = { team = "payments" }
  task {
    engine = "docker"
    image = "registry.local/web:${var.tag}"
    resources { memory = "512M" }
  }
  rollout { strategy = "canary" }
}
`

// BenchmarkSandboxRoundTrip is what evaluating one small HCL file in a
// worker costs; BenchmarkInProcess is the same file in this process.
func BenchmarkSandboxRoundTrip(b *testing.B) {
	s := testSandbox(b, Limits{})
	src := []byte(benchHCL)
	opts := lang.Options{Vars: map[string]string{"tag": "1"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, ds := s.evaluate(HCL, "job.hcl", src, opts); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}

func BenchmarkInProcess(b *testing.B) {
	src := []byte(benchHCL)
	opts := lang.Options{Vars: map[string]string{"tag": "1"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, ds := parsers[HCL]("job.hcl", src, opts); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}

// TestCompileUsesSandbox routes CUE and HCL files that are not plain data
// through the sandbox, and leaves plain ones and other formats in-process.
func TestCompileUsesSandbox(t *testing.T) {
	s := testSandbox(t, Limits{Time: time.Second})
	defer SetBound(Bound{Sandbox: s})()
	plain := "name: \"web\"\ntask: {engine: \"exec\", cmd: [\"run\"]}\n"
	if r := Compile("plain.cue", []byte(plain), CUE, lang.Options{}); len(r.Jobs) != 1 || r.Diags.HasErrors() {
		t.Fatalf("plain file: %v", r.Diags)
	}
	if r := Compile("plain.hcl", []byte("variable \"c\" {}\njob \"web\" {\n  task {\n    engine = \"exec\"\n    cmd = [var.c]\n  }\n}\n"), HCL,
		lang.Options{Vars: map[string]string{"c": "run"}}); len(r.Jobs) != 1 || r.Diags.HasErrors() {
		t.Fatalf("plain HCL file: %v", r.Diags)
	}
	s.mu.Lock()
	started := s.count
	s.mu.Unlock()
	if started != 0 {
		t.Errorf("plain files started %d workers", started)
	}
	r := Compile("bomb.cue", []byte(cueTimeBomb), CUE, lang.Options{})
	wantBound(t, r.Diags, "bomb.cue", "CUE evaluation passed its 1s time limit")
	if r := Compile("good.cue", []byte(goodCUE), CUE, lang.Options{}); len(r.Jobs) != 1 || r.Diags.HasErrors() {
		t.Fatalf("good file: %v", r.Diags)
	}
}
