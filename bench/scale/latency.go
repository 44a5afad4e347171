package main

import (
	"math"
	"sync"
	"time"
)

// latencies counts, per execution, the time from its job's rollout start
// to its start on a node, in buckets about 1% wide (no memory per
// execution, so that a million of them weigh nothing).
type latencies struct {
	// rolloutStart reads when a job's rollout started (its record's
	// StartedAt); set before the first execution starts.
	rolloutStart func(job string) (time.Time, bool)

	mu      sync.Mutex
	jobs    map[string]*jobStart
	buckets [2200]int64
	n       int64
}

type jobStart struct {
	once sync.Once
	at   time.Time
	ok   bool
}

func newLatencies() *latencies { return &latencies{jobs: map[string]*jobStart{}} }

// bucketOf is the bucket of d: 100 per factor e of microseconds.
func bucketOf(d time.Duration) int {
	us := max(float64(d)/float64(time.Microsecond), 0)
	return min(int(math.Log1p(us)*100), len(latencies{}.buckets)-1)
}

// upper is the largest duration of bucket i, in milliseconds.
func upper(i int) float64 { return math.Expm1(float64(i+1)/100) / 1000 }

// started records that an execution of job started at at.
func (l *latencies) started(job string, at time.Time) {
	l.mu.Lock()
	js := l.jobs[job]
	if js == nil {
		js = &jobStart{}
		l.jobs[job] = js
	}
	l.mu.Unlock()
	js.once.Do(func() { js.at, js.ok = l.rolloutStart(job) })
	if !js.ok {
		return
	}
	b := bucketOf(at.Sub(js.at))
	l.mu.Lock()
	l.buckets[b]++
	l.n++
	l.mu.Unlock()
}

// quantile returns the q quantile in milliseconds (the upper bound of its
// bucket); 0 without samples.
func (l *latencies) quantile(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(l.n)))
	var seen int64
	for i, c := range l.buckets {
		if seen += c; seen >= want {
			return math.Round(upper(i)*10) / 10
		}
	}
	return upper(len(l.buckets) - 1)
}
