package apply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// Engine drives rollouts of run-to-completion jobs (batch and ops) on the
// nodes its agents serve.
type Engine struct {
	Store Store
	// Runners run executions, by node id.
	Runners *Runners
	// Events receives every step; nil drops them.
	Events func(Event)
	// Parallel bounds the executions running at once (default 32).
	Parallel int
	// Backoff is the first delay before an execution is restarted; it
	// doubles on every restart (DefaultBackoff when zero, at most
	// MaxBackoff).
	Backoff time.Duration
	// Clock paces health checks, restarts, deadlines and timeouts; nil:
	// the real clock.
	Clock clockwork.Clock
	// Log receives the rollouts' steps, each line with the job, version,
	// node and execution it is about; nil: dropped.
	Log *slog.Logger
	// Keep says, once a batch rollout's context ended, whether the
	// execution it waits for on node stays running there rather than
	// being stopped: the control plane hands the rollout over (it stands
	// down or shuts down) and the next one adopts it. nil: none stays.
	Keep func(node string) bool
	// Launch, when set, is the id of the launch (state.Launch) the engine
	// runs: its executions carry it as their EvalID and its events name
	// it. Empty: each rollout gets an eval id of its own.
	Launch string

	// slotGone, when set, is told that a deployment lost a slot whose
	// node no agent serves (the controller places it again).
	slotGone func()
	// rooms, when set, keeps the count of room on the nodes and places
	// what waits for room (the controller; see roomKeeper). Nil: nothing
	// is counted, and the executions a placement left unplaced never run.
	rooms roomKeeper
}

// roomKeeper is what the engine tells the control plane about room on the
// nodes (see Controller), and asks of it.
type roomKeeper interface {
	// recorded says an execution of job was recorded on node: the room
	// its placement reserved there is now the store's to count.
	recorded(job, node string)
	// hold keeps room for one execution of j on node until it is recorded
	// (a restart waits out its backoff); release gives back a hold that
	// will not be used.
	hold(j *schema.Job, node string)
	release(job, node string)
	// freed says an execution ended: what waits for room may fit now.
	freed()
	// more waits until room frees for more executions of j beside its
	// own (n more of a batch job; one on each matching node skip does not
	// name for an ops job) and returns their placement: in priority order
	// with everything else that waits, and only once something is placed,
	// or nothing is left to place (no target, nothing unplaced). It
	// returns ctx's error when ctx ends first.
	more(ctx context.Context, j *schema.Job, n int, skip func(node string) bool) (plan.Placement, error)
}

// Outcome is how a rollout ended.
type Outcome struct {
	// State is the job state the rollout left: completed, rollout_paused,
	// rollout_failed or failed.
	State   state.JobState
	Message string
	// RolledBackTo is the version recorded by an automatic rollback (a new
	// version carrying the last stable spec), 0 if none.
	RolledBackTo int
}

// Failed reports whether the rollout failed (rolled back or not).
func (o Outcome) Failed() bool {
	return o.State.Failed()
}

