// Command scale measures how fast the real control plane places and
// completes executions on many nodes:
//
//	go run ./bench/scale --nodes 10000 --jobs 100 --count 1000 -o json
//
// What is real: the state (state.Store on NATS JetStream: an embedded
// server in a temporary state directory by default, or an external one
// with --nats URL), the control plane as `muster server` wires it
// (apply.Controller with a remote.Client per node that registered, the
// execution gateway, and over --nats the lease leadership whose writes are
// fenced), and on every node the real agent (runner.Agent) served over
// NATS by remote.Serve: each execution is a run request over NATS, the
// agent's starting, running and complete writes to the store, its
// directory, root and log files, and its Done message.
//
// What is simulated: the nodes' processes and the tasks. One process
// serves every node id (--nodes of them) over a few NATS connections
// (--node-conns), with the bootstrap token as `muster agent` given
// MUSTER_TOKEN does (its writes go straight to the store; --gateway
// sends them through the control planes' gateway instead, as an agent with
// a node's own credentials does). Each node registers, and beats every
// 10s as an agent does. Its driver is registered in the nodes' own
// runner.Drivers under the name "exec" (never with runner.Register): an
// execution ends at once with exit code 0, so that what is measured is
// muster and not the task. Execution directories live under the work
// directory (on /dev/shm when there is one); in a run of more than
// 200,000 executions they are removed a few seconds after their execution
// ended (work of the benchmark, not of muster, which smaller runs leave
// to the end). The embedded store's state directory is
// made in the temporary directory (--state-dir), on disk as a real one.
//
// The work: --jobs batch jobs of --count executions each (cmd ["true"],
// restart_policy never, rollout immediate, no selector: every node
// matches, and each job spreads over min(count, nodes) nodes), all
// recorded and then handed to the controller at once, as `muster apply`
// through the API does (CommitVersion, then Controller.Rollout). The
// engine runs at most 32 executions of one rollout at once
// (apply.Engine.Parallel).
//
// What is reported:
//
//   - seconds: from the first rollout asked for to the last job recorded
//     ended (completed or failed), as the job statuses in the store say.
//   - executions: jobs × count, the executions placed.
//   - completed: the executions the store holds as complete at the end,
//     read back from the store.
//   - placements_per_second: executions / seconds.
//   - p99_placement_ms (and p50 in the text): per execution, the time its
//     node started it (the driver's Start, which the agent calls right
//     after recording it starting in the store) minus the time its job's
//     rollout started (StartedAt of the job's rollout record). A batch
//     rollout starts its executions 32 at a time, so this is mostly how
//     long an execution waited for its turn in its job.
//   - peak_rss_bytes: VmHWM of this process, which holds the control
//     plane, the embedded NATS server and every simulated node.
//   - store_bytes: the JetStream storage used at the end (all buckets and
//     streams of the account).
//
// With -o json the last line of stdout is exactly
// {"nodes","executions","completed","seconds","placements_per_second","p99_placement_ms","peak_rss_bytes","store_bytes"}.
// The exit status is 1 when not every execution completed.
//
// --cpuprofile and --memprofile write pprof profiles of the timed part
// (memprofile: the allocations, go tool pprof -sample_index=alloc_space).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

type config struct {
	nodes, jobs, count int
	nats               string
	out                string
	dir                string
	stateDir           string
	keep               bool
	nodeConns          int
	gateway            bool
	timeout            time.Duration
	cpuProfile         string
	memProfile         string
	verbose            bool
}

// Summary is the last line of -o json.
type Summary struct {
	Nodes               int     `json:"nodes"`
	Executions          int     `json:"executions"`
	Completed           int     `json:"completed"`
	Seconds             float64 `json:"seconds"`
	PlacementsPerSecond float64 `json:"placements_per_second"`
	P99PlacementMS      float64 `json:"p99_placement_ms"`
	PeakRSSBytes        int64   `json:"peak_rss_bytes"`
	StoreBytes          uint64  `json:"store_bytes"`
}

