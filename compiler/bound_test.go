package compiler

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/lang"
)

// The bombs: short files whose evaluation has no end in sight, in time or
// in memory.
const (
	// cueTimeBomb is the comprehension of the issue: 10^12 sums.
	cueTimeBomb = `import "list"

_a: list.Range(0, 1000000, 1)
_b: [for x in _a for y in _a {x + y}]
name: "web"
description: "\(len(_b))"
task: {engine: "exec", cmd: ["run"]}
`
	// cueRepeatBomb asks for a string of a terabyte in one builtin call:
	// in-process, the Go runtime's fatal "out of memory".
	cueRepeatBomb = `import "strings"

_mb: strings.Repeat("x", 1000000)
name: "web"
description: strings.Repeat(_mb, 1000000)
task: {engine: "exec", cmd: ["run"]}
`
	// cueListBomb grows a list of ten million strings.
	cueListBomb = `import "list"

name: "web"
task: {engine: "exec", cmd: [for x in list.Range(0, 10000000, 1) {"arg-\(x)"}]}
`
	// hclBomb passes every static limit of the HCL frontend (range of
	// 1024, one for expression inside another) and joins a megabyte
	// string 1024 times: a gigabyte.
	hclBomb = `locals {
  a = [for x in range(1024) : format("%0999d", x)]
  b = [for x in local.a : join("", local.a)]
}
job "web" {
  description = length(local.b)
  task {
    engine = "exec"
    cmd    = ["run"]
  }
}
`
	goodCUE = "name: \"web\"\n_p: \"run\"\ntask: {engine: \"exec\", cmd: [_p]}\n"
)

// hclDoubling builds locals that double a string n times: no function,
// no for expression.
func hclDoubling(n int) string {
	var b strings.Builder
	b.WriteString("locals {\n  s0 = \"xxxxxxxxxxxxxxxx\"\n")
	for i := 1; i <= n; i++ {
		prev := "${local.s" + strconv.Itoa(i-1) + "}"
		b.WriteString("  s" + strconv.Itoa(i) + " = \"" + prev + prev + "\"\n")
	}
	b.WriteString("}\njob \"web\" {\n  description = local.s" + strconv.Itoa(n) + "\n  task {\n    engine = \"exec\"\n    cmd = [\"run\"]\n  }\n}\n")
	return b.String()
}

// wantBound checks that ds is one error at line 1 of file whose message
// has want.
func wantBound(t *testing.T, ds lang.Diagnostics, file, want string) {
	t.Helper()
	if len(ds) != 1 || ds[0].Severity != lang.Error {
		t.Fatalf("want one error, got:\n%v", ds)
	}
	d := ds[0]
	if d.Range.Filename != file || d.Range.Start.Line != 1 || d.Range.Start.Column != 1 {
		t.Errorf("the error is at %v, want %s:1:1", d.Range, file)
	}
	if !strings.Contains(d.Message, want) {
		t.Errorf("message %q does not say %q", d.Message, want)
	}
}

func formatOf(name string) Format {
	f, _ := FormatOf(name)
	return f
}

func TestLimitsFromEnv(t *testing.T) {
	cases := []struct {
		time, mem string
		want      Limits
		err       string
	}{
		{"", "", Limits{DefaultTime, DefaultMemory}, ""},
		{"30s", "2GiB", Limits{30 * time.Second, 2 << 30}, ""},
		{"1m", "512MiB", Limits{time.Minute, 512 << 20}, ""},
		{"", "2G", Limits{DefaultTime, 2 << 30}, ""},
		{"", "1073741824", Limits{DefaultTime, 1 << 30}, ""},
		{"10", "", Limits{}, "MUSTER_EVAL_TIMEOUT=10: want a positive duration"},
		{"-1s", "", Limits{}, "want a positive duration"},
		{"", "lots", Limits{}, "MUSTER_EVAL_MEMORY=lots: want a size"},
		{"", "1MiB", Limits{}, "at least 64 MiB is needed"},
		{"", "0", Limits{}, "want a size"},
	}
	for _, c := range cases {
		env := map[string]string{TimeLimitEnv: c.time, MemoryLimitEnv: c.mem}
		got, err := LimitsFromEnv(func(k string) string { return env[k] })
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q %q: error %v, want %q", c.time, c.mem, err, c.err)
			}
		case err != nil:
			t.Errorf("%q %q: %v", c.time, c.mem, err)
		case got != c.want:
			t.Errorf("%q %q: %+v, want %+v", c.time, c.mem, got, c.want)
		}
	}
}

