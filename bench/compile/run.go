package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// benchCase is one timed command line (or a few run at once).
type benchCase struct {
	Tool, Variant, Format string
	Files, Jobs           int
	Info                  bool // informational: not used for the targets
	Note                  string

	once  func(ctx context.Context) (sample, error)
	times []time.Duration // wall time of each run
	cpus  []time.Duration // user+system CPU time of each run, all processes
	err   string
}

// sample is one run: wall-clock time and the CPU time its processes used.
// Under background load the wall time grows with the competition for cores
// while the CPU time stays near what the work costs, so the report shows
// both.
type sample struct {
	wall, cpu time.Duration
}

func cpuOf(c *exec.Cmd) time.Duration {
	if c.ProcessState == nil {
		return 0
	}
	return c.ProcessState.UserTime() + c.ProcessState.SystemTime()
}

func (k *benchCase) result() CaseResult {
	r := CaseResult{Tool: k.Tool, Variant: k.Variant, Format: k.Format, Files: k.Files, Jobs: k.Jobs, Info: k.Info, Note: k.Note, Error: k.err}
	for _, t := range k.times {
		r.RunsSeconds = append(r.RunsSeconds, t.Seconds())
	}
	if len(k.times) > 0 {
		s := slices.Clone(k.times)
		slices.Sort(s)
		r.BestSeconds = s[0].Seconds()
		r.MedianSeconds = s[len(s)/2].Seconds()
		r.FilesPerSec = float64(k.Files) / r.BestSeconds
		r.MedianFilesPerSec = float64(k.Files) / r.MedianSeconds
	}
	if len(k.cpus) > 0 {
		s := slices.Clone(k.cpus)
		slices.Sort(s)
		r.CPUSeconds = s[0].Seconds()
		r.MedianCPUSeconds = s[len(s)/2].Seconds()
		if r.CPUSeconds > 0 {
			r.FilesPerCPUSec = float64(k.Files) / r.CPUSeconds
		}
	}
	return r
}

// command times one process; it fails when the process fails.
func command(dir, name string, args ...string) func(ctx context.Context) (sample, error) {
	return parallel(dir, [][]string{append([]string{name}, args...)})
}

// parallel times several processes started together, until the last ends.
func parallel(dir string, cmds [][]string) func(ctx context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		outs := make([]bytes.Buffer, len(cmds))
		execs := make([]*exec.Cmd, len(cmds))
		for i, c := range cmds {
			execs[i] = exec.CommandContext(ctx, c[0], c[1:]...)
			execs[i].Dir = dir
			execs[i].Stdout, execs[i].Stderr = &outs[i], &outs[i]
		}
		errs := make([]error, len(cmds))
		var wg sync.WaitGroup
		start := time.Now()
		for i := range execs {
			wg.Go(func() { errs[i] = execs[i].Run() })
		}
		wg.Wait()
		smp := sample{wall: time.Since(start)}
		for _, c := range execs {
			smp.cpu += cpuOf(c)
		}
		for i, err := range errs {
			if err != nil {
				return smp, fmt.Errorf("%s: %v: %s", strings.Join(cmds[i][:min(len(cmds[i]), 4)], " "), err, excerpt(outs[i].String(), 4))
			}
		}
		return smp, nil
	}
}

// pool times running one process per item on workers workers.
func pool(dir string, workers int, argv func(item string) []string, items []string) func(ctx context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		next := make(chan string)
		var mu sync.Mutex
		var firstErr error
		var cpu time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		for range max(1, workers) {
			wg.Go(func() {
				for it := range next {
					a := argv(it)
					cmd := exec.CommandContext(ctx, a[0], a[1:]...)
					cmd.Dir = dir
					var out bytes.Buffer
					cmd.Stdout, cmd.Stderr = &out, &out
					err := cmd.Run()
					mu.Lock()
					cpu += cpuOf(cmd)
					if err != nil && firstErr == nil {
						firstErr = fmt.Errorf("%s: %v: %s", it, err, excerpt(out.String(), 4))
					}
					mu.Unlock()
				}
			})
		}
		for _, it := range items {
			next <- it
		}
		close(next)
		wg.Wait()
		return sample{wall: time.Since(start), cpu: cpu}, firstErr
	}
}

