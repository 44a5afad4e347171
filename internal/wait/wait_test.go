package wait

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestUntilReturnsOnceTrue(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	Until(t, time.Second, "three increments", func() bool { return n.Load() == 3 })
}

func TestForGivesTheValue(t *testing.T) {
	calls := 0
	v, _ := For(t, time.Second, "the third call", func() (int, bool) {
		calls++
		return calls, calls == 3
	})
	if v != 3 {
		t.Fatalf("For = %d, want 3", v)
	}
}

// fakeT records a failure instead of stopping the test.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper()                           {}
func (f *fakeT) Fatalf(format string, args ...any) { f.failed = format }

func TestUntilFailsAtTheDeadline(t *testing.T) {
	f := &fakeT{TB: t}
	start := time.Now()
	Until(f, 50*time.Millisecond, "never", func() bool { return false })
	if f.failed == "" {
		t.Fatal("Until did not fail at its deadline")
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Until failed after %s, want about 50ms", d)
	}
}
