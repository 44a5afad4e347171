package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/muster-dev/muster/schedule"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// maxMissed bounds how many missed times of one schedule are counted one
// by one (see schedule.Cron.Due).
const maxMissed = 1000

// lateness is how late a launch may start and still count as on time;
// later, it is a catch-up.
const lateness = time.Minute

// periodic is a job version whose schedule the leader keeps.
type periodic struct {
	job     *schema.Job
	version int
	cron    *schedule.Cron
	// from: every time up to it was handled (launched, skipped or
	// recorded missed); next is the first one after it.
	from, next time.Time
}

// launchKey is the key of a launch's run in Controller.jobs: a job's own
// rollout is keyed by its reference, its launches by reference and id.
func launchKey(ref, id string) string { return ref + "#" + id }

// arm keeps the schedule of version of j: fresh (an apply), it counts
// from now; resumed (this control plane took over), it counts from where
// the one before got to, so that the times nobody launched are launched
// once (the latest) or recorded missed (the rest) at the next wake.
func (c *Controller) arm(ctx context.Context, j *schema.Job, version int, resume bool) (state.JobState, string) {
	ref := j.Namespace + "/" + j.Name
	cron, err := schedule.Parse(j.Schedule)
	if err != nil {
		msg := fmt.Sprintf("version %d: %v", version, err)
		if werr := c.setStatus(ctx, j, version, nil, state.StateFailed, msg); werr != nil {
			msg += "; it could not be recorded: " + werr.Error()
		}
		return state.StateFailed, msg
	}
	now := clockOr(c.Clock).Now()
	from, err := c.armedFrom(ctx, j, version, resume, now)
	if err != nil {
		return state.StateFailed, fmt.Sprintf("version %d: %v", version, err)
	}
	p := &periodic{job: j, version: version, cron: cron, from: from, next: cron.Next(from)}
	c.mu.Lock()
	if c.periodic == nil {
		c.periodic = map[string]*periodic{}
	}
	c.periodic[ref] = p
	next := p.next
	c.mu.Unlock()
	msg := scheduledMessage(j, next, "")
	for _, st := range []state.JobState{state.StateDeploying, state.StateRunning} {
		if err := c.setStatus(ctx, j, version, nil, st, msg); err != nil {
			return state.StateFailed, fmt.Sprintf("version %d: %v", version, err)
		}
	}
	c.slotGone() // the loop looks at its wake time again
	return state.StateRunning, msg
}

// armedFrom is the time from which a schedule counts (see arm).
func (c *Controller) armedFrom(ctx context.Context, j *schema.Job, version int, resume bool, now time.Time) (time.Time, error) {
	st := c.store()
	if !resume {
		return now, st.Arm(ctx, j.Namespace, j.Name, state.Armed{Version: version, Since: now})
	}
	from := now
	a, err := st.Armed(ctx, j.Namespace, j.Name)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return now, st.Arm(ctx, j.Namespace, j.Name, state.Armed{Version: version, Since: now})
	case err != nil:
		return now, err
	case a.Version == version:
		from = a.Since
	}
	launches, err := st.Launches(ctx, j.Namespace, j.Name)
	if err != nil {
		return now, err
	}
	if last := latestScheduled(launches); last.After(from) {
		from = last
	}
	return from, nil
}

// latestScheduled is the latest schedule time among launches, zero when
// none is for a time of the schedule.
func latestScheduled(launches []state.Launch) time.Time {
	var last time.Time
	for _, l := range launches {
		if l.ScheduledAt.After(last) {
			last = l.ScheduledAt
		}
	}
	return last
}

// disarm forgets the schedule of a job (it was stopped, or its version
// has none).
func (c *Controller) disarm(ref string) {
	c.mu.Lock()
	delete(c.periodic, ref)
	c.mu.Unlock()
}

// nextLaunch is the first time a schedule is due, zero when none is kept;
// c.mu is held.
func (c *Controller) nextLaunch() time.Time {
	var next time.Time
	for _, p := range c.periodic {
		if !p.next.IsZero() && (next.IsZero() || p.next.Before(next)) {
			next = p.next
		}
	}
	return next
}

