package exec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
)

// tree writes files (path: contents) under a temporary directory, a fake
// cgroup file system, and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDetectCgroup(t *testing.T) {
	self := []byte("0::/node.slice\n")
	for _, tc := range []struct {
		name   string
		files  map[string]string
		self   []byte
		reason string // a substring; "" means enforced
	}{
		{
			name:   "v1 only",
			files:  map[string]string{"memory/tasks": ""},
			self:   self,
			reason: "is not a cgroup v2 mount",
		},
		{
			name:   "hybrid",
			files:  map[string]string{"unified/cgroup.controllers": "hugetlb\n"},
			self:   self,
			reason: "hybrid cgroup v1/v2 mount",
		},
		{
			name:   "no v2 path",
			files:  map[string]string{"cgroup.controllers": "cpu memory\n"},
			self:   []byte("4:memory:/x\n"),
			reason: "no cgroup v2 path",
		},
		{
			name: "controllers not delegated",
			files: map[string]string{
				"cgroup.controllers":            "cpu memory\n",
				"node.slice/cgroup.controllers": "pids\n",
			},
			self:   self,
			reason: "not delegated to",
		},
		{
			name: "enabled already",
			files: map[string]string{
				"cgroup.controllers":                       "cpu memory\n",
				"node.slice/cgroup.controllers":            "cpu io memory pids\n",
				"node.slice/cgroup.subtree_control":        "cpu memory\n",
				"node.slice/muster/cgroup.subtree_control": "",
				"node.slice/muster/cgroup.controllers":     "cpu memory\n",
			},
			self: self,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tree(t, tc.files)
			parent, reason := detectCgroup(root, tc.self)
			if tc.reason == "" {
				if want := filepath.Join(root, "node.slice", "muster"); parent != want || reason != "" {
					t.Fatalf("parent %q reason %q, want %q", parent, reason, want)
				}
				// The muster group offers cpu and memory to executions.
				b, _ := os.ReadFile(filepath.Join(parent, "cgroup.subtree_control"))
				if string(b) != "+cpu +memory" {
					t.Errorf("muster/cgroup.subtree_control = %q", b)
				}
				return
			}
			if parent != "" || !strings.Contains(reason, tc.reason) {
				t.Errorf("parent %q reason %q, want a reason with %q", parent, reason, tc.reason)
			}
		})
	}
}

func TestCgroupLimitsAndOOM(t *testing.T) {
	id := "e/1"
	dir := "exec-e_1"
	parent := tree(t, map[string]string{
		dir + "/memory.max":       "max\n",
		dir + "/memory.swap.max":  "max\n",
		dir + "/memory.oom.group": "0\n",
		dir + "/cpu.max":          "max 100000\n",
		dir + "/memory.events":    "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
	})
	cg, err := newCgroup(parent, id, schema.Resources{CPUs: 0.5, Memory: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer cg.closeFD()
	for file, want := range map[string]string{
		"memory.max":       "67108864",
		"memory.swap.max":  "0",
		"memory.oom.group": "1",
		"cpu.max":          "50000 100000",
	} {
		if b, _ := os.ReadFile(filepath.Join(parent, dir, file)); string(b) != want {
			t.Errorf("%s = %q, want %q", file, b, want)
		}
	}
	if !cg.oomKilled() {
		t.Error("oom_kill 1 not seen")
	}
	os.WriteFile(filepath.Join(parent, dir, "memory.events"), []byte("oom 0\noom_kill 0\n"), 0o644)
	if cg.oomKilled() {
		t.Error("oom_kill 0 seen as a kill")
	}

	// A tiny cpu share gets the kernel's smallest quota.
	os.WriteFile(filepath.Join(parent, dir, "cpu.max"), nil, 0o644)
	if err := cg.limit(schema.Resources{CPUs: 0.001}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(parent, dir, "cpu.max")); string(b) != "1000 100000" {
		t.Errorf("cpu.max = %q", b)
	}
}

// TestRealCgroup runs an execution in a real cgroup v2 directory named by
// MUSTER_TEST_CGROUP2 (one the test may create children in, even without
// the cpu and memory controllers, such as /sys/fs/cgroup/unified on a
// hybrid host): the process is cloned into its cgroup, what it leaves
// behind is killed through cgroup.kill, and the cgroup is removed.
func TestRealCgroup(t *testing.T) {
	base := os.Getenv("MUSTER_TEST_CGROUP2")
	if base == "" {
		t.Skip("set MUSTER_TEST_CGROUP2 to a writable cgroup v2 directory")
	}
	parent := filepath.Join(base, "muster-test")
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(parent)
	d := New()
	d.once.Do(func() {})
	d.parent = parent

	var out strings.Builder
	s := &runner.Spec{
		ExecutionID: "real-cgroup",
		Job: &schema.Job{Task: schema.Task{
			Engine: schema.Exec,
			// setsid leaves the process group: only the cgroup finds it.
			Cmd: []string{"sh", "-c", `grep '^0::' /proc/self/cgroup; setsid sleep 100 > /dev/null 2>&1 < /dev/null & echo $!`},
		}},
		Root:   t.TempDir(),
		Stdout: &out,
	}
	h, err := d.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Wait(context.Background())
	if err != nil || !res.Succeeded() {
		t.Fatalf("%+v %v", res, err)
	}
	lines := strings.Fields(out.String())
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "/muster-test/exec-real-cgroup") {
		t.Fatalf("output %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(parent, "exec-real-cgroup")); !os.IsNotExist(err) {
		t.Errorf("the execution's cgroup is still there: %v", err)
	}
	wait.Until(t, 5*time.Second, "the setsid sleep "+lines[1]+" to be gone", func() bool {
		b, err := os.ReadFile("/proc/" + lines[1] + "/stat")
		return err != nil || strings.Contains(string(b), ") Z ")
	})
}
