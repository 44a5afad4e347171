package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/metrics"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// Controller is the rollout side of a long-lived control plane (`muster
// dev`, `muster server`): it runs the rollouts it is asked for in the
// background, keeps the executions of service and daemon jobs alive, starts
// daemon executions on nodes that join, resumes what an earlier control
// plane left unfinished, and publishes every event to subscribers.
type Controller struct {
	// Store holds the state.
	Store Store
	// Leadership decides when this control plane leads, among others
	// sharing the store; nil: it leads from the start, alone. A control
	// plane that loses the lead stands down: it stops driving rollouts,
	// leaves every execution running for the new leader to adopt, and
	// waits to lead again.
	Leadership Leadership
	// OnLead is told when this control plane starts leading (leading
	// true: it resumed what was under way and takes requests) and when it
	// stands down (false, with why). Nil: not told.
	OnLead func(leading bool, why error)
	// Log receives the controller's steps; nil: dropped.
	Log *slog.Logger
	// Clock paces node silence, queue timeouts, health checks and
	// restarts; nil: the real clock.
	Clock clockwork.Clock
	// Runners serve the nodes. Nodes of remote agents are added as they
	// register (see Connect).
	Runners *Runners
	// Connect returns the runner of a node that registered in the store
	// and is not served yet (a remote agent), or nil. Nil means only
	// Runners serve.
	Connect func(n state.Node) Runner
	// NodeTTL is how long a node may go unseen before its runner from
	// Connect is dropped; 30s when zero.
	NodeTTL time.Duration
	// Reconnected, when set, says when the control plane's own connection
	// to the store last came back after a loss: a node's silence counts
	// from then at the earliest, since its heartbeats could not be seen
	// while the connection was down. Nil: from its last heartbeat.
	Reconnected func() time.Time
	// Backoff is passed to the engine (see Engine.Backoff).
	Backoff time.Duration

	hub       hub
	mu        sync.Mutex
	jobs      map[string]*jobRun
	connected map[string]bool // nodes whose runner came from Connect
	// seen is when each node last beat, as its record says; known is
	// each node's record as last looked at.
	seen  map[string]time.Time
	known map[string]state.Node
	// poke wakes the controller when a deployment lost a slot.
	poke chan struct{}
	// nodeReads shares the reads of every node (see nodesNow).
	nodeReads nodeReads
	// nodeWake is a time no later than the first one a node served
	// through Connect goes silent past the node TTL (see nextWake), zero
	// when to be worked out again: heartbeats only move that time later,
	// so it holds until it passes or a node is connected.
	nodeWake time.Time
	// life bounds the rollouts of the current term; nil while this
	// control plane does not lead.
	life context.Context
	// execLife bounds the long-running executions: it outlives life, so
	// that a shutdown can leave those of node agents running (see
	// shutdown); stopExecs ends it.
	execLife  context.Context
	stopExecs context.CancelFunc
	wg        sync.WaitGroup
	readyOnce sync.Once
	ready     chan struct{}
	// termStore is the store of the last term that had one (see
	// StoreTerm); nil: Store.
	termStore atomic.Pointer[storeRef]
	// deposed is set while a control plane that lost the lead winds its
	// rollouts down: they end without a Finished, since the control plane
	// that leads now goes on with them.
	deposed atomic.Bool

	// placing makes placements one at a time, each reserving what it
	// placed before the next reads the room left (see room.go).
	placing sync.Mutex
	// reserved holds what was placed and is not recorded yet.
	reserved reservations
	// specs remembers the task.resources of specs, for the load.
	specs SpecResources
	// waiters are the batch and ops rollouts waiting for room (mu).
	waiters map[*waiter]bool
	// periodic holds the schedules kept, by job reference (mu).
	periodic map[string]*periodic
	// self names this controller in the launch records it creates, so
	// that it knows its own from another's (see launch).
	self     string
	selfOnce sync.Once
}

// storeRef holds a Store for an atomic.Pointer.
type storeRef struct{ Store }

// store is what the controller reads and writes through: the store of its
// last term that had one (fenced: once another control plane leads, its
// writes are refused, also those of rollouts still winding down), else
// Store.
func (c *Controller) store() Store {
	if r := c.termStore.Load(); r != nil {
		return patient{r.Store}
	}
	return patient{c.Store}
}

// TermStore is what the controller writes through now (see StoreTerm):
// runners that write for it (those Connect returns) write through it too.
func (c *Controller) TermStore() Store { return c.store() }

// Ready is closed once Run leads for the first time, has resumed what an
// earlier control plane left, and takes requests.
func (c *Controller) Ready() <-chan struct{} {
	c.readyOnce.Do(func() { c.ready = make(chan struct{}) })
	return c.ready
}

