package wasm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// secret is what the node keeps outside every execution root.
const secret = "node secret: must never leave the node\n"

// victimDir makes a directory of the node outside the root, holding secret
// and keep.
func victimDir(t *testing.T) string {
	t.Helper()
	v := filepath.Join(t.TempDir(), "victim")
	os.MkdirAll(v, 0o755)
	os.WriteFile(filepath.Join(v, "secret"), []byte(secret), 0o644)
	os.WriteFile(filepath.Join(v, "keep"), []byte("keep"), 0o644)
	return v
}

// checkVictim asserts that nothing in the victim directory changed.
func checkVictim(t *testing.T, v string) {
	t.Helper()
	entries, _ := os.ReadDir(v)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "keep secret" {
		t.Errorf("the victim directory holds %v", names)
	}
	for name, want := range map[string]string{"secret": secret, "keep": "keep"} {
		if b, err := os.ReadFile(filepath.Join(v, name)); err != nil || string(b) != want {
			t.Errorf("victim/%s = %q, %v; want %q", name, b, err, want)
		}
	}
}

// TestModuleStaysInTheRoot: a module reads, writes, appends, truncates,
// renames, links, lists and removes through absolute and relative links
// planted in its root, at the end of a path and in its middle, and makes
// links of its own: nothing outside the root is read or written, while
// links that stay inside work.
func TestModuleStaysInTheRoot(t *testing.T) {
	prog := needProg(t)
	victim := victimDir(t)
	s, out, errb := spec(t, prog, "escape")
	r := s.Root
	relTo := func(from, to string) string {
		p, err := filepath.Rel(filepath.Join(r, filepath.Dir(from)), to)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for link, target := range map[string]string{
		"abs":    filepath.Join(victim, "secret"),
		"rel":    relTo("rel", filepath.Join(victim, "keep")),
		"mid":    victim,
		"midrel": relTo("midrel", victim),
		"inside": "data.txt",
	} {
		if err := os.Symlink(target, filepath.Join(r, link)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(r, "data.txt"), []byte("data"), 0o644)
	os.WriteFile(filepath.Join(r, "data2.txt"), []byte("data2"), 0o644)

	res := run(t, s)
	if !res.Succeeded() {
		t.Fatalf("%+v; stderr %s", res, errb)
	}
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		verdict, rest, _ := strings.Cut(line, " ")
		name, _, _ := strings.Cut(rest, ":")
		got[name] = verdict == "ok"
	}
	for _, name := range []string{"read-abs", "read-rel", "read-mid", "read-midrel", "stat-abs", "stat-midrel",
		"write-abs", "write-rel", "append-rel", "write-mid", "write-midrel", "truncate-rel", "mkdir-midrel",
		"readdir-midrel", "rename-into-midrel", "rename-out-of-midrel", "link-from-midrel", "link-into-midrel",
		"remove-midrel", "symlink-abs", "symlink-rel", "symlink-rel-up"} {
		if ok, seen := got[name]; !seen || ok {
			t.Errorf("%s: allowed or not tried (seen %v)", name, seen)
		}
	}
	for _, name := range []string{"read-inside", "write-inside", "symlink-in", "read-made-in", "rename-in", "link-in",
		"readdir-root", "symlink-up-inside", "read-up-inside"} {
		if !got[name] {
			t.Errorf("%s: denied inside the root", name)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("module output:\n%s", out)
	}
	checkVictim(t, victim)
	if b, _ := os.ReadFile(filepath.Join(r, "data.txt")); string(b) != "changed" {
		t.Errorf("data.txt = %q: a write through a link inside did not land", b)
	}
}

// TestWasmWorkdirStaysInTheRoot: task.workdir is made through the root.
func TestWasmWorkdirStaysInTheRoot(t *testing.T) {
	prog := needProg(t)
	victim := victimDir(t)
	s, _, _ := spec(t, prog, "hello")
	os.Symlink(victim, filepath.Join(s.Root, "w"))
	s.Job.Task.Workdir = "/w/sub"
	if h, err := driver.Start(context.Background(), s); err == nil {
		h.Wait(context.Background())
		t.Error("started with a workdir through a link out of the root")
	}
	checkVictim(t, victim)
}

// TestAgentKeepsWasmOutputsInTheRoot: a module's outputs through the agent:
// links out of the root cannot even be made, a file over the node's limit
// is skipped with why, a directory output stores its files, and no node
// file reaches the document store.
func TestAgentKeepsWasmOutputsInTheRoot(t *testing.T) {
	prog := needProg(t)
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &runner.Agent{NodeID: "n1", Dir: filepath.Join(t.TempDir(), "executions"), Store: st, MaxOutputSize: 64 << 10}
	j := &schema.Job{Name: "j", Namespace: "default", Task: schema.Task{
		Engine: schema.Wasm, Image: prog, Cmd: []string{"plant"}, Env: map[string]string{},
		Resources: schema.Resources{CPUs: 1, Memory: 256},
	}}
	for _, p := range []string{"/out/ok.txt", "/out/inside", "/out/abs", "/out/rel", "/mid/passwd", "/out/huge", "/dir-as-file"} {
		j.Task.Outputs = append(j.Task.Outputs, schema.Output{Path: p})
	}
	e, err := st.CreateExecution(ctx, state.Execution{ID: "wasm-boundary", JobID: "default/j", JobVersion: 1, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	// A bound on a hang, not a measure: under the race detector on a
	// loaded machine the run took more than 30s.
	runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	e, res, err := a.Run(runCtx, e, j)
	if err != nil || !res.Succeeded() {
		t.Fatalf("%+v %v", res, err)
	}
	stdout, _ := a.ReadLog(ctx, e.ID, "stdout", 0)
	for _, name := range []string{"plant-abs", "plant-rel", "plant-mid"} {
		if !strings.Contains(string(stdout), "denied "+name) {
			t.Errorf("%s was allowed:\n%s", name, stdout)
		}
	}
	var stored []string
	for _, d := range e.Outputs {
		stored = append(stored, d.Path)
		rc, err := st.Document(ctx, d.Hash)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte("root:")) {
			t.Errorf("output %s holds the node's /etc/passwd", d.Path)
		}
	}
	sort.Strings(stored)
	if got, want := strings.Join(stored, " "), "/dir-as-file/a.txt /dir-as-file/sub/b.txt /out/inside /out/ok.txt"; got != want {
		t.Errorf("stored %s, want %s", got, want)
	}
	if len(e.Skipped) != 1 || e.Skipped[0].Path != "/out/huge" || !strings.HasPrefix(e.Skipped[0].Reason, "output limit 64K reached") {
		t.Errorf("skipped %v", e.Skipped)
	}
	if !strings.Contains(e.Status.Message, "1 output skipped") {
		t.Errorf("status message %q", e.Status.Message)
	}
	if b, err := os.ReadFile("/etc/passwd"); err == nil {
		sum := sha256.Sum256(b)
		if has, _ := st.HasDocument(ctx, schema.HashPrefix+hex.EncodeToString(sum[:])); has {
			t.Error("the document store holds the node's /etc/passwd")
		}
	}
}
