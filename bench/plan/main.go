// Command plan benchmarks `muster plan` (issue item 8): one job against
// inventories of 1,000, 10,000 and 100,000 nodes, and 1,000 jobs against
// 1,000 nodes, end to end through the real binary and in-process, plus the
// store's version-write throughput. It is `make bench`'s third part:
//
//	go run ./bench/plan                 # everything (about a minute)
//	go run ./bench/plan -gobench=false  # end to end and in-process phases only
//
// It builds muster, writes YAML inventories with the labels of
// plan/bench_test.go (region, zone, arch, os, hostname, gpu on every 7th
// node) and the same daemon job, and times
//
//	muster plan --nodes inv.yaml -o json job.yaml > plan.json
//
// best of -runs, with the process's CPU time and peak RSS. To show where the
// time goes it also times, in this process, each phase of that command:
// reading the inventory (state.LoadInventory), planning (plan.Make) and
// writing the JSON, and the fixed cost of a process (the same command on an
// empty inventory). Then it runs the go benchmarks of ./plan and ./state
// (go test -bench) and prints them, with the growth per 10x nodes, and says
// whether the target holds: one job over 10,000 nodes plans in under 20 ms
// in-process, and cost grows no worse than linearly in nodes.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

type config struct {
	sizes     []int
	runs      int
	jobs      int
	jobNodes  int
	applies   int
	gobench   bool
	benchtime string
	count     int
	dir       string
	keep      bool
	cpuprof   string
}

// phasesEnv, when set, makes this program the child of phasesInChild: it
// times the phases of the files named in the variable and prints them.
const phasesEnv = "BENCH_PLAN_PHASES"

func main() {
	if spec := os.Getenv(phasesEnv); spec != "" {
		var a phaseArgs
		if err := json.Unmarshal([]byte(spec), &a); err != nil {
			fail(err)
		}
		if a.Profile != "" {
			f, err := os.Create(a.Profile)
			if err != nil {
				fail(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				fail(err)
			}
		}
		ps, err := phases(context.Background(), a.Job, a.Inv, a.InvJSON, a.Runs)
		pprof.StopCPUProfile()
		if err != nil {
			fail(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode(ps); err != nil {
			fail(err)
		}
		return
	}
	var c config
	var sizes string
	flag.StringVar(&sizes, "sizes", "1000,10000,100000", "inventory sizes for the one-job case")
	flag.IntVar(&c.runs, "runs", 3, "timed runs per case; the best is reported")
	flag.IntVar(&c.jobs, "jobs", 1000, "jobs in the many-jobs case")
	flag.IntVar(&c.jobNodes, "job-nodes", 1000, "nodes in the many-jobs case")
	flag.IntVar(&c.applies, "applies", 20, "sequential apply processes timed for the store throughput")
	flag.BoolVar(&c.gobench, "gobench", true, "also run go test -bench on ./plan and ./state")
	flag.StringVar(&c.benchtime, "benchtime", "1s", "go test -benchtime")
	flag.IntVar(&c.count, "count", 3, "go test -count; the fastest run of each benchmark is reported")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new temporary directory)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.StringVar(&c.cpuprof, "cpuprofile", "", "write CPU profiles of the in-process phases to `file`.<nodes>")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fail(fmt.Errorf("-sizes: %q is not a node count", s))
		}
		c.sizes = append(c.sizes, n)
	}
	if c.runs < 1 {
		c.runs = 1
	}
	if err := run(context.Background(), c, os.Stdout); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/plan:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/plan: "+format+"\n", args...)
}

// benchJob is the job of BenchmarkPlanNodes in plan/bench_test.go.
const benchJob = `name: web
type: daemon
selector:
  match_labels: {os: linux}
  match_expressions: ["region in (eu-west,eu-central,us-east)", "arch!=arm64", "!maintenance"]
rollout: {strategy: canary, canary_percent: 5, max_parallel: 10}
task: {engine: docker, image: "web:1"}
`