// jobRun is what the controller runs for one job.
type jobRun struct {
	version int
	cancel  context.CancelFunc // ends the rollout (and a batch's executions)
	done    chan struct{}      // closed when the rollout goroutine returned
	promote chan struct{}      // closed by Promote
	// promoted is set once promote was closed.
	promoted bool
	dep      *Deployment // the long-running executions, once deployed
	// partial holds what an interrupted rollout started (a paused
	// canary): a newer version or a stop stops it, a shutdown leaves the
	// executions of node agents running.
	partial *Deployment
	// queued is when the version was found to have no node to run on (or
	// no room); zero when it has.
	queued time.Time
	// placed, when set, is the placement made (and reserved) for the
	// rollout as it left the queue: it runs that one.
	placed *plan.Placement
	job    *schema.Job
	// launch is the id of the launch it runs (see Launch), "" for a
	// job's own rollout; stopped is set when 'muster stop' ends it (not
	// a shutdown, which leaves it to the next control plane).
	launch  string
	stopped atomic.Bool
	// keep, set when the rollout is handed over (see endRuns), says which
	// nodes keep the executions a batch rollout waits for.
	keep atomic.Pointer[func(node string) bool]
}

// ended reports whether the rollout goroutine of run returned.
func (run *jobRun) ended() bool {
	select {
	case <-run.done:
		return true
	default:
		return false
	}
}

// Run serves until ctx is done. Whenever it leads (see Leadership) it
// resumes the jobs an earlier control plane left rolling out or running,
// then watches the nodes for agents that come and go and for daemon jobs
// to extend; when it loses the lead it stands down (see standDown) and
// waits to lead again. When ctx is done it stops the rollouts and the
// executions of the nodes it serves itself (they end with this process),
// leaves those of node agents (see Connect) running for the next control
// plane to take over, gives up the lead and returns.
func (c *Controller) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.jobs == nil {
		c.jobs = map[string]*jobRun{}
		c.connected = map[string]bool{}
	}
	if c.Runners == nil {
		c.Runners = &Runners{}
	}
	c.mu.Unlock()
	lead := c.Leadership
	if lead == nil {
		lead = alone{}
	}
	for {
		term, err := lead.Lead(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		err = c.term(ctx, term)
		if ctx.Err() != nil || err != nil {
			term.End(context.WithoutCancel(ctx))
			return err
		}
	}
}

// term leads until ctx is done (it then shuts down) or the lead is lost
// (it then stands down).
func (c *Controller) term(ctx context.Context, term Term) error {
	life, endLife := context.WithCancel(ctx)
	defer endLife()
	execLife, stopExecs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopExecs()
	if st, ok := term.(StoreTerm); ok && st.Store() != nil {
		c.termStore.Store(&storeRef{st.Store()})
	}
	c.deposed.Store(false)
	c.mu.Lock()
	c.life, c.execLife, c.stopExecs = life, execLife, stopExecs
	c.mu.Unlock()
	c.log().Info("leading: resuming what was under way")
	c.syncNodes(life)
	// Watched before resuming and before Ready: a version recorded from
	// here on is seen, also one recorded as soon as Ready is closed.
	jobs := c.watchJobs(life)
	if err := c.resume(life); err != nil {
		c.standDown()
		return err
	}
	c.readyOnce.Do(func() { c.ready = make(chan struct{}) })
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	if c.OnLead != nil {
		c.OnLead(true, nil)
	}
	nodes := c.watchNodes(life)
	// Taken once and again only after it fired, so that a runner set while
	// the loop works is not missed.
	runners := c.Runners.Changed()
	for {
		wakeC, stopWake := c.wakeTimer()
		select {
		case <-ctx.Done():
			stopWake()
			c.shutdown()
			return nil
		case <-term.Lost():
			stopWake()
			why := term.Err()
			c.log().Warn("standing down: the lead was lost; the executions keep running", "err", why)
			c.deposed.Store(true)
			endLife()
			c.standDown()
			if c.OnLead != nil {
				c.OnLead(false, why)
			}
			return nil
		case ev, ok := <-nodes:
			switch {
			case !ok:
				// The watch ended (the connection to the store broke):
				// look at every node, and watch again.
				nodes = c.watchNodes(life)
				c.syncNodes(life)
				c.placeWaiting(life, true)
			case ev.Err != nil:
				c.log().Warn("a node's record could not be read", "err", ev.Err)
			case !ev.Synced && !ev.Deleted && c.noteNode(life, ev.Node):
				// A node joined, left, or changed its labels or capacity.
				c.placeWaiting(life, true)
			}
		case ev, ok := <-jobs:
			if !ok {
				// The watch ended: look at every job, and watch again.
				jobs = c.watchJobs(life)
				c.pickUpAll(life)
				break
			}
			c.pickUp(life, ev)
		case <-wakeC:
			// A node may have gone silent, a queued rollout waited its
			// timeouts.queue out, a schedule is due.
			c.launchDue(life)
			c.syncNodes(life)
			c.placeWaiting(life, true)
		case <-c.pokes():
			// A slot's node went away (place its execution again), an
			// execution ended (room freed), or a rollout waits for room.
			c.placeWaiting(life, false)
		case <-runners:
			// A node is served, or no longer is.
			runners = c.Runners.Changed()
			c.placeWaiting(life, true)
		}
		stopWake()
	}
}

