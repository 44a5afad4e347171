// Command compile benchmarks `muster validate` against the peers a team
// would otherwise use to check job files: `cue vet` with the #Job definition
// (`muster schema --format cue`) and kubeconform with the published JSON
// Schema (`muster schema`). It is `make bench`'s second half:
//
//	go run ./bench/compile            # table
//	go run ./bench/compile -o json    # machine output
//
// It builds muster, installs the peers into a temporary GOBIN with `go
// install` (they are never imported, so go.mod does not grow), generates
// -n varied, valid job files per format with bench/jobgen, proves that every
// tool really validates (each must reject deliberately broken files, alone
// and hidden in a batch of valid ones), then times every case -runs times,
// round-robin so that background load spreads over all of them, and reports
// the best run (and the median) as files per second with the ratios of the
// performance targets:
//
//	YAML  >= 5x kubeconform and >= 20x cue vet (YAML files)
//	HCL   >= 2x kubeconform
//	CUE   >= 1x cue vet (CUE files)
//
// How the peers are run, and why, is in README.md next to this file.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type config struct {
	n         int
	runs      int
	seed      uint64
	out       string
	keep      bool
	workDir   string
	gobin     string
	formats   []string
	cueSample int
	cueProcs  int
	noPeers   bool
	verbose   bool
}

func main() {
	var c config
	var formats string
	flag.IntVar(&c.n, "n", 2000, "job files per format")
	flag.IntVar(&c.runs, "runs", 3, "timed runs per case; the best is reported")
	flag.Uint64Var(&c.seed, "seed", 1, "corpus seed")
	flag.StringVar(&c.out, "o", "text", "output: text or json")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory (corpus, binaries, schemas)")
	flag.StringVar(&c.workDir, "dir", "", "work directory (default: a new temporary directory)")
	flag.StringVar(&c.gobin, "gobin", "", "GOBIN for the peers; reused when it already holds them (default: inside the work directory)")
	flag.StringVar(&formats, "formats", "yaml,json,hcl,cue", "formats to benchmark")
	flag.IntVar(&c.cueSample, "cue-sample", 400, "CUE files checked by the one-process-per-file cue vet case (0: all); its rate is per file")
	flag.IntVar(&c.cueProcs, "cue-procs", runtime.NumCPU(), "parallel cue vet processes (files are split between them)")
	flag.BoolVar(&c.noPeers, "no-peers", false, "time muster only")
	flag.BoolVar(&c.verbose, "v", false, "log progress details")
	flag.Parse()
	c.formats = strings.Split(formats, ",")
	if c.out != "text" && c.out != "json" {
		fmt.Fprintln(os.Stderr, "bench/compile: -o must be text or json")
		os.Exit(2)
	}
	rep, err := run(context.Background(), c, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/compile:", err)
		os.Exit(1)
	}
	if c.out == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(os.Stderr, "bench/compile:", err)
			os.Exit(1)
		}
		return
	}
	printText(os.Stdout, rep)
}

// logger prints progress to stderr, so that stdout holds only the report.
type logger struct {
	w       io.Writer
	verbose bool
	start   time.Time
}

func (l *logger) printf(format string, args ...any) {
	fmt.Fprintf(l.w, "[%5.1fs] %s\n", time.Since(l.start).Seconds(), fmt.Sprintf(format, args...))
}

func (l *logger) debugf(format string, args ...any) {
	if l.verbose {
		l.printf(format, args...)
	}
}

func run(ctx context.Context, c config, logw io.Writer) (*Report, error) {
	log := &logger{w: logw, verbose: c.verbose, start: time.Now()}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := c.workDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "muster-bench-"); err != nil {
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
	if c.keep {
		log.printf("work directory: %s", dir)
	}
	rep := &Report{
		Machine: machineInfo(),
		Files:   c.n,
		Runs:    c.runs,
		Seed:    c.seed,
	}

	// Tools.
	log.printf("building muster")
	muster := filepath.Join(dir, "muster")
	if out, err := goCmd(ctx, root, nil, "build", "-o", muster, "./cmd/muster"); err != nil {
		return nil, fmt.Errorf("go build ./cmd/muster: %v\n%s", err, out)
	}
	rep.Tools = append(rep.Tools, Tool{Name: "muster", Version: gitDescribe(root)})
	var peers peerSet
	if !c.noPeers {
		gobin := c.gobin
		if gobin == "" {
			gobin = filepath.Join(dir, "gobin")
		}
		peers = installPeers(ctx, root, gobin, log)
		rep.Tools = append(rep.Tools, peers.tools()...)
	}

	// Corpus and schemas.
	log.printf("generating %d files per format (seed %d)", c.n, c.seed)
	corp, err := writeCorpus(dir, c, muster, peers)
	if err != nil {
		return nil, err
	}
	rep.Jobs = corp.jobs
	rep.Lines = corp.lines

	// Preflight: everything valid passes, everything broken fails.
	log.printf("checking that every tool accepts the corpus and rejects broken files")
	avail := preflight(ctx, corp, peers, c, rep, log)

	// Timed cases.
	cases := buildCases(corp, peers, c, avail)
	rep.LoadBefore = loadAvg()
	log.printf("timing %d cases x %d runs (load average %s)", len(cases), c.runs, rep.LoadBefore)
	for r := 0; r < c.runs; r++ {
		for _, k := range cases {
			if k.err != "" && len(k.times) == 0 && r > 0 {
				continue
			}
			smp, err := k.once(ctx)
			if err != nil {
				k.err = err.Error()
				log.printf("%s %s: %v", k.Tool, k.Format, err)
				continue
			}
			k.times = append(k.times, smp.wall)
			k.cpus = append(k.cpus, smp.cpu)
			log.debugf("run %d: %-16s %-5s %-28s wall %v cpu %v", r+1, k.Tool, k.Format, k.Variant, smp.wall.Round(time.Millisecond), smp.cpu.Round(time.Millisecond))
		}
		log.printf("run %d of %d done (load average %s)", r+1, c.runs, loadAvg())
	}
	rep.LoadAfter = loadAvg()
	for _, k := range cases {
		rep.Cases = append(rep.Cases, k.result())
	}
	rep.Targets = targets(rep.Cases)
	rep.Busy = busy(rep.LoadBefore, rep.LoadAfter, rep.Machine.CPUs)
	return rep, nil
}
