// Command apply benchmarks `muster apply` against running the same work
// directly. It is a part of `make bench`:
//
//	go run ./bench/apply            # table
//	go run ./bench/apply -o json    # machine output
//
// It builds muster into a temporary directory and measures, each number
// next to the target:
//
//  1. hello overhead (target: under 150 ms): the wall time of
//     `muster apply --auto-approve examples/hello/job.yaml` against
//     `echo hello from muster` run directly with os/exec, -n times each,
//     round-robin. Cold runs use a fresh --state-dir each (the embedded
//     control plane starts and creates its streams); warm runs re-apply a
//     changed job (a counter in the echo text, so a new version every time)
//     in one state directory. Overhead is muster minus direct, best against
//     best and median against median.
//  2. 1,000 short exec executions through the engine (target: at least 200
//     per second): a batch job of count 1000 running `true` (restart_policy
//     never, rollout immediate) applied with `-o json` into a fresh state
//     directory, -runs times. The rate is over the rollout (rollout_started
//     to completed, from the events), and, for information, over the whole
//     command. The engine runs at most 32 executions at once
//     (apply.Engine.Parallel).
//  3. docker start latency (target: the driver within 1.2x of direct): when
//     a Docker Engine answers (dockertest.Ping), it runs
//     `go test -run '^$' -bench '^BenchmarkStartVsDirect$' -benchtime 10x`
//     on ./runner/docker -docker-count times: the driver's Start+Wait of the
//     test image's quick container against the same container created,
//     started, waited and removed through the Engine API directly, 10
//     interleaved pairs per run.
//
// Verdicts are given for the best run (the least disturbed by other work on
// a shared machine) and for the median. The load average before and after
// is part of the report; misses are results, not errors, so the exit
// status is 0 unless something could not be measured.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/runner/docker/dockertest"
)

// The targets.
const (
	targetOverheadMS = 150.0
	targetExecRate   = 200.0
	targetDockerX    = 1.2
	engineParallel   = 32 // apply.Engine's default Parallel
)

type config struct {
	n           int
	count       int
	runs        int
	dockerRuns  int
	dockerPairs int
	docker      bool
	out         string
	keep        bool
	dir         string
	verbose     bool
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 20, "runs of each hello case (cold, warm, direct)")
	flag.IntVar(&c.count, "count", 1000, "executions of the many-executions job")
	flag.IntVar(&c.runs, "runs", 3, "runs of the many-executions job")
	flag.IntVar(&c.dockerRuns, "docker-count", 3, "runs of BenchmarkStartVsDirect (go test -count)")
	flag.IntVar(&c.dockerPairs, "docker-pairs", 10, "driver/direct pairs per BenchmarkStartVsDirect run (-benchtime Nx)")
	flag.BoolVar(&c.docker, "docker", true, "measure the docker driver when an engine answers")
	flag.StringVar(&c.out, "o", "text", "output: text or json")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new temporary directory)")
	flag.BoolVar(&c.verbose, "v", false, "log every run")
	flag.Parse()
	if c.out != "text" && c.out != "json" {
		fmt.Fprintln(os.Stderr, "bench/apply: -o must be text or json")
		os.Exit(2)
	}
	if c.n < 1 || c.runs < 1 || c.count < 1 {
		fmt.Fprintln(os.Stderr, "bench/apply: -n, -runs and -count must be at least 1")
		os.Exit(2)
	}
	rep, err := run(context.Background(), c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/apply:", err)
		os.Exit(1)
	}
	if c.out == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(os.Stderr, "bench/apply:", err)
			os.Exit(1)
		}
		return
	}
	printText(os.Stdout, rep)
}

// Report is everything measured, with the verdicts.
type Report struct {
	Muster     string  `json:"muster"`
	GoVersion  string  `json:"go_version"`
	CPUs       int     `json:"cpus"`
	LoadBefore string  `json:"load_before"`
	LoadAfter  string  `json:"load_after"`
	Hello      *Hello  `json:"hello"`
	Many       *Many   `json:"many"`
	Docker     *Docker `json:"docker"`
	Rows       []Row   `json:"rows"`
}