// wakeTimer returns a channel that fires at nextWake (nil when nothing
// waits) and the function that stops its timer.
func (c *Controller) wakeTimer() (<-chan time.Time, func()) {
	wake := c.nextWake()
	if wake.IsZero() {
		return nil, func() {}
	}
	clk := clockOr(c.Clock)
	c.mu.Lock()
	launch := c.nextLaunch()
	c.mu.Unlock()
	if !launch.IsZero() && !launch.After(clk.Now()) {
		// A launch is due: at once, also on a clock that does not move by
		// itself (launchDue moves the schedule past now).
		now := make(chan time.Time, 1)
		now <- clk.Now()
		return now, func() {}
	}
	t := clk.NewTimer(max(clk.Until(wake), time.Millisecond))
	return t.Chan(), func() { t.Stop() }
}

// watchNodes watches the nodes' records: registrations, heartbeats, nodes
// marked down. It returns nil (a channel that never delivers) when the
// store cannot watch now; the wake-ups of nextWake and the next term look
// again.
func (c *Controller) watchNodes(ctx context.Context) <-chan state.NodeEvent {
	ch, err := c.store().WatchNodes(ctx)
	if err != nil {
		c.log().Error("cannot watch the nodes; looking at them every node TTL instead", "err", err)
		return nil
	}
	return ch
}

// pokes is signalled when a deployment lost a slot whose node went away,
// when an execution ended and when a rollout starts waiting for room.
func (c *Controller) pokes() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.poke == nil {
		c.poke = make(chan struct{}, 1)
	}
	return c.poke
}

// slotGone tells the controller that a deployment lost a slot (or that
// room may have freed: see freed).
func (c *Controller) slotGone() {
	select {
	case c.pokes() <- struct{}{}:
	default:
	}
}

// secretRecheck is how often a queued rollout of a job that refers to
// secrets looks whether they are stored now.
const secretRecheck = 2 * time.Second

// nextWake is when the controller must look again without a change of the
// store to wake it: the first time a node served by an agent would go
// silent past the node TTL, or a queued rollout would wait past its
// timeouts.queue, or a queued rollout that may wait for a secret (every
// secretRecheck). Zero when nothing waits; at most a node TTL away when
// the nodes are not watched.
func (c *Controller) nextWake() time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Looking at every node each time the controller wakes (a heartbeat
	// of one node among thousands wakes it) would cost more than all the
	// rest: the earliest time is kept until it passes.
	if now := clockOr(c.Clock).Now(); c.nodeWake.IsZero() || !now.Before(c.nodeWake) {
		c.nodeWake = time.Time{}
		for id := range c.connected {
			if seen, ok := c.seen[id]; ok {
				if t := seen.Add(c.nodeTTL()); c.nodeWake.IsZero() || t.Before(c.nodeWake) {
					c.nodeWake = t
				}
			}
		}
	}
	if !c.nodeWake.IsZero() {
		earlier(c.nodeWake)
	}
	for _, run := range c.jobs {
		if q := time.Duration(run.job.Timeouts.Queue); !run.queued.IsZero() && q > 0 {
			earlier(run.queued.Add(q))
		}
		if !run.queued.IsZero() && len(run.job.Task.SecretRefs()) > 0 {
			// It may wait for a secret, which no watch announces.
			earlier(clockOr(c.Clock).Now().Add(secretRecheck))
		}
	}
	if len(c.connected) > 0 || c.Connect != nil {
		earlier(clockOr(c.Clock).Now().Add(c.nodeTTL()))
	}
	if t := c.nextLaunch(); !t.IsZero() {
		earlier(t)
	}
	return next
}

// nodeTTL is how long a node may go unseen before its runner is dropped.
func (c *Controller) nodeTTL() time.Duration {
	if c.NodeTTL <= 0 {
		return 30 * time.Second
	}
	return c.NodeTTL
}

// log is the controller's logger.
func (c *Controller) log() *slog.Logger { return loggerOr(c.Log).With("component", "controller") }

// Events sends the events of job ns/name from now on until ctx is done:
// with name "", those of every job of namespace ns, or of everything (nodes
// included) when ns is "" too.
func (c *Controller) Events(ctx context.Context, ns, name string) (<-chan Event, error) {
	job := ""
	switch {
	case name != "":
		if ns == "" {
			ns = "default"
		}
		job = ns + "/" + name
	case ns != "":
		job = ns + "/" // a prefix: the namespace's jobs
	}
	ch, cancel := c.hub.subscribe(job)
	context.AfterFunc(ctx, cancel)
	return ch, nil
}

