package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/state"
)

// A node agent in another process runs a control plane's executions
// through a remote.Client: it must stay an apply.Runner. runner/remote
// does not import apply, so the check lives here, where the two meet.
var _ apply.Runner = (*remote.Client)(nil)

// remoteRollouts asks a running control plane to roll out each recorded
// version and follows its events until that rollout finished. With promote
// it continues paused canary rollouts instead. It fails when any rollout
// failed.
func remoteRollouts(ctx context.Context, w io.Writer, p *plane, jobs []rolloutJob, asJSON, promote bool) error {
	pr := newProgress(w, asJSON)
	pr.hide = hiddenValues(jobs)
	defer pr.close()
	w = progressWriter(pr, w)
	failed := 0
	for _, rj := range jobs {
		ns, name := rj.spec.Namespace, rj.spec.Name
		var tail *logTail
		if !asJSON {
			tail = &logTail{p: p, ns: ns, name: name, w: w, out: map[string]*linePrefixer{}, hide: rj.hidden}
		}
		start := func(ctx context.Context) error {
			if promote {
				return p.ctl.Promote(ctx, ns, name)
			}
			return p.ctl.Rollout(ctx, ns, name, rj.version, false)
		}
		var st state.JobState
		var err error
		if rj.spec.Schedule != nil && !promote {
			// A periodic job rolls nothing out: the control plane keeps its
			// schedule (maybe since it saw the version recorded, before
			// any event could be followed), and its status says so.
			if err = start(ctx); err == nil {
				st, err = pollRollout(ctx, p, ns, name, rj.version)
			}
		} else {
			st, err = followRollout(ctx, p, pr, tail, ns, name, rj.version, !promote, start)
		}
		if err != nil {
			return fmt.Errorf("%s/%s: %w", ns, name, err)
		}
		if st.Failed() {
			failed++
		}
		if !asJSON {
			printRemoteOutputs(ctx, w, p, rj)
		}
	}
	if failed > 0 {
		return exitCode(exitError)
	}
	return nil
}

// followRollout subscribes to a job's events, calls start, and prints the
// events until the rollout of version finished, or (untilPause) paused
// after its canary for 'muster promote'; it returns the state the rollout
// left the job in.
func followRollout(ctx context.Context, p *plane, pr *progress, tail *logTail, ns, name string, version int, untilPause bool, start func(context.Context) error) (state.JobState, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if tail != nil {
		done := make(chan struct{})
		go func() { defer close(done); tail.run(ctx) }()
		defer func() { cancel(); <-done; tail.poll(context.WithoutCancel(ctx)) }()
	}
	events, err := p.ctl.Events(ctx, ns, name)
	if err != nil {
		// The rollout does not need the follow: its end is in the job's
		// status.
		pr.event(apply.Event{Job: ns + "/" + name, Kind: "note", Message: fmt.Sprintf("cannot follow the events (%v); following the job's status instead", err)})
		if err := start(ctx); err != nil {
			return "", err
		}
		return pollRollout(ctx, p, ns, name, version)
	}
	if err := start(ctx); err != nil {
		return "", err
	}
	started := false // the stream showed this version's rollout start
	// The job's status is the truth, events the way to show it: every
	// statusCheck the status is read, so that a follow whose stream lost
	// the end of the rollout (a standby's view of the stored events, NATS
	// interest still spreading) ends all the same.
	// A status that says the rollout ended at two checks in a row ends
	// the follow: the stream had a whole statusCheck to bring the end.
	check := time.NewTicker(statusCheck)
	defer check.Stop()
	endedBefore := false
	for {
		var we api.Event
		var ok bool
		select {
		case we, ok = <-events:
		case <-ctx.Done():
		case <-check.C:
			// A status that cannot be read now says nothing: the events
			// go on.
			st, done, err := rolloutEnded(ctx, p, ns, name, version, untilPause)
			if err == nil && done && endedBefore {
				if !started {
					missed(ctx, p, pr, ns, name, version)
				}
				return st, nil
			}
			endedBefore = err == nil && done
			continue
		}
		if !ok {
			break
		}
		if we.Kind == api.EventResumed {
			// The stream moved to another control plane: the end of the
			// rollout may have been among the events lost on the way.
			pr.event(apply.Event{Job: ns + "/" + name, Kind: "note", Message: we.Message})
			if st, done, err := rolloutEnded(ctx, p, ns, name, version, untilPause); done || err != nil {
				return st, err
			}
			continue
		}
		ev := engineEvent(we)
		if ev.Launch != "" {
			continue // a launch's run, not this rollout
		}
		if untilPause && ev.Kind == apply.CanaryPaused && ev.Version == version {
			// The canary is healthy and waits for 'muster promote', which
			// the event says: following it ends here.
			pr.event(ev)
			return state.StateRolloutPaused, nil
		}
		if ev.Kind == apply.RolloutStarted && ev.Version == version {
			started = true
		}
		if ev.Kind == apply.Finished {
			if ev.Version != version && ev.Version != 0 {
				continue
			}
			if !started {
				// The control plane picked the version up as it was
				// recorded, before this stream began: what the rollout
				// did is in the stored events.
				missed(ctx, p, pr, ns, name, version)
			}
			if pr.json {
				pr.event(ev) // machines get the final state too
			}
			if ev.State == string(state.StateFailed) && ev.Message != "" {
				pr.event(apply.Event{Job: ev.Job, Kind: apply.RolloutFailed, Message: ev.Message})
			}
			return state.JobState(ev.State), nil
		}
		if tail != nil && ev.Kind == apply.ExecutionEvent && ev.Execution != "" {
			tail.add(ev.Execution)
		}
		pr.event(ev)
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("stopped following; the rollout goes on in the control plane (see 'muster status %s/%s')", ns, name)
	}
	// The stream ended early: this reader fell too far behind, or the
	// control plane restarted. The job's status still tells the end.
	pr.event(apply.Event{Job: ns + "/" + name, Kind: "note", Message: "the event stream ended; following the job's status instead"})
	return pollRollout(ctx, p, ns, name, version)
}