// Stats summarizes the runs of one case.
type Stats struct {
	BestMS   float64   `json:"best_ms"`
	MedianMS float64   `json:"median_ms"`
	RunsMS   []float64 `json:"runs_ms"`
	// CPUMedianMS is the median user+system CPU time of the process and the
	// children it waited for.
	CPUMedianMS float64 `json:"cpu_median_ms"`
}

// Hello is the hello-job overhead.
type Hello struct {
	N      int   `json:"n"`
	Direct Stats `json:"direct"`
	Cold   Stats `json:"cold"`
	Warm   Stats `json:"warm"`
	// Dev is a new version applied through a running `muster dev` (its
	// API, its rollout engine).
	Dev Stats `json:"dev"`
	// Overheads are muster minus direct: best minus best, median minus
	// median.
	ColdOverheadBestMS   float64 `json:"cold_overhead_best_ms"`
	ColdOverheadMedianMS float64 `json:"cold_overhead_median_ms"`
	WarmOverheadBestMS   float64 `json:"warm_overhead_best_ms"`
	WarmOverheadMedianMS float64 `json:"warm_overhead_median_ms"`
	DevOverheadBestMS    float64 `json:"dev_overhead_best_ms"`
	DevOverheadMedianMS  float64 `json:"dev_overhead_median_ms"`
}

// ManyRun is one apply of the many-executions job.
type ManyRun struct {
	CommandMS   float64 `json:"command_ms"`
	RolloutMS   float64 `json:"rollout_ms"`
	CPUMS       float64 `json:"cpu_ms"`
	Completed   int     `json:"completed"`
	RolloutRate float64 `json:"rollout_execs_per_s"`
	CommandRate float64 `json:"command_execs_per_s"`
}

// Many is the many-executions case.
type Many struct {
	Count    int       `json:"count"`
	Parallel int       `json:"engine_parallel"`
	Runs     []ManyRun `json:"runs"`
	// Best and median rates over the runs.
	RolloutRateBest   float64 `json:"rollout_execs_per_s_best"`
	RolloutRateMedian float64 `json:"rollout_execs_per_s_median"`
	CommandRateBest   float64 `json:"command_execs_per_s_best"`
	CommandRateMedian float64 `json:"command_execs_per_s_median"`
	// CPUPerExecMS is the median CPU time per execution, muster and its
	// tasks together.
	CPUPerExecMS float64 `json:"cpu_per_exec_ms"`
}

// DockerRun is one run of BenchmarkStartVsDirect.
type DockerRun struct {
	DriverMS float64 `json:"driver_ms"`
	DirectMS float64 `json:"direct_ms"`
	Ratio    float64 `json:"ratio"`
}

// Docker is the docker start latency, or why it was skipped.
type Docker struct {
	Skipped     string      `json:"skipped,omitempty"`
	Pairs       int         `json:"pairs,omitempty"`
	Runs        []DockerRun `json:"runs,omitempty"`
	RatioBest   float64     `json:"ratio_best,omitempty"`
	RatioMedian float64     `json:"ratio_median,omitempty"`
}

// Row is one line of the table.
type Row struct {
	Measure string  `json:"measure"`
	Unit    string  `json:"unit"`
	Best    float64 `json:"best"`
	Median  float64 `json:"median"`
	// Target is "" for numbers shown for information.
	Target        string `json:"target,omitempty"`
	VerdictBest   string `json:"verdict_best,omitempty"`
	VerdictMedian string `json:"verdict_median,omitempty"`
	Note          string `json:"note,omitempty"`
}

type logger struct {
	verbose bool
	start   time.Time
}

func (l *logger) printf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%5.1fs] %s\n", time.Since(l.start).Seconds(), fmt.Sprintf(format, args...))
}