// Rollout starts rolling out version (the job's current version) in the
// background; a rollout of the same job still under way is cancelled
// first (a newer version supersedes it). With promote a canary rollout
// does not pause.
func (c *Controller) Rollout(ctx context.Context, ns, name string, version int, promote bool) error {
	js, err := c.store().Job(ctx, ns, name)
	if err != nil {
		return err
	}
	if js.Version != version {
		return fmt.Errorf("%s/%s is at version %d, not %d", ns, name, js.Version, version)
	}
	j, err := c.spec(ctx, js.Hash)
	if err != nil {
		return err
	}
	return c.start(j, version, promote, false)
}

// Promote continues a canary rollout paused after its canary set.
func (c *Controller) Promote(ctx context.Context, ns, name string) error {
	js, err := c.store().Job(ctx, ns, name)
	if err != nil {
		return err
	}
	if js.State != state.StateRolloutPaused {
		return fmt.Errorf("%s/%s is %s, not waiting for promotion (rollout_paused)", ns, name, js.State)
	}
	c.mu.Lock()
	run := c.jobs[ns+"/"+name]
	if run != nil && run.version == js.Version && !run.ended() {
		// Its rollout waits at the pause, or is on its way there (a
		// restarted control plane taking it over): it goes on.
		if !run.promoted {
			run.promoted = true
			close(run.promote)
		}
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	// Nothing waits in this process (a batch rollout paused and
	// returned): start the rollout again, promoted; what completed is not
	// run again.
	return c.Rollout(ctx, ns, name, js.Version, true)
}

// Stop stops every execution of a job and records it stopped; it returns
// how many executions were still running.
func (c *Controller) Stop(ctx context.Context, ns, name string) (int, error) {
	if _, err := c.store().Job(ctx, ns, name); err != nil {
		return 0, err
	}
	ref := ns + "/" + name
	before, err := unended(ctx, c.store(), ns, name)
	if err != nil {
		return 0, err
	}
	c.disarm(ref)
	c.mu.Lock()
	run := c.jobs[ref]
	delete(c.jobs, ref)
	launches := c.takeLaunches(ref)
	c.mu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
		run.partial.Stop()
		run.dep.Stop()
	}
	for _, l := range launches {
		l.stopped.Store(true)
		l.cancel()
		<-l.done
	}
	c.reserved.drop(ref)
	defer c.slotGone() // room freed
	// What no slot of this control plane ran (an earlier one left it, and
	// no rollout adopted it yet) is stopped by its node.
	if err := c.stopOnNodes(ctx, ns, name); err != nil {
		return len(before), err
	}
	// What no node stopped (nothing runs it) is recorded so.
	if _, err := StopRecorded(ctx, c.store(), ns, name); err != nil {
		return len(before), err
	}
	c.publish(Event{Time: time.Now().UTC(), Job: ref, Kind: Finished, State: string(state.StateStopped), Message: stoppedMessage})
	return len(before), nil
}

// stopOnNodes asks the node of every execution of a job that has not
// ended to stop it, through its runner: a node that runs it stops it and
// records how it ended; one that does not leaves it to StopRecorded.
func (c *Controller) stopOnNodes(ctx context.Context, ns, name string) error {
	execs, err := unended(ctx, c.store(), ns, name)
	if err != nil || len(execs) == 0 {
		return err
	}
	versions, err := c.store().History(ctx, ns, name)
	if err != nil {
		return err
	}
	specs := map[int]*schema.Job{}
	for _, v := range versions {
		if j, err := c.spec(ctx, v.Hash); err == nil {
			specs[v.Version] = j
		}
	}
	// A run given an ended context stops what it re-attaches to at once.
	stop, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cancel()
	var wg sync.WaitGroup
	for _, x := range execs {
		run, j := c.Runners.Get(x.NodeID), specs[x.JobVersion]
		if run == nil || j == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, ok, err := run.Recover(stop, x, j); err != nil {
				c.log().Warn("stopping an execution through its node", "job", x.JobID, "execution", x.ID, "node", x.NodeID, "err", err)
			} else if ok {
				c.log().Info("stopped an execution no rollout had adopted", "job", x.JobID, "execution", x.ID, "node", x.NodeID)
			}
		}()
	}
	wg.Wait()
	return nil
}

// ReadLog reads an execution's log through the node that ran it.
func (c *Controller) ReadLog(ctx context.Context, ns, name, id, stream string, offset int64) ([]byte, error) {
	x, err := c.store().Execution(ctx, ns, name, id)
	if err != nil {
		return nil, err
	}
	run := c.Runners.Get(x.NodeID)
	if run == nil {
		return nil, fmt.Errorf("the logs of %s are on node %s, which no agent serves now: %w", id, x.NodeID, state.ErrNotFound)
	}
	return run.ReadLog(ctx, id, stream, offset)
}

// startPlaced launches the rollout of version of j, which left the queue,
// on pl (placed and reserved for it).
func (c *Controller) startPlaced(j *schema.Job, version int, pl plan.Placement) error {
	return c.startOn(j, version, false, false, &pl)
}