// Rollout drives version of job j (already recorded as the job's current
// version) through pl. With promote, a canary rollout does not pause after
// its canary set. A rollout of the version that was interrupted (its
// record has not ended) goes on where it stopped: a set that finished is
// not rolled out again, and what completed in the set it was rolling out
// is not run again.
func (e *Engine) Rollout(ctx context.Context, j *schema.Job, version int, pl plan.Placement, promote bool) (Outcome, error) {
	ref := j.Namespace + "/" + j.Name
	if j.Type.LongRunning() {
		return Outcome{}, fmt.Errorf("%s is a %s job: it keeps running, which needs a long-lived control plane; this command only runs batch and ops jobs", ref, j.Type)
	}
	ctx, cancel := totalTimeout(ctx, j)
	defer cancel()
	r, err := e.prepare(ctx, j, version, pl, false)
	if err != nil {
		return Outcome{}, err
	}
	if out, ok := r.queue(ctx); ok {
		return out, nil
	}
	pause := r.pauses(promote)
	if err := r.begin(ctx, pause); err != nil {
		return Outcome{}, err
	}
	if err := r.markLost(ctx); err != nil {
		return Outcome{}, err
	}
	done, err := r.completedPerNode(ctx)
	if err != nil {
		return Outcome{}, err
	}
	// What completed in the sets before the start is theirs.
	all := append([][]string{pl.Canary}, pl.Waves...)
	for i := 0; i < r.start.set && i < len(all); i++ {
		for _, node := range all[i] {
			done[node] = max(0, done[node]-pl.Share(i, node))
		}
	}
	var end setsEnd
	if !r.start.rest {
		end, err = r.runSets(ctx, pause, &batchSets{r: r, done: done})
	}
	// What fitted nowhere runs as room frees: placed now, or before a
	// restart (the rollout resumes past the sets of its new placement).
	resumedPast := r.start.set > 0 && r.start.set >= len(all)
	if err == nil && end.paused == nil && end.failed == "" && (r.pl.Unplaced > 0 || r.start.rest || resumedPast) {
		err = r.runRest(ctx, &end)
	}
	if errors.Is(err, context.Canceled) {
		// Interrupted, stopped or superseded: not a failure of this
		// version, and the set did not finish; what completed is kept for
		// a resumed rollout.
		if serr := r.setState(context.WithoutCancel(ctx), state.StateDeploying, fmt.Sprintf("version %d was interrupted before it finished; apply again to resume it", r.version)); serr != nil {
			return Outcome{}, errors.Join(err, serr)
		}
		return Outcome{}, err
	}
	switch {
	case err != nil:
		return Outcome{}, err
	case end.paused != nil:
		return *end.paused, nil
	case end.expired != "":
		return r.expire(ctx, end.expired)
	case end.failed != "":
		return r.fail(ctx, end.failed)
	}
	msg := fmt.Sprintf("version %d completed", version)
	if end.failedNodes > 0 {
		msg = fmt.Sprintf("completed with %d failed nodes, within the rollout's limits", end.failedNodes)
	}
	if err := r.ended(ctx, state.StateCompleted, state.OutcomeCompleted, msg); err != nil {
		return Outcome{}, err
	}
	r.emit(Event{Kind: Completed, State: string(state.StateCompleted), Message: msg})
	return Outcome{State: state.StateCompleted, Message: msg}, r.setState(ctx, state.StateCompleted, msg)
}

// batchSets runs the sets of a batch or ops rollout: each node's share of
// executions, each run to its end.
type batchSets struct {
	r *rollout
	// done counts the executions per node that completed before the
	// rollout started (it resumed), which the sets' shares use up.
	done map[string]int
}

// pause records the rollout paused after its canary and ends it: 'muster
// promote' starts it again.
func (b *batchSets) pause(ctx context.Context) (Outcome, bool, error) {
	r := b.r
	msg := fmt.Sprintf("canary succeeded on %s; run 'muster promote %s' to continue", join(r.pl.Canary), r.ref)
	r.emit(Event{Kind: CanaryPaused, State: string(state.StateRolloutPaused), Message: msg})
	if err := r.update(ctx, func(rec *state.Rollout) { rec.State, rec.Message = state.StateRolloutPaused, msg }); err != nil {
		return Outcome{}, true, err
	}
	return Outcome{State: state.StateRolloutPaused, Message: msg}, true, r.setState(ctx, state.StateRolloutPaused, msg)
}

func (b *batchSets) run(ctx context.Context, i int, nodes []string) (setResult, error) {
	return b.r.wave(ctx, i, nodes, func(node string) int { return b.r.pl.Share(i, node) }, b.done)
}

// queue records a batch or service version that no node can take as
// queued, and says so (ok): no node matches, or none has room. Ops and
// daemon jobs run on however many nodes match, none included.
func (r *rollout) queue(ctx context.Context) (Outcome, bool) {
	msg := fmt.Sprintf("version %d waits for a node: none that an agent serves matches the selector", r.version)
	if len(r.pl.MatchedNodes) > 0 && r.pl.UnplacedReason != "" {
		msg = fmt.Sprintf("version %d waits for room: %s cannot be placed: %s", r.version, count(r.pl.Unplaced, "execution"), r.pl.UnplacedReason)
	}
	switch {
	case r.missing != "":
		// It never runs without a secret it refers to.
		msg = fmt.Sprintf("version %d waits: %s", r.version, r.missing)
	case len(targets(r.pl)) > 0 || !r.job.Type.HasCount():
		return Outcome{}, false
	}
	if err := r.setState(ctx, state.StateQueued, msg); err != nil {
		return Outcome{State: state.StateFailed, Message: err.Error()}, true
	}
	if err := r.closeEarlier(ctx); err != nil {
		return Outcome{State: state.StateFailed, Message: err.Error()}, true
	}
	if err := r.update(ctx, func(rec *state.Rollout) { rec.State, rec.Message = state.StateQueued, msg }); err != nil {
		return Outcome{State: state.StateFailed, Message: err.Error()}, true
	}
	r.emit(Event{Kind: Queued, State: string(state.StateQueued), Message: msg})
	return Outcome{State: state.StateQueued, Message: msg}, true
}

