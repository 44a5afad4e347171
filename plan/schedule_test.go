package plan

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/schema"
)

// TestPlanShowsNextLaunches: a periodic job's plan shows its next three
// launch times in UTC, read in the job's zone; other jobs show none.
func TestPlanShowsNextLaunches(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC) }
	j := &schema.Job{Name: "report", Task: schema.Task{Engine: schema.Exec, Cmd: []string{"true"}},
		Schedule: &schema.Schedule{Cron: "30 2 * * *", TimeZone: "Europe/Berlin", ProhibitOverlap: true}}
	schema.Normalize(j)
	plain := &schema.Job{Name: "plain", Task: schema.Task{Engine: schema.Exec, Cmd: []string{"true"}}}
	schema.Normalize(plain)
	p, err := Make(context.Background(), memState{}, []*schema.Job{j, plain}, nil, "live")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Jobs[0].Schedule
	want := []time.Time{
		time.Date(2026, 3, 28, 1, 30, 0, 0, time.UTC), // 02:30 CET
		time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC),  // 02:30 does not happen: at the jump, 03:00 CEST
		time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC), // 02:30 CEST
	}
	if s == nil || len(s.Next) != 3 || !s.Next[0].Equal(want[0]) || !s.Next[1].Equal(want[1]) || !s.Next[2].Equal(want[2]) {
		t.Fatalf("schedule: %+v, want next %v", s, want)
	}
	if p.Jobs[1].Schedule != nil {
		t.Errorf("a job without a schedule shows one: %+v", p.Jobs[1].Schedule)
	}
	var b bytes.Buffer
	WriteText(&b, p)
	if line := `schedule: "30 2 * * *" in Europe/Berlin; next launches 2026-03-28T01:30:00Z, 2026-03-29T01:00:00Z, 2026-03-30T00:30:00Z`; !strings.Contains(b.String(), line) {
		t.Errorf("plan text lacks %q:\n%s", line, b.String())
	}
}