// start launches the rollout of version of j; resume: this control plane
// takes it over from an earlier one (see DeployOptions.Resume).
func (c *Controller) start(j *schema.Job, version int, promote, resume bool) error {
	return c.startOn(j, version, promote, resume, nil)
}

// startOn is start on a placement made already (nil: the rollout places
// itself).
func (c *Controller) startOn(j *schema.Job, version int, promote, resume bool, placed *plan.Placement) error {
	ref := j.Namespace + "/" + j.Name
	c.mu.Lock()
	if c.life == nil {
		c.mu.Unlock()
		return errors.New("this control plane does not lead: another one drives the rollouts (or it is starting or stopping)")
	}
	old := c.jobs[ref]
	if p := c.periodic[ref]; !resume && j.Schedule != nil && p != nil && p.version == version && old != nil && old.version == version {
		// Its schedule is kept already (the leader picked the recorded
		// version up before it was asked to).
		c.mu.Unlock()
		return nil
	}
	if !resume && old != nil && old.version == version && !old.ended() {
		// Already rolling out (the leader picked the recorded version up
		// before it was asked to): it goes on, promoted if asked.
		if promote && !old.promoted {
			old.promoted = true
			close(old.promote)
		}
		c.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithCancel(c.life)
	run := &jobRun{version: version, cancel: cancel, done: make(chan struct{}), promote: make(chan struct{}), job: j, placed: placed}
	c.jobs[ref] = run
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer close(run.done)
		var prev *Deployment
		if old != nil {
			old.cancel()
			<-old.done
			old.partial.Stop()
			prev = old.dep
		}
		c.drive(ctx, run, j, version, promote, resume, prev)
	}()
	return nil
}

// drive runs one rollout to its end and publishes Finished.
func (c *Controller) drive(ctx context.Context, run *jobRun, j *schema.Job, version int, promote, resume bool, prev *Deployment) {
	ref := j.Namespace + "/" + j.Name
	finish := func(st state.JobState, msg string) {
		c.publish(Event{Time: time.Now().UTC(), Job: ref, Version: version, Kind: Finished, State: string(st), Message: msg})
	}
	// broken ends a rollout that muster itself could not drive (the store
	// failed): the job is recorded failed, not left deploying.
	broken := func(err error) {
		if errors.Is(err, state.ErrFenced) || c.deposed.Load() {
			// Another control plane took the lead: it resumes this
			// rollout and reports its end; this one's refused writes
			// are not that end.
			c.log().Warn("a rollout stopped here: another control plane leads now and goes on with it", "job", ref, "version", version, "err", err)
			c.hub.publish(Event{Time: time.Now().UTC(), Job: ref, Version: version, Kind: LeaderEvent,
				Message: fmt.Sprintf("version %d: this control plane no longer leads; the one that leads now goes on with the rollout", version)})
			return
		}
		if ctx.Err() != nil {
			// Superseded by a newer version, or stopped: they report.
			finish("", "interrupted: a newer version or 'muster stop' took over")
			return
		}
		msg := fmt.Sprintf("version %d: %v", version, err)
		c.log().Error("a rollout broke on an error of muster's own", "job", ref, "version", version, "err", err)
		if werr := c.setStatus(context.WithoutCancel(ctx), j, version, nil, state.StateFailed, msg); werr != nil {
			msg += "; it could not be recorded: " + werr.Error()
		}
		finish(state.StateFailed, msg)
	}
	if j.Schedule != nil && !j.Type.LongRunning() {
		// A periodic job's version runs at the times of its schedule.
		st, msg := c.arm(ctx, j, version, resume)
		finish(st, msg)
		return
	}
	c.disarm(ref)
	pl, err := c.rolloutPlacement(ctx, run, j)
	if err != nil {
		broken(err)
		return
	}
	// What it placed and did not record is free again once it ended.
	defer c.reserved.drop(ref)
	keep := func(node string) bool {
		k := run.keep.Load()
		return k != nil && (*k)(node)
	}
	eng := &Engine{Store: c.store(), Runners: c.Runners, Events: c.hub.publish, Backoff: c.Backoff, Clock: c.Clock, Log: c.Log, Keep: keep, slotGone: c.slotGone, rooms: c}
	if !j.Type.LongRunning() {
		out, err := eng.Rollout(ctx, j, version, pl, promote)
		if err != nil {
			broken(err)
			return
		}
		c.markQueued(run, out)
		finish(out.State, out.Message)
		return
	}
	o := DeployOptions{Life: c.execLife, Prev: prev, Promote: run.promote, Promoted: promote, Resume: resume}
	out, dep, err := eng.Deploy(ctx, j, version, pl, o)
	if err != nil && ctx.Err() != nil {
		// Superseded, stopped or shut down: the next rollout, Stop or
		// shutdown decides what becomes of what it started, and takes
		// over the previous version's executions.
		c.mu.Lock()
		run.partial, run.dep = dep, prev
		if dep != nil {
			run.dep = dep.Replaced
		}
		c.mu.Unlock()
		broken(err)
		return
	}
	c.mu.Lock()
	if dep != nil {
		run.dep = dep
	} else {
		run.dep = prev // queued: what runs of the previous version stays
	}
	c.mu.Unlock()
	if err != nil {
		broken(err)
		return
	}
	c.markQueued(run, out)
	finish(out.State, out.Message)
	if out.RolledBackTo > 0 {
		// Roll the stable spec out again as the new version.
		if err := c.Rollout(context.WithoutCancel(ctx), j.Namespace, j.Name, out.RolledBackTo, true); err != nil {
			c.publish(Event{Time: time.Now().UTC(), Job: ref, Version: out.RolledBackTo, Kind: RolloutFailed, Message: "rolling out the rolled-back version: " + err.Error()})
		}
	}
}

