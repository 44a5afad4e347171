package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/state"
)

// statusEvents is how many of a job's newest events status shows.
const statusEvents = 20

// statusExecutions is how many executions status lists before it counts
// the rest.
const statusExecutions = 20

func newStatus() *cobra.Command {
	var sf stateFlags
	var lf listFlags
	var out outputFlag
	var watch bool
	c := &cobra.Command{
		Use:   "status [JOB]",
		Short: "Show the status of jobs, or the whole story of one",
		Long: `Status lists each job's current version, spec hash, state and revision.

With JOB (NAME or NAMESPACE/NAME) it tells that job's story: its type, version
and state; the latest rollout (strategy, canary, waves done, healthy and
unhealthy executions, how it ended); the versions with each rollout's
outcome; the executions by state with their nodes (those of the current
version, and any of other versions still running); and the newest events.
With -o json it prints a list of one status carrying the same, under
"type", "rollout", "versions", "execution_counts", "executions" and "events".

With --watch (-w) and JOB it then follows the job's current rollout until it
ends, as 'muster rollout status' does, with the same exit status: 0 when it
completed or paused for 'muster promote', 1 when it failed, was rolled back
or was stopped. With -o json it prints the story once the rollout ended.`,
		Example: `  muster status
  muster status web
  muster status -w web
  muster status -o json payments/web`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := c.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			w := c.OutOrStdout()
			if watch && len(args) == 0 {
				return errors.New("--watch follows the rollout of one job: name it, as in 'muster status -w web'")
			}
			if len(args) == 1 {
				ns, name, err := splitJob(args[0])
				if err != nil {
					return err
				}
				if watch {
					return watchStory(ctx, w, st, ns, name, out.value == "json")
				}
				d, err := jobStory(ctx, st, ns, name)
				if err != nil {
					return err
				}
				if out.value == "json" {
					return writeJSON(w, []jobDetail{d})
				}
				return d.write(w, time.Now())
			}
			list, err := lf.jobs(ctx, st)
			if err != nil {
				return err
			}
			if out.value == "json" {
				if list == nil {
					list = []state.JobStatus{}
				}
				return writeJSON(w, list)
			}
			return writeJobList(w, list)
		},
	}
	sf.registerRead(c)
	lf.register(c, true)
	out.register(c, "text", "json")
	c.Flags().BoolVarP(&watch, "watch", "w", false, "with JOB: follow its current rollout until it ends; the exit status says how it ended")
	return c
}

// watchStory tells the story of job ns/name, then follows its current
// rollout to its end (see followToEnd); as JSON it prints the story once
// the rollout ended. It returns the exit status of the end.
func watchStory(ctx context.Context, w io.Writer, st *plane, ns, name string, asJSON bool) error {
	if !asJSON {
		d, err := jobStory(ctx, st, ns, name)
		if err != nil {
			return err
		}
		if err := d.write(w, time.Now()); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nFollowing the rollout")
		return followToEnd(ctx, w, st, ns, name, false)
	}
	end := followToEnd(ctx, io.Discard, st, ns, name, false)
	var code exitCode
	if end != nil && !errors.As(end, &code) {
		return end
	}
	d, err := jobStory(ctx, st, ns, name)
	if err != nil {
		return err
	}
	if err := writeJSON(w, []jobDetail{d}); err != nil {
		return err
	}
	return end
}

