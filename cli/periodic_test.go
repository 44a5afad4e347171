package cli

// Periodic jobs end to end: `muster dev` launches a job whose schedule is
// every minute once in the next minute, and `muster launch` runs it at once.

import (
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// launchJSON is a launch record as `status -o json` shows it.
type launchJSON struct {
	ID          string    `json:"id"`
	Version     int       `json:"version"`
	Reason      string    `json:"reason"`
	ScheduledAt time.Time `json:"scheduled_at"`
	State       string    `json:"state"`
	Message     string    `json:"message"`
}

// periodicStatus is what the periodic tests read of `status -o json JOB`.
type periodicStatus struct {
	State    string `json:"state"`
	Message  string `json:"message"`
	Schedule *struct {
		Cron string      `json:"cron"`
		Next []time.Time `json:"next"`
	} `json:"schedule"`
	Launches []launchJSON `json:"launches"`
}

func (c *musterCLI) periodic(job string) periodicStatus {
	c.t.Helper()
	list := decode[[]periodicStatus](c.t, c.ok("status", "-o", "json", job))
	if len(list) != 1 {
		c.t.Fatalf("status of %s: %d entries", job, len(list))
	}
	return list[0]
}

const tickJob = `name: tick
schedule: {cron: "* * * * *"}
task: {engine: exec, cmd: [sh, -c, "echo tick"]}
`

func TestPeriodicLaunchesUnderDev(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	file := c.write("tick.yaml", tickJob)
	if r := c.ok("plan", file); !strings.Contains(r.stdout, `schedule: "* * * * *" in UTC; next launches `) {
		t.Fatalf("plan does not show the next launches:\n%v", r)
	}
	c.ok("apply", "--auto-approve", file)
	st := c.periodic("tick")
	if st.State != "running" || !strings.Contains(st.Message, `scheduled "* * * * *" in UTC; next launch at `) || st.Schedule == nil || len(st.Schedule.Next) != 3 {
		t.Fatalf("status after apply: %+v", st)
	}
	first := st.Schedule.Next[0]
	if d := time.Until(first); d <= 0 || d > time.Minute {
		t.Fatalf("next launch %s is not within the next minute", first)
	}
	wait.Until(t, time.Until(first)+30*time.Second, "the launch of the next minute to complete", func() bool {
		ls := c.periodic("tick").Launches
		return len(ls) == 1 && ls[0].State == "completed"
	})
	l := c.periodic("tick").Launches[0]
	if !l.ScheduledAt.Equal(first) || l.Reason != "schedule" || l.Version != 1 {
		t.Errorf("scheduled launch: %+v, want one at %s", l, first)
	}
	r := c.ok("launch", "tick")
	if !strings.Contains(r.stdout, "launched default/tick version 1: launch m") {
		t.Errorf("launch:\n%v", r)
	}
	ls := c.periodic("tick").Launches
	scheduled := 0
	for _, x := range ls {
		if x.Reason == "schedule" && x.ScheduledAt.Equal(first) {
			scheduled++
		}
	}
	if ls[0].Reason != "manual" || ls[0].State != "completed" || scheduled != 1 {
		t.Errorf("launches after 'muster launch' (newest first): %+v", ls)
	}
	// Each launch ran the task once: its own execution, its own id.
	byLaunch := map[string]int{}
	for _, x := range decode[[]struct {
		EvalID string `json:"eval_id"`
	}](t, c.ok("executions", "--all", "-o", "json", "tick")) {
		byLaunch[x.EvalID]++
	}
	for _, x := range ls {
		if byLaunch[x.ID] != 1 {
			t.Errorf("launch %s ran %d executions, want 1 (%v)", x.ID, byLaunch[x.ID], byLaunch)
		}
	}
	c.ok("stop", "tick")
	if st := c.periodic("tick"); st.State != "stopped" || len(st.Schedule.Next) != 0 {
		t.Errorf("after stop: %s, next %v", st.State, st.Schedule.Next)
	}
}