// launchDue launches what is due: for each schedule, the latest time that
// passed (a catch-up when it is late), with the times before it since the
// last handled recorded missed.
func (c *Controller) launchDue(ctx context.Context) {
	now := clockOr(c.Clock).Now()
	type due struct {
		p    periodic
		span schedule.Span
	}
	var all []due
	c.mu.Lock()
	for _, p := range c.periodic {
		if p.next.IsZero() || p.next.After(now) {
			continue
		}
		span := p.cron.Due(p.from, now, maxMissed)
		if span.Count > 0 {
			all = append(all, due{*p, span})
			p.from = span.Last
		}
		p.next = p.cron.Next(p.from)
	}
	c.mu.Unlock()
	for _, d := range all {
		c.launchTimes(ctx, &d.p, d.span, now)
	}
}

// launchTimes handles the due times of span: the latest launches, the
// ones before it are recorded missed.
func (c *Controller) launchTimes(ctx context.Context, p *periodic, span schedule.Span, now time.Time) {
	j := p.job
	// Another control plane may have handled some of them (it led until
	// a moment ago): those are neither missed nor launched again.
	if done := c.lastRecorded(ctx, j); !done.Before(span.Last) {
		return
	} else if done.After(span.First) || done.Equal(span.First) {
		span = p.cron.Due(done, now, maxMissed)
	}
	reason := state.LaunchSchedule
	if span.Count > 1 {
		n := span.Count - 1
		more := ""
		if span.Count >= maxMissed {
			more = " or more"
		}
		miss := state.Launch{Namespace: j.Namespace, Name: j.Name, ID: state.LaunchID(span.First) + "-missed", Version: p.version,
			Reason: state.LaunchSchedule, ScheduledAt: span.Last, State: state.LaunchMissed, Missed: n, MissedFrom: span.First,
			Message: fmt.Sprintf("missed %d%s launch%s from %s on: no control plane led; the latest time, %s, launches late instead",
				n, more, map[bool]string{true: "", false: "es"}[n == 1], stamp(span.First), stamp(span.Last))}
		c.record(ctx, miss)
		reason = state.LaunchCatchUp
	} else if now.Sub(span.Last) > lateness {
		reason = state.LaunchCatchUp
	}
	if _, err := c.launch(ctx, j, p.version, state.LaunchID(span.Last), reason, span.Last); err != nil {
		c.log().Warn("a launch failed to start", "job", j.Namespace+"/"+j.Name, "time", span.Last, "err", err)
	}
}

// stamp prints a launch time.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// record creates a launch record that runs nothing (skipped, missed) and
// announces it. One that exists already was made by another control
// plane, which announced it.
func (c *Controller) record(ctx context.Context, l state.Launch) {
	if l.CreatedAt.IsZero() {
		l.CreatedAt = clockOr(c.Clock).Now().UTC()
	}
	l, err := c.store().CreateLaunch(ctx, l)
	if err != nil {
		if !errors.Is(err, state.ErrConflict) {
			c.log().Warn("a launch could not be recorded", "job", l.Namespace+"/"+l.Name, "launch", l.ID, "err", err)
		}
		return
	}
	c.announce(l)
}

// announce publishes a launch's record as an event.
func (c *Controller) announce(l state.Launch) {
	c.publish(Event{Time: clockOr(c.Clock).Now().UTC(), Job: l.Namespace + "/" + l.Name, Version: l.Version, Kind: LaunchEvent,
		Launch: l.ID, State: l.State, Message: l.Message})
}

// Launch launches the current version of batch or ops job ns/name now, as
// its schedule would, and returns the launch's record. A job whose
// schedule prohibits overlap (or that has no schedule) is not launched
// while a launch of it still runs: that is an error matching
// state.ErrConflict.
func (c *Controller) Launch(ctx context.Context, ns, name string) (state.Launch, error) {
	js, err := c.store().Job(ctx, ns, name)
	if err != nil {
		return state.Launch{}, err
	}
	j, err := c.spec(ctx, js.Hash)
	if err != nil {
		return state.Launch{}, err
	}
	if j.Type.LongRunning() {
		return state.Launch{}, fmt.Errorf("%s/%s is a %s job: it keeps running, there is nothing to launch; only batch and ops jobs launch", ns, name, j.Type)
	}
	now := clockOr(c.Clock).Now()
	id := "m" + state.LaunchID(now) + "-" + newID()[1:7]
	return c.launch(ctx, j, js.Version, id, state.LaunchManual, time.Time{})
}