// placement places j on the nodes that are served now, with room for it
// beside the other jobs' load; c.placing is held.
func (c *Controller) placement(ctx context.Context, j *schema.Job) (plan.Placement, error) {
	began := time.Now()
	live, err := c.liveNodes(ctx)
	if err != nil {
		return plan.Placement{}, err
	}
	pl, _ := plan.Place(j, live)
	metrics.ObservePlacement(began)
	return pl, nil
}

// rolloutPlacement is where the rollout of run goes: the placement made
// as it left the queue, or a new one, reserved.
func (c *Controller) rolloutPlacement(ctx context.Context, run *jobRun, j *schema.Job) (plan.Placement, error) {
	c.mu.Lock()
	placed := run.placed
	c.mu.Unlock()
	if placed != nil {
		return *placed, nil
	}
	// The nodes as they are from now on will do: rollouts that wait for
	// their turn below share one read of them.
	ctx = withNodesAsked(ctx, c.nodeReads.mark())
	// What waited for room before it, at its priority or above, goes
	// first.
	c.placeWaitingFrom(ctx, false, j.Priority, j.Namespace+"/"+j.Name)
	c.placing.Lock()
	defer c.placing.Unlock()
	pl, err := c.placement(ctx, j)
	if err == nil {
		c.reserved.add(j, perNode(pl))
	}
	return pl, err
}

// resume restarts what an earlier control plane left under way.
func (c *Controller) resume(ctx context.Context) error {
	jobs, err := c.store().Jobs(ctx)
	if err != nil {
		return err
	}
	for _, js := range jobs {
		if !resumes(js.State, true) && !resumes(js.State, false) {
			continue
		}
		j, err := c.spec(ctx, js.Hash)
		if err != nil {
			return fmt.Errorf("resuming %s/%s: %w", js.Namespace, js.Name, err)
		}
		if !resumes(js.State, j.Type.LongRunning() || j.Schedule != nil) {
			continue
		}
		if err := c.start(j, js.Version, false, true); err != nil {
			return err
		}
	}
	return c.resumeLaunches(ctx)
}

// resumes reports whether a restarted control plane takes over a job in
// state st: a rollout under way goes on; a paused canary of a service or
// daemon pauses again with its executions kept (a batch or ops job's paused
// rollout runs nothing until 'muster promote' starts it); a service or
// daemon that runs is kept running. Where each goes on is in its rollout
// record (see startFrom).
func resumes(st state.JobState, longRunning bool) bool {
	switch {
	case st.RollingOut():
		return true
	case st.Active():
		return longRunning // rollout_paused, running, degraded
	}
	return false
}

// syncNodes gives a runner to registered nodes that have none (remote
// agents that joined) and drops the runners of nodes gone silent. A store
// it cannot read is logged; the next wake-up looks again.
func (c *Controller) syncNodes(ctx context.Context) {
	if c.Connect == nil {
		return
	}
	if _, err := c.nodesNow(ctx); err != nil && ctx.Err() == nil {
		c.log().Warn("cannot read the nodes", "err", err)
	}
}