// statusCheck is how often followRollout reads the job's status beside
// its events.
var statusCheck = 5 * time.Second

// rolloutEnded reads the job's status once and says whether the rollout of
// version ended (or, untilPause, paused for 'muster promote'), and in
// which state.
func rolloutEnded(ctx context.Context, p *plane, ns, name string, version int, untilPause bool) (state.JobState, bool, error) {
	js, err := p.Job(ctx, ns, name)
	if err != nil {
		return "", false, err
	}
	switch {
	case js.Version != version:
		// Not committed as the job's version yet, or moved on: the events
		// and pollRollout tell.
		return "", false, nil
	case js.State == state.StateRolloutPaused:
		return js.State, untilPause, nil
	case js.State != state.StatePending && js.State != state.StateDeploying:
		return js.State, true, nil
	}
	return "", false, nil
}

// pollRollout waits until the rollout of version left the rollout states
// and returns the job's state then.
func pollRollout(ctx context.Context, p *plane, ns, name string, version int) (state.JobState, error) {
	for {
		js, err := p.Job(ctx, ns, name)
		if err != nil {
			return "", err
		}
		switch {
		case js.Version != version:
			// A rollback, or another apply: how this version ended is in
			// the history, not in the status any more.
			return "", fmt.Errorf("%s/%s moved to version %d while version %d rolled out (a rollback, or another apply): see 'muster status' and 'muster history'", ns, name, js.Version, version)
		case js.State != state.StatePending && js.State != state.StateDeploying:
			return js.State, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("stopped following; the rollout goes on in the control plane (see 'muster status %s/%s')", ns, name)
		case <-time.After(followPoll):
		}
	}
}

// printRemoteOutputs lists the executions of a version with their output
// documents, and how to read their logs.
func printRemoteOutputs(ctx context.Context, w io.Writer, p *plane, rj rolloutJob) {
	if rj.spec.Schedule != nil {
		// A periodic job ran nothing: its status says when it launches.
		if js, err := p.Job(ctx, rj.spec.Namespace, rj.spec.Name); err == nil && js.Version == rj.version {
			fmt.Fprintf(w, "%s/%s: %s\n", rj.spec.Namespace, rj.spec.Name, js.Message)
		}
		return
	}
	execs, err := p.Executions(ctx, rj.spec.Namespace, rj.spec.Name)
	if err != nil {
		return
	}
	if listExecutions(w, execs, rj, func(state.Execution) string { return "" }) > 0 {
		fmt.Fprintf(w, "  logs: muster logs %s/%s\n", rj.spec.Namespace, rj.spec.Name)
	}
}

// missed shows the stored events of version's rollout, which a follow that
// began after the rollout did not see.
func missed(ctx context.Context, p *plane, pr *progress, ns, name string, version int) {
	stored, err := p.JobEvents(ctx, ns, name, 0)
	if err != nil {
		return // the end still shows; only the steps are missing
	}
	for _, ev := range stored {
		if ev.Version == version && ev.Kind != apply.Finished && ev.Launch == "" {
			pr.event(ev)
		}
	}
}