func run(ctx context.Context, c config, out io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work := c.dir
	if work == "" {
		if work, err = os.MkdirTemp("", "bench-plan"); err != nil {
			return err
		}
	}
	if !c.keep {
		defer os.RemoveAll(work)
	} else {
		logf("work directory %s", work)
	}
	bin := filepath.Join(work, "muster")
	logf("go build ./cmd/muster")
	if b, err := goCmd(ctx, root, "build", "-o", bin, "./cmd/muster").CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/muster: %v\n%s", err, b)
	}
	m := &muster{bin: bin, dir: work, state: filepath.Join(work, "state")}

	// One job over growing inventories.
	jobFile := filepath.Join(work, "job.yaml")
	if err := os.WriteFile(jobFile, []byte(benchJob), 0o644); err != nil {
		return err
	}
	empty := filepath.Join(work, "nodes-0.yaml")
	if err := os.WriteFile(empty, []byte("[]\n"), 0o644); err != nil {
		return err
	}
	logf("fixed cost: plan against an empty inventory")
	fixed, err := m.best(ctx, c.runs, "plan", "--nodes", empty, "-o", "json", jobFile)
	if err != nil {
		return err
	}
	var rows []nodeRow
	for _, n := range c.sizes {
		inv := filepath.Join(work, fmt.Sprintf("nodes-%d.yaml", n))
		size, err := writeInventory(inv, n)
		if err != nil {
			return err
		}
		logf("%d nodes (%s inventory): end to end", n, mib(size))
		e2e, err := m.best(ctx, c.runs, "plan", "--nodes", inv, "-o", "json", jobFile)
		if err != nil {
			return err
		}
		logf("%d nodes: in-process phases", n)
		invJSON := filepath.Join(work, fmt.Sprintf("nodes-%d.json", n))
		if err := writeInventoryJSON(invJSON, n); err != nil {
			return err
		}
		prof := ""
		if c.cpuprof != "" {
			prof = fmt.Sprintf("%s.%d", c.cpuprof, n)
		}
		ph, err := phasesInChild(ctx, phaseArgs{Job: jobFile, Inv: inv, InvJSON: invJSON, Runs: c.runs, Profile: prof})
		if err != nil {
			return err
		}
		rows = append(rows, nodeRow{nodes: n, invBytes: size, e2e: e2e, ph: ph})
	}

	// Many jobs over one inventory.
	logf("%d jobs x %d nodes: writing job files and recording %d old versions", c.jobs, c.jobNodes, (c.jobs+1)/2)
	mj, err := manyJobs(ctx, m, work, c)
	if err != nil {
		return err
	}

	// Version writes, one process per apply.
	logf("store: %d sequential applies", c.applies)
	ap, err := applies(ctx, m, work, c.applies)
	if err != nil {
		return err
	}

	var gb []goBench
	if c.gobench {
		logf("go test -run '^$' -bench . -benchmem -benchtime %s -count %d ./plan ./state", c.benchtime, c.count)
		if gb, err = runGoBench(ctx, root, c.benchtime, c.count); err != nil {
			return err
		}
	}
	report(out, c, fixed, rows, mj, ap, gb)
	return nil
}

func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run bench/plan inside the muster module")
	}
	return filepath.Dir(mod), nil
}

func goCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	return cmd
}