// writeJobList prints one line per job.
func writeJobList(w io.Writer, list []state.JobStatus) error {
	if len(list) == 0 {
		fmt.Fprintln(w, "No jobs: apply one with 'muster apply FILE'.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tVERSION\tSTATE\tREVISION\tHASH\tMESSAGE")
	for _, js := range list {
		fmt.Fprintf(tw, "%s/%s\t%d\t%s\t%d\t%s\t%s\n", js.Namespace, js.Name, js.Version, js.State, js.Revision, js.Hash, js.Message)
	}
	return tw.Flush()
}

// jobDetail is the story of one job that status tells: the job's status
// and the rest of its story, side by side in one JSON object.
type jobDetail struct {
	state.JobStatus
	story
}

// story is what status tells of a job beyond its status.
type story struct {
	// Type is the job's type, from the spec of its current version.
	Type string `json:"type,omitempty"`
	// Rollout is the record of the newest rollout, nil when none was
	// recorded.
	Rollout *state.Rollout `json:"rollout,omitempty"`
	// Versions are the job's versions, newest first, each with how its
	// rollout went.
	Versions []versionOutcome `json:"versions"`
	// Counts counts the listed executions by compute state.
	Counts map[string]int `json:"execution_counts"`
	// Executions are those of the current version, and those of other
	// versions that have not ended.
	Executions []state.Execution `json:"executions"`
	// Events are the newest of the job's stored events, oldest first.
	Events []state.Event `json:"events"`
	// Probes are the last probe outcome of each listed execution that was
	// probed (rollout.health_check.probe), by execution id.
	Probes map[string]probeSeen `json:"probes,omitempty"`
	// Schedule is a periodic job's schedule and its next launch times;
	// nil for other jobs.
	Schedule *scheduleView `json:"schedule,omitempty"`
	// Launches are the newest launch records (of the schedule or of
	// 'muster launch'), newest first.
	Launches []state.Launch `json:"launches,omitempty"`
}

// MarshalJSON writes the status's fields and the story's in one object.
// Without it the status's own MarshalJSON, promoted, would write the
// status alone.
func (d jobDetail) MarshalJSON() ([]byte, error) {
	status, err := marshalPlain(d.JobStatus)
	if err != nil {
		return nil, err
	}
	rest, err := marshalPlain(d.story)
	if err != nil {
		return nil, err
	}
	return joinObjects(status, rest)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *jobDetail) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &d.JobStatus); err != nil {
		return err
	}
	return json.Unmarshal(b, &d.story)
}

