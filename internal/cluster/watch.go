package cluster

import (
	"fmt"
	"sync"
	"time"
)

// Slots groups job's running executions by slot: the first execution of
// their chain of replacements (following previous_execution_id). A slot
// with two running executions is a duplicate: a replacement runs while
// what it replaced still runs.
func Slots(xs []Execution) map[string][]string {
	byID := make(map[string]Execution, len(xs))
	for _, x := range xs {
		byID[x.ID] = x
	}
	slots := map[string][]string{}
	for _, x := range xs {
		if !x.Running() {
			continue
		}
		root := x
		for seen := 0; root.Previous != "" && seen < len(xs); seen++ {
			p, ok := byID[root.Previous]
			if !ok {
				break
			}
			root = p
		}
		slots[root.ID] = append(slots[root.ID], x.ID)
	}
	return slots
}

// Duplicates returns the slots of xs with more than one running execution.
func Duplicates(xs []Execution) map[string][]string {
	d := map[string][]string{}
	for root, ids := range Slots(xs) {
		if len(ids) > 1 {
			d[root] = ids
		}
	}
	return d
}

// Watcher samples a job's executions from the host, every poll, while a
// scenario runs, and keeps the worst it saw.
type Watcher struct {
	c    *Cluster
	job  string
	stop chan struct{}
	done chan struct{}

	mu sync.Mutex
	// MaxRunning is the most running executions the state listed at once.
	MaxRunning int
	// Duplicates holds every duplicate slot seen, with when.
	Duplicates []string
	// MaxLeaders is the most control planes that said they lead at once;
	// LongestOverlap the longest time two or more did. A deposed leader
	// learns that it lost its lease at its next renewal or write (refused:
	// fenced), so an overlap shorter than a lease's TTL is expected.
	MaxLeaders     int
	LongestOverlap time.Duration
	overlapSince   time.Duration // -1: none under way
	// Samples and Errors count the polls that listed the executions, and
	// those that could not (no control plane answered).
	Samples, Errors int
}

// Watch starts sampling job's executions until Stop.
func (c *Cluster) Watch(job string) *Watcher {
	w := &Watcher{c: c, job: job, stop: make(chan struct{}), done: make(chan struct{}), overlapSince: -1}
	start := time.Now()
	go func() {
		defer close(w.done)
		for {
			w.sample(time.Since(start))
			select {
			case <-w.stop:
				return
			case <-time.After(200 * time.Millisecond): // the sampling period
			}
		}
	}()
	return w
}

func (w *Watcher) sample(at time.Duration) {
	leaders := len(w.c.Leaders())
	xs, err := w.c.Executions(w.job)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.MaxLeaders = max(w.MaxLeaders, leaders)
	switch {
	case leaders < 2:
		w.overlapSince = -1
	case w.overlapSince < 0:
		w.overlapSince = at
	default:
		w.LongestOverlap = max(w.LongestOverlap, at-w.overlapSince)
	}
	if err != nil {
		w.Errors++
		return
	}
	w.Samples++
	n := 0
	for _, x := range xs {
		if x.Running() {
			n++
		}
	}
	w.MaxRunning = max(w.MaxRunning, n)
	for root, ids := range Duplicates(xs) {
		w.Duplicates = append(w.Duplicates, fmt.Sprintf("at %s slot %s runs %v", at.Round(time.Millisecond), root, ids))
	}
}

// Stop ends the sampling and returns the watcher, for its fields.
func (w *Watcher) Stop() *Watcher {
	close(w.stop)
	<-w.done
	return w
}

// String sums up what the watcher saw.
func (w *Watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fmt.Sprintf("%d samples (%d failed): at most %d running at once, %d control planes leading at once (for %s at most), %d duplicate slots seen %v",
		w.Samples+w.Errors, w.Errors, w.MaxRunning, w.MaxLeaders, w.LongestOverlap, len(w.Duplicates), w.Duplicates)
}
