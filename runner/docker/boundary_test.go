//go:build linux

package docker

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
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/docker/dockertest"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// secret is what the node keeps outside every execution root.
const secret = "node secret: must never leave the node\n"

// victimDir makes a directory of the node outside any root, holding secret
// and keep, with mode 0755.
func victimDir(t *testing.T) string {
	t.Helper()
	v := filepath.Join(t.TempDir(), "victim")
	os.MkdirAll(v, 0o755)
	os.Chmod(v, 0o755)
	os.WriteFile(filepath.Join(v, "secret"), []byte(secret), 0o644)
	os.WriteFile(filepath.Join(v, "keep"), []byte("keep"), 0o644)
	return v
}

// checkVictim asserts that nothing in the victim directory changed, its
// mode included.
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
	if fi, err := os.Stat(v); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the victim directory's mode changed: %v %v", fi.Mode(), err)
	}
	for name, want := range map[string]string{"secret": secret, "keep": "keep"} {
		if b, err := os.ReadFile(filepath.Join(v, name)); err != nil || string(b) != want {
			t.Errorf("victim/%s = %q, %v; want %q", name, b, err, want)
		}
	}
}

// TestAgentKeepsContainerOutputsInTheRoot: a FROM scratch container,
// running as root, plants in its output directory links to the node's
// /etc/passwd and /etc/shadow (absolute, relative, mid-path), a FIFO, a
// socket, a device node, a directory and a file over the node's limit,
// and leaves a link, a directory, a FIFO and a huge file at root-level
// output paths, which are copied out through the engine. Only its regular
// files reach the document store; the rest is recorded with why; nothing
// blocks and nothing outside the root changes.
func TestAgentKeepsContainerOutputsInTheRoot(t *testing.T) {
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	victim := victimDir(t)
	a := &runner.Agent{NodeID: "n1", Dir: filepath.Join(t.TempDir(), "executions"), Store: st, MaxOutputSize: 64 << 10, Grace: time.Second}
	j := &schema.Job{Name: "t", Namespace: "default", Task: schema.Task{
		Engine: schema.Docker, Image: image, Entrypoint: []string{}, Network: schema.NetworkNone,
		Env: map[string]string{}, Resources: schema.Resources{CPUs: 1, Memory: 64},
		Cmd: []string{
			"write", "/out/all/ok.txt", "ok",
			"symlink", "ok.txt", "/out/all/inside",
			"symlink", "/etc/passwd", "/out/all/passwd",
			"symlink", "/etc/shadow", "/out/all/shadow",
			"symlink", "../../../../../../../../../../etc/passwd", "/out/all/rel",
			"symlink", filepath.Join(victim, "secret"), "/out/all/abs",
			"symlink", victim, "/out/all/mid",
			"mkfifo", "/out/all/fifo",
			"mksock", "/out/all/sock",
			"mknod", "/out/all/zero", "1", "5",
			"big", "/out/all/huge", "100000",
			"write", "/out/all/dir-as-file/a.txt", "a",
			"mkfifo", "/out/all/dir-as-file/fifo",
			"write", "/top.txt", "top",
			"symlink", "/out/all/ok.txt", "/toplink",
			"mkdir", "/topdir",
			"mkfifo", "/topfifo",
			"big", "/tophuge", "100000",
		},
	}}
	for _, p := range []string{"/out/all", "/out/all/mid/secret", "/top.txt", "/toplink", "/topdir", "/topfifo", "/tophuge", "/missing.txt"} {
		j.Task.Outputs = append(j.Task.Outputs, schema.Output{Path: p})
	}
	e, err := st.CreateExecution(ctx, state.Execution{ID: newID(t), JobID: "default/t", JobVersion: 1, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		e   state.Execution
		res runner.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		e, res, err := a.Run(ctx, e, j)
		done <- result{e, res, err}
	}()
	r, _ := wait.For(t, 2*time.Minute, "the agent to finish the run", func() (result, bool) {
		select {
		case r := <-done:
			return r, true
		default:
			return result{}, false
		}
	})
	if r.err != nil || !r.res.Succeeded() {
		logs, _ := a.ReadLog(ctx, e.ID, "stderr", 0)
		t.Fatalf("%+v %v; stderr %s", r.res, r.err, logs)
	}
	e = r.e
	var stored []string
	for _, d := range e.Outputs {
		stored = append(stored, d.Path)
		rc, err := st.Document(ctx, d.Hash)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte("node secret")) || bytes.Contains(b, []byte("root:")) {
			t.Errorf("output %s holds a node file", d.Path)
		}
	}
	sort.Strings(stored)
	if got, want := strings.Join(stored, " "), "/out/all/dir-as-file/a.txt /out/all/inside /out/all/ok.txt /top.txt"; got != want {
		t.Errorf("stored %s, want %s", got, want)
	}
	got := map[string]string{}
	for _, s := range e.Skipped {
		got[s.Path] = s.Reason
	}
	for p, want := range map[string]string{
		"/out/all/abs":              "symlink /out/all/abs leaves the execution root",
		"/out/all/passwd":           "symlink /out/all/passwd leaves the execution root",
		"/out/all/shadow":           "symlink /out/all/shadow leaves the execution root",
		"/out/all/rel":              "symlink /out/all/rel leaves the execution root",
		"/out/all/mid":              "symlink /out/all/mid leaves the execution root",
		"/out/all/mid/secret":       "symlink /out/all/mid leaves the execution root",
		"/out/all/fifo":             "not a regular file (fifo)",
		"/out/all/sock":             "not a regular file (socket)",
		"/out/all/zero":             "not a regular file (char device)",
		"/out/all/huge":             "output limit 64K reached",
		"/out/all/dir-as-file/fifo": "not a regular file (fifo)",
		"/toplink":                  "not a regular file (symlink)",
		"/topdir":                   "not a regular file (directory)",
		"/topfifo":                  "not a regular file (fifo)",
		"/tophuge":                  "output limit 64K reached",
	} {
		if !strings.HasPrefix(got[p], want) {
			t.Errorf("skipped %s: %q, want %q", p, got[p], want)
		}
		delete(got, p)
	}
	for p, reason := range got {
		t.Errorf("skipped %s unexpectedly: %s", p, reason)
	}
	if !strings.Contains(e.Status.Message, "15 outputs skipped") {
		t.Errorf("status message %q does not say outputs were skipped", e.Status.Message)
	}
	for _, p := range []string{filepath.Join(victim, "secret"), "/etc/passwd", "/etc/shadow"} {
		if b, err := os.ReadFile(p); err == nil {
			sum := sha256.Sum256(b)
			if has, _ := st.HasDocument(ctx, schema.HashPrefix+hex.EncodeToString(sum[:])); has {
				t.Errorf("the document store holds %s", p)
			}
		}
	}
	checkVictim(t, victim)
	gone(t, cli, e.ID)
}