// launch records and starts a launch of version of j (see Launch); a time
// of a schedule whose previous launch still runs is recorded skipped.
func (c *Controller) launch(ctx context.Context, j *schema.Job, version int, id, reason string, at time.Time) (state.Launch, error) {
	ref := j.Namespace + "/" + j.Name
	l := state.Launch{Namespace: j.Namespace, Name: j.Name, ID: id, Version: version, Reason: reason, ScheduledAt: at,
		State: state.LaunchRunning, CreatedAt: clockOr(c.Clock).Now().UTC()}
	if j.Schedule == nil || j.Schedule.ProhibitOverlap {
		if other := c.runningLaunch(ref); other != "" {
			msg := fmt.Sprintf("launch %s of %s still runs, and its schedule prohibits overlap", other, ref)
			if reason == state.LaunchManual {
				return state.Launch{}, &state.ConflictError{What: "job " + ref, Reason: msg + "; wait for it to end, or stop the job"}
			}
			l.State, l.Message = state.LaunchSkipped, "skipped: "+msg
			c.record(ctx, l)
			return l, nil
		}
	}
	l.Message = fmt.Sprintf("launching version %d", version)
	if reason == state.LaunchCatchUp {
		l.Message = fmt.Sprintf("launching version %d late, for %s", version, stamp(at))
	}
	l.By = c.identity()
	created, err := c.store().CreateLaunch(ctx, l)
	if errors.Is(err, state.ErrConflict) && reason != state.LaunchManual {
		// Another control plane launched it, or this one did and the
		// answer to its create was lost (then it starts it now).
		if mine, ok := c.ownLaunch(ctx, l); ok {
			return mine, c.startLaunch(mine, j)
		}
		return l, nil
	}
	if err != nil {
		return state.Launch{}, err
	}
	l = created
	c.announce(l)
	return l, c.startLaunch(l, j)
}

// runningLaunch returns the id of a launch of job ref that runs here, ""
// if none does.
func (c *Controller) runningLaunch(ref string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, run := range c.jobs {
		if run.launch != "" && strings.HasPrefix(key, ref+"#") && !run.ended() {
			return run.launch
		}
	}
	return ""
}

// startLaunch runs launch l of j in the background, or resumes it where
// the control plane before this one left it.
func (c *Controller) startLaunch(l state.Launch, j *schema.Job) error {
	ref := j.Namespace + "/" + j.Name
	c.mu.Lock()
	if c.life == nil {
		c.mu.Unlock()
		return errors.New("this control plane does not lead: another one drives the launches (or it is starting or stopping)")
	}
	ctx, cancel := context.WithCancel(c.life)
	promote := make(chan struct{})
	close(promote)
	run := &jobRun{version: l.Version, cancel: cancel, done: make(chan struct{}), promote: promote, promoted: true, job: j, launch: l.ID}
	c.jobs[launchKey(ref, l.ID)] = run
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer close(run.done)
		c.driveLaunch(ctx, run, l)
	}()
	return nil
}

// driveLaunch runs a launch to its end and records how it ended.
func (c *Controller) driveLaunch(ctx context.Context, run *jobRun, l state.Launch) {
	j := run.job
	ls := &launchStore{Store: c.store(), rec: l}
	keep := func(node string) bool {
		k := run.keep.Load()
		return k != nil && (*k)(node)
	}
	eng := &Engine{Store: ls, Runners: c.Runners, Events: c.hub.publish, Backoff: c.Backoff, Clock: c.Clock, Log: c.Log,
		Keep: keep, Launch: l.ID, slotGone: c.slotGone, rooms: c}
	out, err := c.runLaunch(ctx, run, eng)
	if c.deposed.Load() || errors.Is(err, state.ErrFenced) || err != nil && ctx.Err() != nil && !run.stopped.Load() {
		// Deposed or shut down: the control plane that leads next
		// resumes it.
		return
	}
	st, msg := state.LaunchCompleted, out.Message
	switch {
	case err != nil && ctx.Err() != nil:
		st, msg = state.LaunchStopped, "stopped before it ended"
	case err != nil:
		st, msg = state.LaunchFailed, err.Error()
	case out.State == state.StateQueued:
		st, msg = state.LaunchFailed, "not launched: "+out.Message
	case out.Failed():
		st = state.LaunchFailed
	}
	wctx := context.WithoutCancel(ctx)
	end := clockOr(c.Clock).Now().UTC()
	rec, werr := ls.update(wctx, func(r *state.Launch) { r.State, r.Message, r.EndedAt = st, msg, end })
	if werr != nil {
		c.log().Warn("the end of a launch could not be recorded", "job", rec.Namespace+"/"+rec.Name, "launch", rec.ID, "err", werr)
		rec.State, rec.Message = st, msg
	}
	c.announce(rec)
	c.publish(Event{Time: end, Job: rec.Namespace + "/" + rec.Name, Version: rec.Version, Kind: Finished, Launch: rec.ID, State: st, Message: msg})
	c.noteLaunched(wctx, j, rec)
}