func (l *logger) debugf(format string, args ...any) {
	if l.verbose {
		l.printf(format, args...)
	}
}

func run(ctx context.Context, c config) (*Report, error) {
	log := &logger{verbose: c.verbose, start: time.Now()}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := c.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "muster-bench-apply-"); err != nil {
			return nil, err
		}
		if !c.keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	rep := &Report{Muster: gitDescribe(root), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), LoadBefore: loadAvg()}

	bin := filepath.Join(dir, "muster")
	log.printf("building muster into %s", dir)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/muster")
	build.Dir, build.Stderr = root, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/muster: %w", err)
	}
	m := &muster{bin: bin, root: root, env: cleanEnv()}

	log.printf("hello overhead: %d runs each of direct echo, cold apply and warm apply (load %s)", c.n, loadAvg())
	if rep.Hello, err = benchHello(ctx, c, m, dir, log); err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	log.printf("%d executions: %d runs of one apply (load %s)", c.count, c.runs, loadAvg())
	if rep.Many, err = benchMany(ctx, c, m, dir, log); err != nil {
		return nil, fmt.Errorf("%d executions: %w", c.count, err)
	}
	if c.docker {
		log.printf("docker start latency (load %s)", loadAvg())
		if rep.Docker, err = benchDocker(ctx, c, root, log); err != nil {
			return nil, fmt.Errorf("docker: %w", err)
		}
	} else {
		rep.Docker = &Docker{Skipped: "-docker=false"}
	}
	rep.LoadAfter = loadAvg()
	rep.Rows = rows(rep)
	log.printf("done")
	return rep, nil
}

// muster runs the built binary from the module root, with no MUSTER_*
// variable of the caller's environment (MUSTER_ADDR or MUSTER_NATS_URL
// would send it elsewhere).
type muster struct {
	bin, root string
	env       []string
}

type result struct {
	wall           time.Duration
	cpu            time.Duration
	stdout, stderr bytes.Buffer
}

func (m *muster) apply(ctx context.Context, args ...string) (*result, error) {
	cmd := exec.CommandContext(ctx, m.bin, append([]string{"apply", "--auto-approve"}, args...)...)
	cmd.Dir, cmd.Env = m.root, m.env
	return timed(cmd)
}

// timed runs cmd with its output in buffers and measures its wall time
// from just before the start to just after the wait.
func timed(cmd *exec.Cmd) (*result, error) {
	r := &result{}
	cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
	t0 := time.Now()
	err := cmd.Run()
	r.wall = time.Since(t0)
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w\n%s%s", strings.Join(cmd.Args, " "), err, r.stdout.String(), r.stderr.String())
	}
	return r, nil
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MUSTER_") {
			env = append(env, kv)
		}
	}
	return env
}

const helloText = "hello from muster"