// Report is the whole measurement.
type Report struct {
	Summary
	Jobs           int     `json:"jobs"`
	Count          int     `json:"count"`
	Store          string  `json:"store"`
	P50PlacementMS float64 `json:"p50_placement_ms"`
	SetupSeconds   float64 `json:"setup_seconds"`
	CPUSeconds     float64 `json:"cpu_seconds"`
	Failed         int     `json:"failed"`
	GoVersion      string  `json:"go_version"`
	CPUs           int     `json:"cpus"`
	LoadBefore     string  `json:"load_before"`
	LoadAfter      string  `json:"load_after"`
}

func main() {
	var c config
	flag.IntVar(&c.nodes, "nodes", 1000, "simulated nodes")
	flag.IntVar(&c.jobs, "jobs", 10, "batch jobs, rolled out at once")
	flag.IntVar(&c.count, "count", 1000, "executions of each job")
	flag.StringVar(&c.nats, "nats", "", "external NATS server with JetStream and no muster state (default: an embedded one in a temporary state directory)")
	flag.StringVar(&c.out, "o", "text", "output: text or json")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new one under /dev/shm, or the temporary directory)")
	flag.StringVar(&c.stateDir, "state-dir", "", "where the embedded store's state directory is made (default: the temporary directory)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.IntVar(&c.nodeConns, "node-conns", 4, "NATS connections the simulated nodes share")
	flag.BoolVar(&c.gateway, "gateway", false, "nodes record their executions through the control plane's gateway, as with a node's own credentials")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed part to `file`")
	flag.StringVar(&c.memProfile, "memprofile", "", "write an allocation profile of the timed part to `file`")
	flag.BoolVar(&c.verbose, "v", false, "log the control plane's warnings to stderr")
	flag.Parse()
	if c.out != "text" && c.out != "json" {
		fmt.Fprintln(os.Stderr, "bench/scale: -o must be text or json")
		os.Exit(2)
	}
	if c.nodes < 1 || c.jobs < 1 || c.count < 1 || c.nodeConns < 1 {
		fmt.Fprintln(os.Stderr, "bench/scale: --nodes, --jobs, --count and --node-conns must be at least 1")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rep, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/scale:", err)
		os.Exit(1)
	}
	if c.out == "json" {
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
		b, _ = json.Marshal(rep.Summary)
		fmt.Println(string(b))
	} else {
		printText(os.Stdout, rep)
	}
	if rep.Completed != rep.Executions || rep.Failed > 0 {
		fmt.Fprintf(os.Stderr, "bench/scale: %d of %d executions completed, %d more did not\n", rep.Completed, rep.Executions, rep.Failed)
		os.Exit(1)
	}
}

func printText(w io.Writer, r *Report) {
	fmt.Fprintf(w, "muster scale benchmark (%s, %d CPUs, store %s; load %s before, %s after)\n", r.GoVersion, r.CPUs, r.Store, r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(w, "  %d nodes, %d jobs x %d = %d executions, %d completed, %d failed\n", r.Nodes, r.Jobs, r.Count, r.Executions, r.Completed, r.Failed)
	fmt.Fprintf(w, "  setup %.1f s (nodes registered and connected)\n", r.SetupSeconds)
	fmt.Fprintf(w, "  run %.2f s: %.0f placements/s, placement p50 %.0f ms, p99 %.0f ms\n", r.Seconds, r.PlacementsPerSecond, r.P50PlacementMS, r.P99PlacementMS)
	fmt.Fprintf(w, "  cpu %.1f s during the run (%.0f us per execution)\n", r.CPUSeconds, r.CPUSeconds*1e6/float64(max(r.Executions, 1)))
	fmt.Fprintf(w, "  peak RSS %.0f MiB, store %.1f MiB\n", float64(r.PeakRSSBytes)/(1<<20), float64(r.StoreBytes)/(1<<20))
}