// writeInventory writes n nodes as a block-style YAML list, the way a
// generated inventory file looks, with the labels of plan/bench_test.go.
func writeInventory(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	regions := []string{"eu-west", "eu-central", "us-east", "us-west", "ap-south"}
	for i := range n {
		fmt.Fprintf(w, "- id: node-%05d\n  labels:\n", i)
		fmt.Fprintf(w, "    region: %s\n    zone: z%d\n    arch: %s\n    os: linux\n    hostname: host-%d\n",
			regions[i%len(regions)], i%3, []string{"amd64", "arm64"}[i%2], i)
		if i%7 == 0 {
			fmt.Fprintf(w, "    gpu: a100\n")
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "[]")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// writeInventoryJSON writes the same nodes as a JSON list, one node a line.
func writeInventoryJSON(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	regions := []string{"eu-west", "eu-central", "us-east", "us-west", "ap-south"}
	fmt.Fprintln(w, "[")
	for i := range n {
		gpu := ""
		if i%7 == 0 {
			gpu = `, "gpu": "a100"`
		}
		sep := ","
		if i == n-1 {
			sep = ""
		}
		fmt.Fprintf(w, `  {"id": "node-%05d", "labels": {"region": %q, "zone": "z%d", "arch": %q, "os": "linux", "hostname": "host-%d"%s}}%s`+"\n",
			i, regions[i%len(regions)], i%3, []string{"amd64", "arm64"}[i%2], i, gpu, sep)
	}
	fmt.Fprintln(w, "]")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// muster runs the built binary on one state directory.
type muster struct {
	bin, dir, state string
}

// sample is one process run.
type sample struct {
	wall, cpu time.Duration
	rss       int64 // peak resident set, bytes
	outBytes  int64
}

// runOnce runs one command with its standard output in a file, as a user
// would redirect it.
func (m *muster) runOnce(ctx context.Context, args ...string) (sample, error) {
	outPath := filepath.Join(m.dir, "stdout")
	f, err := os.Create(outPath)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, m.bin, args...)
	cmd.Dir = m.dir
	cmd.Env = append(os.Environ(), "MUSTER_STATE_DIR="+m.state, "MUSTER_NATS_URL=", "MUSTER_ADDR=")
	cmd.Stdout, cmd.Stderr = f, &stderr
	start := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(start)}
	if err != nil {
		return s, fmt.Errorf("muster %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	s.rss = maxRSS(cmd.ProcessState)
	if st, err := f.Stat(); err == nil {
		s.outBytes = st.Size()
	}
	return s, nil
}

// timing is the best and the median of a few runs.
type timing struct {
	best, median sample
}

func (m *muster) best(ctx context.Context, runs int, args ...string) (timing, error) {
	var all []sample
	for range runs {
		s, err := m.runOnce(ctx, args...)
		if err != nil {
			return timing{}, err
		}
		all = append(all, s)
	}
	return summarize(all), nil
}

func summarize(all []sample) timing {
	slices.SortFunc(all, func(a, b sample) int { return int(a.wall - b.wall) })
	return timing{best: all[0], median: all[len(all)/2]}
}

// phase is one in-process step: best time and bytes allocated.
type phase struct {
	Time  time.Duration
	Alloc uint64
}

// phaseSet is what the child process of phasesInChild reports.
type phaseSet struct {
	Parse, ParseJSON, Plan, Encode phase
	Matched                        int
	OutBytes                       int
}

// phaseArgs name the files of one phases run.
type phaseArgs struct {
	Job, Inv, InvJSON string
	Runs              int
	Profile           string // CPU profile file, if any
}

// phasesInChild runs phases in a new process (this program again), so that
// this one stays small: the peak RSS Linux reports for a child includes the
// parent's at the time of the fork.
func phasesInChild(ctx context.Context, a phaseArgs) (phaseSet, error) {
	self, err := os.Executable()
	if err != nil {
		return phaseSet{}, err
	}
	spec, _ := json.Marshal(a)
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), phasesEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return phaseSet{}, fmt.Errorf("phases of %s: %v", a.Inv, err)
	}
	var ps phaseSet
	if err := json.Unmarshal(b, &ps); err != nil {
		return phaseSet{}, fmt.Errorf("phases of %s: %v", a.Inv, err)
	}
	return ps, nil
}

// nilState is a store where no job was ever applied.
type nilState struct{}

func (nilState) Current(context.Context, string, string) (*plan.Current, error) { return nil, nil }

// phases times, in this process, what `muster plan --nodes` does with the
// inventory: read it, plan, and write the JSON (indented, as the CLI does).
func phases(ctx context.Context, jobFile, inv, invJSON string, runs int) (phaseSet, error) {
	res := compiler.CompileFile(jobFile, "", lang.Options{})
	if res.Diags.HasErrors() || len(res.Jobs) != 1 {
		return phaseSet{}, fmt.Errorf("compile %s: %v", jobFile, res.Diags)
	}
	jobs := []*schema.Job{res.Jobs[0].Spec}
	var ps phaseSet
	best := func(p *phase, d time.Duration, a uint64) {
		if p.Time == 0 || d < p.Time {
			p.Time, p.Alloc = d, a
		}
	}
	for range runs {
		runtime.GC()
		d, a, list, err := measure(func() ([]state.Node, error) { return state.LoadInventory(inv) })
		if err != nil {
			return ps, err
		}
		best(&ps.Parse, d, a)
		runtime.GC()
		d, a, fromJSON, err := measure(func() ([]state.Node, error) { return state.LoadInventory(invJSON) })
		if err != nil {
			return ps, err
		}
		if len(fromJSON) != len(list) {
			return ps, fmt.Errorf("%s has %d nodes, %s %d", invJSON, len(fromJSON), inv, len(list))
		}
		best(&ps.ParseJSON, d, a)
		nodes := make([]plan.Node, len(list))
		for i, n := range list {
			nodes[i] = plan.Node{ID: n.ID, Labels: n.Labels}
		}
		runtime.GC()
		d, a, p, err := measure(func() (*plan.Plan, error) { return plan.Make(ctx, nilState{}, jobs, nodes, inv) })
		if err != nil {
			return ps, err
		}
		best(&ps.Plan, d, a)
		ps.Matched = len(p.Jobs[0].Placement.MatchedNodes)
		runtime.GC()
		d, a, b, err := measure(func() ([]byte, error) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			err := enc.Encode(p)
			return buf.Bytes(), err
		})
		if err != nil {
			return ps, err
		}
		best(&ps.Encode, d, a)
		ps.OutBytes = len(b)
	}
	return ps, nil
}

