package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// recovered is an execution an earlier control plane started, which the
// slot re-attaches to through its node before anything else.
type recovered struct {
	x     state.Execution
	done  chan runResult
	start func(ctx context.Context)
	// retiring: it belongs to an older version, so it is not restarted.
	retiring bool
}

type runResult struct {
	x    state.Execution
	err  error
	ok   bool // the task ended successfully
	lost bool // there was nothing to re-attach to
}

// slot keeps one long-running execution alive on one node: it starts it,
// checks its health every health_check.interval (probing it when the job
// has a probe), and restarts it per restart_policy with backoff when it
// ends or, once healthy, stops answering. Its life is the machine of
// phase.go; run drives it.
type slot struct {
	d      *Deployment
	node   string
	wave   int
	ctx    context.Context
	cancel context.CancelFunc
	// runCtx is the context of the execution on its node: cancelled with
	// ctx, unless the slot was detached first (see Deployment.Detach).
	runCtx   context.Context
	detached atomic.Bool
	done     chan struct{}
	// health receives "" once the execution is healthy, or why it is not.
	health chan string
	// judged is set once a rollout took the health verdict; d.mu guards it.
	judged bool

	mu sync.Mutex
	// running is set while a health check last saw the execution running
	// (and answering its probe): an execution still waiting for its node,
	// being prepared or failing its probe is not counted as running.
	running bool
	cur     string // the execution running now
	phase   phase
}

func (s *slot) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *slot) setCurrent(id string) {
	s.mu.Lock()
	s.cur = id
	s.mu.Unlock()
}

func (s *slot) isRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

func (s *slot) setRunning(v bool) {
	s.mu.Lock()
	changed := s.running != v
	s.running = v
	s.mu.Unlock()
	if changed {
		s.d.changed()
	}
}

// report sends the first health verdict; later ones are dropped.
func (s *slot) report(why string) {
	select {
	case s.health <- why:
	default:
	}
}

// run drives the slot's machine from its first execution (adopt, when an
// earlier control plane started it) until it ends: the slot was stopped,
// or the restart policy says the last execution stays ended. It returns
// errNodeGone when it ended because no agent serves its node.
func (s *slot) run(adopt *recovered) error {
	m := s.newMachine()
	defer m.close()
	m.to(m.launch(adopt))
	for m.phase != phaseEnded {
		m.to(m.step())
	}
	return m.err
}

// machine is a slot's execution life: the phase it is in, the execution
// it runs now, and the health checks, backoff and deadline that move it.
type machine struct {
	s     *slot
	r     *rollout
	clk   clockwork.Clock
	phase phase
	h     *healthState
	// healthy is set once the slot's health verdict was "healthy": the
	// rollout took it, whatever comes later.
	healthy  bool
	backoff  *backoff
	tick     clockwork.Ticker
	deadline clockwork.Timer // nil: no deadline

	cur      state.Execution    // the execution now (or last)
	prev     *state.Execution   // the one before, linked from the next
	done     chan runResult     // cur's end
	stopCur  context.CancelFunc // stops cur on its node
	retiring bool               // cur belongs to an older version: never restarted
	res      runResult          // how cur ended
	delay    time.Duration      // the backoff restarting waits out
	// unhealthyWhy says why the execution went unhealthy.
	unhealthyWhy string
	err          error // what run returns
}

func (s *slot) newMachine() *machine {
	r := s.d.r
	hc := r.job.Rollout.HealthCheck
	clk := r.clock()
	interval := time.Duration(hc.Interval)
	if interval <= 0 {
		interval = time.Duration(schema.DefaultInterval)
	}
	m := &machine{s: s, r: r, clk: clk, phase: phaseNew, h: &healthState{hc: hc},
		backoff: newBackoff(r.Backoff), tick: clk.NewTicker(interval), stopCur: func() {}}
	if hc.Deadline > 0 {
		m.deadline = clk.NewTimer(time.Duration(hc.Deadline))
	}
	return m
}

func (m *machine) close() {
	m.tick.Stop()
	if m.deadline != nil {
		m.deadline.Stop()
	}
	if !m.s.detached.Load() {
		m.stopCur()
	}
}

// deadlineC is the channel of the health deadline; nil (never ready)
// without one.
func (m *machine) deadlineC() <-chan time.Time {
	if m.deadline == nil {
		return nil
	}
	return m.deadline.Chan()
}

// step runs the slot in its phase until something moves it, and returns
// the next phase and why.
func (m *machine) step() (phase, string) {
	switch m.phase {
	case phaseStarting, phaseProbing, phaseHealthy:
		return m.watch()
	case phaseUnhealthy:
		return m.stopUnhealthy()
	case phaseRestarting:
		return m.restart()
	case phaseRetiring:
		return m.retire()
	}
	return phaseEnded, ""
}

