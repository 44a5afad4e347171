package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/schedule"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

func newLaunch() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	var detach bool
	c := &cobra.Command{
		Use:   "launch JOB",
		Short: "Launch a periodic (or any batch or ops) job's current version now",
		Long: `Launch runs the current version of a batch or ops job now, as its schedule
would: a launch of its own, with an id, its executions and its outcome, which
'muster status JOB' lists beside the scheduled ones. The schedule goes on as
before. A job whose schedule prohibits overlap (the default, and any job
without a schedule) is not launched while a launch of it still runs.

Launches are driven by a long-lived control plane: run 'muster dev' (or point
--addr at a 'muster server'). launch follows the launch to its end and exits
1 when it failed; --detach returns once it started. With -o json it prints
the launch's events, then its record.`,
		Example: `  muster launch nightly-report
  muster launch --detach payments/reconcile
  muster launch -o json nightly-report`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx, st, ns, name, err := sf.openJob(c, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			j, _, err := loadJob(ctx, st, ns, name)
			if err != nil {
				return err
			}
			if j.Type.LongRunning() {
				return fmt.Errorf("%s/%s is a %s job: it keeps running, there is nothing to launch; only batch and ops jobs launch", ns, name, j.Type)
			}
			if st.ctl == nil {
				return fmt.Errorf("launch needs a running control plane, which drives launches and schedules: start 'muster dev' on this state directory (or pass --addr of a 'muster server')")
			}
			return runLaunch(ctx, c.OutOrStdout(), st, ns, name, out.value == "json", detach)
		},
	}
	sf.register(c)
	out.register(c, "text", "json")
	c.Flags().BoolVar(&detach, "detach", false, "return once the launch started instead of following it to its end")
	return c
}

// runLaunch launches job ns/name through the control plane and, unless
// detach, follows its events until it ended.
func runLaunch(ctx context.Context, w io.Writer, p *plane, ns, name string, asJSON, detach bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var events <-chan api.Event
	if !detach {
		// Subscribed first: the launch's first events come at once.
		events, _ = p.ctl.Events(ctx, ns, name)
	}
	l, err := p.ctl.Launch(ctx, ns, name)
	if err != nil {
		return err
	}
	if !asJSON {
		fmt.Fprintf(w, "launched %s/%s version %d: launch %s\n", ns, name, l.Version, l.ID)
	}
	if !detach {
		if err := followLaunch(ctx, w, p, l, events, asJSON); err != nil {
			return err
		}
		if l, err = launchRecord(ctx, p, l); err != nil {
			return err
		}
	}
	if asJSON {
		if err := json.NewEncoder(w).Encode(l); err != nil {
			return err
		}
	}
	if l.State == state.LaunchFailed {
		if !asJSON {
			fmt.Fprintf(w, "launch %s failed: %s\n", l.ID, l.Message)
		}
		return exitCode(exitError)
	}
	return nil
}

// followLaunch prints the events of launch l until it finished. Without
// events (the follow could not be set up, or it ended early) it watches
// the launch's record instead.
func followLaunch(ctx context.Context, w io.Writer, p *plane, l state.Launch, events <-chan api.Event, asJSON bool) error {
	pr := newProgress(w, asJSON)
	defer pr.close()
	for we := range events {
		ev := engineEvent(we)
		if ev.Launch != l.ID {
			continue
		}
		if ev.Kind == apply.Finished {
			if asJSON {
				pr.event(ev)
			}
			return nil
		}
		if ev.Kind == apply.LaunchEvent && ev.State != state.LaunchRunning && !asJSON {
			continue // the rollout's own last event said how it ended
		}
		pr.event(ev)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for {
		cur, err := launchRecord(ctx, p, l)
		if err != nil || cur.Ended() {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// launchRecord reads launch l's record again.
func launchRecord(ctx context.Context, p *plane, l state.Launch) (state.Launch, error) {
	all, err := p.Launches(ctx, l.Namespace, l.Name)
	if err != nil {
		return l, err
	}
	for _, cur := range all {
		if cur.ID == l.ID {
			return cur, nil
		}
	}
	return l, fmt.Errorf("launch %s of %s/%s %w", l.ID, l.Namespace, l.Name, state.ErrNotFound)
}

// statusLaunches is how many launch records status shows.
const statusLaunches = 5

// scheduleView is a periodic job's schedule as status shows it.
type scheduleView struct {
	schema.Schedule
	// Next are the next launch times, none while the job is stopped.
	Next []time.Time `json:"next"`
}

// scheduleOf returns the schedule view of j from now; nil when j has no
// schedule.
func scheduleOf(j *schema.Job, js state.JobStatus, now time.Time, n int) *scheduleView {
	if j == nil || j.Schedule == nil {
		return nil
	}
	v := &scheduleView{Schedule: *j.Schedule, Next: []time.Time{}}
	if cron, err := schedule.Parse(j.Schedule); err == nil && js.State.Active() {
		v.Next = cron.NextN(now, n)
	}
	return v
}

// writeSchedule prints a job's schedule and its newest launches.
func writeSchedule(w io.Writer, d *jobDetail, now time.Time) error {
	if s := d.Schedule; s != nil {
		overlap := "overlap prohibited"
		if !s.ProhibitOverlap {
			overlap = "overlap allowed"
		}
		fmt.Fprintf(w, "\nSchedule  %q in %s, %s\n", s.Cron, s.TimeZone, overlap)
		if len(s.Next) == 0 {
			fmt.Fprintln(w, "  no next launch: the job is not active (apply it again to resume its schedule)")
		}
		for _, t := range s.Next {
			fmt.Fprintf(w, "  next  %s (in %s)\n", t.UTC().Format(time.RFC3339), t.Sub(now).Round(time.Second))
		}
	}
	if len(d.Launches) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nLaunches")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tVERSION\tREASON\tSTATE\tSTARTED\tMESSAGE")
	for _, l := range d.Launches {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", l.ID, l.Version, l.Reason, l.State, when(l.CreatedAt, now), orDash(l.Message))
	}
	return tw.Flush()
}

// newestLaunches returns the newest n of a job's launch records (oldest
// first), newest first.
func newestLaunches(all []state.Launch, n int) []state.Launch {
	out := make([]state.Launch, 0, n)
	for i := len(all) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, all[i])
	}
	return out
}
