package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
	"github.com/nats-io/nats.go"
)

const (
	// defaultPing is Client.Ping when zero.
	defaultPing = 5 * time.Second
	// requestTimeout bounds the answer to a run, recover or logs request:
	// beyond the agent's specTimeout.
	requestTimeout = 30 * time.Second
	// defaultGrace is assumed when an agent did not tell its grace period.
	defaultGrace = 10 * time.Second
	// maxMisses is how many pings in a row may go unanswered before the
	// agent counts as gone.
	maxMisses = 3
)

// Client runs the executions of one node through the agent that serves it
// (Serve) in another process. It has the methods of an agent the rollout
// engine runs executions through (apply.Runner; the control plane, which
// wires the two, checks that at compile time). Its fields are set
// before use and not changed after; it is then safe for concurrent use.
//
// An execution the agent stops answering for is recorded lost: the agent
// writes the states of an execution with compare-and-set on its revision,
// so once the client recorded it lost, a late agent cannot overwrite that.
type Client struct {
	// NodeID is the node the agent serves.
	NodeID string
	// NC reaches the agent.
	NC *nats.Conn
	// Store holds the executions; the client reads their final state there
	// and records the ones the agent cannot.
	Store *state.Store
	// Ping is how often a waiting Run asks the agent whether it still runs
	// the execution; 5s when zero. An agent that does not answer three
	// pings in a row, or answers that it does not run the execution while
	// no Done came, makes the execution lost.
	Ping time.Duration
	// Reconnect is how long a run or recover request keeps asking a node
	// no agent answers for yet (its agent reconnects after a control plane
	// restart) before it counts as gone; zero asks once.
	Reconnect time.Duration
}

func (c *Client) ping() time.Duration {
	if c.Ping > 0 {
		return c.Ping
	}
	return defaultPing
}

// Run runs execution e of job j on the agent and waits for its end. The
// agent loads j from the store by its hash, so the spec must be stored
// there. An agent that does not answer makes e lost, with no error; one
// that refuses it makes it failed. Cancelling ctx stops the execution
// (the agent gets its grace period and a few seconds) and Run returns
// when it ended.
func (c *Client) Run(ctx context.Context, e state.Execution, j *schema.Job) (state.Execution, runner.Result, error) {
	x, res, _, err := c.start(ctx, OpRun, e, j)
	return x, res, err
}

// Recover asks the agent to re-attach to execution e, which an earlier
// agent process or control plane started, and waits for it as Run does.
// ok is false, and e untouched, when the agent has nothing to re-attach
// to or no agent answers: the caller then replaces e. An agent that cannot
// look (its spec or log files unreadable) makes an error, as
// runner.Agent.Recover does.
func (c *Client) Recover(ctx context.Context, e state.Execution, j *schema.Job) (_ state.Execution, _ runner.Result, ok bool, _ error) {
	return c.start(ctx, OpRecover, e, j)
}

// ReadLog reads what execution executionID wrote to stream from offset
// on, through the agent, as runner.Agent.ReadLog does. A chunk may be
// shorter than runner.MaxLogChunk while more follows: read again from
// where it ends until the result is empty.
func (c *Client) ReadLog(ctx context.Context, executionID, stream string, offset int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req := LogsRequest{ExecutionID: executionID, Stream: stream, Offset: offset}
	m, err := c.NC.RequestWithContext(ctx, NodeSubject(c.NodeID, OpLogs), mustJSON(req))
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("read log of execution %s: no agent answers for node %s", executionID, c.NodeID)
	}
	if err != nil {
		return nil, fmt.Errorf("read log of execution %s on node %s: %w", executionID, c.NodeID, err)
	}
	if msg := m.Header.Get(ErrorHeader); msg != "" {
		return nil, fmt.Errorf("node %s: %s", c.NodeID, msg)
	}
	return m.Data, nil
}

// ProbeMargin is what a probe request leaves beyond the probe itself, for
// the request and the answer to travel and the agent to take them: the
// agent is told to end the probe ProbeMargin before the asker stops
// waiting. A caller that bounds ctx gives it the probe's timeout plus
// ProbeMargin at least.
const ProbeMargin = time.Second

// probeWait bounds the wait for a probe's answer when ctx has no deadline:
// beyond any probe timeout, which is less than its check's interval.
const probeWait = requestTimeout