func benchHello(ctx context.Context, c config, m *muster, dir string, log *logger) (*Hello, error) {
	echo, err := exec.LookPath("echo")
	if err != nil {
		return nil, err
	}
	job := filepath.Join("examples", "hello", "job.yaml")
	src, err := os.ReadFile(filepath.Join(m.root, job))
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(src, []byte(`"`+helloText+`"`)) {
		return nil, fmt.Errorf("%s no longer echoes %q: update bench/apply", job, helloText)
	}

	direct := func() (*result, error) {
		r, err := timed(exec.CommandContext(ctx, echo, helloText))
		if err == nil && r.stdout.String() != helloText+"\n" {
			err = fmt.Errorf("echo printed %q", r.stdout.String())
		}
		return r, err
	}
	coldN := 0
	cold := func() (*result, error) {
		coldN++
		sd := filepath.Join(dir, fmt.Sprintf("cold-%d", coldN))
		r, err := m.apply(ctx, "--state-dir", sd, job)
		if err == nil {
			err = checkHello(r, helloText)
		}
		os.RemoveAll(sd) // untimed
		return r, err
	}
	warmDir := filepath.Join(dir, "warm")
	warmJob := filepath.Join(dir, "warm-job.yaml")
	warmN := 0
	warm := func() (*result, error) {
		warmN++
		text := fmt.Sprintf("%s %d", helloText, warmN)
		if err := os.WriteFile(warmJob, bytes.Replace(src, []byte(`"`+helloText+`"`), []byte(strconv.Quote(text)), 1), 0o644); err != nil {
			return nil, err
		}
		r, err := m.apply(ctx, "--state-dir", warmDir, warmJob)
		if err == nil {
			err = checkHello(r, text)
		}
		if err == nil && !strings.Contains(r.stdout.String(), "update version") {
			err = fmt.Errorf("the warm apply did not record a new version:\n%s", r.stdout.String())
		}
		return r, err
	}

	devDir := filepath.Join(dir, "dev")
	devJob := filepath.Join(dir, "dev-job.yaml")
	stopDev, err := m.startDev(ctx, devDir)
	if err != nil {
		return nil, err
	}
	defer stopDev()
	devN := 0
	viaDev := func() (*result, error) {
		devN++
		text := fmt.Sprintf("%s via dev %d", helloText, devN)
		if err := os.WriteFile(devJob, bytes.Replace(src, []byte(`"`+helloText+`"`), []byte(strconv.Quote(text)), 1), 0o644); err != nil {
			return nil, err
		}
		r, err := m.apply(ctx, "--state-dir", devDir, devJob)
		if err == nil {
			err = checkHello(r, text)
		}
		return r, err
	}

	// Untimed: warm the page cache for both programs and record version 1
	// in the warm state directory.
	if _, err := direct(); err != nil {
		return nil, err
	}
	if _, err := cold(); err != nil {
		return nil, err
	}
	if r, err := m.apply(ctx, "--state-dir", warmDir, job); err != nil {
		return nil, err
	} else if err := checkHello(r, helloText); err != nil {
		return nil, err
	}

	cases := []struct {
		name string
		f    func() (*result, error)
		wall []float64
		cpu  []float64
	}{{name: "direct", f: direct}, {name: "cold", f: cold}, {name: "warm", f: warm}, {name: "dev", f: viaDev}}
	for i := 0; i < c.n; i++ {
		// Round-robin, starting with a different case each round, so that
		// background load and any after-effect of one case spread evenly.
		for k := range cases {
			cs := &cases[(i+k)%len(cases)]
			r, err := cs.f()
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", cs.name, i+1, err)
			}
			cs.wall = append(cs.wall, ms(r.wall))
			cs.cpu = append(cs.cpu, ms(r.cpu))
			log.debugf("hello %s run %d: %.1f ms (cpu %.1f ms)", cs.name, i+1, ms(r.wall), ms(r.cpu))
		}
	}
	h := &Hello{N: c.n, Direct: stats(cases[0].wall, cases[0].cpu), Cold: stats(cases[1].wall, cases[1].cpu), Warm: stats(cases[2].wall, cases[2].cpu)}
	h.ColdOverheadBestMS = h.Cold.BestMS - h.Direct.BestMS
	h.ColdOverheadMedianMS = h.Cold.MedianMS - h.Direct.MedianMS
	h.WarmOverheadBestMS = h.Warm.BestMS - h.Direct.BestMS
	h.WarmOverheadMedianMS = h.Warm.MedianMS - h.Direct.MedianMS
	h.Dev = stats(cases[3].wall, cases[3].cpu)
	h.DevOverheadBestMS = h.Dev.BestMS - h.Direct.BestMS
	h.DevOverheadMedianMS = h.Dev.MedianMS - h.Direct.MedianMS
	return h, nil
}