func measure[T any](f func() (T, error)) (time.Duration, uint64, T, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	v, err := f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc, v, err
}

type nodeRow struct {
	nodes    int
	invBytes int64
	e2e      timing
	ph       phaseSet
}

// manyResult is the many-jobs case.
type manyResult struct {
	jobs, nodes, updates int
	seed                 timing // apply of the old versions (one run)
	compile, plan        timing
}

const manyJobTemplate = `name: job-%d
type: %s
selector: {match_expressions: ["region in (eu-west,us-east)"]}
rollout: {max_parallel: 20}
task: {engine: exec, cmd: [run, "%s"]}
`

// manyJobs writes the jobs of BenchmarkPlanJobs as files, records an older
// version of every other one (so half the plan are updates with a diff, as
// in the go benchmark), and times compile and plan of the whole directory.
func manyJobs(ctx context.Context, m *muster, work string, c config) (manyResult, error) {
	r := manyResult{jobs: c.jobs, nodes: c.jobNodes}
	inv := filepath.Join(work, fmt.Sprintf("nodes-%d.yaml", c.jobNodes))
	if _, err := os.Stat(inv); err != nil {
		if _, err := writeInventory(inv, c.jobNodes); err != nil {
			return r, err
		}
	}
	jobsDir, oldDir := filepath.Join(work, "jobs"), filepath.Join(work, "old")
	for _, d := range []string{jobsDir, oldDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return r, err
		}
	}
	for i := range c.jobs {
		typ := []string{"daemon", "service"}[i%2]
		name := fmt.Sprintf("job-%04d.yaml", i)
		if err := os.WriteFile(filepath.Join(jobsDir, name), fmt.Appendf(nil, manyJobTemplate, i, typ, strconv.Itoa(i)), 0o644); err != nil {
			return r, err
		}
		if i%2 == 0 {
			r.updates++
			if err := os.WriteFile(filepath.Join(oldDir, name), fmt.Appendf(nil, manyJobTemplate, i, typ, "old"), 0o644); err != nil {
				return r, err
			}
		}
	}
	saved := m.state
	m.state = filepath.Join(work, "state-many")
	defer func() { m.state = saved }()
	// The files one by one: 'muster apply DIR' with a single directory
	// fails ("is a directory"), as readPlanFile reads it as a plan file.
	oldFiles, err := filepath.Glob(filepath.Join(oldDir, "*.yaml"))
	if err != nil {
		return r, err
	}
	seed, err := m.best(ctx, 1, append([]string{"apply", "--auto-approve"}, oldFiles...)...)
	if err != nil {
		return r, err
	}
	r.seed = seed
	logf("%d jobs: compile", c.jobs)
	if r.compile, err = m.best(ctx, c.runs, "compile", "-o", "json", jobsDir); err != nil {
		return r, err
	}
	logf("%d jobs: plan", c.jobs)
	if r.plan, err = m.best(ctx, c.runs, "plan", "--nodes", inv, "-o", "json", jobsDir); err != nil {
		return r, err
	}
	return r, nil
}