// Probe asks the agent to probe execution executionID with the probe of
// the job it runs it for, as runner.Agent.Probe does, and returns what it
// found: NotRunning when the agent runs no such execution (it ended, or
// runs on another node). The answer is awaited until ctx's deadline, or
// for 30s when ctx has none; the agent ends the probe ProbeMargin before
// that, or at the probe's own timeout when sooner, so the answer comes
// back within the probe's timeout plus ProbeMargin. The error says that
// no agent answers for the node, or that none answered in time.
func (c *Client) Probe(ctx context.Context, executionID string) (runner.ProbeResult, error) {
	wait := probeWait
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req := ExecRequest{ExecutionID: executionID, TimeoutMillis: max((wait - ProbeMargin).Milliseconds(), 1)}
	m, err := c.NC.RequestWithContext(ctx, NodeSubject(c.NodeID, OpProbe), mustJSON(req))
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return runner.ProbeResult{}, fmt.Errorf("probe execution %s: no agent answers for node %s", executionID, c.NodeID)
	case err != nil:
		return runner.ProbeResult{}, fmt.Errorf("probe execution %s on node %s: %w", executionID, c.NodeID, err)
	}
	var reply ProbeReply
	if err := json.Unmarshal(m.Data, &reply); err != nil {
		return runner.ProbeResult{}, fmt.Errorf("probe execution %s on node %s: decode reply: %w", executionID, c.NodeID, err)
	}
	if reply.Error != "" {
		return runner.ProbeResult{}, fmt.Errorf("node %s: %s", c.NodeID, reply.Error)
	}
	return reply.ProbeResult, nil
}

// start sends a run or recover request and waits for the execution's end.
func (c *Client) start(ctx context.Context, op string, e state.Execution, j *schema.Job) (state.Execution, runner.Result, bool, error) {
	recovering := op == OpRecover
	// Wait for the Done before asking, so that no Done can come first.
	done := make(chan *nats.Msg, 4)
	mux, err := doneMuxOf(c.NC)
	if err != nil {
		return e, runner.Result{}, false, fmt.Errorf("execution %s on node %s: %w", e.ID, c.NodeID, err)
	}
	defer mux.wait(DoneSubject(c.NodeID, e.ID), done)()

	// The request itself is not cancelled with ctx: a started execution is
	// stopped through the agent instead, which then says how it ended.
	spec := runner.CanonicalOf(ctx, j)
	req := RunRequest{Execution: e, KVRevision: e.StoredRevision(), SpecHash: schema.HashBytes(spec), Spec: spec}
	if req.Sensitive, err = c.sensitivePaths(ctx, req.SpecHash); err != nil {
		return e, runner.Result{}, false, fmt.Errorf("execution %s on node %s: read which values of its spec are sensitive: %w", e.ID, c.NodeID, err)
	}
	if !recovering {
		req.Secrets = runner.SecretsFrom(ctx)
	}
	m, err := c.request(ctx, op, req)
	var reply StartReply
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		if recovering {
			return e, runner.Result{}, false, nil
		}
		msg := "no agent answers for node " + c.NodeID
		x, err := c.settle(ctx, e, state.ComputeLost, msg)
		return x, runner.Result{ExitCode: -1, Message: msg}, false, err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout):
		// The agent may have started it and be slow to say so: the pings
		// tell.
		reply = StartReply{Accepted: true}
	case err != nil:
		return e, runner.Result{}, false, fmt.Errorf("execution %s on node %s: %w", e.ID, c.NodeID, err)
	default:
		if err := json.Unmarshal(m.Data, &reply); err != nil {
			return e, runner.Result{}, false, fmt.Errorf("execution %s on node %s: decode reply: %w", e.ID, c.NodeID, err)
		}
	}
	if !reply.Accepted {
		if recovering {
			if reply.Error != "" {
				// As runner.Agent.Recover: a node that cannot look is a
				// problem of muster, not an execution to replace.
				return e, runner.Result{}, false, errors.New(reply.Error)
			}
			return e, runner.Result{}, false, nil
		}
		msg := "node " + c.NodeID + " refused the execution"
		if reply.Error != "" {
			msg += ": " + reply.Error
		}
		x, err := c.settle(ctx, e, state.ComputeFailed, msg)
		return x, runner.Result{ExitCode: -1, Message: msg}, false, err
	}
	grace := reply.Grace()
	if grace <= 0 {
		grace = defaultGrace
	}
	x, res, err := c.wait(ctx, e, done, grace)
	return x, res, true, err
}