// noteNode looks at node n as the store has it now: a registered node
// that beats and has no runner gets one (an agent joined); one silent past
// the node TTL loses its runner (its executions are replaced) and is
// recorded down. It reports whether the node is new to this control
// plane, changed its labels or status, joined or left; a heartbeat alone
// changes nothing.
func (c *Controller) noteNode(ctx context.Context, n state.Node) (changed bool) {
	ttl := c.nodeTTL()
	clk := clockOr(c.Clock)
	c.mu.Lock()
	if c.seen == nil {
		c.seen, c.known = map[string]time.Time{}, map[string]state.Node{}
	}
	if n.LastSeen.After(c.seen[n.ID]) {
		c.seen[n.ID] = n.LastSeen
	}
	was, ok := c.known[n.ID]
	changed = !ok || was.Status != n.Status || !maps.Equal(was.Labels, n.Labels) || !sameCapacity(was.Capacity, n.Capacity)
	c.known[n.ID] = n
	c.mu.Unlock()
	if c.Connect != nil {
		since := n.LastSeen
		if c.Reconnected != nil {
			if back := c.Reconnected(); back.After(since) {
				since = back
			}
		}
		fresh := clk.Since(since) < ttl
		has := c.Runners.Get(n.ID) != nil
		switch {
		case fresh && !has:
			if r := c.Connect(n); r != nil {
				c.Runners.Set(n.ID, r)
				c.mu.Lock()
				c.connected[n.ID] = true
				c.nodeWake = time.Time{}
				c.mu.Unlock()
				changed = true
				c.log().Info("node joined", "node", n.ID)
				c.hub.publish(Event{Time: clk.Now().UTC(), Kind: NodeEvent, Node: n.ID, State: state.NodeReady, Message: "node " + n.ID + " joined"})
			}
		case !fresh && has && c.remote(n.ID):
			c.Runners.Set(n.ID, nil)
			c.mu.Lock()
			delete(c.connected, n.ID)
			c.mu.Unlock()
			changed = true
			c.log().Warn("node went silent: its executions are replaced", "node", n.ID, "ttl", ttl)
			c.hub.publish(Event{Time: clk.Now().UTC(), Kind: NodeEvent, Node: n.ID, State: state.NodeDown,
				Message: fmt.Sprintf("node %s went silent (no heartbeat for %s): its executions are replaced", n.ID, ttl)})
		}
		if !fresh && c.Runners.Get(n.ID) == nil && n.Status != state.NodeDown {
			// Plans and 'muster nodes' see it as down until it beats
			// again; a beat since the list was read wins.
			// A failed write is logged, and done again on the next look.
			_ = retry(ctx, clockOr(c.Clock), c.log(), "mark node "+n.ID+" down", func(ctx context.Context) error {
				cur, err := c.store().Node(ctx, n.ID)
				if err != nil || !cur.LastSeen.Equal(n.LastSeen) {
					return err
				}
				cur.Status = state.NodeDown
				_, err = c.store().PutNode(ctx, cur)
				return err
			})
		}
	}
	return changed
}

// remote says whether node id's runner came from Connect.
func (c *Controller) remote(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected[id]
}

// markQueued notes a rollout that found no node (or no room), for
// placeWaiting to start again when one comes.
func (c *Controller) markQueued(run *jobRun, out Outcome) {
	if out.State != state.StateQueued {
		return
	}
	c.mu.Lock()
	run.queued = clockOr(c.Clock).Now()
	c.mu.Unlock()
	c.slotGone() // room may have freed meanwhile
}

// retryQueued starts again a queued rollout that a node can now take (one
// that matches and has room), and fails it once it waited longer than its
// timeouts.queue.
func (c *Controller) retryQueued(ctx context.Context, run *jobRun) {
	c.placing.Lock()
	defer c.placing.Unlock()
	c.mu.Lock()
	queued := run.queued
	c.mu.Unlock()
	if queued.IsZero() {
		return
	}
	j := run.job
	pl, err := c.placement(ctx, j)
	if err != nil {
		return
	}
	_, missing := resolveSecrets(ctx, c.store(), j)
	if missing == "" && (len(targets(pl)) > 0 || !j.Type.HasCount()) {
		c.mu.Lock()
		run.queued = time.Time{}
		c.mu.Unlock()
		c.reserved.add(j, perNode(pl))
		if err := c.startPlaced(j, run.version, pl); err != nil {
			c.reserved.drop(j.Namespace + "/" + j.Name)
			c.log().Error("starting a queued rollout", "job", j.Namespace+"/"+j.Name, "version", run.version, "err", err)
		}
		return
	}
	if q := time.Duration(j.Timeouts.Queue); q > 0 && clockOr(c.Clock).Since(queued) > q {
		c.mu.Lock()
		run.queued = time.Time{}
		c.mu.Unlock()
		msg := fmt.Sprintf("version %d failed: %s within timeouts.queue %s", run.version, roomNote(pl), j.Timeouts.Queue)
		if missing != "" {
			msg = fmt.Sprintf("version %d failed: %s within timeouts.queue %s", run.version, missing, j.Timeouts.Queue)
		}
		if err := c.setStatus(ctx, j, run.version, []state.JobState{state.StateQueued}, state.StateFailed, msg); err != nil {
			msg += "; it could not be recorded: " + err.Error()
		}
		c.publish(Event{Time: time.Now().UTC(), Job: j.Namespace + "/" + j.Name, Version: run.version, Kind: RolloutFailed, State: string(state.StateFailed), Message: msg})
	}
}