// runLaunch places a launch and rolls it out.
func (c *Controller) runLaunch(ctx context.Context, run *jobRun, eng *Engine) (Outcome, error) {
	j := run.job
	pl, err := c.rolloutPlacement(ctx, run, j)
	if err != nil {
		return Outcome{}, err
	}
	defer c.reserved.drop(j.Namespace + "/" + j.Name)
	return eng.Rollout(ctx, j, run.version, pl, true)
}

// noteLaunched says in a periodic job's status how its last launch ended
// and when the next is.
func (c *Controller) noteLaunched(ctx context.Context, j *schema.Job, l state.Launch) {
	c.mu.Lock()
	p := c.periodic[j.Namespace+"/"+j.Name]
	var next time.Time
	if p != nil && p.version == l.Version {
		next = p.next
	}
	c.mu.Unlock()
	if p == nil {
		return
	}
	last := fmt.Sprintf("launch %s %s", l.ID, l.State)
	_ = c.setStatus(ctx, p.job, p.version, []state.JobState{state.StateRunning}, state.StateRunning, scheduledMessage(p.job, next, last))
}

// scheduledMessage is the status message of a periodic job.
func scheduledMessage(j *schema.Job, next time.Time, last string) string {
	s := fmt.Sprintf("scheduled %q in %s", j.Schedule.Cron, j.Schedule.TimeZone)
	if last != "" {
		s += "; " + last
	}
	if !next.IsZero() {
		s += "; next launch at " + stamp(next)
	}
	return s
}

// resumeLaunches takes over the launches an earlier control plane left
// running.
func (c *Controller) resumeLaunches(ctx context.Context) error {
	all, err := c.store().Launches(ctx, "", "")
	if err != nil {
		return err
	}
	for _, l := range all {
		if l.Ended() {
			continue
		}
		j, err := c.versionSpec(ctx, l.Namespace, l.Name, l.Version)
		if err != nil {
			return fmt.Errorf("resuming launch %s of %s/%s: %w", l.ID, l.Namespace, l.Name, err)
		}
		if err := c.startLaunch(l, j); err != nil {
			return err
		}
	}
	return nil
}

// versionSpec reads the spec of version of job ns/name.
func (c *Controller) versionSpec(ctx context.Context, ns, name string, version int) (*schema.Job, error) {
	versions, err := c.store().History(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		if v.Version == version {
			return c.spec(ctx, v.Hash)
		}
	}
	return nil, fmt.Errorf("version %d %w", version, state.ErrNotFound)
}

// takeLaunches removes the runs of job ref's launches and returns them;
// c.mu is held.
func (c *Controller) takeLaunches(ref string) []*jobRun {
	var out []*jobRun
	for key, run := range c.jobs {
		if run.launch != "" && strings.HasPrefix(key, ref+"#") {
			out = append(out, run)
			delete(c.jobs, key)
		}
	}
	return out
}

// lastRecorded is the latest time of j's schedule that has a launch
// record (launched, skipped or missed); zero when none has, or the
// records cannot be read (then the launch's own record decides).
func (c *Controller) lastRecorded(ctx context.Context, j *schema.Job) time.Time {
	launches, err := c.store().Launches(ctx, j.Namespace, j.Name)
	if err != nil {
		c.log().Warn("cannot read the launches", "job", j.Namespace+"/"+j.Name, "err", err)
		return time.Time{}
	}
	return latestScheduled(launches)
}

// identity names this controller in the launch records it creates.
func (c *Controller) identity() string {
	c.selfOnce.Do(func() { c.self = "c" + newID()[1:] })
	return c.self
}

// ownLaunch returns the stored record of l when this controller created
// it and runs nothing for it yet.
func (c *Controller) ownLaunch(ctx context.Context, l state.Launch) (state.Launch, bool) {
	all, err := c.store().Launches(ctx, l.Namespace, l.Name)
	if err != nil {
		return l, false
	}
	for _, cur := range all {
		if cur.ID == l.ID && cur.By == c.identity() && !cur.Ended() {
			c.mu.Lock()
			_, runs := c.jobs[launchKey(l.Namespace+"/"+l.Name, l.ID)]
			c.mu.Unlock()
			return cur, !runs
		}
	}
	return l, false
}
