package plan

import (
	"time"

	"github.com/muster-dev/muster/schedule"
	"github.com/muster-dev/muster/schema"
)

// Schedule is what the plan shows of a periodic job's schedule: when the
// leading control plane launches it next.
type Schedule struct {
	Cron     string `json:"cron"`
	TimeZone string `json:"time_zone"`
	// Next are the next launch times, in UTC, from when the plan was made.
	Next []time.Time `json:"next"`
}

// nextLaunches is how many launch times a plan shows.
const nextLaunches = 3

// now is the plan's clock (tests set it).
var now = time.Now

// scheduleOf returns the plan's view of j's schedule, nil without one (or
// with one that does not parse, which validation reports).
func scheduleOf(j *schema.Job) *Schedule {
	if j.Schedule == nil {
		return nil
	}
	cron, err := schedule.Parse(j.Schedule)
	if err != nil {
		return nil
	}
	return &Schedule{Cron: j.Schedule.Cron, TimeZone: j.Schedule.TimeZone, Next: cron.NextN(now(), nextLaunches)}
}