func buildCases(corp *corpus, peers peerSet, c config, av availability) []*benchCase {
	var cases []*benchCase
	for _, fm := range c.formats {
		k := &benchCase{Tool: "muster validate", Variant: "1 process", Format: fm, Files: len(corp.paths[fm]), Jobs: corp.jobs,
			once: command(corp.dir, corp.muster, "validate", corp.dirs[fm])}
		if why := av.muster[fm]; why != "" {
			k.err = "not timed: " + why
			k.once = nil
		}
		cases = append(cases, k)
	}
	yamls := corp.paths["yaml"]
	if peers.kubeconform != "" && corp.kubeDir != "" {
		cases = append(cases,
			&benchCase{Tool: "kubeconform", Variant: "-n 2", Format: "yaml", Files: len(corp.files), Jobs: corp.jobs,
				once: command(corp.dir, peers.kubeconform, kubeArgs("2", corp.kubeSchema, corp.kubeDir)...)},
			&benchCase{Tool: "kubeconform", Variant: "default (-n 4)", Format: "yaml", Files: len(corp.files), Jobs: corp.jobs,
				once: command(corp.dir, peers.kubeconform, kubeArgs("", corp.kubeSchema, corp.kubeDir)...)},
		)
	}
	if peers.cue != "" && len(yamls) > 0 {
		var cmds [][]string
		for _, part := range splitN(yamls, c.cueProcs) {
			cmds = append(cmds, append([]string{peers.cue, "vet", "-d", "#Job", corp.cueDef}, part...))
		}
		cases = append(cases, &benchCase{Tool: "cue vet -d #Job", Variant: fmt.Sprintf("%d processes", len(cmds)), Format: "yaml",
			Files: len(yamls), Jobs: corp.jobs, once: parallel(corp.dir, cmds)})
		if c.cueProcs != 1 {
			cases = append(cases, &benchCase{Tool: "cue vet -d #Job", Variant: "1 process", Format: "yaml", Files: len(yamls), Jobs: corp.jobs,
				once: command(corp.dir, peers.cue, append([]string{"vet", "-d", "#Job", corp.cueDef}, yamls...)...)})
		}
	}
	if peers.cue != "" && len(corp.cueWrapped) > 0 {
		cases = append(cases, &benchCase{Tool: "cue vet", Variant: fmt.Sprintf("1 process per file, %d at once", c.cueProcs), Format: "cue",
			Files: len(corp.cueWrapped), Note: fmt.Sprintf("sample of %d files", len(corp.cueWrapped)),
			once: pool(corp.dir, c.cueProcs, func(p string) []string { return []string{peers.cue, "vet", p} }, corp.cueWrapped)})
		var cmds [][]string
		for _, b := range corp.cueBundles {
			cmds = append(cmds, []string{peers.cue, "vet", b})
		}
		cases = append(cases, &benchCase{Tool: "cue vet", Variant: fmt.Sprintf("bundled, %d processes", len(cmds)), Format: "cue",
			Files: corp.cueBundled, Jobs: corp.jobs, Info: true, Note: "evaluation only: no process per file",
			once: parallel(corp.dir, cmds)})
	}

	// Fixed cost: one small file.
	if len(yamls) > 0 {
		one := yamls[0]
		cases = append(cases, &benchCase{Tool: "muster validate", Variant: "1 file (fixed cost)", Format: "yaml", Files: 1, Info: true,
			once: command(corp.dir, corp.muster, "validate", one)})
		if peers.kubeconform != "" {
			cases = append(cases, &benchCase{Tool: "kubeconform", Variant: "1 file (fixed cost)", Format: "yaml", Files: 1, Info: true,
				once: command(corp.dir, peers.kubeconform, kubeArgs("2", corp.kubeSchema, corp.kubeDir+"/"+corp.files[0].Base+".yaml")...)})
		}
		if peers.cue != "" {
			cases = append(cases, &benchCase{Tool: "cue vet -d #Job", Variant: "1 file (fixed cost)", Format: "yaml", Files: 1, Info: true,
				once: command(corp.dir, peers.cue, "vet", "-d", "#Job", corp.cueDef, one)})
		}
	}
	// Cases that cannot run keep their error and no timings.
	for _, k := range cases {
		if k.once == nil {
			k.once = func(context.Context) (sample, error) { return sample{}, fmt.Errorf("%s", k.err) }
		}
	}
	return cases
}

