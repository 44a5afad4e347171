//go:build unix

package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// secret is what the node keeps outside every execution root; no byte of
// it may reach the document store.
const secret = "node secret: must never leave the node\n"

// world is an execution directory beside a victim directory of the node.
type world struct {
	dir    string // the execution directory: root, logs
	root   string // the execution root
	victim string // outside the root: victim/secret, victim/keep
}

func newWorld(t *testing.T) world {
	t.Helper()
	base := t.TempDir()
	w := world{dir: filepath.Join(base, "exec"), victim: filepath.Join(base, "victim")}
	w.root = filepath.Join(w.dir, "root")
	for _, d := range []string{w.root, w.victim} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(w.victim, "secret"), secret)
	write(t, filepath.Join(w.victim, "keep"), "keep")
	return w
}

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mksocket leaves a Unix socket file at p.
func mksocket(t *testing.T, p string) {
	t.Helper()
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

// rel is the relative link from the directory of p (inside root) to q.
func rel(t *testing.T, p, q string) string {
	t.Helper()
	r, err := filepath.Rel(filepath.Dir(p), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// check asserts that nothing outside the root changed and that no stored
// document holds the node's secret.
func (w world) check(t *testing.T, st *state.Store, docs []state.Document) {
	t.Helper()
	entries, _ := os.ReadDir(w.victim)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "keep secret" {
		t.Errorf("the victim directory holds %v, want [keep secret]", names)
	}
	for name, want := range map[string]string{"secret": secret, "keep": "keep"} {
		b, err := os.ReadFile(filepath.Join(w.victim, name))
		if err != nil || string(b) != want {
			t.Errorf("victim/%s = %q, %v; want %q", name, b, err, want)
		}
	}
	sum := sha256.Sum256([]byte(secret))
	if has, err := st.HasDocument(context.Background(), schema.HashPrefix+hex.EncodeToString(sum[:])); err != nil || has {
		t.Errorf("the document store holds the secret (%v, %v)", has, err)
	}
	for _, d := range docs {
		rc, err := st.Document(context.Background(), d.Hash)
		if err != nil {
			t.Fatalf("output %s: %v", d.Path, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte("node secret")) {
			t.Errorf("output %s holds the secret", d.Path)
		}
	}
}

func openStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func outputsJob(paths ...string) *schema.Job {
	j := &schema.Job{Name: "j", Namespace: "default", Task: schema.Task{Engine: schema.Exec}}
	for _, p := range paths {
		j.Task.Outputs = append(j.Task.Outputs, schema.Output{Path: p})
	}
	return j
}

// collect runs storeOutputs bounded by the test's own context: a
// collection that blocks fails the test instead of hanging it.
func collect(t *testing.T, a *Agent, ctx context.Context, root string, j *schema.Job) ([]state.Document, []state.SkippedOutput, bool) {
	t.Helper()
	type result struct {
		docs    []state.Document
		skipped []state.SkippedOutput
		cut     bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		docs, skipped, cut, err := a.storeOutputs(ctx, root, j)
		done <- result{docs, skipped, cut, err}
	}()
	bound, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("storeOutputs: %v", r.err)
		}
		return r.docs, r.skipped, r.cut
	case <-bound.Done():
		t.Fatal("storing outputs blocked")
	}
	return nil, nil, false
}

func reasons(skipped []state.SkippedOutput) map[string]string {
	m := map[string]string{}
	for _, s := range skipped {
		m[s.Path] = s.Reason
	}
	return m
}

func paths(docs []state.Document) []string {
	var ps []string
	for _, d := range docs {
		ps = append(ps, d.Path)
	}
	sort.Strings(ps)
	return ps
}

// TestOutputsStayInTheRoot plants in a root every kind of output that
// could lead the agent out of it or hang it, and checks what is stored and
// what is skipped, with why.
func TestOutputsStayInTheRoot(t *testing.T) {
	w := newWorld(t)
	r := w.root
	write(t, r+"/out/ok.txt", "ok")
	symlink(t, "ok.txt", r+"/out/inside")                              // stays inside: followed
	symlink(t, "../data/in.txt", r+"/out/up-inside")                   // climbs, but stays inside
	symlink(t, filepath.Join(w.victim, "secret"), r+"/out/abs")        // absolute
	symlink(t, rel(t, r+"/out/rel", w.victim+"/secret"), r+"/out/rel") // relative, leaves
	symlink(t, "/etc/passwd", r+"/out/passwd")                         // the host's /etc/passwd
	symlink(t, w.victim, r+"/mid")                                     // absolute, mid-path
	symlink(t, rel(t, r+"/midrel", w.victim), r+"/midrel")             // relative, mid-path
	symlink(t, "missing", r+"/out/dangling")                           // inside, to nothing
	symlink(t, "loop", r+"/out/loop")                                  // a loop
	write(t, r+"/data/in.txt", "in")
	mkfifo(t, r+"/out/fifo")
	mksocket(t, r+"/out/sock")
	os.MkdirAll(r+"/out/dir-as-file", 0o755)
	write(t, r+"/out/dir-as-file/a.txt", "a")
	write(t, r+"/tree/a.txt", "tree a")
	write(t, r+"/tree/sub/b.txt", "tree b")
	mkfifo(t, r+"/tree/fifo")
	mksocket(t, r+"/tree/sock")
	symlink(t, filepath.Join(w.victim, "secret"), r+"/tree/abs")
	symlink(t, rel(t, r+"/tree/rel", w.victim+"/secret"), r+"/tree/rel")
	symlink(t, "a.txt", r+"/tree/link-in")
	symlink(t, "sub", r+"/tree/link-dir")
	symlink(t, w.victim, r+"/tree/victim-dir")
	symlink(t, w.victim, r+"/linked-tree")

	j := outputsJob("/out/ok.txt", "/out/inside", "/out/up-inside", "/out/abs", "/out/rel", "/out/passwd",
		"/mid/secret", "/midrel/secret", "/mid", "/out/dangling", "/out/loop", "/out/fifo", "/out/sock",
		"/out/dir-as-file", "/tree", "/linked-tree", "/out/missing", "/missing/x")
	st := openStore(t)
	a := &Agent{NodeID: "n", Store: st}
	docs, skipped, cut := collect(t, a, context.Background(), r, j)
	if cut {
		t.Error("cut without a stop")
	}
	want := []string{"/out/dir-as-file/a.txt", "/out/inside", "/out/ok.txt", "/out/up-inside", "/tree/a.txt", "/tree/link-in", "/tree/sub/b.txt"}
	if got := paths(docs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stored %v, want %v", got, want)
	}
	got := reasons(skipped)
	for p, reason := range map[string]string{
		"/out/abs":         "symlink /out/abs leaves the execution root",
		"/out/rel":         "symlink /out/rel leaves the execution root",
		"/out/passwd":      "symlink /out/passwd leaves the execution root",
		"/mid/secret":      "symlink /mid leaves the execution root",
		"/midrel/secret":   "symlink /midrel leaves the execution root",
		"/mid":             "symlink /mid leaves the execution root",
		"/linked-tree":     "symlink /linked-tree leaves the execution root",
		"/out/dangling":    "symlink /out/dangling points to a missing file",
		"/out/loop":        "symlink /out/loop: too many levels of symbolic links",
		"/out/fifo":        "not a regular file (fifo)",
		"/out/sock":        "not a regular file (socket)",
		"/tree/fifo":       "not a regular file (fifo)",
		"/tree/sock":       "not a regular file (socket)",
		"/tree/abs":        "symlink /tree/abs leaves the execution root",
		"/tree/rel":        "symlink /tree/rel leaves the execution root",
		"/tree/link-dir":   "symlink to a directory (not followed inside an output directory)",
		"/tree/victim-dir": "symlink /tree/victim-dir leaves the execution root",
	} {
		if got[p] != reason {
			t.Errorf("skipped %s: %q, want %q", p, got[p], reason)
		}
		delete(got, p)
	}
	for p, reason := range got {
		t.Errorf("skipped %s unexpectedly: %s", p, reason)
	}
	w.check(t, st, docs)
}

// TestOutputDeviceNotOpened: a device node among the outputs is skipped
// without being opened (a root task in a container can make one).
func TestOutputDeviceNotOpened(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	w := newWorld(t)
	// /dev/zero: were it read, it would fill the document store.
	if err := syscall.Mknod(w.root+"/zero", syscall.S_IFCHR|0o644, 1<<8|5); err != nil {
		t.Skipf("mknod: %v", err)
	}
	st := openStore(t)
	docs, skipped, _ := collect(t, &Agent{Store: st, MaxOutputSize: 1 << 20}, context.Background(), w.root, outputsJob("/zero"))
	if len(docs) != 0 || len(skipped) != 1 || skipped[0].Reason != "not a regular file (char device)" {
		t.Errorf("docs %v skipped %v", docs, skipped)
	}
}

// TestOutputLimit: past the agent's limit a file is not stored but
// recorded as skipped; smaller files that still fit are stored.
func TestOutputLimit(t *testing.T) {
	w := newWorld(t)
	write(t, w.root+"/out/a", strings.Repeat("a", 40<<10))
	write(t, w.root+"/out/b-huge", strings.Repeat("b", 100<<10))
	write(t, w.root+"/out/c", strings.Repeat("c", 20<<10))
	write(t, w.root+"/out/d", strings.Repeat("d", 10<<10))
	st := openStore(t)
	a := &Agent{Store: st, MaxOutputSize: 64 << 10}
	docs, skipped, _ := collect(t, a, context.Background(), w.root, outputsJob("/out"))
	if got := paths(docs); strings.Join(got, " ") != "/out/a /out/c" {
		t.Errorf("stored %v, want /out/a /out/c", got)
	}
	got := reasons(skipped)
	if !strings.HasPrefix(got["/out/b-huge"], "output limit 64K reached") || !strings.HasPrefix(got["/out/d"], "output limit 64K reached") || len(got) != 2 {
		t.Errorf("skipped %v", got)
	}
}

// TestFIFOOutputNeverBlocks: a FIFO among the outputs, with no writer, is
// skipped at once, under a context that never ends: the test's own bound
// is what would catch a hang.
func TestFIFOOutputNeverBlocks(t *testing.T) {
	w := newWorld(t)
	mkfifo(t, w.root+"/r.txt")
	os.MkdirAll(w.root+"/out", 0o755)
	mkfifo(t, w.root+"/out/f")
	st := openStore(t)
	docs, skipped, _ := collect(t, &Agent{Store: st}, context.Background(), w.root, outputsJob("/r.txt", "/out"))
	if len(docs) != 0 || len(skipped) != 2 {
		t.Errorf("docs %v skipped %v", docs, skipped)
	}
}

// TestStopCutsStoring: storing honours the stop, and what was not stored
// is recorded as not collected.
func TestStopCutsStoring(t *testing.T) {
	w := newWorld(t)
	write(t, w.root+"/out/a", "a")
	write(t, w.root+"/b", "b")
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	docs, skipped, cut := collect(t, &Agent{Store: st}, ctx, w.root, outputsJob("/b", "/out"))
	if !cut || len(docs) != 0 {
		t.Fatalf("cut %v docs %v", cut, docs)
	}
	got := reasons(skipped)
	if got["/b"] != "not collected: the execution was stopped" || got["/out"] != "not collected: the execution was stopped" {
		t.Errorf("skipped %v", got)
	}

	ctx, cancel = context.WithTimeoutCause(context.Background(), 0, errOutputTimeout)
	defer cancel()
	_, skipped, cut = collect(t, &Agent{Store: st}, ctx, w.root, outputsJob("/b"))
	if !cut || len(skipped) != 1 || skipped[0].Reason != "not collected: storing outputs took too long" {
		t.Errorf("cut %v skipped %v", cut, skipped)
	}
}

// TestRootItselfALink: an execution root replaced by a link is refused.
func TestRootItselfALink(t *testing.T) {
	w := newWorld(t)
	link := filepath.Join(w.dir, "root2")
	symlink(t, w.victim, link)
	if _, err := OpenRoot(link); err == nil {
		t.Fatal("OpenRoot followed a link")
	}
	st := openStore(t)
	if _, _, _, err := (&Agent{Store: st}).storeOutputs(context.Background(), link, outputsJob("/secret")); err == nil {
		t.Fatal("stored outputs through a root that is a link")
	}
	w.check(t, st, nil)
}

// TestInputsStayInTheRoot: input targets are written through the root, so
// a planted link or FIFO cannot lead a write out of it or block it, and a
// job: input's stored output paths cannot climb out either.
func TestInputsStayInTheRoot(t *testing.T) {
	w := newWorld(t)
	st := openStore(t)
	ctx := context.Background()
	a := &Agent{NodeID: "n", Store: st}
	src := filepath.Join(t.TempDir(), "src.txt")
	write(t, src, "input")
	r := w.root
	symlink(t, w.victim, r+"/mid")
	symlink(t, filepath.Join(w.victim, "keep"), r+"/abs")
	symlink(t, rel(t, r+"/rel", w.victim+"/keep"), r+"/rel")
	mkfifo(t, r+"/fifo")
	fifoSrc := filepath.Join(t.TempDir(), "fifo")
	mkfifo(t, fifoSrc)

	for _, target := range []string{"/mid/keep", "/mid/new", "/abs", "/rel", "/fifo"} {
		j := outputsJob()
		j.Task.Inputs = []schema.Input{{Source: "file://" + src, Target: target}}
		if _, err := placeBounded(t, a, ctx, r, j); err == nil {
			t.Errorf("input at %s was placed", target)
		}
	}
	j := outputsJob()
	j.Task.Inputs = []schema.Input{{Source: "file://" + fifoSrc, Target: "/in"}}
	if _, err := placeBounded(t, a, ctx, r, j); err == nil || !strings.Contains(err.Error(), "not a regular file (fifo)") {
		t.Errorf("a FIFO source: %v", err)
	}
	j.Task.Inputs = []schema.Input{{Source: "file://" + src, Target: "/in/ok.txt"}}
	if docs, err := placeBounded(t, a, ctx, r, j); err != nil || len(docs) != 1 {
		t.Errorf("a plain input: %v %v", docs, err)
	}
	w.check(t, st, nil)
}

// placeBounded runs placeInputs bounded by the test's own context.
func placeBounded(t *testing.T, a *Agent, ctx context.Context, root string, j *schema.Job) ([]state.Document, error) {
	t.Helper()
	type result struct {
		docs []state.Document
		err  error
	}
	done := make(chan result, 1)
	go func() {
		docs, err := a.placeInputs(ctx, root, j)
		done <- result{docs, err}
	}()
	bound, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case r := <-done:
		return r.docs, r.err
	case <-bound.Done():
		t.Fatal("placing inputs blocked")
	}
	return nil, nil
}

// commitJob records a job version with one complete execution whose
// outputs are docs, and returns the version's hash.
func commitJob(t *testing.T, st *state.Store, ns, name string, docs []state.Document) string {
	t.Helper()
	ctx := context.Background()
	hash, err := st.PutSpec(ctx, []byte(`{"name":"`+name+`","namespace":"`+ns+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CommitVersion(ctx, ns, name, hash, 0, state.StateCompleted); err != nil {
		t.Fatal(err)
	}
	e, err := st.CreateExecution(ctx, state.Execution{ID: name + "-e1", JobID: ns + "/" + name, JobVersion: 1, NodeID: "n",
		Status: state.ExecutionStatus{ComputeState: state.ComputeComplete, DesiredState: state.DesiredStopped}, Outputs: docs})
	if err != nil {
		t.Fatal(err)
	}
	_ = e
	return hash
}

// TestJobInputsOfOwnNamespaceOnly: a job may refer only to its own
// namespace's outputs, and a stored output path that climbs out of the
// root (a forged record) is refused.
func TestJobInputsOfOwnNamespaceOnly(t *testing.T) {
	w := newWorld(t)
	st := openStore(t)
	ctx := context.Background()
	hash, _, err := st.PutDocument(ctx, strings.NewReader("report"))
	if err != nil {
		t.Fatal(err)
	}
	other := commitJob(t, st, "other", "producer", []state.Document{{Path: "/out/report.txt", Hash: hash, Size: 6}})
	own := commitJob(t, st, "default", "producer", []state.Document{{Path: "/out/report.txt", Hash: hash, Size: 6}})
	forged := commitJob(t, st, "default", "forged", []state.Document{{Path: "/../../victim/keep", Hash: hash, Size: 6}})
	a := &Agent{NodeID: "n", Store: st}

	j := outputsJob()
	j.Task.Inputs = []schema.Input{{Source: "job:other/producer@" + other, Target: "/in"}}
	if _, err := placeBounded(t, a, ctx, w.root, j); err == nil || !strings.Contains(err.Error(), "a job may refer only to its own namespace's outputs") {
		t.Errorf("another namespace's outputs: %v", err)
	}
	if _, err := os.Stat(w.root + "/in"); err == nil {
		t.Error("another namespace's outputs were placed")
	}
	j.Task.Inputs = []schema.Input{{Source: "job:default/producer@" + own, Target: "/in"}}
	if docs, err := placeBounded(t, a, ctx, w.root, j); err != nil || len(docs) != 1 || docs[0].Path != "/in/out/report.txt" {
		t.Errorf("own namespace: %v %v", docs, err)
	}
	j.Task.Inputs = []schema.Input{{Source: "job:default/forged@" + forged, Target: "/in2"}}
	if _, err := placeBounded(t, a, ctx, w.root, j); err == nil {
		t.Error("a forged output path was placed")
	}
	w.check(t, st, nil)
}

// TestLogsStayInTheExecutionDir: a log replaced by a link out of the
// execution's directory, or by a FIFO, is refused, never followed.
func TestLogsStayInTheExecutionDir(t *testing.T) {
	base := t.TempDir()
	a := &Agent{Dir: filepath.Join(base, "executions")}
	victim := filepath.Join(base, "victim")
	write(t, victim, secret)
	dir := a.ExecutionDir("e1")
	symlink(t, victim, filepath.Join(dir, "stdout.log"))
	mkfifo(t, filepath.Join(dir, "stderr.log"))
	if _, _, err := a.openLogs("e1"); err == nil {
		t.Fatal("opened a log that is a link out of the execution directory")
	}
	if b, err := a.ReadLog(context.Background(), "e1", "stdout", 0); err == nil || len(b) > 0 {
		t.Fatalf("ReadLog through a link: %q, %v", b, err)
	}
	os.Remove(filepath.Join(dir, "stdout.log"))
	write(t, filepath.Join(dir, "stdout.log"), "fine")
	if _, _, err := a.openLogs("e1"); err == nil || !strings.Contains(err.Error(), "fifo") {
		t.Fatalf("opened a FIFO log: %v", err)
	}
	if b, err := a.ReadLog(context.Background(), "e1", "stderr", 0); err == nil {
		t.Fatalf("ReadLog of a FIFO: %q", b)
	}
	// A log is named by an execution id, never by a path.
	write(t, filepath.Join(base, "stdout.log"), secret)
	if b, err := a.ReadLog(context.Background(), "..", "stdout", 0); err == nil || len(b) > 0 {
		t.Fatalf("ReadLog of execution \"..\": %q, %v", b, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != secret {
		t.Fatal("the victim changed")
	}
}