// totalTimeout bounds ctx by the job's timeouts.total, if it has one.
func totalTimeout(ctx context.Context, j *schema.Job) (context.Context, context.CancelFunc) {
	if t := j.Timeouts.Total; t > 0 {
		return context.WithTimeout(ctx, time.Duration(t))
	}
	return context.WithCancel(ctx)
}

// prepare reads what the rollout of version needs to know before it acts:
// the job's sensitive values, its place among the job's versions, and
// where it starts (see startFrom; resume: a restarted control plane takes
// over).
func (e *Engine) prepare(ctx context.Context, j *schema.Job, version int, pl plan.Placement, resume bool) (*rollout, error) {
	r := &rollout{Engine: e, job: j, ref: j.Namespace + "/" + j.Name, version: version, pl: pl, evalID: e.Launch}
	if r.evalID == "" {
		r.evalID = "e" + newID()[1:]
	}
	r.logger = loggerOr(e.Log).With("component", "apply", "job", r.ref, "version", version)
	execs, err := e.Store.Executions(ctx, j.Namespace, j.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	if err := state.CheckRollout(execs, j.Namespace, j.Name, version); err != nil {
		return nil, err
	}
	r.canonical = j.Canonical()
	if r.hidden, r.sensitivePaths, err = e.hiddenValues(ctx, r.canonical); err != nil {
		return nil, err
	}
	r.secrets, r.missing = resolveSecrets(ctx, e.Store, j)
	r.hidden = append(r.hidden, secretTexts(r.secrets)...)
	js, err := e.Store.Job(ctx, j.Namespace, j.Name)
	if err != nil {
		return nil, err
	}
	versions, err := e.Store.History(ctx, j.Namespace, j.Name)
	if err != nil {
		return nil, err
	}
	r.first, r.rollbackOf = lineage(versions, version)
	prior, err := r.priorRecord(ctx)
	if err != nil {
		return nil, err
	}
	r.start = startFrom(prior, resume, js.State)
	if prior != nil && !r.start.fresh && !r.start.steady {
		r.rec.rec = *prior
	} else {
		r.newRecord(state.StateDeploying)
	}
	return r, nil
}

// pauses reports whether the rollout waits for promote after its canary
// set (promote: it was asked not to).
func (r *rollout) pauses(promote bool) bool {
	return pausesForCanary(r.job, r.pl, promote || r.start.promoted, r.first || r.rollbackOf > 0)
}

// begin records the version as deploying (unless it starts by pausing
// again for promote), closes the earlier versions' rollouts and announces
// the rollout.
func (r *rollout) begin(ctx context.Context, pause bool) error {
	if err := r.closeEarlier(ctx); err != nil {
		return err
	}
	n := len(targets(r.pl))
	what := fmt.Sprintf("%s over %d node%s", r.job.Rollout.Strategy, n, plural(n))
	if !r.start.fresh {
		what += ", resumed at " + setName(r.start.set)
	}
	if !(pause && r.start.set == 1) {
		msg := fmt.Sprintf("rolling out version %d", r.version)
		if !r.start.fresh {
			msg = fmt.Sprintf("resuming the rollout of version %d at %s", r.version, setName(r.start.set))
		}
		if err := r.setState(ctx, state.StateDeploying, msg); err != nil {
			return err
		}
		if err := r.update(ctx, func(rec *state.Rollout) { rec.State = state.StateDeploying }); err != nil {
			return err
		}
	}
	r.emit(Event{Kind: RolloutStarted, Message: what})
	return nil
}

// setName names set i of a rollout: the canary, or wave i.
func setName(i int) string {
	if i == 0 {
		return "the canary"
	}
	return fmt.Sprintf("wave %d", i)
}

type rollout struct {
	*Engine
	// logger is the rollout's: the engine's, with its job and version.
	logger  *slog.Logger
	logOnce sync.Once // the slots of a deployment log at once
	// lost counts the events the store did not take.
	lost    eventLosses
	job     *schema.Job
	ref     string
	version int
	pl      plan.Placement
	// evalID names this rollout (one placement decision) on the
	// executions it creates.
	evalID string
	// rec is the rollout's record in the store.
	rec rolloutRecord
	// hidden are the texts of the job's sensitive values, which no event
	// or job message shows (a driver's error may quote a cmd or a source).
	hidden []string
	// sensitivePaths are the paths of those values in the spec, which
	// the runners of its executions are given rather than read them
	// again for each.
	sensitivePaths []string
	// canonical is the job's spec, encoded once for its runners.
	canonical []byte
	// secrets are the values of the secrets the job refers to, read when
	// the rollout started, for its executions' runners only; missing says
	// which one could not be had (the rollout then queues).
	secrets runner.Secrets
	missing string
	// start is where the rollout begins (see startFrom).
	start startPoint
	// first: the version is the job's first; rollbackOf: the version it
	// rolls back, 0 if it is no rollback. Neither pauses for a canary.
	first      bool
	rollbackOf int
}

// hiddenValues returns the texts of the values of j recorded sensitive for
// its spec (see package sensitive), and their paths.
func (e *Engine) hiddenValues(ctx context.Context, spec []byte) ([]string, []string, error) {
	paths, err := e.Store.SensitivePaths(ctx, schema.HashBytes(spec))
	if err != nil {
		return nil, nil, err
	}
	values, err := sensitive.Values(spec, paths)
	return values, paths, err
}

// emit stores ev among the job's events and passes it on to Events. A
// failed store of an event is tried again; one that still fails does not
// stop the rollout (the job status and the rollout record, whose writes
// are checked, hold the outcome), and the job's message says how many
// were lost.
func (r *rollout) emit(ev Event) {
	ev.Time, ev.Job, ev.Version, ev.Launch = r.clock().Now().UTC(), r.ref, r.version, r.Launch
	ev.Message = sensitive.Redact(ev.Message, r.hidden)
	err := retry(context.Background(), r.clock(), r.log(), "store an event", func(ctx context.Context) error {
		return r.Store.AppendEvent(ctx, ev)
	})
	if err != nil {
		r.lost.add(err)
	}
	r.logEvent(ev)
	if r.Events != nil {
		r.Events(ev)
	}
}

// logEvent writes ev to the rollout's log: its node and execution as
// attributes; an execution's steps at debug level (a rollout of thousands
// would drown the rest) unless they failed, a failed rollout as a warning.
func (r *rollout) logEvent(ev Event) {
	level := slog.LevelInfo
	switch {
	case ev.Kind == RolloutFailed || ev.State == "unhealthy" || ev.Phase == string(phaseUnhealthy) || ev.State == string(state.ComputeFailed) ||
		ev.State == string(state.ComputeLost) || ev.Probe != nil && !ev.Probe.OK:
		level = slog.LevelWarn
	case ev.Kind == ExecutionEvent:
		level = slog.LevelDebug
	}
	log := r.log()
	if !log.Enabled(context.Background(), level) {
		return
	}
	attrs := []any{"kind", string(ev.Kind)}
	if ev.Kind == WaveStarted || ev.Wave > 0 {
		attrs = append(attrs, "set", ev.Wave)
	}
	if ev.Node != "" {
		attrs = append(attrs, "node", ev.Node)
	}
	if ev.Execution != "" {
		attrs = append(attrs, "execution", ev.Execution)
	}
	if ev.State != "" {
		attrs = append(attrs, "state", ev.State)
	}
	msg := ev.Message
	if msg == "" {
		msg = string(ev.Kind)
	}
	log.Log(context.Background(), level, msg, attrs...)
}

// setState records the job in state st with msg, unless it moved to
// another version.
func (r *rollout) setState(ctx context.Context, st state.JobState, msg string) error {
	msg = sensitive.Redact(msg+r.lost.note(), r.hidden)
	_, err := r.Store.UpdateStatus(context.WithoutCancel(ctx), r.job.Namespace, r.job.Name, func(js *state.JobStatus) error {
		if js.Version != r.version {
			return fmt.Errorf("%s moved to version %d while version %d was rolling out", r.ref, js.Version, r.version)
		}
		js.State, js.Message = st, msg
		return nil
	})
	return err
}

// markLost records as lost the executions of this version that an earlier
// process left unfinished (it was killed mid-rollout): nothing watches them
// any more, and the rollout starts their replacements.
func (r *rollout) markLost(ctx context.Context) error {
	execs, err := r.Store.Executions(ctx, r.job.Namespace, r.job.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	for _, x := range execs {
		if x.JobVersion < r.version && x.Status.ComputeState.Active() {
			if err := r.endSuperseded(ctx, x); err != nil {
				return err
			}
			continue
		}
		if x.JobVersion != r.version {
			continue
		}
		switch {
		case x.Status.ComputeState.Active():
			if agent := r.Runners.Get(x.NodeID); agent != nil {
				// Drivers whose executions outlive the process (docker),
				// and node agents, re-attach instead of starting a
				// duplicate; a pending one may have reached its node.
				got, res, ok, err := agent.Recover(ctx, x, r.job)
				if err != nil {
					return err
				}
				if ok {
					r.emit(Event{Kind: ExecutionEvent, Wave: r.start.set, Node: x.NodeID, Execution: got.ID, State: string(got.Status.ComputeState),
						Message: "re-attached: " + orText(got.Status.Message, res.Message)})
					continue
				}
			}
			if err := r.recordLost(ctx, x, lostWithControlPlane); err != nil {
				return err
			}
		}
	}
	return nil
}

// endSuperseded ends x, an execution of an older version that an earlier
// process left unfinished (it was killed mid-rollout, and this version
// supersedes it): its node re-attaches to it and stops it at once, when
// it still runs it; otherwise it is recorded lost. Nothing would ever
// record its end else.
func (r *rollout) endSuperseded(ctx context.Context, x state.Execution) error {
	why := fmt.Sprintf("%s; version %d supersedes it", lostWithControlPlane, r.version)
	if agent := r.Runners.Get(x.NodeID); agent != nil {
		if old, err := r.versionSpec(ctx, x.JobVersion); err == nil {
			stop, cancel := context.WithCancel(context.WithoutCancel(ctx))
			cancel() // re-attached, it is stopped at once
			if got, _, ok, err := agent.Recover(stop, x, old); err == nil && ok {
				r.emit(Event{Kind: ExecutionEvent, Node: x.NodeID, Execution: got.ID, State: string(got.Status.ComputeState),
					Message: fmt.Sprintf("stopped: version %d supersedes it", r.version)})
				return nil
			}
		}
	}
	return r.recordLost(ctx, x, why)
}

// versionSpec reads the spec of version v of the rollout's job.
func (r *rollout) versionSpec(ctx context.Context, v int) (*schema.Job, error) {
	versions, err := r.Store.History(ctx, r.job.Namespace, r.job.Name)
	if err != nil {
		return nil, err
	}
	for _, ver := range versions {
		if ver.Version == v {
			b, err := r.Store.Spec(ctx, ver.Hash)
			if err != nil {
				return nil, err
			}
			return schema.FromCanonical(b)
		}
	}
	return nil, fmt.Errorf("%s has no version %d", r.ref, v)
}

// lostWithControlPlane is the message of an execution that ended with the
// control plane that ran it.
const lostWithControlPlane = "the control plane that ran it stopped before it ended"

// completedPerNode counts the executions of this version that already
// completed, by node, so that a resumed rollout runs only what is missing.
func (r *rollout) completedPerNode(ctx context.Context) (map[string]int, error) {
	execs, err := r.Store.Executions(ctx, r.job.Namespace, r.job.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	done := map[string]int{}
	for _, x := range execs {
		if x.JobVersion == r.version && x.Status.ComputeState == state.ComputeComplete {
			done[x.NodeID]++
		}
	}
	return done, nil
}

// wave runs the executions of one set of nodes, share(node) on each, and
// says how they ended; done counts the executions that completed per node
// before, which the set's share uses up.
func (r *rollout) wave(ctx context.Context, wave int, nodes []string, share func(node string) int, done map[string]int) (setResult, error) {
	type slot struct{ node string }
	var slots []slot
	for _, n := range nodes {
		// What completed on the node already (a resumed rollout) counts
		// toward this set's share, and is used up by it.
		share := share(n)
		for k := done[n]; k < share; k++ {
			slots = append(slots, slot{n})
		}
		done[n] = max(0, done[n]-share)
	}
	parallel := r.Parallel
	if parallel <= 0 {
		parallel = 32
	}
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	res := setResult{failed: map[string]bool{}}
	var firstErr error
	var wg sync.WaitGroup
	// timeouts.queue bounds how long an execution waits for a free run
	// slot (Parallel) before it starts.
	var expired <-chan time.Time
	if q := time.Duration(r.job.Timeouts.Queue); q > 0 {
		t := r.clock().NewTimer(q)
		defer t.Stop()
		expired = t.Chan()
	}
	timedOut := false
	for _, s := range slots {
		if !timedOut {
			select {
			case sem <- struct{}{}:
			case <-expired:
				timedOut = true
			}
		}
		if timedOut {
			if err := r.queueExpired(ctx, wave, s.node); err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Lock()
			res.failed[s.node] = true
			res.bad++
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := r.runSlot(ctx, wave, s.node)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if !ok {
				res.failed[s.node] = true
				res.bad++
			} else {
				res.good++
			}
		}()
	}
	wg.Wait()
	return res, firstErr
}

// queueExpired records an execution that never started: it waited longer
// than timeouts.queue for a free run slot.
func (r *rollout) queueExpired(ctx context.Context, wave int, node string) error {
	x, err := r.newExecution(ctx, node, nil)
	if err != nil {
		return err
	}
	x.Status.ComputeState = state.ComputeFailed
	x.Status.Message = "waited longer than timeouts.queue " + r.job.Timeouts.Queue.String() + " for a free run slot"
	x, err = r.Store.UpdateExecution(context.WithoutCancel(ctx), x)
	r.emit(Event{Kind: ExecutionEvent, Wave: wave, Node: node, Execution: x.ID, State: string(x.Status.ComputeState), Message: x.Status.Message})
	return err
}

// runSlot runs one execution on node, restarting it per the restart policy
// up to failure_threshold attempts. It reports whether it completed.
func (r *rollout) runSlot(ctx context.Context, wave int, node string) (bool, error) {
	attempts := 1
	if r.job.RestartPolicy != schema.Never {
		attempts = r.job.Rollout.HealthCheck.FailureThreshold
	}
	backoff := newBackoff(r.Backoff)
	var prev *state.Execution
	for attempt := 1; attempt <= attempts; attempt++ {
		x, err := r.newExecution(ctx, node, prev)
		if err != nil {
			return false, err
		}
		agent, x, err := r.runnerFor(ctx, x)
		if errors.Is(err, errNodeGone) {
			r.emit(Event{Kind: ExecutionEvent, Wave: wave, Node: node, Execution: x.ID, State: string(x.Status.ComputeState), Message: x.Status.Message})
			return false, nil
		}
		if err != nil {
			return false, err
		}
		r.emit(Event{Kind: ExecutionEvent, Wave: wave, Node: node, Execution: x.ID, State: string(state.ComputeStarting)})
		x, res, err := r.runOn(ctx, agent, x)
		if err != nil {
			return false, err
		}
		r.emit(Event{Kind: ExecutionEvent, Wave: wave, Node: node, Execution: x.ID, State: string(x.Status.ComputeState), Message: x.Status.Message})
		if x.Status.ComputeState == state.ComputeComplete {
			r.freed()
			return true, nil
		}
		if ctx.Err() != nil || attempt == attempts || (r.job.RestartPolicy == schema.OnFailure && res.Succeeded()) {
			r.freed()
			return false, nil
		}
		// The restart keeps the room of the execution it replaces.
		r.hold(node)
		r.freed()
		select {
		case <-ctx.Done():
			r.release(node)
			return false, nil
		case <-r.clock().After(backoff.wait()):
		}
		prev = &x
	}
	return false, nil
}

// runOn runs x on agent until it ends, stopping it when ctx ends, unless
// Keep says to leave it running: then it returns at once with ctx's
// error, and the execution goes on under a watch of its own.
func (r *rollout) runOn(ctx context.Context, agent Runner, x state.Execution) (state.Execution, runner.Result, error) {
	if r.Keep == nil {
		return agent.Run(r.withSecrets(ctx), x, r.job)
	}
	type ran struct {
		x   state.Execution
		res runner.Result
		err error
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	out := make(chan ran, 1)
	go func() {
		defer stop()
		x, res, err := agent.Run(r.withSecrets(rctx), x, r.job)
		out <- ran{x, res, err}
	}()
	select {
	case o := <-out:
		return o.x, o.res, o.err
	case <-ctx.Done():
	}
	if r.Keep(x.NodeID) {
		r.log().Info("left an execution running for the control plane that takes the rollout over", "node", x.NodeID, "execution", x.ID)
		return x, runner.Result{}, ctx.Err()
	}
	stop()
	o := <-out
	return o.x, o.res, o.err
}

// newExecution records a pending execution of this version on node, as
// the replacement of prev when prev is not nil.
func (r *rollout) newExecution(ctx context.Context, node string, prev *state.Execution) (state.Execution, error) {
	x := state.Execution{
		ID:           newID(),
		JobID:        r.ref,
		JobVersion:   r.version,
		Namespace:    r.job.Namespace,
		NodeID:       node,
		EvalID:       r.evalID,
		DeploymentID: fmt.Sprintf("%s@%d", r.ref, r.version),
		Status:       state.ExecutionStatus{ComputeState: state.ComputePending, DesiredState: state.DesiredRunning},
	}
	if prev != nil {
		x.PreviousExecutionID = prev.ID
	}
	x, err := r.Store.CreateExecution(ctx, x)
	if err != nil {
		return x, err
	}
	if r.rooms != nil {
		r.rooms.recorded(r.ref, node)
	}
	if prev != nil {
		prev.NextExecutionID = x.ID
		if p, err := r.Store.UpdateExecution(context.WithoutCancel(ctx), *prev); err != nil {
			return x, err
		} else {
			*prev = p
		}
	}
	return x, nil
}

// runnerFor returns the runner of x's node, waiting up to timeouts.queue
// for one (an agent that restarts, or joins late). When none serves the
// node it records x lost and returns it with an error matching errNodeGone.
func (r *rollout) runnerFor(ctx context.Context, x state.Execution) (Runner, state.Execution, error) {
	if run := r.Runners.Get(x.NodeID); run != nil {
		return run, x, nil
	}
	if q := time.Duration(r.job.Timeouts.Queue); q > 0 {
		if run := r.Runners.wait(ctx, r.clock(), x.NodeID, q); run != nil {
			return run, x, nil
		}
	}
	msg := "no agent serves node " + x.NodeID
	if q := r.job.Timeouts.Queue; q > 0 {
		msg += " (waited timeouts.queue " + q.String() + ")"
	}
	x.Status.ComputeState, x.Status.Message = state.ComputeLost, msg
	x, err := r.Store.UpdateExecution(context.WithoutCancel(ctx), x)
	if err != nil {
		return nil, x, err
	}
	return nil, x, nodeGoneError{msg}
}

// fail records the failed rollout and rolls back unless the job says not to.
func (r *rollout) fail(ctx context.Context, reason string) (Outcome, error) {
	ctx = context.WithoutCancel(ctx)
	reason = sensitive.Redact(reason, r.hidden)
	msg := fmt.Sprintf("version %d failed: %s", r.version, reason)
	r.emit(Event{Kind: RolloutFailed, State: string(state.StateRolloutFailed), Message: msg})
	if r.job.Rollout.NoAutoRollback {
		msg += "; no_auto_rollback is set, so it stays in place"
		if err := r.ended(ctx, state.StateRolloutFailed, state.OutcomeFailed, msg); err != nil {
			return Outcome{}, err
		}
		return Outcome{State: state.StateRolloutFailed, Message: msg}, r.setState(ctx, state.StateRolloutFailed, msg)
	}
	stable, err := r.lastStable(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if stable == nil {
		msg += "; there is no earlier stable version to roll back to"
		if err := r.ended(ctx, state.StateFailed, state.OutcomeFailed, msg); err != nil {
			return Outcome{}, err
		}
		return Outcome{State: state.StateFailed, Message: msg}, r.setState(ctx, state.StateFailed, msg)
	}
	if err := r.setState(ctx, state.StateRolloutFailed, msg); err != nil {
		return Outcome{}, err
	}
	cur, err := r.Store.Job(ctx, r.job.Namespace, r.job.Name)
	if err != nil {
		return Outcome{}, err
	}
	msg += fmt.Sprintf("; rolled back to the spec of version %d", stable.Version)
	js, err := r.Store.CommitVersion(ctx, r.job.Namespace, r.job.Name, stable.Hash, cur.Revision, state.StateRolloutFailed)
	if err != nil {
		return Outcome{}, fmt.Errorf("rolling back %s: %w", r.ref, err)
	}
	if _, err := r.Store.UpdateStatus(ctx, r.job.Namespace, r.job.Name, func(s *state.JobStatus) error {
		s.Message = msg + fmt.Sprintf(" (now version %d)", js.Version)
		return nil
	}); err != nil {
		return Outcome{}, err
	}
	if err := r.update(ctx, func(rec *state.Rollout) {
		rec.State, rec.Outcome, rec.Message, rec.RolledBackTo, rec.EndedAt = state.StateRolloutFailed, state.OutcomeRolledBack, msg, js.Version, time.Now().UTC()
	}); err != nil {
		return Outcome{}, err
	}
	r.emit(Event{Kind: RolledBack, State: string(state.StateRolloutFailed), Message: fmt.Sprintf("rolled back to the spec of version %d as version %d", stable.Version, js.Version)})
	return Outcome{State: state.StateRolloutFailed, Message: msg, RolledBackTo: js.Version}, nil
}

// lastStable returns the newest earlier version with a different spec whose
// executions all completed (long-running: run, or were stopped on purpose),
// or nil.
func (r *rollout) lastStable(ctx context.Context) (*state.Version, error) {
	versions, err := r.Store.History(ctx, r.job.Namespace, r.job.Name)
	if err != nil {
		return nil, err
	}
	execs, err := r.Store.Executions(ctx, r.job.Namespace, r.job.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	return stableVersion(versions, execs, r.version, r.job.Type.LongRunning()), nil
}

// stableVersion returns the newest version before version, with another
// spec, whose latest executions all worked: completed (batch, ops), or
// for a long-running job ran or were stopped on purpose; nil when there is
// none.
func stableVersion(versions []state.Version, execs []state.Execution, version int, longRunning bool) *state.Version {
	cur := ""
	for _, v := range versions {
		if v.Version == version {
			cur = v.Hash
		}
	}
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if v.Version >= version || v.Hash == cur {
			continue
		}
		complete, bad := 0, 0
		for _, x := range execs {
			if x.JobVersion != v.Version || x.NextExecutionID != "" {
				continue
			}
			if x.Status.ComputeState == state.ComputeComplete || longRunning && settled(x) {
				complete++
			} else {
				bad++
			}
		}
		if complete > 0 && bad == 0 {
			return &v
		}
	}
	return nil
}

// settled reports whether a long-running execution shows its version
// worked: it runs, or it was stopped on purpose (replaced, or 'muster stop').
func settled(x state.Execution) bool {
	switch x.Status.ComputeState {
	case state.ComputeRunning:
		return true
	case state.ComputeStopped:
		return x.Status.DesiredState == state.DesiredStopped
	}
	return false
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// targets lists the nodes of pl's sets, each once (a canary node of a job
// with a count may come again in a wave).
func targets(pl plan.Placement) []string {
	out := append([]string{}, pl.Canary...)
	seen := make(map[string]bool, len(out))
	for _, n := range out {
		seen[n] = true
	}
	for _, w := range pl.Waves {
		for _, n := range w {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

func join(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		if i == 5 {
			return s + fmt.Sprintf("and %d more", len(ids)-5)
		}
		s += id
	}
	return s
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "x" + hex.EncodeToString(b[:])
}

// clock is the rollout's clock.
func (r *rollout) clock() clockwork.Clock { return clockOr(r.Clock) }

// log is the rollout's logger.
func (r *rollout) log() *slog.Logger {
	r.logOnce.Do(func() {
		r.logger = loggerOr(r.Log).With("component", "apply", "job", r.ref, "version", r.version)
	})
	return r.logger
}

// readAttempts bounds how often a read of the store is tried before the
// engine gives up on it for now (see readExecution).
const readAttempts = 4

// readExecution reads x as stored now. A read that fails for a reason
// other than the execution being gone (the store out of reach for a
// moment) is tried again, after 100ms, 200ms and 400ms, each failure
// logged; the last error is returned.
func (r *rollout) readExecution(ctx context.Context, x state.Execution) (state.Execution, error) {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		got, err := r.Store.Execution(ctx, r.job.Namespace, r.job.Name, x.ID)
		if err == nil || errors.Is(err, state.ErrNotFound) || attempt == readAttempts || ctx.Err() != nil {
			return got, err
		}
		r.log().Warn("reading an execution failed; trying again", "node", x.NodeID, "execution", x.ID, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return got, err
		case <-r.clock().After(delay):
		}
		delay *= 2
	}
}