// launch starts the slot's next execution (or takes adopt over): it
// starts, or the slot ends when it cannot be started.
func (m *machine) launch(adopt *recovered) (phase, string) {
	s := m.s
	// The execution before, if any, ended: its context goes with it.
	m.stopCur()
	runCtx, stop := context.WithCancel(s.runCtx)
	m.stopCur = stop
	if adopt != nil {
		m.cur, m.done, m.retiring = adopt.x, adopt.done, adopt.retiring
		s.setCurrent(m.cur.ID)
		go adopt.start(runCtx)
		// Taken over: it counts as what the store says until its first
		// health check.
		if m.cur.Status.ComputeState == state.ComputeRunning {
			return phaseProbing, "taken over from an earlier control plane"
		}
		return phaseStarting, "taken over from an earlier control plane"
	}
	cur, done, err := s.start(m.prev, runCtx)
	m.cur = cur
	if err != nil {
		s.setRunning(false)
		s.report(err.Error())
		if errors.Is(err, errNodeGone) {
			m.err = errNodeGone
		}
		return phaseEnded, err.Error()
	}
	m.done = done
	return phaseStarting, ""
}

// watch waits on a started execution: for it to run, to pass its checks,
// to fail them once healthy, or to end; or for the slot to stop.
func (m *machine) watch() (phase, string) {
	for {
		select {
		case <-m.s.ctx.Done():
			return phaseRetiring, "the deployment stops it"
		case m.res = <-m.done:
			return m.ended()
		case <-m.tick.Chan():
			if next, why := m.check(); next != m.phase {
				return next, why
			}
		case <-m.deadlineC():
			if !m.healthy {
				m.s.report(m.h.notHealthy(m.clk.Now()))
			}
		}
	}
}

// check runs one health check and says where it moves the slot: to
// probing once the execution runs, healthy once it passed its checks,
// unhealthy when, healthy before (or started after the rollout ended),
// it failed failure_threshold checks in a row.
func (m *machine) check() (phase, string) {
	s, r := m.s, m.r
	why := m.h.check(s.ctx, r, m.cur, &m.healthy)
	if m.h.seen != "" {
		m.cur.Status.ComputeState = m.h.seen
	}
	r.reportHealth(s, m.cur.ID, m.h, m.healthy)
	s.setRunning(m.h.up())
	if why != "" {
		s.report(why)
	} else if m.healthy {
		s.report("")
	}
	now := m.clk.Now()
	switch {
	case m.h.brokeThreshold() && m.h.running && (m.phase == phaseHealthy || m.phase == phaseProbing && s.d.isSteady()):
		m.unhealthyWhy = m.h.failing()
		return phaseUnhealthy, m.unhealthyWhy
	case m.phase != phaseHealthy && m.h.ready(now):
		return phaseHealthy, fmt.Sprintf("%d checks passed in a row", m.h.successes)
	case m.phase == phaseStarting && m.h.running:
		return phaseProbing, ""
	}
	return m.phase, ""
}

// ended takes in how the execution ended (m.res): the slot restarts it,
// or ends.
func (m *machine) ended() (phase, string) {
	s, r := m.s, m.r
	s.setRunning(false)
	res := m.res
	if res.lost {
		return m.lost()
	}
	if res.err != nil {
		s.report(res.err.Error())
		m.cur.Status.ComputeState = state.ComputeFailed
		return phaseEnded, res.err.Error()
	}
	m.cur = res.x
	m.h.ended()
	if m.retiring {
		return phaseEnded, orText(m.cur.Status.Message, "ended")
	}
	policy := r.job.RestartPolicy
	if policy == schema.Never || policy == schema.OnFailure && res.ok {
		why := fmt.Sprintf("execution %s ended (%s) and restart_policy %s does not restart it", m.cur.ID, m.cur.Status.ComputeState, policy)
		if !m.healthy {
			s.report(why)
		}
		return phaseEnded, why
	}
	if why := m.h.failing(); why != "" && !m.healthy {
		s.report(why)
	}
	// A run that stayed healthy past min_healthy_time earns a fresh
	// backoff.
	if m.healthy && m.clk.Since(m.cur.CreatedAt) > time.Duration(r.job.Rollout.HealthCheck.MinHealthyTime) {
		m.backoff.reset()
	}
	m.delay = m.backoff.wait()
	// The restart keeps the room of the execution it replaces.
	r.hold(s.node)
	r.freed()
	return phaseRestarting, fmt.Sprintf("%s; restarting in %s (restart_policy %s)",
		orText(m.cur.Status.Message, string(m.cur.Status.ComputeState)), m.delay, policy)
}

