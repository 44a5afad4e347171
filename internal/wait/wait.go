// Package wait is how tests wait: for a condition to hold, polled with a
// short, growing interval, up to a deadline, never for a fixed time.
package wait

import (
	"testing"
	"time"
)

// Default is the deadline tests use unless they need another.
const Default = 30 * time.Second

// first and most bound the interval between two polls: it starts at first
// and doubles up to most.
const (
	first = 5 * time.Millisecond
	most  = 200 * time.Millisecond
)

// Until polls cond until it returns true, and fails t (naming what it
// waited for) when timeout passes first. It returns how long it waited.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	_, waited := For(t, timeout, what, func() (struct{}, bool) { return struct{}{}, cond() })
	return waited
}

// For polls get until it reports ok, and returns its value and how long
// it waited; it fails t, naming what it waited for and the last value,
// when timeout passes first.
func For[T any](t testing.TB, timeout time.Duration, what string, get func() (T, bool)) (T, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	interval := first
	for {
		v, ok := get()
		if ok {
			return v, time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last seen: %+v", timeout, what, v)
			return v, time.Since(start)
		}
		time.Sleep(interval) // a poll interval, not a wait for an outcome
		interval = min(2*interval, most)
	}
}