// applyResult is the sequential-applies case.
type applyResult struct {
	n    int
	each timing
	all  time.Duration
}

// applies records n versions of one job, one apply process each, on a new
// state directory. The job is a service: apply records it and runs nothing
// (long-running jobs run under 'muster dev').
func applies(ctx context.Context, m *muster, work string, n int) (applyResult, error) {
	r := applyResult{n: n}
	var files [2]string
	for i := range files {
		files[i] = filepath.Join(work, fmt.Sprintf("apply-%d.yaml", i))
		if err := os.WriteFile(files[i], fmt.Appendf(nil, "name: web\ntype: service\ntask: {engine: exec, cmd: [run, \"%d\"]}\n", i), 0o644); err != nil {
			return r, err
		}
	}
	saved := m.state
	m.state = filepath.Join(work, "state-apply")
	defer func() { m.state = saved }()
	var all []sample
	start := time.Now()
	for i := range n {
		s, err := m.runOnce(ctx, "apply", "--auto-approve", files[i%2])
		if err != nil {
			return r, err
		}
		all = append(all, s)
	}
	r.all = time.Since(start)
	r.each = summarize(all)
	return r, nil
}

// goBench is one line of go test -bench output.
type goBench struct {
	pkg, name string
	n         int64
	metrics   map[string]float64 // by unit: ns/op, B/op, allocs/op, commits/s, ...
	units     []string
	runs      int // how many runs fastest chose from
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

func runGoBench(ctx context.Context, root, benchtime string, count int) ([]goBench, error) {
	cmd := goCmd(ctx, root, "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "-count", strconv.Itoa(max(count, 1)), "./plan", "./state")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %v\n%s%s", err, b, stderr.Bytes())
	}
	return fastest(parseGoBench(string(b))), nil
}

// fastest keeps, for each benchmark, the run with the least ns/op (all its
// metrics), in first-seen order, and counts the runs.
func fastest(all []goBench) []goBench {
	var out []goBench
	at := map[string]int{}
	for _, g := range all {
		key := g.pkg + " " + g.name
		i, seen := at[key]
		if !seen {
			at[key] = len(out)
			g.runs = 1
			out = append(out, g)
			continue
		}
		runs := out[i].runs + 1
		if ns, _ := g.get("ns/op"); ns < out[i].metrics["ns/op"] {
			out[i] = g
		}
		out[i].runs = runs
	}
	return out
}

func parseGoBench(s string) []goBench {
	var out []goBench
	pkg := ""
	for _, line := range strings.Split(s, "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/muster-dev/muster/")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		g := goBench{pkg: pkg, name: strings.TrimPrefix(m[1], "Benchmark"), metrics: map[string]float64{}}
		g.n, _ = strconv.ParseInt(m[2], 10, 64)
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			g.metrics[f[i+1]] = v
			g.units = append(g.units, f[i+1])
		}
		out = append(out, g)
	}
	return out
}

func (g goBench) get(unit string) (float64, bool) {
	v, ok := g.metrics[unit]
	return v, ok
}

func findBench(gb []goBench, name string) (goBench, bool) {
	for _, g := range gb {
		if g.name == name {
			return g, true
		}
	}
	return goBench{}, false
}