// sensitivePaths reads the sensitive paths of spec hash for a request,
// which is sent even when ctx ended (see request); those ctx carries
// (runner.WithSensitivePaths: the rollout read them as it started) are
// not read again.
func (c *Client) sensitivePaths(ctx context.Context, hash string) ([]string, error) {
	if paths, ok := runner.SensitivePathsFrom(ctx); ok {
		return paths, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	defer cancel()
	return c.Store.SensitivePaths(ctx, hash)
}

// request sends a run or recover request, asking again while no agent
// answers for up to c.Reconnect. A run not yet sent is given up when ctx
// ends; a recover is not: its execution runs on the node, and a caller
// that ends ctx wants it stopped, which needs the agent's answer first.
//
// A run request that gets no answer within runAttempt is sent again, for
// up to requestTimeout, while the agent does not run the execution and
// has not written it (lost): the request, or the agent's answer, went
// to a NATS server the agent was leaving. The agent answers a run it has
// already as accepted, so the request may arrive twice.
func (c *Client) request(ctx context.Context, op string, req RunRequest) (*nats.Msg, error) {
	now := time.Now()
	give, patience := now.Add(c.Reconnect), now.Add(requestTimeout)
	stop := ctx.Done()
	attempt := requestTimeout
	if op == OpRecover {
		stop = nil
	} else {
		attempt = runAttempt
	}
	for {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), attempt)
		m, err := c.NC.RequestWithContext(rctx, NodeSubject(c.NodeID, op), mustJSON(req))
		cancel()
		switch {
		case errors.Is(err, nats.ErrNoResponders) && time.Now().Before(give):
		case op == OpRun && timedOut(err) && time.Now().Before(patience) && c.lost(ctx, req):
		default:
			return m, err
		}
		select {
		case <-stop:
			return m, err
		case <-time.After(reconnectPoll):
		}
	}
}

// runAttempt is how long a run request waits for the agent's answer
// before the client looks whether it was lost: the agent answers at once.
var runAttempt = 5 * time.Second

func timedOut(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}

// lost reports whether the agent does not run the execution of req (or
// does not answer) and the store holds it as the request had it: the
// agent never took the request.
func (c *Client) lost(ctx context.Context, req RunRequest) bool {
	if running, err := c.running(ctx, req.Execution.ID, c.ping()); err == nil && running {
		return false
	}
	x, err := c.current(ctx, req.Execution)
	return err == nil && x.StoredRevision() == req.KVRevision
}

// reconnectPoll is how often a request asks again for an agent that does
// not answer yet.
const reconnectPoll = 200 * time.Millisecond

// wait waits for the Done of an execution the agent accepted, pinging the
// agent meanwhile, and stops it when ctx ends.
func (c *Client) wait(ctx context.Context, e state.Execution, done <-chan *nats.Msg, grace time.Duration) (state.Execution, runner.Result, error) {
	ping := c.ping()
	tick := time.NewTicker(ping)
	defer tick.Stop()
	misses := 0
	reconnects := c.NC.Stats().Reconnects
	for {
		select {
		case m := <-done:
			return c.ended(ctx, e, m)
		case <-ctx.Done():
			return c.stop(ctx, e, done, grace)
		case <-tick.C:
		}
		running, err := c.running(ctx, e.ID, ping)
		if err != nil && ctx.Err() != nil {
			continue // the select above stops it
		}
		if err == nil && running {
			misses = 0
			continue
		}
		// A Done is published before the agent forgets the execution, and
		// arrives first on this connection.
		select {
		case m := <-done:
			return c.ended(ctx, e, m)
		default:
		}
		if err != nil {
			if r := c.NC.Stats().Reconnects; r != reconnects || !c.NC.IsConnected() {
				// This side lost NATS meanwhile: the agent may have too,
				// and gets as many pings as ever to come back once both
				// are connected again.
				reconnects, misses = r, 0
				continue
			}
			if misses++; misses < maxMisses {
				continue
			}
		}
		return c.gone(ctx, e, done, "the agent of node "+c.NodeID+" stopped answering")
	}
}

// running asks the agent whether it runs execution id.
func (c *Client) running(ctx context.Context, id string, timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := c.NC.RequestWithContext(ctx, NodeSubject(c.NodeID, OpRunning), mustJSON(ExecRequest{ExecutionID: id}))
	if err != nil {
		return false, err
	}
	var r RunningReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return false, err
	}
	return r.Running, nil
}

