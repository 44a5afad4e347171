package apply

import (
	"testing"
	"time"

	"github.com/muster-dev/muster/schema"
)

// TestNotHealthySaysWhatWasMissed: the message of a missed deadline names
// each threshold not met and by how much.
func TestNotHealthySaysWhatWasMissed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hc := schema.HealthCheck{
		Deadline: schema.Duration(15 * time.Second), MinHealthyTime: schema.Duration(30 * time.Second),
		Interval: schema.Duration(10 * time.Second), SuccessThreshold: 2,
	}
	for _, tc := range []struct {
		name      string
		successes int
		since     time.Time
		want      string
	}{
		{"both", 1, now.Add(-13 * time.Second),
			"not healthy within health_check.deadline 15s: 1 of the success_threshold 2 checks passed in a row (one every 10s); it had run 13s of min_healthy_time 30s, 17s short"},
		{"never ran", 0, time.Time{},
			"not healthy within health_check.deadline 15s: 0 of the success_threshold 2 checks passed in a row (one every 10s); it had run 0s of min_healthy_time 30s, 30s short"},
		{"time only", 2, now.Add(-20 * time.Second),
			"not healthy within health_check.deadline 15s: it had run 20s of min_healthy_time 30s, 10s short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &healthState{hc: hc, successes: tc.successes, since: tc.since}
			if got := h.notHealthy(now); got != tc.want {
				t.Errorf("notHealthy =\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}
