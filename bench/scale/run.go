package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// cleanAbove is how many executions a run may leave the directories of
// on tmpfs (about 4 KiB of the machine's memory each) before the
// simulated nodes remove them as they go.
const cleanAbove = 200_000

// As `muster agent` and `muster server` have them.
const (
	heartbeat = 10 * time.Second
	nodeTTL   = 3 * heartbeat
	leaseTTL  = 15 * time.Second
)

func run(ctx context.Context, c config) (*Report, error) {
	rep := &Report{GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), LoadBefore: loadAvg(), Jobs: c.jobs, Count: c.count}
	rep.Nodes, rep.Executions = c.nodes, c.jobs*c.count
	dir, err := workDir(c)
	if err != nil {
		return nil, err
	}
	if !c.keep {
		defer os.RemoveAll(dir)
	}
	log := slog.New(slog.DiscardHandler)
	if c.verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	setup := time.Now()
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	// The control plane's store, and where the nodes connect.
	var st *state.Store
	var url string
	var nodeOpts []nats.Option
	if c.nats != "" {
		rep.Store = "external " + c.nats
		if st, err = state.Connect(ctx, c.nats, nats.MaxReconnects(-1)); err != nil {
			return nil, err
		}
		if _, err := st.UseReplicas(ctx, 0); err != nil {
			st.Close()
			return nil, err
		}
		url = c.nats
	} else {
		// On disk (the temporary directory), as a state directory is.
		sd, err := os.MkdirTemp(c.stateDir, "muster-bench-scale-state-")
		if err != nil {
			return nil, err
		}
		if !c.keep {
			defer os.RemoveAll(sd)
		}
		rep.Store = "embedded, " + sd
		token := newToken()
		if st, err = state.Open(ctx, sd, state.Options{Listen: "127.0.0.1:0", Token: token}); err != nil {
			return nil, err
		}
		url = st.ClientURL()
		nodeOpts = []nats.Option{nats.Token(token)}
	}
	defer st.Close()
	st.SetLogger(log)
	if err := st.OpenBuckets(ctx); err != nil {
		return nil, err
	}
	if jobs, err := st.Jobs(ctx); err != nil {
		return nil, err
	} else if len(jobs) > 0 {
		return nil, fmt.Errorf("the store holds %d jobs already: give --nats a server without muster state", len(jobs))
	}

	// The control plane, as serveControlPlane wires it.
	runners := &apply.Runners{}
	var ctl *apply.Controller
	ctl = &apply.Controller{Store: st, Runners: runners, NodeTTL: nodeTTL, Log: log, Reconnected: st.ReconnectedAt,
		Connect: func(n state.Node) apply.Runner {
			return &remote.Client{NodeID: n.ID, NC: st.Conn(), Store: termStore(ctl, st), Ping: nodeTTL / 3, Reconnect: nodeTTL}
		}}
	if c.nats != "" {
		ctl.Leadership = &apply.LeaseLeadership{Store: st, Holder: fmt.Sprintf("bench/scale (pid %d)", os.Getpid()), TTL: leaseTTL, Log: log}
	}
	gw, err := remote.ServeGateway(st.Conn(), st)
	if err != nil {
		return nil, err
	}
	defer gw.Unsubscribe()
	ctlCtx, stopCtl := context.WithCancel(ctx)
	ctlDone := make(chan error, 1)
	go func() { ctlDone <- ctl.Run(ctlCtx) }()
	defer func() {
		stopCtl()
		<-ctlDone
	}()
	select {
	case <-ctl.Ready():
	case err := <-ctlDone:
		return nil, fmt.Errorf("the controller stopped: %v", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	// The simulated nodes.
	lat := newLatencies()
	drv := &simDriver{started: lat.started}
	if rep.Executions > cleanAbove {
		drv.clean = &cleaner{delay: 5 * time.Second}
		go drv.clean.run(ctx)
	}
	drivers := runner.NewDrivers(drv)
	var nodesWG sync.WaitGroup
	conns := make([]*state.Store, 0, c.nodeConns)
	defer func() {
		// The nodes stop first, then their connections.
		stop()
		nodesWG.Wait()
		for _, s := range conns {
			s.Close()
		}
	}()
	for range c.nodeConns {
		s, err := state.Connect(ctx, url, append([]nats.Option{nats.MaxReconnects(-1)}, nodeOpts...)...)
		if err != nil {
			return nil, fmt.Errorf("node connection: %w", err)
		}
		s.SetLogger(log)
		conns = append(conns, s)
	}
	ids := make([]string, c.nodes)
	byConn := make([][]state.Node, c.nodeConns)
	for i := range ids {
		ids[i] = fmt.Sprintf("sim-%06d", i)
		ns := conns[i%len(conns)]
		a := &runner.Agent{NodeID: ids[i], Dir: filepath.Join(dir, "nodes", ids[i]), Store: ns, Drivers: drivers, Log: log}
		if c.gateway {
			a.Executions = remote.Gateway{NC: ns.Conn(), NodeID: ids[i]}
		}
		n := state.Node{ID: ids[i], Labels: map[string]string{"bench": "scale"}, Status: state.NodeReady}
		byConn[i%len(conns)] = append(byConn[i%len(conns)], n)
		nodesWG.Add(1)
		go func() {
			defer nodesWG.Done()
			if err := remote.Serve(ctx, ns.Conn(), a, remote.SpecsFrom(ns)); err != nil && ctx.Err() == nil {
				log.Error("a simulated node stopped", "node", a.NodeID, "err", err)
			}
		}()
	}
	for i, nodes := range byConn {
		if err := register(ctx, conns[i], nodes); err != nil {
			return nil, err
		}
		nodesWG.Add(1)
		go func() {
			defer nodesWG.Done()
			beatAll(ctx, conns[i], nodes, heartbeat)
		}()
	}
	if err := waitServed(ctx, runners, ids, 2*time.Minute); err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(setup).Seconds()

	// The jobs.
	jobs := make([]*schema.Job, c.jobs)
	versions := make([]int, c.jobs)
	for i := range jobs {
		j := &schema.Job{
			Name:          fmt.Sprintf("scale-%04d", i),
			Type:          schema.Batch,
			Count:         c.count,
			RestartPolicy: schema.Never,
			Rollout:       schema.Rollout{Strategy: schema.Immediate},
			Task:          schema.Task{Engine: schema.Exec, Cmd: []string{"true"}},
		}
		schema.Normalize(j)
		if _, err := st.PutSpec(ctx, j.Canonical()); err != nil {
			return nil, err
		}
		jobs[i] = j
	}
	lat.rolloutStart = func(job string) (time.Time, bool) {
		ns, name, _ := strings.Cut(job, "/")
		for i, j := range jobs {
			if j.Namespace == ns && j.Name == name {
				r, err := st.Rollout(context.WithoutCancel(ctx), ns, name, versions[i])
				return r.StartedAt, err == nil
			}
		}
		return time.Time{}, false
	}
	ended, err := watchEnds(ctx, st, len(jobs))
	if err != nil {
		return nil, err
	}

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
	}
	if c.memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	cpu0 := cpuTime()
	began := time.Now()
	for i, j := range jobs {
		js, err := st.CommitVersion(ctx, j.Namespace, j.Name, j.Hash(), 0, state.StatePending)
		if err != nil {
			return nil, err
		}
		versions[i] = js.Version
	}
	for i, j := range jobs {
		if err := ctl.Rollout(ctx, j.Namespace, j.Name, versions[i], false); err != nil {
			return nil, err
		}
	}
	var last time.Time
	failedJobs := 0
	for range jobs {
		select {
		case e := <-ended:
			last = e.at
			if e.state != state.StateCompleted {
				failedJobs++
				fmt.Fprintf(os.Stderr, "bench/scale: %s ended %s: %s\n", e.job, e.state, e.msg)
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("%w with %d of %d executions started", ctx.Err(), drv.starts.Load(), rep.Executions)
		}
	}
	rep.Seconds = last.Sub(began).Seconds()
	rep.CPUSeconds = (cpuTime() - cpu0).Seconds()
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if c.memProfile != "" {
		if err := writeHeap(c.memProfile); err != nil {
			return nil, err
		}
	}
	rep.PlacementsPerSecond = float64(rep.Executions) / rep.Seconds
	rep.P50PlacementMS, rep.P99PlacementMS = lat.quantile(0.50), lat.quantile(0.99)

	// Read back what the store holds.
	for _, j := range jobs {
		xs, err := st.Executions(ctx, j.Namespace, j.Name)
		if err != nil {
			return nil, err
		}
		states := map[state.ComputeState]int{}
		for _, x := range xs {
			states[x.Status.ComputeState]++
			if x.Status.ComputeState == state.ComputeComplete {
				rep.Completed++
			} else {
				rep.Failed++
			}
		}
		if len(xs) != c.count || states[state.ComputeComplete] != c.count {
			evals, nodes := map[string]int{}, map[string]int{}
			for _, x := range xs {
				evals[x.EvalID]++
				nodes[x.NodeID]++
			}
			dup := map[string]int{}
			for n, k := range nodes {
				if k > 1 {
					dup[n] = k
				}
			}
			fmt.Fprintf(os.Stderr, "bench/scale: %s/%s has %d executions, want %d complete: %v evals %v dup nodes %v\n", j.Namespace, j.Name, len(xs), c.count, states, evals, dup)
		}
	}
	if rep.StoreBytes, err = storeBytes(ctx, st.Conn()); err != nil {
		return nil, err
	}
	rep.PeakRSSBytes = peakRSS()
	rep.LoadAfter = loadAvg()
	return rep, nil
}

// termStore is the store the leading controller writes through (see
// cli.termStore).
func termStore(ctl *apply.Controller, st *state.Store) *state.Store {
	if ts, ok := ctl.TermStore().(*state.Store); ok {
		return ts
	}
	return st
}

// register records every node as an agent does as it joins.
func register(ctx context.Context, st *state.Store, nodes []state.Node) error {
	sem := make(chan struct{}, 64)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for _, n := range nodes {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			n.LastSeen = time.Now().UTC()
			if _, err := st.PutNode(ctx, n); err != nil {
				select {
				case errs <- fmt.Errorf("register node %s: %w", n.ID, err):
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// beatAll records each node alive every interval, as an agent's heartbeat
// does: spread evenly over the interval, each node's beat on its own (as
// from its own process), a node's next beat not before its last one
// returned.
func beatAll(ctx context.Context, st *state.Store, nodes []state.Node, interval time.Duration) {
	const ticks = 100
	t := time.NewTicker(interval / ticks)
	defer t.Stop()
	busy := make([]atomic.Bool, len(nodes))
	for k := 0; ; k = (k + 1) % ticks {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i := k; i < len(nodes); i += ticks {
			if !busy[i].CompareAndSwap(false, true) {
				continue
			}
			go func() {
				defer busy[i].Store(false)
				n := nodes[i]
				n.LastSeen = time.Now().UTC()
				bctx, cancel := context.WithTimeout(ctx, interval)
				st.PutNode(bctx, n) // a failed beat is made again next time, as an agent's
				cancel()
			}()
		}
	}
}

// waitServed waits until the controller has a runner for every node.
func waitServed(ctx context.Context, runners *apply.Runners, ids []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		missing := 0
		for _, id := range ids {
			if runners.Get(id) == nil {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d nodes not connected to the control plane after %s", missing, len(ids), limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type jobEnd struct {
	job, msg string
	state    state.JobState
	at       time.Time
}

// watchEnds sends each job's end (its status recorded completed, failed,
// rollout_failed or stopped) once, as the store's watch shows it.
func watchEnds(ctx context.Context, st *state.Store, n int) (<-chan jobEnd, error) {
	ch, err := st.WatchJobs(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan jobEnd, n)
	go func() {
		seen := map[string]bool{}
		for ev := range ch {
			if ev.Err != nil {
				continue
			}
			js := ev.Job
			switch js.State {
			case state.StateCompleted, state.StateFailed, state.StateRolloutFailed, state.StateStopped:
			default:
				continue
			}
			ref := js.Namespace + "/" + js.Name
			if seen[ref] {
				continue
			}
			seen[ref] = true
			out <- jobEnd{job: ref, state: js.State, msg: js.Message, at: time.Now()}
		}
	}()
	return out, nil
}

func workDir(c config) (string, error) {
	if c.dir != "" {
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			return "", err
		}
		return os.MkdirTemp(c.dir, "muster-bench-scale-")
	}
	base := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	return os.MkdirTemp(base, "muster-bench-scale-")
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "bench_" + hex.EncodeToString(b)
}

// storeBytes is the JetStream storage the account uses.
func storeBytes(ctx context.Context, nc *nats.Conn) (uint64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	info, err := js.AccountInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("JetStream account info: %w", err)
	}
	return info.Store, nil
}

// peakRSS is VmHWM of this process, in bytes; 0 off Linux.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return err
	}
	return f.Close()
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