// stop asks the agent to stop the execution and waits for its Done, for
// the agent's grace period and a few seconds.
func (c *Client) stop(ctx context.Context, e state.Execution, done <-chan *nats.Msg, grace time.Duration) (state.Execution, runner.Result, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace+10*time.Second)
	m, err := c.NC.RequestWithContext(sctx, NodeSubject(c.NodeID, OpStop), mustJSON(ExecRequest{ExecutionID: e.ID}))
	cancel()
	var reply StopReply
	if err == nil {
		err = json.Unmarshal(m.Data, &reply)
	}
	wait := time.Duration(0)
	if err == nil && reply.Ended {
		// The Done was published before the answer: it is here or close.
		wait = 2 * time.Second
	}
	if m := waitDone(done, wait); m != nil {
		return c.ended(ctx, e, m)
	}
	msg := "the agent of node " + c.NodeID + " stopped answering"
	switch {
	case err != nil:
	case !reply.Running:
		msg = "the agent of node " + c.NodeID + " no longer runs it"
	case !reply.Ended:
		msg = "the agent of node " + c.NodeID + " did not stop it in time"
	}
	return c.settleGone(ctx, e, msg)
}

// waitDone returns the Done message if one is there or comes within d,
// else nil.
func waitDone(done <-chan *nats.Msg, d time.Duration) *nats.Msg {
	select {
	case m := <-done:
		return m
	default:
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case m := <-done:
		return m
	case <-t.C:
		return nil
	}
}

// gone ends the wait for an execution the agent no longer runs, or no
// longer answers for, while no Done came: if the store says it ended, the
// Done may still be on its way; otherwise it is lost.
func (c *Client) gone(ctx context.Context, e state.Execution, done <-chan *nats.Msg, msg string) (state.Execution, runner.Result, error) {
	x, err := c.current(ctx, e)
	if err != nil {
		return e, runner.Result{}, err
	}
	if x.Status.ComputeState.Ended() {
		if m := waitDone(done, c.ping()); m != nil {
			return c.ended(ctx, e, m)
		}
		return x, resultOf(x), nil
	}
	return c.settleGone(ctx, e, msg)
}

// settleGone records the execution lost unless it ended meanwhile.
func (c *Client) settleGone(ctx context.Context, e state.Execution, msg string) (state.Execution, runner.Result, error) {
	x, err := c.settle(ctx, e, state.ComputeLost, msg)
	return x, resultOf(x), err
}

// ended returns the execution as the store has it after its Done.
func (c *Client) ended(ctx context.Context, e state.Execution, m *nats.Msg) (state.Execution, runner.Result, error) {
	var d Done
	if err := json.Unmarshal(m.Data, &d); err != nil {
		return e, runner.Result{}, fmt.Errorf("execution %s on node %s: decode its end: %w", e.ID, c.NodeID, err)
	}
	x, err := c.current(ctx, e)
	if err != nil {
		return e, d.Result(), err
	}
	if d.Error != "" {
		return x, d.Result(), fmt.Errorf("node %s: %s", c.NodeID, d.Error)
	}
	return x, d.Result(), nil
}

// current reads the execution from the store, even after ctx ended.
func (c *Client) current(ctx context.Context, e state.Execution) (state.Execution, error) {
	ns, name, err := e.JobRef()
	if err != nil {
		return e, err
	}
	return c.Store.Execution(context.WithoutCancel(ctx), ns, name, e.ID)
}

// settle records the execution in compute state to with msg, unless the
// store already has it ended, and returns it as stored.
func (c *Client) settle(ctx context.Context, e state.Execution, to state.ComputeState, msg string) (state.Execution, error) {
	ctx = context.WithoutCancel(ctx)
	for attempt := 0; ; attempt++ {
		x, err := c.current(ctx, e)
		if err != nil {
			return e, err
		}
		if x.Status.ComputeState.Ended() {
			return x, nil
		}
		x.Status.ComputeState, x.Status.Message = to, msg
		y, err := c.Store.UpdateExecution(ctx, x)
		if err == nil {
			return y, nil
		}
		var conflict *state.ConflictError
		if !errors.As(err, &conflict) || attempt == 5 {
			return x, err
		}
		// The agent wrote meanwhile: read again.
	}
}

// resultOf is the Result of an execution whose Done never came.
func resultOf(x state.Execution) runner.Result {
	if x.Status.ComputeState == state.ComputeComplete {
		return runner.Result{Message: x.Status.Message}
	}
	return runner.Result{ExitCode: -1, Message: x.Status.Message}
}
