package cli

// Process-level reliability tests of plan and apply: concurrent applies of
// one job against one state directory or one external NATS server, and
// applies killed with SIGKILL. They run the real command as separate
// processes (the copy of the test binary that testscript.Main puts in $PATH
// as "muster", or a binary built with go build) and are skipped under -short.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/muster-dev/muster/internal/wait"
)

// racers is how many muster processes race in each concurrent test.
const racers = 20

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// musterBin returns the path of a muster executable: the copy of the test
// binary that testscript.Main installed in $PATH (it runs cli.Main when
// invoked as "muster"), or, when that is missing, one built with go build.
func musterBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if p, err := exec.LookPath("muster"); err == nil && strings.Contains(p, "testscript-main") {
			binPath = p
			return
		}
		dir, err := os.MkdirTemp("", "muster-reliability")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "muster")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/muster-dev/muster/cmd/muster").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// result is what one muster process did.
type result struct {
	args           []string
	stdout, stderr string
	code           int // -1: killed by a signal
}

func (r result) String() string {
	return fmt.Sprintf("muster %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// musterCLI runs muster commands in dir and returns what it did.
type musterCLI struct {
	t   *testing.T
	bin string
	dir string // working directory: job files and the state directory live here
	env string // MUSTER_STATE_DIR=... or MUSTER_NATS_URL=...: the store every command uses
	// batch makes jobFile write a batch job (apply also runs it) instead
	// of a service job (apply only records it).
	batch bool
}

func newCLI(t *testing.T, env string) *musterCLI {
	return &musterCLI{t: t, bin: musterBin(t), dir: t.TempDir(), env: env}
}

func (c *musterCLI) command(ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
	// The nodes of 'muster dev' and 'muster agent' advertise the same room
	// on every machine, more than any test needs: a test of capacity gives
	// --cpus and --memory itself.
	cmd.Env = append(os.Environ(), "MUSTER_STATE_DIR=", "MUSTER_NATS_URL=", "MUSTER_ADDR=", "MUSTER_TOKEN=", "MUSTER_CPUS=64", "MUSTER_MEMORY=64G", c.env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func (c *musterCLI) run(args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd, stdout, stderr := c.command(ctx, args...)
	err := cmd.Run()
	return finish(c.t, args, err, stdout, stderr)
}

func finish(t *testing.T, args []string, err error, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("muster %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs a command that must succeed.
func (c *musterCLI) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("%v", r)
	}
	return r
}

// race runs every argument list at once, as separate processes released
// together, and returns their results in order.
func (c *musterCLI) race(argLists [][]string) []result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	out := make([]result, len(argLists))
	errs := make([]error, len(argLists))
	outs := make([][2]*bytes.Buffer, len(argLists))
	cmds := make([]*exec.Cmd, len(argLists))
	for i, args := range argLists {
		cmd, stdout, stderr := c.command(ctx, args...)
		cmds[i], outs[i] = cmd, [2]*bytes.Buffer{stdout, stderr}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Go(func() {
			<-start
			errs[i] = cmd.Run()
		})
	}
	close(start)
	wg.Wait()
	for i := range cmds {
		out[i] = finish(c.t, argLists[i], errs[i], outs[i][0], outs[i][1])
	}
	return out
}

func (c *musterCLI) write(name, content string) string {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return name
}

// jobFile writes a version of job "web" that differs from the others by its
// cmd and env, and returns its file name.
func (c *musterCLI) jobFile(tag string) string {
	if c.batch {
		// apply also runs it on the local node, to completion.
		return c.write("web-"+tag+".yaml", fmt.Sprintf(`name: web
type: batch
task:
  engine: exec
  cmd: [sh, -c, "sleep 0.02; echo %[1]s"]
  env: {RUN: "%[1]s"}
`, tag))
	}
	// apply only records it: service jobs run under 'muster dev'.
	return c.write("web-"+tag+".yaml", fmt.Sprintf(`name: web
type: service
count: 2
task:
  engine: exec
  cmd: [sh, -c, "echo %[1]s"]
  env: {RUN: "%[1]s"}
`, tag))
}

// hashes returns the spec hash of each job file (muster hash).
func (c *musterCLI) hashes(files []string) map[string]string {
	c.t.Helper()
	r := c.ok(append([]string{"hash"}, files...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(files) {
		c.t.Fatalf("hash of %d files printed %d lines:\n%s", len(files), len(lines), r.stdout)
	}
	out := make(map[string]string, len(files))
	for i, l := range lines {
		h, ref, _ := strings.Cut(l, "  ")
		if ref != "default/web" {
			c.t.Fatalf("hash line %q: want default/web", l)
		}
		out[files[i]] = h
	}
	return out
}

type statusJSON struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Version   int    `json:"version"`
	Hash      string `json:"hash"`
	Revision  uint64 `json:"revision"`
	State     string `json:"state"`
	Message   string `json:"message"`
}

type versionJSON struct {
	Version int    `json:"version"`
	Hash    string `json:"hash"`
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\ndecode: %v", r, err)
	}
	return v
}

// consistent reads the job back with status, history and get and checks
// that they agree: one committed chain 1..N, the status at its head, and the
// head's spec stored under its content address. It returns the history.
func (c *musterCLI) consistent() (statusJSON, []versionJSON) {
	c.t.Helper()
	st := decode[[]statusJSON](c.t, c.ok("status", "-o", "json", "web"))
	if len(st) != 1 {
		c.t.Fatalf("status web: %d entries", len(st))
	}
	hist := decode[[]versionJSON](c.t, c.ok("history", "-o", "json", "web"))
	for i, v := range hist {
		if v.Version != i+1 {
			c.t.Fatalf("history: entry %d is version %d, want %d: %+v", i, v.Version, i+1, hist)
		}
	}
	s := st[0]
	if s.Version != len(hist) {
		c.t.Fatalf("status version %d, history has %d versions", s.Version, len(hist))
	}
	if len(hist) > 0 && hist[len(hist)-1].Hash != s.Hash {
		c.t.Fatalf("status hash %s, history head %s", s.Hash, hist[len(hist)-1].Hash)
	}
	spec := c.ok("get", "-o", "json", s.Hash).stdout
	sum := sha256.Sum256([]byte(strings.TrimSuffix(spec, "\n")))
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != s.Hash {
		c.t.Fatalf("get %s returned bytes hashing to %s", s.Hash, got)
	}
	return s, hist
}

var recordedRE = regexp.MustCompile(`(?m)^default/web: recorded version (\d+) \((sha256:[0-9a-f]{64})\), revision (\d+)$`)

// recorded returns the version and hash a successful apply says it recorded.
func recorded(t *testing.T, r result) (int, string) {
	t.Helper()
	m := recordedRE.FindAllStringSubmatch(r.stdout, -1)
	if len(m) != 1 {
		t.Fatalf("want one 'recorded version' line:\n%v", r)
	}
	var n int
	fmt.Sscan(m[0][1], &n)
	return n, m[0][2]
}

// checkRace checks the outcome of a race of applies, one per file: every
// success recorded its own spec's hash under a distinct version, the history
// grew by exactly the number of successes and holds each winner's hash once
// (no lost update), and every failure matches failRE. It returns the number
// of successes.
func (c *musterCLI) checkRace(res []result, files []string, want map[string]string, before int, failRE *regexp.Regexp) int {
	c.t.Helper()
	won := map[string]int{} // hash -> version the process reported
	for i, r := range res {
		if r.code != 0 {
			if !failRE.MatchString(r.stderr) {
				c.t.Errorf("process %d failed without the expected error (%s):\n%v", i, failRE, r)
			}
			continue
		}
		n, h := recorded(c.t, r)
		if h != want[files[i]] {
			c.t.Errorf("process %d applied %s but recorded %s, not its hash %s", i, files[i], h, want[files[i]])
		}
		if _, dup := won[h]; dup {
			c.t.Errorf("hash %s recorded twice", h)
		}
		won[h] = n
	}
	_, hist := c.consistent()
	if got := len(hist) - before; got != len(won) {
		c.t.Errorf("%d applies succeeded but the history grew by %d versions: %+v", len(won), got, hist)
	}
	seen := map[string]int{}
	for _, v := range hist[before:] {
		seen[v.Hash]++
		n, ok := won[v.Hash]
		switch {
		case !ok:
			c.t.Errorf("version %d (%s) was recorded by no successful process", v.Version, v.Hash)
		case n != v.Version:
			c.t.Errorf("%s: the process said version %d, history says %d", v.Hash, n, v.Version)
		}
	}
	for h := range won {
		if seen[h] != 1 {
			c.t.Errorf("winner %s appears %d times in the new history (lost update?)", h, seen[h])
		}
	}
	return len(won)
}

// makePlans writes n new versions of web and saves a plan of each (all
// against the current revision), returning the plan files and the hash each
// plan applies.
func (c *musterCLI) makePlans(prefix string, n int) ([]string, map[string]string) {
	c.t.Helper()
	plans := make([]string, n)
	want := map[string]string{}
	for i := range plans {
		job := c.jobFile(fmt.Sprintf("%s%d", prefix, i))
		plans[i] = fmt.Sprintf("%s%d.plan", prefix, i)
		c.ok("plan", "--nodes", "nodes.json", "--out", plans[i], job)
		var p struct {
			Jobs []struct {
				Action string `json:"action"`
				ToHash string `json:"to_hash"`
			} `json:"jobs"`
		}
		b, err := os.ReadFile(filepath.Join(c.dir, plans[i]))
		if err != nil {
			c.t.Fatal(err)
		}
		if err := json.Unmarshal(b, &p); err != nil || len(p.Jobs) != 1 || p.Jobs[0].Action == "no-op" {
			c.t.Fatalf("plan %s: %v\n%s", plans[i], err, b)
		}
		want[plans[i]] = p.Jobs[0].ToHash
	}
	return plans, want
}

func applyArgs(files []string, extra ...string) [][]string {
	out := make([][]string, len(files))
	for i, f := range files {
		out[i] = append(append([]string{"apply"}, extra...), f)
	}
	return out
}

func skipReliability(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level reliability test: skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("uses SIGKILL and unix paths")
	}
}

// staleRE is the refusal of a saved plan whose job moved: it names the job.
var staleRE = regexp.MustCompile(`the saved plan is stale, nothing was applied:\n\s+default/web is at revision \d+, the plan was made at revision \d+`)

// conflictRE is the refusal of a commit that lost the compare-and-set.
var conflictRE = regexp.MustCompile(`default/web changed since this plan was made \(revision \d+, now \d+\)`)

// TestReliabilityConcurrentApplyStateDir races 20 applies of different
// specs of one job on one state directory. The processes take turns on the
// directory lock, so every one succeeds and adds exactly one version. Then 20
// saved plans made against the same revision race: one applies, 19 are
// refused as stale, naming the job.
func TestReliabilityConcurrentApplyStateDir(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.write("nodes.json", `[{"id": "n1", "labels": {"zone": "a"}}, {"id": "n2", "labels": {"zone": "b"}}]`)

	files := make([]string, racers)
	for i := range files {
		files[i] = c.jobFile(fmt.Sprint("a", i))
	}
	want := c.hashes(files)
	res := c.race(applyArgs(files, "--auto-approve"))
	// Nothing but the lock wait can fail here: a loser waits its turn, then
	// plans against what the others recorded.
	won := c.checkRace(res, files, want, 0, regexp.MustCompile(`^$`))
	if won != racers {
		t.Fatalf("%d of %d applies succeeded on a locked state directory", won, racers)
	}

	plans, planHash := c.makePlans("p", racers)
	st, _ := c.consistent()
	res = c.race(applyArgs(plans))
	if won := c.checkRace(res, plans, planHash, racers, staleRE); won != 1 {
		t.Fatalf("%d saved plans of the same base applied, want 1", won)
	}
	after, _ := c.consistent()
	if after.Version != st.Version+1 || after.Revision != st.Revision+1 {
		t.Fatalf("after the saved-plan race: version %d revision %d, want %d and %d", after.Version, after.Revision, st.Version+1, st.Revision+1)
	}
}

// TestReliabilityConcurrentApplyNATS races the same applies through an
// external NATS server, where there is no directory lock: the status
// compare-and-set decides, so some applies lose with a conflict error. Every
// winner adds exactly one version; nothing is lost or recorded twice.
func TestReliabilityConcurrentApplyNATS(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	srv := startNATS(t)
	c := newCLI(t, "MUSTER_NATS_URL="+srv.ClientURL())
	c.write("nodes.json", `[{"id": "n1", "labels": {"zone": "a"}}]`)

	files := make([]string, racers)
	for i := range files {
		files[i] = c.jobFile(fmt.Sprint("a", i))
	}
	want := c.hashes(files)
	res := c.race(applyArgs(files, "--auto-approve"))
	won := c.checkRace(res, files, want, 0, conflictRE)
	t.Logf("apply over NATS, creating the job: %d of %d won, the rest lost the compare-and-set", won, racers)
	if won < 1 {
		t.Fatal("no apply succeeded")
	}

	// Again, now that the job exists: every process updates it.
	for i := range files {
		files[i] = c.jobFile(fmt.Sprint("b", i))
	}
	want = c.hashes(files)
	_, hist := c.consistent()
	res = c.race(applyArgs(files, "--auto-approve"))
	won = c.checkRace(res, files, want, len(hist), conflictRE)
	t.Logf("apply over NATS, updating the job: %d of %d won", won, racers)
	if won < 1 {
		t.Fatal("no apply succeeded")
	}

	// Saved plans: without a lock, a loser is refused either by the check
	// of every base revision or by the compare-and-set of the commit.
	_, hist = c.consistent()
	plans, planHash := c.makePlans("p", racers)
	res = c.race(applyArgs(plans))
	either := regexp.MustCompile(staleRE.String() + "|" + conflictRE.String())
	if won := c.checkRace(res, plans, planHash, len(hist), either); won != 1 {
		t.Fatalf("%d saved plans of the same base applied, want 1", won)
	}
}

// watchWriter collects a process's output and closes seen once mark was
// written.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	mark []byte
	seen chan struct{}
	done bool
}

// newWatchWriter returns a watchWriter for mark.
func newWatchWriter(mark string) *watchWriter {
	return &watchWriter{mark: []byte(mark), seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && bytes.Contains(w.buf.Bytes(), w.mark) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

// sawMark reports whether mark was written.
func (w *watchWriter) sawMark() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startNATS runs a nats-server with JetStream on a free loopback port, as
// an external server for the muster processes, and shuts it down at the end
// of the test.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// TestReliabilityKilledApply kills applies with SIGKILL at random points.
// After each kill the store holds the old or the new version, never a mix:
// status, history and get agree, the dead process's lock is taken over, and
// the next apply succeeds. MUSTER_KILLS sets the number of kills (15 per
// job type). A service job is only recorded by apply; a batch job is also
// rolled out on the local node, so kills land in the rollout too.
func TestReliabilityKilledApply(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	kills := 15
	if n, err := strconv.Atoi(os.Getenv("MUSTER_KILLS")); err == nil && n > 0 {
		kills = n
	}
	for _, batch := range []bool{false, true} {
		name := map[bool]string{false: "service", true: "batch"}[batch]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			killApplies(t, kills, batch)
		})
	}
}

func killApplies(t *testing.T, kills int, batch bool) {
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.batch = batch
	c.ok("apply", "--auto-approve", c.jobFile("v0"))
	// How long an apply takes here: kills are spread over it, so that they
	// land before, inside and after the commit (and the rollout).
	start := time.Now()
	c.ok("apply", "--auto-approve", c.jobFile("v1"))
	span := min(max(time.Since(start), 10*time.Millisecond), 60*time.Millisecond)
	if batch {
		span = min(max(time.Since(start), 10*time.Millisecond), 250*time.Millisecond)
	}
	prev, _ := c.consistent()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, kills spread over 0-%s", seed, span)
	rng := rand.New(rand.NewPCG(seed, 0))
	var kept, replaced, finished, planned, plannedKept int
	for i := range kills {
		file := c.jobFile(fmt.Sprint("k", i))
		want := c.hashes([]string{file})[file]

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd, _, stderr := c.command(ctx, "apply", "--auto-approve", file)
		stdout := newWatchWriter("\nPlan: ")
		cmd.Stdout = stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Even kills: anywhere in the run. Odd kills: within 1 ms of the
		// plan being printed, which is when apply stores the spec and
		// commits the version.
		// The sleeps place the kill at a random point: where it lands is
		// what the test varies.
		var delay time.Duration
		if i%2 == 0 {
			delay = time.Duration(rng.Int64N(int64(span) + 1))
			time.Sleep(delay)
		} else {
			// Not polled: the kill must land within 1 ms of the plan,
			// so the test blocks on the mark itself (and kills anyway a
			// process that printed none within 10s).
			select {
			case <-stdout.seen:
			case <-time.After(10 * time.Second):
			}
			delay = time.Duration(rng.Int64N(int64(time.Millisecond) + 1))
			time.Sleep(delay)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		cancel()
		switch {
		case err == nil:
			finished++
		case strings.Contains(stdout.String(), "Plan: "):
			planned++ // killed after planning: while recording, or at exit
		}

		st, hist := c.consistent()
		switch {
		case st.Version == prev.Version && st.Hash == prev.Hash:
			kept++
			if err != nil && strings.Contains(stdout.String(), "Plan: ") {
				plannedKept++
			}
		case st.Version == prev.Version+1 && st.Hash == want:
			replaced++
		default:
			t.Fatalf("kill %d after %s: status is version %d %s, want version %d %s (old) or %d %s (new)\nhistory %+v\nstdout:\n%s\nstderr:\n%s",
				i, delay, st.Version, st.Hash, prev.Version, prev.Hash, prev.Version+1, want, hist, stdout.String(), stderr)
		}
		if i%4 == 3 {
			// The next apply of another spec works, even where the dead
			// process left a version record that no commit reached.
			next := c.jobFile(fmt.Sprint("k", i, "-next"))
			want = c.hashes([]string{next})[next]
			n, h := recorded(t, c.ok("apply", "--auto-approve", next))
			if n != st.Version+1 || h != want {
				t.Fatalf("kill %d: apply of another spec recorded version %d %s, want %d %s", i, n, h, st.Version+1, want)
			}
		} else {
			// The next apply of the same file works: it records the new
			// version, or finds it already recorded (and, for a batch job,
			// finishes its interrupted rollout).
			r := c.ok("apply", "--auto-approve", file)
			if st.Hash == want && recordedRE.MatchString(r.stdout) {
				t.Fatalf("kill %d: the spec was recorded, yet apply again recorded a version:\n%v", i, r)
			}
		}
		var hist2 []versionJSON
		prev, hist2 = c.consistent()
		if prev.Hash != want {
			t.Fatalf("kill %d: after a new apply the status hash is %s, want %s", i, prev.Hash, want)
		}
		for k, v := range hist {
			if hist2[k] != v {
				t.Fatalf("kill %d: history changed below the head: %+v, then %+v", i, hist, hist2)
			}
		}
		if batch && prev.State != "completed" {
			t.Fatalf("kill %d: after the next apply the batch job is %s, not completed", i, prev.State)
		}
		if batch {
			if live := c.unfinished("web"); len(live) > 0 {
				t.Fatalf("kill %d: after the next apply executions are still shown unfinished: %v", i, live)
			}
		}
	}
	t.Logf("%d kills: %d left the old version, %d the new one; %d processes were killed after planning (%d of them before the commit), %d ended before the kill",
		kills, kept, replaced, planned, plannedKept, finished)
}

// TestReliabilityKilledRollout kills an apply while it runs a batch job on
// the local node, then the apply that resumes it, then applies the same
// file again. The version is recorded, but the executions were driven by
// dead processes: the last apply must finish the rollout (the dead
// executions are lost), not leave the job deploying with executions shown
// as running that nothing runs.
func TestReliabilityKilledRollout(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	file := c.write("slow.yaml", `name: slow
type: batch
task: {engine: exec, cmd: [sh, -c, "sleep 2; echo done"]}
`)
	// Kill the first apply once its execution started, then the apply that
	// resumes the rollout, once its new execution started too.
	for kill := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd, _, _ := c.command(ctx, "apply", "--auto-approve", file)
		stdout := newWatchWriter(" starting\n")
		cmd.Stdout = stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wait.For(t, 20*time.Second, fmt.Sprintf("kill %d: the execution to start", kill), func() (string, bool) {
			return stdout.String(), stdout.sawMark()
		})
		// The kill lands 100ms into the task's two seconds; apply holds the
		// state directory, so nothing else can tell how far it got.
		time.Sleep(100 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cancel()
		if kill == 1 && !strings.Contains(stdout.String(), "resuming") {
			t.Errorf("the second apply did not resume the interrupted rollout:\n%s", stdout.String())
		}
		st := decode[[]statusJSON](t, c.ok("status", "-o", "json", "slow"))[0]
		if st.Version != 1 || st.State != "deploying" {
			t.Fatalf("after kill %d: version %d %s, want 1 deploying\napply printed:\n%s", kill, st.Version, st.State, stdout.String())
		}
	}
	r := c.ok("apply", "--auto-approve", file)
	if recordedRE.MatchString(r.stdout) {
		t.Errorf("apply again recorded a version:\n%v", r)
	}
	st := decode[[]statusJSON](t, c.ok("status", "-o", "json", "slow"))[0]
	if live := c.unfinished("slow"); st.Version != 1 || st.State != "completed" || len(live) > 0 {
		t.Errorf("after a SIGKILL during the rollout and apply again: job version %d %s, unfinished executions %v\napply printed:\n%s",
			st.Version, st.State, live, r.stdout)
	}
}

// unfinished lists the executions of a job that are shown as pending,
// starting or running, as "id state".
func (c *musterCLI) unfinished(job string) []string {
	c.t.Helper()
	var out []string
	for _, x := range decode[[]struct {
		ID     string `json:"id"`
		Status struct {
			ComputeState stateType `json:"compute_state"`
		} `json:"status"`
	}](c.t, c.ok("executions", "-o", "json", job)) {
		switch x.Status.ComputeState {
		case "pending", "starting", "running":
			out = append(out, x.ID+" "+string(x.Status.ComputeState))
		}
	}
	return out
}
