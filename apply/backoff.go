package apply

import "time"

// The restart backoff of every execution the engine restarts (batch and
// ops per failure_threshold, service and daemon per restart_policy): the
// first delay, doubled after every restart, up to the cap. A long-running
// execution that stayed healthy past min_healthy_time earns the first
// delay again. Engine.Backoff overrides the first delay.
const (
	DefaultBackoff = 250 * time.Millisecond
	MaxBackoff     = 30 * time.Second
)

// backoff is the delay before the next restart of one slot.
type backoff struct{ first, next time.Duration }

// newBackoff starts at first (DefaultBackoff when not positive).
func newBackoff(first time.Duration) *backoff {
	if first <= 0 {
		first = DefaultBackoff
	}
	return &backoff{first: first, next: first}
}

// wait returns the delay before the next restart and doubles the one
// after it, up to MaxBackoff.
func (b *backoff) wait() time.Duration {
	d := b.next
	b.next = min(2*b.next, max(MaxBackoff, b.first))
	return d
}

// reset makes the next delay the first one again.
func (b *backoff) reset() { b.next = b.first }
