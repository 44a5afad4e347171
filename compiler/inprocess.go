package compiler

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/cue"
)

// In-process bounds (see "Bounded evaluation" in bound.go). A file is
// evaluated on a goroutine of its own; its caller waits for the result, the
// time limit, or the heap watchdog, whichever comes first. On a limit the
// caller reports the file and leaves the goroutine behind: the evaluators
// cannot be interrupted. The CUE frontend then drops the cue.Context of
// that evaluation instead of pooling it.
//
// The heap watchdog reads the process's heap every watchEvery while files
// evaluate. A file is over its memory limit when the heap has grown by more
// than the limit since the file started and the file has run for minAge (a
// file that just started has not allocated that much; one that grows that
// fast is caught at the next reading). The growth is confirmed by a
// collection first, so that garbage does not count, and the file fails. An
// abandoned evaluation that keeps growing, by its limit again after it was
// left behind, cannot be stopped and holds memory the process cannot take
// back: the watchdog tells Bound.Runaway, and the muster command stops.

// minAge is how long a file runs before the watchdog may blame it.
const minAge = 50 * time.Millisecond

// confirmEvery bounds how often the watchdog collects to confirm growth.
const confirmEvery = 250 * time.Millisecond

// evaluation is one file evaluating in this process.
type evaluation struct {
	file    string
	format  Format
	limits  Limits
	runaway func(error)
	base    uint64 // heap bytes when it started
	left    uint64 // heap bytes when its caller left it behind
	start   time.Time
	over    chan struct{} // closed by the watchdog at the memory limit
	told    bool          // runaway reported
}

// heapWatch is the heap watchdog: one goroutine, running while files
// evaluate or abandoned evaluations still run.
var heapWatch struct {
	mu        sync.Mutex
	running   map[*evaluation]struct{}
	abandoned map[*evaluation]struct{}
	active    bool
	heap      atomic.Uint64 // the last reading
	confirmed time.Time     // the last confirming collection
}

// readHeap returns the bytes of heap objects, live or not yet swept.
func readHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// evaluateHere evaluates one file in this process within b's limits.
func evaluateHere(f Format, parse lang.Parser, filename string, src []byte, opts lang.Options, b Bound) ([]*lang.Value, lang.Diagnostics) {
	l := b.Limits.orDefaults()
	e := beginEvaluation(filename, f, l, b.Runaway)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		trees []*lang.Value
		diags lang.Diagnostics
	}
	done := make(chan result, 1)
	go func() {
		defer endEvaluation(e)
		defer func() {
			// A panic here would end the process, not only the file.
			if r := recover(); r != nil {
				var ds lang.Diagnostics
				ds.Add(lang.Range{Filename: filename}, "", "internal error in the %s frontend (please report it): %v", f.title(), r)
				done <- result{diags: ds}
			}
		}()
		var trees []*lang.Value
		var diags lang.Diagnostics
		if f == CUE {
			trees, diags = cue.ParseContext(ctx, filename, src, opts)
		} else {
			trees, diags = parse(filename, src, opts)
		}
		done <- result{trees, diags}
	}()
	timer := time.NewTimer(l.Time)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.trees, r.diags
	case <-timer.C:
		abandonEvaluation(e)
		return nil, boundError(filename, f, errTime, l)
	case <-e.over:
		return nil, boundError(filename, f, errMemory, l)
	}
}

func beginEvaluation(file string, f Format, l Limits, runaway func(error)) *evaluation {
	e := &evaluation{file: file, format: f, limits: l, runaway: runaway, start: time.Now(), over: make(chan struct{})}
	w := &heapWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running == nil {
		w.running, w.abandoned = map[*evaluation]struct{}{}, map[*evaluation]struct{}{}
	}
	if !w.active {
		w.active = true
		w.heap.Store(readHeap())
		go watchHeap()
	}
	e.base = w.heap.Load()
	w.running[e] = struct{}{}
	return e
}

// endEvaluation forgets e, which has finished, abandoned or not.
func endEvaluation(e *evaluation) {
	w := &heapWatch
	w.mu.Lock()
	delete(w.running, e)
	delete(w.abandoned, e)
	w.mu.Unlock()
}

// abandonEvaluation marks e as left behind by its caller.
func abandonEvaluation(e *evaluation) {
	w := &heapWatch
	w.mu.Lock()
	if _, ok := w.running[e]; ok {
		delete(w.running, e)
		e.left = max(w.heap.Load(), e.base)
		w.abandoned[e] = struct{}{}
	}
	w.mu.Unlock()
}

// overLimit reports whether e is over its memory limit at heap bytes.
func (e *evaluation) overLimit(heap uint64, now time.Time) bool {
	return heap > e.base+uint64(e.limits.Memory) && now.Sub(e.start) >= minAge
}

// runningAway reports whether abandoned e has grown the heap by its limit
// again since it was left behind, and was not reported yet.
func (e *evaluation) runningAway(heap uint64) bool {
	return !e.told && e.runaway != nil && heap > e.left+uint64(e.limits.Memory)
}

// watchHeap is the watchdog's loop; it ends when nothing evaluates.
func watchHeap() {
	w := &heapWatch
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for now := range tick.C {
		heap := readHeap()
		w.heap.Store(heap)
		w.mu.Lock()
		if len(w.running) == 0 && len(w.abandoned) == 0 {
			w.active = false
			w.mu.Unlock()
			return
		}
		suspect := false
		for e := range w.running {
			suspect = suspect || e.overLimit(heap, now)
		}
		for e := range w.abandoned {
			suspect = suspect || e.runningAway(heap)
		}
		w.mu.Unlock()
		if !suspect || now.Sub(w.confirmed) < confirmEvery {
			continue
		}
		// Garbage does not count: collect, and read again.
		runtime.GC()
		w.confirmed = time.Now()
		heap = readHeap()
		w.heap.Store(heap)
		var tell []*evaluation
		w.mu.Lock()
		for e := range w.running {
			if e.overLimit(heap, now) {
				delete(w.running, e)
				e.left = heap
				w.abandoned[e] = struct{}{}
				close(e.over)
			}
		}
		for e := range w.abandoned {
			if e.runningAway(heap) {
				e.told = true
				tell = append(tell, e)
			}
		}
		w.mu.Unlock()
		for _, e := range tell {
			e.runaway(fmt.Errorf("%s: its %s evaluation, left behind at its limit, still allocates (the heap grew by %s since it started): it cannot be stopped in this process (%s=1 evaluates files in worker processes that can be)",
				e.file, e.format.title(), bytesText(int64(heap-e.base)), IsolateEnv))
		}
	}
}