// startDev runs `muster dev` on a free loopback port over dir until the
// returned function stops it; commands given --state-dir dir reach it.
func (m *muster) startDev(ctx context.Context, dir string) (func(), error) {
	cmd := exec.CommandContext(ctx, m.bin, "dev", "--listen", "127.0.0.1:0", "--state-dir", dir)
	cmd.Dir, cmd.Env = m.root, m.env
	out := &bytes.Buffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "API on http://") {
				ready <- nil
				signalled = true
			}
		}
		if !signalled {
			ready <- fmt.Errorf("muster dev ended before it served:\n%s", out.String())
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			return nil, err
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("muster dev did not serve within 30s")
	}
	return func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		pw.Close()
	}, nil
}

// checkHello checks that an apply ran the job: its output line is streamed
// and the rollout completed.
func checkHello(r *result, text string) error {
	out := r.stdout.String()
	if !strings.Contains(out, "| "+text+"\n") || !strings.Contains(out, "completed") {
		return fmt.Errorf("muster apply did not print %q and a completed rollout:\n%s%s", text, out, r.stderr.String())
	}
	return nil
}

func benchMany(ctx context.Context, c config, m *muster, dir string, log *logger) (*Many, error) {
	job := filepath.Join(dir, "many.yaml")
	src := fmt.Sprintf(`# %d short exec executions through the engine (bench/apply).
name: many
type: batch
count: %d
restart_policy: never
rollout:
  strategy: immediate
task:
  engine: exec
  cmd: ["true"]
`, c.count, c.count)
	if err := os.WriteFile(job, []byte(src), 0o644); err != nil {
		return nil, err
	}
	mr := &Many{Count: c.count, Parallel: engineParallel}
	var cpuPer []float64
	for i := 0; i < c.runs; i++ {
		sd := filepath.Join(dir, fmt.Sprintf("many-%d", i+1))
		r, err := m.apply(ctx, "-o", "json", "--state-dir", sd, job)
		if err != nil {
			return nil, err
		}
		run, err := manyRun(r, c.count)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		os.RemoveAll(sd)
		mr.Runs = append(mr.Runs, run)
		cpuPer = append(cpuPer, run.CPUMS/float64(c.count))
		log.printf("  run %d: rollout %.0f ms (%.0f/s), command %.0f ms (%.0f/s), cpu %.0f ms", i+1, run.RolloutMS, run.RolloutRate, run.CommandMS, run.CommandRate, run.CPUMS)
	}
	var rr, cr []float64
	for _, r := range mr.Runs {
		rr, cr = append(rr, r.RolloutRate), append(cr, r.CommandRate)
	}
	mr.RolloutRateBest, mr.RolloutRateMedian = slices.Max(rr), median(rr)
	mr.CommandRateBest, mr.CommandRateMedian = slices.Max(cr), median(cr)
	mr.CPUPerExecMS = median(cpuPer)
	return mr, nil
}