// report prints the tables.
func report(out io.Writer, c config, fixed timing, rows []nodeRow, mj manyResult, ap applyResult, gb []goBench) {
	fmt.Fprintf(out, "\nmuster plan benchmark (%s/%s, %d CPUs, load average %s, best of %d runs; median in brackets)\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadAvg(), c.runs)

	fmt.Fprintf(out, "\n1. One daemon job, end to end: muster plan --nodes inv.yaml -o json job.yaml > plan.json\n\n")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "nodes\tinventory\twall\tCPU\tpeak RSS\twall over fixed\tCPU over fixed\tx CPU per 10x\tx RSS per 10x\tplan.json\t")
	fmt.Fprintf(tw, "0 (fixed cost)\t-\t%s [%s]\t%s\t%s\t-\t-\t-\t-\t%s\t\n", ms(fixed.best.wall), ms(fixed.median.wall), ms(fixed.best.cpu), mib(fixed.best.rss), mib(fixed.best.outBytes))
	for i, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s [%s]\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.nodes, mib(r.invBytes), ms(r.e2e.best.wall), ms(r.e2e.median.wall),
			ms(r.e2e.best.cpu), mib(r.e2e.best.rss), ms(r.e2e.best.wall-fixed.best.wall), ms(r.e2e.best.cpu-fixed.best.cpu),
			growth(rows, i, func(r nodeRow) float64 { return float64(r.e2e.best.cpu - fixed.best.cpu) }),
			growth(rows, i, func(r nodeRow) float64 { return float64(r.e2e.best.rss - fixed.best.rss) }),
			mib(r.e2e.best.outBytes))
	}
	tw.Flush()
	fmt.Fprintf(out, "  (CPU is the user+system time of the process, reported by the kernel: unlike wall time it hardly grows when other\n"+
		"  work competes for the CPUs; the best run is the one with the least wall time)\n")

	fmt.Fprintf(out, "\n2. Where the time goes: the phases of that command timed in this process (allocated bytes in brackets)\n\n")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "nodes\tmatched\tread inventory\t(same as .json)\tplan.Make\twrite JSON\tsum\tfixed + sum\tend to end\tinventory share\t")
	for _, r := range rows {
		sum := r.ph.Parse.Time + r.ph.Plan.Time + r.ph.Encode.Time
		fmt.Fprintf(tw, "%d\t%d\t%s [%s]\t%s [%s]\t%s [%s]\t%s [%s]\t%s\t%s\t%s\t%.0f%%\t\n", r.nodes, r.ph.Matched,
			ms(r.ph.Parse.Time), mib(int64(r.ph.Parse.Alloc)), ms(r.ph.ParseJSON.Time), mib(int64(r.ph.ParseJSON.Alloc)),
			ms(r.ph.Plan.Time), mib(int64(r.ph.Plan.Alloc)),
			ms(r.ph.Encode.Time), mib(int64(r.ph.Encode.Alloc)), ms(sum), ms(fixed.best.wall+sum), ms(r.e2e.best.wall),
			100*float64(sum-r.ph.Plan.Time-r.ph.Encode.Time)/float64(sum))
	}
	fmt.Fprintf(tw, "x per 10x\t\t%s\t%s\t%s\t%s\t\t\t\t\t\n",
		growth(rows, len(rows)-1, func(r nodeRow) float64 { return float64(r.ph.Parse.Time) }),
		growth(rows, len(rows)-1, func(r nodeRow) float64 { return float64(r.ph.ParseJSON.Time) }),
		growth(rows, len(rows)-1, func(r nodeRow) float64 { return float64(r.ph.Plan.Time) }),
		growth(rows, len(rows)-1, func(r nodeRow) float64 { return float64(r.ph.Encode.Time) }))
	tw.Flush()
	fmt.Fprintf(out, "  (inventory share: reading the YAML inventory as a share of the in-process sum; x per 10x compares the largest\n"+
		"  size with the one before; the fixed cost is process start, compiling the job, opening the embedded store and\n"+
		"  closing it: the same command on an empty inventory; end to end minus (fixed + sum) is mostly the garbage\n"+
		"  collector and contention for the CPUs: compare the CPU column of table 1)\n")

	fmt.Fprintf(out, "\n3. %d jobs x %d nodes, end to end (%d of them updates of a recorded version)\n\n", mj.jobs, mj.nodes, mj.updates)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\twall\tCPU\tpeak RSS\twall per job\toutput\t")
	fmt.Fprintf(tw, "apply --auto-approve (seed %d versions, once)\t%s\t%s\t%s\t%s\t%s\t\n", mj.updates, ms(mj.seed.best.wall), ms(mj.seed.best.cpu), mib(mj.seed.best.rss), us(mj.seed.best.wall/time.Duration(max(mj.updates, 1))), mib(mj.seed.best.outBytes))
	fmt.Fprintf(tw, "compile -o json jobs/\t%s [%s]\t%s\t%s\t%s\t%s\t\n", ms(mj.compile.best.wall), ms(mj.compile.median.wall), ms(mj.compile.best.cpu), mib(mj.compile.best.rss), us(mj.compile.best.wall/time.Duration(mj.jobs)), mib(mj.compile.best.outBytes))
	fmt.Fprintf(tw, "plan --nodes -o json jobs/\t%s [%s]\t%s\t%s\t%s\t%s\t\n", ms(mj.plan.best.wall), ms(mj.plan.median.wall), ms(mj.plan.best.cpu), mib(mj.plan.best.rss), us(mj.plan.best.wall/time.Duration(mj.jobs)), mib(mj.plan.best.outBytes))
	tw.Flush()

	fmt.Fprintf(out, "\n4. Store: version writes\n\n")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tper version\tversions/s\t")
	fmt.Fprintf(tw, "%d sequential apply processes (one version each)\t%s [%s]\t%.0f\t\n", ap.n, ms(ap.each.best.wall), ms(ap.each.median.wall), float64(ap.n)/ap.all.Seconds())
	if mj.updates > 0 {
		fmt.Fprintf(tw, "one apply process recording %d jobs\t%s\t%.0f\t\n", mj.updates, us(mj.seed.best.wall/time.Duration(mj.updates)), float64(mj.updates)/mj.seed.best.wall.Seconds())
	}
	if g, ok := findBench(gb, "CommitVersion"); ok {
		ns, _ := g.get("ns/op")
		cps, _ := g.get("commits/s")
		fmt.Fprintf(tw, "in-process CommitVersion (go bench)\t%s\t%.0f\t\n", us(time.Duration(ns)), cps)
	}
	if g, ok := findBench(gb, "ApplyPath"); ok {
		ns, _ := g.get("ns/op")
		fmt.Fprintf(tw, "in-process apply path: read, PutSpec, commit, set state (go bench)\t%s\t%.0f\t\n", us(time.Duration(ns)), 1e9/ns)
	}
	tw.Flush()

	if len(gb) > 0 {
		fmt.Fprintf(out, "\n5. go test -run '^$' -bench . -benchmem -benchtime %s -count %d ./plan ./state (fastest run of each)\n\n", c.benchtime, c.count)
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "package\tbenchmark\ttime/op\tB/op\tallocs/op\tx time per 10x\tx B per 10x\tother\t")
		var prev *goBench
		for i := range gb {
			g := gb[i]
			ns, _ := g.get("ns/op")
			bop, _ := g.get("B/op")
			al, _ := g.get("allocs/op")
			gt, gm := "", ""
			if prev != nil && strings.HasPrefix(g.name, "PlanNodes/") && strings.HasPrefix(prev.name, "PlanNodes/") {
				pns, _ := prev.get("ns/op")
				pb, _ := prev.get("B/op")
				gt, gm = factor(ns/pns), factor(bop/pb)
			}
			var other []string
			for _, u := range g.units {
				if u != "ns/op" && u != "B/op" && u != "allocs/op" {
					other = append(other, fmt.Sprintf("%.0f %s", g.metrics[u], u))
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t\n", g.pkg, g.name, ms(time.Duration(ns)), mib(int64(bop)), al, gt, gm, strings.Join(other, " "))
			prev = &gb[i]
		}
		tw.Flush()
	}

	fmt.Fprintf(out, "\nTarget\n")
	if g, ok := findBench(gb, "PlanNodes/nodes=10000"); ok {
		ns, _ := g.get("ns/op")
		verdict := "HOLDS"
		if ns >= 20e6 {
			verdict = "MISSED"
		}
		fmt.Fprintf(out, "  one job over 10,000 nodes, in-process (BenchmarkPlanNodes/nodes=10000): %s < 20 ms: %s\n", ms(time.Duration(ns)), verdict)
	} else {
		for _, r := range rows {
			if r.nodes == 10000 {
				verdict := "HOLDS"
				if r.ph.Plan.Time >= 20*time.Millisecond {
					verdict = "MISSED"
				}
				fmt.Fprintf(out, "  one job over 10,000 nodes, plan.Make in this process: %s < 20 ms: %s\n", ms(r.ph.Plan.Time), verdict)
			}
		}
	}
	var nodeBenches []goBench
	for _, g := range gb {
		if strings.HasPrefix(g.name, "PlanNodes/") {
			nodeBenches = append(nodeBenches, g)
		}
	}
	if len(nodeBenches) >= 2 {
		var parts []string
		worst := 0.0
		for i := 1; i < len(nodeBenches); i++ {
			a, _ := nodeBenches[i-1].get("ns/op")
			b, _ := nodeBenches[i].get("ns/op")
			am, _ := nodeBenches[i-1].get("B/op")
			bm, _ := nodeBenches[i].get("B/op")
			e := math.Log10(b / a)
			worst = max(worst, e)
			parts = append(parts, fmt.Sprintf("%s -> %s: time x%.1f (exponent %.2f), memory x%.1f",
				strings.TrimPrefix(nodeBenches[i-1].name, "PlanNodes/"), strings.TrimPrefix(nodeBenches[i].name, "PlanNodes/"), b/a, e, bm/am))
		}
		fmt.Fprintf(out, "  growth in nodes, in-process plan (BenchmarkPlanNodes): %s: %s\n", strings.Join(parts, "; "), linearity(worst))
	}
	if len(rows) >= 2 {
		var parts []string
		worst := 0.0
		for i := 1; i < len(rows); i++ {
			a := float64(rows[i-1].e2e.best.cpu - fixed.best.cpu)
			b := float64(rows[i].e2e.best.cpu - fixed.best.cpu)
			if a > 0 && b > 0 {
				e := math.Log10(b/a) / math.Log10(float64(rows[i].nodes)/float64(rows[i-1].nodes))
				worst = max(worst, e)
				parts = append(parts, fmt.Sprintf("%d -> %d: x%.1f (exponent %.2f)", rows[i-1].nodes, rows[i].nodes, b/a, e))
			}
		}
		fmt.Fprintf(out, "  growth in nodes, end to end (CPU time over the fixed cost): %s: %s\n", strings.Join(parts, "; "), linearity(worst))
	}
	if n := len(rows); n >= 1 {
		r := rows[n-1]
		sum := r.ph.Parse.Time + r.ph.Plan.Time + r.ph.Encode.Time
		fmt.Fprintf(out, "  at %d nodes, reading the YAML inventory is %.0f%% of the node-dependent work (%s of %s); a JSON inventory takes %s\n",
			r.nodes, 100*float64(r.ph.Parse.Time)/float64(sum), ms(r.ph.Parse.Time), ms(sum), ms(r.ph.ParseJSON.Time))
	}
}

// linearity names a growth exponent per decade. n log n over 10^4 to 10^5
// nodes gives 1.10.
func linearity(e float64) string {
	switch {
	case e <= 1.05:
		return "linear or better"
	case e <= 1.10:
		return "about linear (within what n log n gives)"
	}
	return "WORSE THAN LINEAR"
}

// growth is the factor of f between row i and row i-1, per 10x nodes.
func growth(rows []nodeRow, i int, f func(nodeRow) float64) string {
	if i < 1 || i >= len(rows) {
		return "-"
	}
	a, b := f(rows[i-1]), f(rows[i])
	if a <= 0 || b <= 0 {
		return "-"
	}
	decades := math.Log10(float64(rows[i].nodes) / float64(rows[i-1].nodes))
	return factor(math.Pow(b/a, 1/decades))
}

func factor(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return fmt.Sprintf("%.1fx", x)
}

// loadAvg is the 1-minute load average, or "?": other work on the machine
// inflates wall times (not CPU times).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/1e3)
}

func us(d time.Duration) string {
	if d >= time.Millisecond {
		return ms(d)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/1e3)
}

func mib(b int64) string {
	switch {
	case b >= 10<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
