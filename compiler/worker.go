package compiler

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// ServeWorker is the main of a worker process (see Sandbox): it parses the
// files the parent sends on in, answers on out, and returns the process
// exit code when in ends. It bounds itself: its heap, with a watchdog and
// on Linux RLIMIT_DATA, and each file's time, a little after the parent
// would have killed it (so that a worker whose parent died stops too).
//
// The worker ignores SIGINT: a terminal sends it to the whole process
// group, and the parent, which decides what an interrupt means, kills its
// workers.
func ServeWorker(in io.Reader, out io.Writer) int {
	signal.Ignore(os.Interrupt)
	if os.Getenv("GOGC") == "" {
		// As muster's main: collecting less often saves CPU; the soft
		// memory limit makes the collector work harder near the limit.
		debug.SetGCPercent(400)
	}
	if f, ok := in.(*os.File); ok {
		in = pollable(f)
	}
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(out, 64<<10)
	var limitOnce sync.Once
	var dog watchdog
	for {
		q, err := readRequest(r)
		if err == io.EOF {
			return 0
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "muster evaluation worker: reading a request: %v\n", err)
			return 1
		}
		l := q.Limits.orDefaults()
		limitOnce.Do(func() {
			limitMemory(l.Memory)
			go dog.run(l)
		})
		parse := parsers[q.Format]
		if parse == nil {
			fmt.Fprintf(os.Stderr, "muster evaluation worker: unknown format %q\n", q.Format)
			return 1
		}
		dog.start.Store(time.Now().UnixNano())
		trees, diags := parse(q.File, q.Src, q.Opts)
		dog.start.Store(0)
		if err := writeResponse(w, &response{Trees: trees, Diags: diags}); err != nil {
			return 1 // the parent is gone
		}
	}
}

// dataMargin is what a worker's RLIMIT_DATA allows beyond its heap limit:
// the runtime's own structures, goroutine stacks and the binary's data.
const dataMargin = 256 << 20

// limitMemory sets the worker's soft memory limit a little below the heap
// limit (the collector works harder as the heap nears it, so that garbage
// does not count as use) and its hard limit where the system has one.
func limitMemory(limit int64) {
	debug.SetMemoryLimit(limit / 10 * 9)
	if err := limitData(limit + dataMargin); err != nil {
		fmt.Fprintf(os.Stderr, "muster evaluation worker: cannot limit memory: %v\n", err)
	}
}

// watchEvery is how often the watchdog reads the heap.
const watchEvery = 10 * time.Millisecond

// watchdog makes the worker exit when its heap passes the memory limit,
// or when one file runs a second past the time limit (the parent kills it
// at the limit; this catches a parent that is gone). It reads the heap
// every watchEvery, from one goroutine for the worker's life: starting one
// per file would cost more than the check.
type watchdog struct {
	start atomic.Int64 // when the file in evaluation started (Unix ns), or 0
}

func (d *watchdog) run(l Limits) {
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for now := range tick.C {
		if heap := readHeap(); heap > uint64(l.Memory) {
			fmt.Fprintf(os.Stderr, "muster evaluation worker: heap %d bytes passed the limit of %d\n", heap, l.Memory)
			os.Exit(exitWorkerMemory)
		}
		if start := d.start.Load(); start != 0 && now.Sub(time.Unix(0, start)) > l.Time+time.Second {
			fmt.Fprintf(os.Stderr, "muster evaluation worker: evaluation passed %v\n", l.Time)
			os.Exit(exitWorkerTime)
		}
	}
}