// event is the part of apply.Event that the benchmark reads.
type event struct {
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`
	State string    `json:"state"`
}

// manyRun reads the JSON events of an apply: the rollout runs from
// rollout_started to completed, and every execution must have completed.
func manyRun(r *result, count int) (ManyRun, error) {
	var started, done time.Time
	completed, failed := 0, 0
	sc := bufio.NewScanner(&r.stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return ManyRun{}, fmt.Errorf("not a JSON event: %q: %v", sc.Text(), err)
		}
		switch {
		case ev.Kind == "rollout_started":
			started = ev.Time
		case ev.Kind == "completed":
			done = ev.Time
		case ev.Kind == "execution" && ev.State == "complete":
			completed++
		case ev.Kind == "execution" && ev.State != "starting":
			failed++
		}
	}
	if err := sc.Err(); err != nil {
		return ManyRun{}, err
	}
	if started.IsZero() || done.IsZero() || completed != count || failed > 0 {
		return ManyRun{}, fmt.Errorf("want rollout_started, %d completed executions and completed; got %d completed, %d otherwise, started %v, done %v\n%s",
			count, completed, failed, !started.IsZero(), !done.IsZero(), r.stderr.String())
	}
	rollout := done.Sub(started)
	return ManyRun{
		CommandMS:   ms(r.wall),
		RolloutMS:   ms(rollout),
		CPUMS:       ms(r.cpu),
		Completed:   completed,
		RolloutRate: float64(count) / rollout.Seconds(),
		CommandRate: float64(count) / r.wall.Seconds(),
	}, nil
}

func benchDocker(ctx context.Context, c config, root string, log *logger) (*Docker, error) {
	cli, err := dockertest.Ping(ctx)
	if err != nil {
		log.printf("  skipped: %v", err)
		return &Docker{Skipped: err.Error()}, nil
	}
	cli.Close()
	d := &Docker{Pairs: c.dockerPairs}
	// MUSTER_REQUIRE_DOCKER=1: the engine answered, so a skip inside the
	// benchmark would be a failure to measure, not a missing engine.
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkStartVsDirect$",
		"-benchtime", fmt.Sprintf("%dx", c.dockerPairs), "-count", strconv.Itoa(c.dockerRuns), "./runner/docker")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), dockertest.RequireEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	log.printf("  %s", strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.HasPrefix(line, "BenchmarkStartVsDirect") {
			continue
		}
		metrics := benchMetrics(line)
		run := DockerRun{DriverMS: metrics["driver-ms/op"], DirectMS: metrics["direct-ms/op"], Ratio: metrics["ratio"]}
		if run.Ratio == 0 {
			return nil, fmt.Errorf("no ratio in %q", line)
		}
		d.Runs = append(d.Runs, run)
		log.printf("  driver %.0f ms, direct %.0f ms, ratio %.3f", run.DriverMS, run.DirectMS, run.Ratio)
	}
	if len(d.Runs) == 0 {
		return nil, fmt.Errorf("no BenchmarkStartVsDirect result in:\n%s", out.String())
	}
	var ratios []float64
	for _, r := range d.Runs {
		ratios = append(ratios, r.Ratio)
	}
	d.RatioBest, d.RatioMedian = slices.Min(ratios), median(ratios)
	return d, nil
}

// benchMetrics reads the value-unit pairs of a go benchmark result line.
func benchMetrics(line string) map[string]float64 {
	f := strings.Fields(line)
	m := map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		if v, err := strconv.ParseFloat(f[i], 64); err == nil {
			m[f[i+1]] = v
		}
	}
	return m
}

func rows(rep *Report) []Row {
	below := func(v, limit float64) string { return verdict(v < limit) }
	var out []Row
	if h := rep.Hello; h != nil {
		out = append(out,
			Row{Measure: "hello: echo run directly", Unit: "ms", Best: h.Direct.BestMS, Median: h.Direct.MedianMS},
			Row{Measure: "hello: muster apply, cold", Unit: "ms", Best: h.Cold.BestMS, Median: h.Cold.MedianMS,
				Note: fmt.Sprintf("fresh state dir; cpu %.0f ms", h.Cold.CPUMedianMS)},
			Row{Measure: "hello: muster apply, warm", Unit: "ms", Best: h.Warm.BestMS, Median: h.Warm.MedianMS,
				Note: fmt.Sprintf("new version in a used state dir; cpu %.0f ms", h.Warm.CPUMedianMS)},
			Row{Measure: "hello overhead, cold", Unit: "ms", Best: h.ColdOverheadBestMS, Median: h.ColdOverheadMedianMS,
				Target: fmt.Sprintf("< %.0f", targetOverheadMS), VerdictBest: below(h.ColdOverheadBestMS, targetOverheadMS), VerdictMedian: below(h.ColdOverheadMedianMS, targetOverheadMS)},
			Row{Measure: "hello overhead, warm", Unit: "ms", Best: h.WarmOverheadBestMS, Median: h.WarmOverheadMedianMS,
				Target: fmt.Sprintf("< %.0f", targetOverheadMS), VerdictBest: below(h.WarmOverheadBestMS, targetOverheadMS), VerdictMedian: below(h.WarmOverheadMedianMS, targetOverheadMS)},
			Row{Measure: "hello overhead, via dev", Unit: "ms", Best: h.DevOverheadBestMS, Median: h.DevOverheadMedianMS,
				Note: fmt.Sprintf("new version through a running muster dev's API; cpu %.0f ms", h.Dev.CPUMedianMS)},
		)
	}
	if m := rep.Many; m != nil {
		out = append(out,
			Row{Measure: fmt.Sprintf("%d execs: rollout", m.Count), Unit: "execs/s", Best: m.RolloutRateBest, Median: m.RolloutRateMedian,
				Target: fmt.Sprintf(">= %.0f", targetExecRate), VerdictBest: verdict(m.RolloutRateBest >= targetExecRate), VerdictMedian: verdict(m.RolloutRateMedian >= targetExecRate),
				Note: fmt.Sprintf("%d runs; at most %d at once; cpu %.2f ms/exec", len(m.Runs), m.Parallel, m.CPUPerExecMS)},
			Row{Measure: fmt.Sprintf("%d execs: whole command", m.Count), Unit: "execs/s", Best: m.CommandRateBest, Median: m.CommandRateMedian,
				Note: "cold state dir, plan and record included"},
		)
	}
	if d := rep.Docker; d != nil {
		if d.Skipped != "" {
			out = append(out, Row{Measure: "docker start: driver / direct", Unit: "x", Target: fmt.Sprintf("<= %.1f", targetDockerX), VerdictBest: "SKIP", VerdictMedian: "SKIP", Note: d.Skipped})
		} else {
			var drv, dir []float64
			for _, r := range d.Runs {
				drv, dir = append(drv, r.DriverMS), append(dir, r.DirectMS)
			}
			out = append(out,
				Row{Measure: "docker: driver Start+Wait", Unit: "ms", Best: slices.Min(drv), Median: median(drv)},
				Row{Measure: "docker: Engine API direct", Unit: "ms", Best: slices.Min(dir), Median: median(dir), Note: "create, start, wait, remove"},
				Row{Measure: "docker start: driver / direct", Unit: "x", Best: d.RatioBest, Median: d.RatioMedian,
					Target: fmt.Sprintf("<= %.1f", targetDockerX), VerdictBest: verdict(d.RatioBest <= targetDockerX), VerdictMedian: verdict(d.RatioMedian <= targetDockerX),
					Note: fmt.Sprintf("%d runs of %d interleaved pairs", len(d.Runs), d.Pairs)},
			)
		}
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func printText(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "muster apply benchmark (muster %s, %s, %d CPUs; load average %s before, %s after)\n\n", rep.Muster, rep.GoVersion, rep.CPUs, rep.LoadBefore, rep.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tbest\tmedian\tunit\ttarget\tbest\tmedian\tnote")
	for _, r := range rep.Rows {
		best, med := num(r.Best), num(r.Median)
		if r.VerdictBest == "SKIP" {
			best, med = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Measure, best, med, r.Unit, orDash(r.Target), orDash(r.VerdictBest), orDash(r.VerdictMedian), r.Note)
	}
	tw.Flush()
	if h := rep.Hello; h != nil {
		fmt.Fprintf(w, "\nhello: %d runs of each case, round-robin; overhead is muster minus direct (best-best, median-median).\n", h.N)
	}
}

func num(v float64) string {
	switch a := max(v, -v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stats(wall, cpu []float64) Stats {
	return Stats{BestMS: slices.Min(wall), MedianMS: median(wall), RunsMS: wall, CPUMedianMS: median(cpu)}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run bench/apply inside the muster module (go run ./bench/apply)")
	}
	return filepath.Dir(mod), nil
}

func gitDescribe(root string) string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// loadAvg returns the 1, 5 and 15 minute load averages, or "" off Linux.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