// marshalPlain is json.Marshal without escaping <, > and &, as writeJSON
// writes.
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// joinObjects joins two JSON objects with distinct keys into one.
func joinObjects(a, b []byte) ([]byte, error) {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if len(a) < 2 || a[0] != '{' || a[len(a)-1] != '}' || len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("cannot join %.20s and %.20s: not two JSON objects", a, b)
	}
	inner := bytes.TrimSpace(b[1 : len(b)-1])
	if len(inner) == 0 {
		return a, nil
	}
	out := append([]byte{}, a[:len(a)-1]...)
	if len(bytes.TrimSpace(a[1:len(a)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, inner...)
	return append(out, '}'), nil
}

// probeSeen is the last probe outcome of an execution, and when it came.
type probeSeen struct {
	state.ProbeReport
	Time time.Time `json:"time"`
}

// lastProbes finds, in events (oldest first), the last probe outcome of
// each of execs.
func lastProbes(events []state.Event, execs []state.Execution) map[string]probeSeen {
	want := map[string]bool{}
	for _, x := range execs {
		want[x.ID] = true
	}
	var out map[string]probeSeen
	for _, ev := range events {
		if ev.Kind == state.EventProbe && ev.Probe != nil && want[ev.Execution] {
			if out == nil {
				out = map[string]probeSeen{}
			}
			out[ev.Execution] = probeSeen{ProbeReport: *ev.Probe, Time: ev.Time}
		}
	}
	return out
}

// probeText says what an execution's last probe found, in a few words.
func probeText(p probeSeen, ok bool) string {
	switch {
	case !ok:
		return "-"
	case p.OK:
		return fmt.Sprintf("%s ok (%.0fms)", p.Kind, p.Millis)
	case p.Failures > 1:
		return fmt.Sprintf("%s failing x%d: %s", p.Kind, p.Failures, p.Message)
	}
	return fmt.Sprintf("%s failed: %s", p.Kind, p.Message)
}

// versionOutcome is one version and how its rollout went.
type versionOutcome struct {
	state.Version
	// Rollout is the state its rollout is in or ended in; "" when it has
	// no record.
	Rollout string `json:"rollout,omitempty"`
	// Outcome is how its rollout ended (state.Rollout.Outcome), "" while
	// it goes on.
	Outcome string `json:"outcome,omitempty"`
	Message string `json:"message,omitempty"`
	// text says how the rollout went, in words (outcomeText).
	text string
}

// jobStory reads what status tells about job ns/name.
func jobStory(ctx context.Context, st api.Backend, ns, name string) (jobDetail, error) {
	js, err := jobStatus(ctx, st, ns, name)
	if err != nil {
		return jobDetail{}, err
	}
	d := jobDetail{JobStatus: js, story: story{Counts: map[string]int{}}}
	if j, _, err := loadJob(ctx, st, ns, name); err == nil {
		d.Type = string(j.Type)
		d.Schedule = scheduleOf(j, js, time.Now(), 3)
	}
	launches, err := st.Launches(ctx, ns, name)
	if err != nil {
		return d, err
	}
	d.Launches = newestLaunches(launches, statusLaunches)
	// A periodic job's version runs once per launch: the executions of
	// the launches shown, not of every launch it ever had.
	launched, shown := map[string]bool{}, map[string]bool{}
	for _, l := range launches {
		launched[l.ID] = true
	}
	for _, l := range d.Launches {
		shown[l.ID] = true
	}
	versions, err := st.History(ctx, ns, name)
	if err != nil {
		return d, err
	}
	rollouts, err := st.Rollouts(ctx, ns, name)
	if err != nil {
		return d, err
	}
	byVersion := map[int]state.Rollout{}
	for _, r := range rollouts {
		byVersion[r.Version] = r
	}
	if n := len(rollouts); n > 0 {
		d.Rollout = &rollouts[n-1]
	}
	for i := len(versions) - 1; i >= 0; i-- {
		v := versionOutcome{Version: versions[i]}
		if r, ok := byVersion[v.Version.Version]; ok {
			v.Rollout, v.Outcome, v.Message, v.text = string(r.State), r.Outcome, r.Message, outcomeText(&r)
		}
		d.Versions = append(d.Versions, v)
	}
	execs, err := st.Executions(ctx, ns, name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return d, err
	}
	if err := hideExecutionMessages(ctx, st, ns, name, execs); err != nil {
		return d, err
	}
	d.Executions = []state.Execution{}
	for _, x := range execs {
		current := x.JobVersion == js.Version && (!launched[x.EvalID] || shown[x.EvalID])
		if current || x.Status.ComputeState.Active() {
			d.Executions = append(d.Executions, x)
			d.Counts[string(x.Status.ComputeState)]++
		}
	}
	// Probe events come when a probe's outcome changes: the last one of
	// each execution may be older than the events shown.
	all, err := st.JobEvents(ctx, ns, name, 0)
	if err != nil {
		return d, err
	}
	d.Probes = lastProbes(all, d.Executions)
	d.Events = all[max(0, len(all)-statusEvents):]
	if d.Events == nil {
		d.Events = []state.Event{}
	}
	return d, nil
}

// write tells the story for people; now dates what happened.
func (d *jobDetail) write(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	kind := ""
	if d.Type != "" {
		kind = " (" + d.Type + ")"
	}
	fmt.Fprintf(tw, "Job\t%s/%s%s\n", d.Namespace, d.Name, kind)
	fmt.Fprintf(tw, "Version\t%d  %s  revision %d\n", d.JobStatus.Version, d.Hash, d.Revision)
	fmt.Fprintf(tw, "State\t%s\n", withMessage(string(d.State), d.Message))
	fmt.Fprintf(tw, "Updated\t%s\n", when(d.UpdatedAt, now))
	if err := tw.Flush(); err != nil {
		return err
	}
	if r := d.Rollout; r != nil {
		fmt.Fprintf(w, "\nLatest rollout (version %d)\n", r.Version)
		writeRollout(w, r, d.Type, now)
	}
	fmt.Fprintln(w, "\nVersions")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VERSION\tHASH\tCREATED\tROLLOUT")
	for i, v := range d.Versions {
		if i == 10 {
			fmt.Fprintf(tw, "  … and %d earlier: muster history %s/%s\n", len(d.Versions)-10, d.Namespace, d.Name)
			break
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", v.Version.Version, shortHash(v.Hash), v.CreatedAt.UTC().Format(time.RFC3339), orDash(v.text))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeSchedule(w, d, now); err != nil {
		return err
	}
	writeExecutions(w, d)
	writeEvents(w, d.Events, now)
	return nil
}

// writeRollout prints a rollout record of a job of type typ.
func writeRollout(w io.Writer, r *state.Rollout, typ string, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  Strategy\t%s\n", r.Strategy)
	if len(r.Canary) > 0 {
		canary := strings.Join(r.Canary, ", ")
		if r.CanaryExecutions != nil {
			n := 0
			for _, c := range r.CanaryExecutions {
				n += c
			}
			canary = fmt.Sprintf("%s on %s", plural(n, "execution"), canary)
		}
		fmt.Fprintf(tw, "  Canary\t%s\n", canary)
	}
	fmt.Fprintf(tw, "  Waves\t%d of %d done\n", r.WavesDone, r.Sets())
	good, bad := "Healthy", "Unhealthy"
	if typ == "batch" || typ == "ops" {
		// Run to completion: an execution that counts completed.
		good, bad = "Completed", "Failed"
	}
	fmt.Fprintf(tw, "  %s\t%d\n", good, r.Healthy)
	fmt.Fprintf(tw, "  %s\t%d\n", bad, r.Unhealthy)
	fmt.Fprintf(tw, "  State\t%s\n", withMessage(string(r.State), r.Message))
	fmt.Fprintf(tw, "  Outcome\t%s\n", outcomeText(r))
	fmt.Fprintf(tw, "  Started\t%s\n", when(r.StartedAt, now))
	if !r.EndedAt.IsZero() {
		fmt.Fprintf(tw, "  Ended\t%s (took %s)\n", when(r.EndedAt, now), r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond))
	}
	tw.Flush()
}

// writeExecutions prints the executions by state, then one line each.
func writeExecutions(w io.Writer, d *jobDetail) {
	states := make([]string, 0, len(d.Counts))
	for s := range d.Counts {
		states = append(states, s)
	}
	sort.Strings(states)
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = fmt.Sprintf("%d %s", d.Counts[s], s)
	}
	if len(parts) == 0 {
		fmt.Fprintln(w, "\nExecutions: none")
		return
	}
	fmt.Fprintf(w, "\nExecutions: %s\n", strings.Join(parts, ", "))
	list := d.Executions
	// Newest first: the story's end is what matters.
	sort.SliceStable(list, func(i, j int) bool { return list[i].CreatedAt.After(list[j].CreatedAt) })
	ports, probes := false, len(d.Probes) > 0
	for _, x := range list {
		ports = ports || len(x.Ports) > 0
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "  ID\tNODE\tVERSION\tSTATE\tDESIRED"
	if ports {
		head += "\tPORTS"
	}
	if probes {
		head += "\tPROBE"
	}
	fmt.Fprintln(tw, head+"\tMESSAGE")
	for i, x := range list {
		if i == statusExecutions {
			fmt.Fprintf(tw, "  … and %d more: muster executions %s/%s\n", len(list)-statusExecutions, d.Namespace, d.Name)
			break
		}
		line := fmt.Sprintf("  %s\t%s\t%d\t%s\t%s", x.ID, x.NodeID, x.JobVersion, x.Status.ComputeState, x.Status.DesiredState)
		if ports {
			line += "\t" + labelString(x.Ports)
		}
		if probes {
			p, ok := d.Probes[x.ID]
			line += "\t" + probeText(p, ok)
		}
		fmt.Fprintln(tw, line+"\t"+x.Status.Message)
	}
	tw.Flush()
}

// writeEvents prints the newest events.
func writeEvents(w io.Writer, events []state.Event, now time.Time) {
	if len(events) == 0 {
		return
	}
	fmt.Fprintln(w, "\nRecent events")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tVERSION\tEVENT\tNODE\tEXECUTION\tMESSAGE")
	for _, ev := range events {
		what := string(ev.Kind)
		switch {
		case ev.Probe != nil && ev.Probe.OK:
			what += ": " + ev.Probe.Kind + " ok"
		case ev.Probe != nil:
			what += ": " + ev.Probe.Kind + " failed"
		case ev.Phase != "" && ev.Phase != ev.State:
			what += ": " + ev.State + ", " + ev.Phase
		case ev.State != "":
			what += ": " + ev.State
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", ev.Time.UTC().Format(time.RFC3339), ev.Version, what, orDash(ev.Node), orDash(ev.Execution), ev.Message)
	}
	tw.Flush()
}

func withMessage(s, msg string) string {
	if msg == "" {
		return s
	}
	return s + ": " + msg
}

// when dates t for people: RFC 3339 and how long ago.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	ago := now.Sub(t).Round(time.Second)
	if ago < 0 {
		ago = 0
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), ago)
}

// shortHash shortens a spec hash to the 12-digit prefix the CLI accepts.
func shortHash(h string) string {
	const keep = len("sha256:") + 12
	if len(h) > keep {
		return h[:keep]
	}
	return h
}