// inOwnProcess runs the calling test again in a process of its own (this
// test binary), so that the evaluations it leaves behind, which cannot be
// stopped, end with that process. It reports whether the caller is that
// process and should run the test.
func inOwnProcess(t *testing.T) bool {
	t.Helper()
	if os.Getenv("MUSTER_TEST_OWN_PROCESS") == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "MUSTER_TEST_OWN_PROCESS="+t.Name())
	out, err := cmd.CombinedOutput()
	t.Logf("in a process of its own:\n%s", out)
	if err != nil {
		t.Fatalf("the test failed in its own process: %v", err)
	}
	return false
}

// withBound makes Compile use b for the test.
func withBound(t *testing.T, b Bound) {
	t.Helper()
	t.Cleanup(SetBound(b))
}

// TestInProcessTimeLimit stops waiting for the comprehension of the issue
// at its time limit, and the next file still compiles.
func TestInProcessTimeLimit(t *testing.T) {
	if !inOwnProcess(t) {
		return
	}
	withBound(t, Bound{Limits: Limits{Time: time.Second}})
	start := time.Now()
	r := Compile("bomb.cue", []byte(cueTimeBomb), CUE, lang.Options{})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the bomb was stopped after %v; the limit is 1s", took)
	}
	wantBound(t, r.Diags, "bomb.cue", "CUE evaluation passed its 1s time limit")
	if len(r.Jobs) != 0 {
		t.Errorf("the bomb compiled to %d jobs", len(r.Jobs))
	}
	if r := Compile("good.cue", []byte(goodCUE), CUE, lang.Options{}); len(r.Jobs) != 1 || r.Diags.HasErrors() {
		t.Fatalf("after the bomb, a good file: %v", r.Diags)
	}
}

// TestInProcessMemoryLimit fails files whose evaluation grows the heap past
// the limit: a list that grows and HCL locals that join a gigabyte.
func TestInProcessMemoryLimit(t *testing.T) {
	if !inOwnProcess(t) {
		return
	}
	var mu sync.Mutex
	var runaways []string
	withBound(t, Bound{Limits: Limits{Time: 30 * time.Second, Memory: 256 << 20}, Runaway: func(err error) {
		mu.Lock()
		runaways = append(runaways, err.Error())
		mu.Unlock()
	}})
	for _, c := range []struct{ file, src, want string }{
		{"list.cue", cueListBomb, "CUE evaluation passed its 256 MiB memory limit"},
		{"join.hcl", hclBomb, "HCL evaluation passed its 256 MiB memory limit"},
	} {
		start := time.Now()
		r := Compile(c.file, []byte(c.src), formatOf(c.file), lang.Options{})
		t.Logf("%s stopped after %v", c.file, time.Since(start).Round(time.Millisecond))
		wantBound(t, r.Diags, c.file, c.want)
	}
	if r := Compile("good.cue", []byte(goodCUE), CUE, lang.Options{}); len(r.Jobs) != 1 || r.Diags.HasErrors() {
		t.Fatalf("after the bombs, a good file: %v", r.Diags)
	}
	// The evaluations left behind grow on: past twice the limit they are
	// runaways, which the command is told about.
	wait.Until(t, time.Minute, "a runaway to be reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runaways) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if len(runaways) == 0 || !strings.Contains(runaways[0], "left behind at its limit, still allocates") || !strings.Contains(runaways[0], IsolateEnv) {
		t.Errorf("runaways: %q", runaways)
	}
}

// TestPlainFilesAreNotBounded compiles plain files without a goroutine or
// the heap watchdog.
func TestPlainFilesAreNotBounded(t *testing.T) {
	withBound(t, Bound{Limits: Limits{Time: time.Nanosecond}})
	plain := "name: \"web\"\ntask: {engine: \"exec\", cmd: [\"run\"]}\n"
	if r := Compile("plain.cue", []byte(plain), CUE, lang.Options{}); len(r.Jobs) != 1 || r.Diags.HasErrors() {
		t.Fatalf("a plain file under a limit of 1ns: %v", r.Diags)
	}
	r := Compile("good.cue", []byte(goodCUE), CUE, lang.Options{})
	wantBound(t, r.Diags, "good.cue", "time limit")
}