// TestOutputDirsAndInputsThroughLinksRefused: an output directory or an
// input whose path in the root runs through a link is refused before the
// engine sees it: neither created nor opened up (chmod 0777) on the node,
// nor bind-mounted from there.
func TestOutputDirsAndInputsThroughLinksRefused(t *testing.T) {
	for _, c := range []struct {
		name    string
		inputs  []schema.Input
		outputs []schema.Output
		plant   func(root, victim string)
	}{
		{"output dir is a link", nil, []schema.Output{{Path: "/out/r.txt"}},
			func(root, victim string) { os.Symlink(victim, filepath.Join(root, "out")) }},
		{"output dir below a link", nil, []schema.Output{{Path: "/out/sub/r.txt"}},
			func(root, victim string) { os.Symlink(victim, filepath.Join(root, "out")) }},
		{"output dir below a relative link", nil, []schema.Output{{Path: "/out/sub/r.txt"}},
			func(root, victim string) {
				rel, _ := filepath.Rel(root, victim)
				os.Symlink(rel, filepath.Join(root, "out"))
			}},
		{"output dir a link inside", nil, []schema.Output{{Path: "/out/r.txt"}},
			func(root, victim string) {
				os.MkdirAll(filepath.Join(root, "real"), 0o755)
				os.Symlink("real", filepath.Join(root, "out"))
			}},
		{"input below a link", []schema.Input{{Source: "sha256:x", Target: "/in/secret"}}, nil,
			func(root, victim string) { os.Symlink(victim, filepath.Join(root, "in")) }},
		{"input a link", []schema.Input{{Source: "sha256:x", Target: "/secret"}}, nil,
			func(root, victim string) { os.Symlink(filepath.Join(victim, "secret"), filepath.Join(root, "secret")) }},
		{"input a FIFO", []schema.Input{{Source: "sha256:x", Target: "/fifo"}}, nil,
			func(root, victim string) { mkfifo(t, filepath.Join(root, "fifo")) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, victim := t.TempDir(), victimDir(t)
			c.plant(root, victim)
			p, err := planMounts(c.inputs, c.outputs)
			if err != nil {
				t.Fatal(err)
			}
			if ms, err := p.prepare(root); err == nil {
				t.Errorf("prepared mounts %v", ms)
			}
			checkVictim(t, victim)
		})
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}