// lost handles an execution whose node had nothing to re-attach to: it
// is recorded lost and replaced at once.
func (m *machine) lost() (phase, string) {
	s, r := m.s, m.r
	msg := fmt.Sprintf("node %s had nothing to re-attach to after a control plane restart", s.node)
	if err := r.recordLost(s.ctx, m.cur, msg); err != nil {
		s.report(err.Error())
		return phaseEnded, err.Error()
	}
	m.cur.Status.ComputeState = state.ComputeLost
	if m.retiring {
		return phaseEnded, msg
	}
	if r.Runners.Get(s.node) == nil {
		// Its node is gone too: placed again where nodes serve.
		m.err = errNodeGone
		return phaseEnded, msg + "; the node is gone"
	}
	return m.launch(nil)
}

// stopUnhealthy stops an execution that stopped passing its checks, and
// waits for it to end: the restart policy then decides, as for any
// execution that ended (a probe that fails is a failure).
func (m *machine) stopUnhealthy() (phase, string) {
	m.stopCur()
	select {
	case <-m.s.ctx.Done():
		return phaseRetiring, "the deployment stops it"
	case m.res = <-m.done:
	}
	m.res.ok = false
	next, why := m.ended()
	return next, "stopped as unhealthy (" + m.unhealthyWhy + "); " + why
}

// restart waits out the backoff (m.delay), checks going on meanwhile (they fail:
// nothing runs), then starts the next execution.
func (m *machine) restart() (phase, string) {
	s, r := m.s, m.r
	wait := m.clk.NewTimer(m.delay)
	defer wait.Stop()
	for {
		select {
		case <-s.ctx.Done():
			r.release(s.node)
			return phaseEnded, "the deployment stops it"
		case <-wait.Chan():
			c := m.cur
			m.prev = &c
			return m.launch(nil)
		case <-m.tick.Chan():
			if why := m.h.check(s.ctx, r, state.Execution{}, &m.healthy); why != "" {
				s.report(why)
			}
		case <-m.deadlineC():
			if !m.healthy {
				s.report(m.h.notHealthy(m.clk.Now()))
			}
		}
	}
}

// retire lets a stopped slot's execution end: its node stops it (the run
// context follows the slot's), unless the slot was detached, when it
// runs on for the next control plane.
func (m *machine) retire() (phase, string) {
	s := m.s
	if s.detached.Load() {
		s.setRunning(false)
		return phaseEnded, "left running for the next control plane"
	}
	m.stopCur()
	if m.done != nil {
		m.res = <-m.done
		if m.res.err == nil && !m.res.lost {
			m.cur = m.res.x
		}
	}
	s.setRunning(false)
	return phaseEnded, orText(m.cur.Status.Message, "stopped")
}

// to moves the machine to next, saying why, and records the step as an
// execution event carrying the phase. A move phaseMoves does not allow
// is a defect: it is logged, and made.
func (m *machine) to(next phase, why string) {
	if !m.phase.canBecome(next) {
		m.r.log().Error("slot phase move not allowed", "from", string(m.phase), "to", string(next), "node", m.s.node, "execution", m.cur.ID)
	}
	m.phase = next
	m.s.mu.Lock()
	m.s.phase = next
	m.s.mu.Unlock()
	st := string(m.cur.Status.ComputeState)
	switch next {
	case phaseStarting:
		st = string(state.ComputeStarting)
	case phaseEnded:
		if m.cur.ID == "" && why == "" {
			return
		}
	}
	m.r.emit(Event{Kind: ExecutionEvent, Wave: m.s.wave, Node: m.s.node, Execution: m.cur.ID, State: st, Phase: string(next), Message: why})
}

// start records a new execution (linked to prev) and starts it on the
// node with runCtx; the result arrives on the channel when it ends.
func (s *slot) start(prev *state.Execution, runCtx context.Context) (state.Execution, chan runResult, error) {
	r := s.d.r
	x, err := r.newExecution(s.ctx, s.node, prev)
	if err != nil {
		return x, nil, err
	}
	run, x, err := r.runnerFor(s.ctx, x)
	if err != nil {
		return x, nil, err
	}
	if err := s.ctx.Err(); err != nil {
		// The slot ended (a stop, or a shutdown that detached it) before
		// the execution went to its node: it never runs.
		x.Status.ComputeState, x.Status.Message = state.ComputeStopped, "stopped before it started"
		got, werr := r.Store.UpdateExecution(context.WithoutCancel(s.ctx), x)
		if werr != nil {
			r.log().Error("recording an execution stopped before it started", "node", x.NodeID, "execution", x.ID, "err", werr)
			return x, nil, errors.Join(err, fmt.Errorf("recording execution %s stopped: %w", x.ID, werr))
		}
		return got, nil, err
	}
	s.setCurrent(x.ID)
	done := make(chan runResult, 1)
	go func() {
		got, res, err := run.Run(r.withSecrets(runCtx), x, r.job)
		done <- runResult{x: got, err: err, ok: err == nil && got.Status.ComputeState == state.ComputeComplete && res.Succeeded()}
	}()
	return x, done, nil
}
