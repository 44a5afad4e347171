// Command agents benchmarks executions on real node agents against
// starting the same processes directly. It is a part of `make bench`:
//
//	go run ./bench/agents                    # 10 agents, 2,000 executions
//	go run ./bench/agents -agents 10 -n 2000 -o json
//
// It builds muster, starts `muster server` (embedded NATS, a state
// directory of its own) and -agents `muster agent` processes on loopback,
// each a node of its own, and applies one batch job: count -n of
// `/bin/true` (exec engine, 10m cpus and 4M of memory each, so that the
// nodes' capacity holds them all at once; restart_policy never, rollout
// immediate) over
// those nodes. Its rate is executions over the rollout, from the
// rollout_started to the completed event `muster apply -o json` prints.
// Against it, the direct rate: -n `/bin/true` started with os/exec and
// waited for, by as many workers as the engine runs executions at once
// (apply.Engine.Parallel, 32). The target is a ratio of at least 0.8.
//
// Everything is real: the control plane, its store, NATS between it and
// the agents, each agent's execution root, logs and store writes, and the
// processes. Nothing is simulated.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Report is what -o json prints (its last line).
type Report struct {
	Agents      int     `json:"agents"`
	Executions  int     `json:"executions"`
	Completed   int     `json:"completed"`
	RolloutSec  float64 `json:"rollout_seconds"`
	MusterRate  float64 `json:"muster_execs_per_second"`
	DirectSec   float64 `json:"direct_seconds"`
	DirectRate  float64 `json:"direct_execs_per_second"`
	Parallel    int     `json:"direct_parallel"`
	Ratio       float64 `json:"ratio"`
	Target      float64 `json:"target_ratio"`
	TargetMet   bool    `json:"target_met"`
	CommandSecs float64 `json:"apply_command_seconds"`
}

func main() {
	agents := flag.Int("agents", 10, "node agents to start")
	n := flag.Int("n", 2000, "executions")
	parallel := flag.Int("parallel", 32, "direct workers (the engine runs at most 32 executions at once)")
	out := flag.String("o", "text", "output: text or json")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	rep, err := run(ctx, *agents, *n, *parallel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/agents:", err)
		os.Exit(1)
	}
	if *out == "json" {
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
		return
	}
	fmt.Printf("%d executions of /bin/true over %d agents: %.0f/s (rollout %.2fs; apply %.2fs)\n", rep.Executions, rep.Agents, rep.MusterRate, rep.RolloutSec, rep.CommandSecs)
	fmt.Printf("the same processes started directly by %d workers: %.0f/s (%.2fs)\n", rep.Parallel, rep.DirectRate, rep.DirectSec)
	fmt.Printf("ratio %.2f (target at least %.1f): %s\n", rep.Ratio, rep.Target, map[bool]string{true: "met", false: "missed"}[rep.TargetMet])
}

func run(ctx context.Context, agents, n, parallel int) (*Report, error) {
	dir, err := os.MkdirTemp("", "muster-bench-agents")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "muster")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/muster").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build (run from the repository root): %v\n%s", err, out)
	}
	// Every command finds the server, and its API token, through its
	// state directory.
	procs := &processes{env: "MUSTER_STATE_DIR=" + filepath.Join(dir, "state")}
	defer procs.stop()
	if _, err := procs.start(ctx, dir, `API on http://(\S+)`, bin, "server", "--listen", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	for i := range agents {
		id := fmt.Sprintf("bench-%02d", i)
		if _, err := procs.start(ctx, dir, `(joined)`, bin, "agent", "--node-id", id, "--label", "bench=agents",
			"--dir", filepath.Join(dir, id)); err != nil {
			return nil, err
		}
	}
	job := filepath.Join(dir, "true.yaml")
	spec := fmt.Sprintf("name: bench-true\ntype: batch\ncount: %d\nrestart_policy: never\nselector: {match_labels: {bench: agents}}\n"+
		"task: {engine: exec, cmd: [/bin/true], resources: {cpus: 10m, memory: 4M}}\nrollout: {strategy: immediate}\n", n)
	if err := os.WriteFile(job, []byte(spec), 0o644); err != nil {
		return nil, err
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "apply", "--auto-approve", "-o", "json", job)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MUSTER_NATS_URL=", "MUSTER_TOKEN=", "MUSTER_ADDR=", procs.env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("muster apply: %v\n%s", err, stderr.String())
	}
	command := time.Since(start)
	rollout, completed, err := rolloutTime(&stdout)
	if err != nil {
		return nil, err
	}
	if completed != n {
		return nil, fmt.Errorf("%d of %d executions completed", completed, n)
	}
	direct, err := startDirect(ctx, n, parallel)
	if err != nil {
		return nil, err
	}
	rep := &Report{Agents: agents, Executions: n, Completed: completed, RolloutSec: rollout.Seconds(), CommandSecs: command.Seconds(),
		MusterRate: float64(n) / rollout.Seconds(), DirectSec: direct.Seconds(), DirectRate: float64(n) / direct.Seconds(),
		Parallel: parallel, Target: 0.8}
	rep.Ratio = rep.MusterRate / rep.DirectRate
	rep.TargetMet = rep.Ratio >= rep.Target
	return rep, nil
}

// rolloutTime reads the events of `muster apply -o json`: the time from
// rollout_started to completed, and how many executions completed.
func rolloutTime(out *bytes.Buffer) (time.Duration, int, error) {
	var started, done time.Time
	completed := 0
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var ev struct {
			Time  time.Time `json:"time"`
			Kind  string    `json:"kind"`
			State string    `json:"state"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch {
		case ev.Kind == "rollout_started":
			started = ev.Time
		case ev.Kind == "completed":
			done = ev.Time
		case ev.Kind == "execution" && ev.State == "complete":
			completed++
		}
	}
	if started.IsZero() || done.IsZero() {
		return 0, completed, errors.New("apply printed no rollout_started and completed events")
	}
	return done.Sub(started), completed, nil
}

// startDirect starts n /bin/true processes with os/exec by parallel
// workers and waits for each.
func startDirect(ctx context.Context, n, parallel int) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if exec.CommandContext(ctx, "/bin/true").Run() != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return 0, fmt.Errorf("%d direct starts failed", f)
	}
	return time.Since(start), nil
}

// processes are the muster processes the benchmark started.
type processes struct {
	env  string // MUSTER_STATE_DIR=...
	cmds []*exec.Cmd
}

// start runs bin args in the background and waits until its output
// matches ready; it returns ready's first group.
func (p *processes) start(ctx context.Context, dir, ready, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MUSTER_NATS_URL=", "MUSTER_TOKEN=", "MUSTER_ADDR=", p.env)
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return "", err
	}
	w.Close()
	p.cmds = append(p.cmds, cmd)
	rx := regexp.MustCompile(ready)
	found := make(chan string, 1)
	var seen strings.Builder
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := rx.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			} else if seen.Len() < 4096 {
				seen.WriteString(sc.Text() + "\n")
			}
		}
	}()
	select {
	case s := <-found:
		return s, nil
	case <-time.After(30 * time.Second):
		return "", fmt.Errorf("%s %s did not print %q within 30s", filepath.Base(bin), strings.Join(args, " "), ready)
	}
}

func (p *processes) stop() {
	for i := len(p.cmds) - 1; i >= 0; i-- {
		p.cmds[i].Process.Signal(os.Interrupt)
	}
	for _, c := range p.cmds {
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			c.Process.Kill()
		}
	}
}