// reconcile keeps a deployed long-running job at its size: a daemon gets
// an execution on every matching node with room that has none (nodes
// that joined, or came back, or where room freed), a service gets back
// the executions of nodes that went away and those that waited for room,
// placed on the nodes served now.
func (c *Controller) reconcile(ctx context.Context, d *Deployment) {
	c.placing.Lock()
	defer c.placing.Unlock()
	if d.ctx.Err() != nil {
		return
	}
	pl, err := c.placement(ctx, d.r.job)
	if err != nil {
		return
	}
	short, _ := d.waits()
	why := "replacing an execution whose node went away"
	switch {
	case d.r.job.Type == schema.Daemon && short:
		why = "room freed: starting the daemon on a node that had none"
	case d.r.job.Type == schema.Daemon:
		why = "node joined: starting the daemon there"
	case short:
		why = "room freed: starting an execution that waited for it"
	}
	c.reserved.add(d.r.job, d.fill(pl, why))
}

// sameCapacity reports whether two node capacities are the same.
func sameCapacity(a, b *state.Capacity) bool {
	if a.Unlimited() || b.Unlimited() {
		return a.Unlimited() == b.Unlimited()
	}
	return *a == *b
}

// endRuns ends the term's rollouts and returns what they ran; no rollout
// starts after it until the next term. The executions batch rollouts wait
// for keep running on the nodes keep says yes of.
func (c *Controller) endRuns(keep func(node string) bool) []*jobRun {
	c.mu.Lock()
	c.life = nil
	runs := make([]*jobRun, 0, len(c.jobs))
	for _, r := range c.jobs {
		runs = append(runs, r)
	}
	c.jobs = map[string]*jobRun{}
	c.mu.Unlock()
	for _, r := range runs {
		r.keep.Store(&keep)
		r.cancel()
	}
	c.wg.Wait()
	return runs
}

// standDown ends the term of a control plane that lost the lead: it stops
// driving rollouts and checking health, and leaves every execution
// running, on every node, for the control plane that leads now to adopt.
// The runners of node agents are dropped (the next term connects again);
// nothing is written to the store.
func (c *Controller) standDown() {
	kept := 0
	all := func(string) bool { return true }
	for _, r := range c.endRuns(all) {
		k, _ := r.partial.Detach(all)
		kept += k
		k, _ = r.dep.Detach(all)
		kept += k
	}
	c.mu.Lock()
	for id := range c.connected {
		c.Runners.Set(id, nil)
	}
	c.connected = map[string]bool{}
	c.nodeWake = time.Time{}
	c.mu.Unlock()
	c.log().Info("stood down", "executions_left_running", kept)
}

// shutdown cancels every rollout; the long-running executions of node
// agents keep running (the next control plane takes them over), those of
// the nodes this process serves itself stop, and a job that lost
// executions so is recorded degraded, saying why.
func (c *Controller) shutdown() {
	runs := c.endRuns(c.remote)
	for _, r := range runs {
		kept, stopped := r.partial.Detach(c.remote)
		k, s := r.dep.Detach(c.remote)
		kept, stopped = kept+k, stopped+s
		if stopped > 0 {
			c.recordShutdown(r, kept, stopped)
		}
	}
	c.stopExecs()
}

// recordShutdown records a running job that lost stopped of its
// kept+stopped executions with this control plane as degraded.
func (c *Controller) recordShutdown(run *jobRun, kept, stopped int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg := fmt.Sprintf("version %d degraded: %d of %d executions stopped with the control plane that ran them on its own node; they start again when a control plane takes the job over",
		run.version, stopped, kept+stopped)
	// Logged when it fails: the next control plane records the job's
	// state when it takes it over.
	_ = c.setStatus(ctx, run.job, run.version, []state.JobState{state.StateRunning, state.StateDegraded}, state.StateDegraded, msg)
}

// setStatus records version of j in state st with msg, when the job is
// still at that version and (when from is not empty) in one of the states
// of from; a failed write is tried again, logged and returned.
func (c *Controller) setStatus(ctx context.Context, j *schema.Job, version int, from []state.JobState, st state.JobState, msg string) error {
	err := retry(ctx, clockOr(c.Clock), c.log().With("job", j.Namespace+"/"+j.Name, "version", version), "record the job "+string(st), func(ctx context.Context) error {
		_, err := c.store().UpdateStatus(ctx, j.Namespace, j.Name, func(js *state.JobStatus) error {
			if js.Version != version || len(from) > 0 && !slices.Contains(from, js.State) {
				return errSkip
			}
			js.State, js.Message = st, msg
			return nil
		})
		return err
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// spec reads a stored spec back into a job.
func (c *Controller) spec(ctx context.Context, hash string) (*schema.Job, error) {
	b, err := c.store().Spec(ctx, hash)
	if err != nil {
		return nil, err
	}
	return schema.FromCanonical(b)
}

// publish stores an event of the controller's own about a job and sends it
// to the subscribers; events of rollouts come through the engine, which
// stores them itself.
func (c *Controller) publish(ev Event) {
	// Logged when it fails for good: subscribers still get the event.
	_ = retry(context.Background(), clockOr(c.Clock), c.log(), "store an event of "+ev.Job, func(ctx context.Context) error {
		return c.store().AppendEvent(ctx, ev)
	})
	c.hub.publish(ev)
}