// targets computes the ratios of DESIGN.md's performance targets from the
// best run of each case; for a peer with several variants the fastest
// counts, so the targets are judged against the peer at its best.
func targets(cases []CaseResult) []Target {
	best := func(tool, format string, allowInfo bool) (CaseResult, bool) {
		var b CaseResult
		found := false
		for _, c := range cases {
			if c.Tool != tool || c.Format != format || c.FilesPerSec == 0 || c.Info && !allowInfo || strings.Contains(c.Variant, "fixed cost") {
				continue
			}
			if !found || c.FilesPerSec > b.FilesPerSec {
				b, found = c, true
			}
		}
		return b, found
	}
	mk := func(name, format, peerTool, peerFormat string, want float64, note string) Target {
		t := Target{Name: name, Want: want, Note: note}
		m, ok1 := best("muster validate", format, false)
		p, ok2 := best(peerTool, peerFormat, false)
		switch {
		case !ok1:
			t.Status = "n/a: muster " + format + " was not timed"
		case !ok2:
			t.Status = "n/a: " + peerTool + " was not timed"
		default:
			t.Muster, t.Peer = m.FilesPerSec, p.FilesPerSec
			t.MusterMedian, t.PeerMedian = m.MedianFilesPerSec, p.MedianFilesPerSec
			t.PeerCase = p.Tool + " (" + p.Variant + ")"
			t.Ratio = m.FilesPerSec / p.FilesPerSec
			t.MedianRatio = m.MedianFilesPerSec / p.MedianFilesPerSec
			if p.FilesPerCPUSec > 0 {
				t.CPURatio = m.FilesPerCPUSec / p.FilesPerCPUSec
			}
			t.Status = "MISS"
			if t.Ratio >= want {
				t.Status = "ok"
			}
		}
		return t
	}
	ts := []Target{
		mk("YAML >= 5x kubeconform", "yaml", "kubeconform", "yaml", 5, ""),
		mk("YAML >= 20x cue vet", "yaml", "cue vet -d #Job", "yaml", 20, ""),
		mk("HCL >= 2x kubeconform", "hcl", "kubeconform", "yaml", 2, "kubeconform reads the YAML corpus; HCL has no JSON Schema validator"),
		mk("CUE >= 1x cue vet", "cue", "cue vet", "cue", 1, "cue vet runs one process per CUE file: CUE files cannot be batched"),
	}
	// The stricter reading of the CUE target: cue's evaluation alone.
	for _, c := range cases {
		if c.Tool == "cue vet" && c.Format == "cue" && c.Info && c.FilesPerSec > 0 {
			if m, ok := best("muster validate", "cue", false); ok {
				ts = append(ts, Target{Name: "CUE vs cue vet bundled (informational)", Want: 1, Muster: m.FilesPerSec, Peer: c.FilesPerSec,
					MusterMedian: m.MedianFilesPerSec, PeerMedian: c.MedianFilesPerSec,
					PeerCase: c.Tool + " (" + c.Variant + ")", Ratio: m.FilesPerSec / c.FilesPerSec,
					MedianRatio: m.MedianFilesPerSec / c.MedianFilesPerSec, CPURatio: m.FilesPerCPUSec / c.FilesPerCPUSec, Status: "info",
					Note: "cue's evaluation of all files in a few processes: no per-file process start"})
			}
		}
	}
	return ts
}
