package apply

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		name  string
		first time.Duration
		want  []time.Duration
	}{
		{"default", 0, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"capped", 10 * time.Second, []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"first above the cap", time.Minute, []time.Duration{time.Minute, time.Minute}},
	} {
		b := newBackoff(c.first)
		for i, w := range c.want {
			if got := b.wait(); got != w {
				t.Errorf("%s: delay %d = %s, want %s", c.name, i, got, w)
			}
		}
		b.reset()
		if got := b.wait(); got != c.want[0] {
			t.Errorf("%s: after reset %s, want %s", c.name, got, c.want[0])
		}
	}
}
