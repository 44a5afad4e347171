package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
	"github.com/nats-io/nats.go"
)

// specTimeout bounds loading a spec before the agent answers a run: long
// enough to ride out a NATS cluster electing the stream's leader (the
// store asks again meanwhile), within the client's requestTimeout.
const specTimeout = 25 * time.Second

// attachPoll is how often a recover request looks for the re-attach in the
// store, and attachWait how long it looks before it answers "attached" on
// the strength of the attempt still going on.
const (
	attachPoll = 20 * time.Millisecond
	attachWait = 30 * time.Second
)

// Serve serves node a.NodeID on nc until ctx is done, then stops the
// executions it still runs (each gets a.Grace to end) and returns nil. It
// returns an error when it cannot subscribe or when nc closes (after
// stopping the executions the same way). specs loads the job of a spec
// hash; SpecsFrom reads them from the store.
//
// Executions run under a context of Serve's own: neither the request nor
// the requester's connection going away stops them, only an OpStop or
// Serve's end does. a.Store records their states; their Done is published
// on nc after that.
func Serve(ctx context.Context, nc *nats.Conn, a *runner.Agent, specs func(ctx context.Context, hash string) (*schema.Job, error)) error {
	return ServeWith(ctx, nc, a, specs, ServeOptions{})
}

// ServeOptions tune ServeWith.
type ServeOptions struct {
	// Recheck, when signalled, makes the agent look up the executions it
	// runs in the store and stop those recorded ended, as it does when its
	// NATS connection comes back: the node's owner signals it when the
	// store was out of reach for a while (a heartbeat failed) although the
	// connection never broke, as after a short network partition, during
	// which the control plane may have replaced them.
	Recheck <-chan struct{}
}

// ServeWith is Serve with options.
func ServeWith(ctx context.Context, nc *nats.Conn, a *runner.Agent, specs func(ctx context.Context, hash string) (*schema.Job, error), opts ServeOptions) error {
	if err := state.CheckNodeID(a.NodeID); err != nil {
		return err
	}
	s := &server{
		base:  context.WithoutCancel(ctx),
		nc:    nc,
		a:     a,
		specs: specs,
		runs:  map[string]*run{},
		quit:  make(chan struct{}),
	}
	closed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(closed)
	back := nc.StatusChanged(nats.CONNECTED)
	defer nc.RemoveStatusListener(back)
	go s.onReconnect(ctx, back, opts.Recheck)

	handlers := []struct {
		op    string
		serve func(*nats.Msg)
		async bool
	}{
		{OpRun, s.handleRun, true},
		{OpRecover, s.handleRecover, true},
		{OpStop, s.handleStop, true},
		{OpRunning, s.handleRunning, false},
		{OpProbe, s.handleProbe, true},
		{OpLogs, s.handleLogs, false},
	}
	var subs []*nats.Subscription
	var err error
	for _, h := range handlers {
		cb := h.serve
		if h.async {
			cb = s.async(h.serve)
		}
		var sub *nats.Subscription
		sub, err = nc.Subscribe(NodeSubject(a.NodeID, h.op), cb)
		if err != nil {
			err = fmt.Errorf("serve node %s: %w", a.NodeID, err)
			break
		}
		subs = append(subs, sub)
	}
	if err == nil {
		// Have the server take the subscriptions now. A failed flush is
		// not fatal: a reconnecting connection sends them again once back.
		nc.Flush()
		select {
		case <-ctx.Done():
		case <-closed:
			err = fmt.Errorf("serve node %s: %w", a.NodeID, nats.ErrConnectionClosed)
		}
	}
	for _, sub := range subs {
		sub.Unsubscribe()
	}
	if stuck := s.shutdown(); stuck > 0 {
		err = errors.Join(err, fmt.Errorf("node %s: %d executions did not end within the grace period", a.NodeID, stuck))
	}
	return err
}

// server is the state of one Serve.
type server struct {
	base  context.Context // Serve's context without its cancellation
	nc    *nats.Conn
	a     *runner.Agent
	specs func(ctx context.Context, hash string) (*schema.Job, error)

	mu       sync.Mutex
	runs     map[string]*run // by execution id
	closing  bool
	runWG    sync.WaitGroup // run goroutines
	handleWG sync.WaitGroup // handlers running in their own goroutine
	quit     chan struct{}  // closed when shutdown stops waiting for runs (see persist)
}

func (s *server) grace() time.Duration {
	if s.a.Grace > 0 {
		return s.a.Grace
	}
	return 10 * time.Second
}

// async runs a handler in its own goroutine, so that a slow one (a spec to
// load, a stop to wait for) does not hold up the requests behind it.
func (s *server) async(h func(*nats.Msg)) nats.MsgHandler {
	return func(m *nats.Msg) {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			return
		}
		s.handleWG.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.handleWG.Done()
			h(m)
		}()
	}
}

// shutdown stops every execution and waits for them and the handlers. It
// returns how many executions did not end within the grace period and a
// few seconds.
func (s *server) shutdown() int {
	s.mu.Lock()
	s.closing = true // no run starts after this
	runs := make([]*run, 0, len(s.runs))
	for _, r := range s.runs {
		r.cancel()
		runs = append(runs, r)
	}
	s.mu.Unlock()
	deadline := time.After(s.grace() + 10*time.Second)
	stuck := 0
	for _, r := range runs {
		select {
		case <-r.ended:
		case <-deadline:
			stuck++
		}
	}
	close(s.quit)
	if stuck == 0 {
		s.handleWG.Wait()
		s.runWG.Wait()
	}
	return stuck
}

// run is an execution the agent runs.
type run struct {
	ctx    context.Context // cancelled by OpStop and Serve's end
	cancel context.CancelFunc
	ended  chan struct{}   // closed after the Done was published
	exec   state.Execution // as the run request had it
}

// reserve registers execution id as running here before its spec is
// loaded, so that OpRunning says yes from the start. It fails when the
// execution already runs here, returning that run, or when Serve ends.
func (s *server) reserve(e state.Execution) (r, existing *run, err error) {
	id := e.ID
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, nil, fmt.Errorf("the agent of node %s is shutting down", s.a.NodeID)
	}
	if x := s.runs[id]; x != nil {
		return nil, x, fmt.Errorf("execution %s already runs on node %s", id, s.a.NodeID)
	}
	ctx, cancel := context.WithCancel(s.base)
	r = &run{ctx: ctx, cancel: cancel, ended: make(chan struct{}), exec: e}
	s.runs[id] = r
	s.runWG.Add(1)
	return r, nil, nil
}

// release ends a reserved run; a Done, when there is one, was published.
func (s *server) release(id string, r *run) {
	s.mu.Lock()
	if s.runs[id] == r {
		delete(s.runs, id)
	}
	s.mu.Unlock()
	r.cancel()
	close(r.ended)
	s.runWG.Done()
}

func (s *server) lookup(id string) *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}

// publishDone tells the waiting client how execution id ended. A lost
// message is not fatal: the client then reads the end from the store.
func (s *server) publishDone(id string, res runner.Result, err error) {
	s.nc.Publish(DoneSubject(s.a.NodeID, id), mustJSON(NewDone(res, err)))
}

// prepare decodes a RunRequest, reserves its execution and loads its spec.
// On failure it answers the request itself and returns a nil run.
func (s *server) prepare(m *nats.Msg) (req RunRequest, j *schema.Job, r, existing *run) {
	refuse := func(err error) { m.Respond(mustJSON(StartReply{Error: err.Error()})) }
	if err := json.Unmarshal(m.Data, &req); err != nil {
		refuse(fmt.Errorf("decode request: %w", err))
		return req, nil, nil, nil
	}
	// As the control plane had it in the store: the first write goes
	// over that revision, without a read.
	req.Execution = state.AsStored(req.Execution, req.KVRevision)
	e := &req.Execution
	if e.NodeID != "" && e.NodeID != s.a.NodeID {
		refuse(fmt.Errorf("execution %s is for node %s, this is node %s", e.ID, e.NodeID, s.a.NodeID))
		return req, nil, nil, nil
	}
	r, existing, err := s.reserve(*e)
	if err != nil {
		if existing == nil {
			refuse(err)
		}
		return req, nil, nil, existing
	}
	if req.Spec != nil {
		j, err = specOf(req.Spec, req.SpecHash)
	} else {
		ctx, cancel := context.WithTimeout(r.ctx, specTimeout)
		j, err = s.specs(ctx, req.SpecHash)
		cancel()
	}
	if err == nil && r.ctx.Err() != nil {
		err = fmt.Errorf("execution %s was stopped before it started", e.ID)
	}
	if err != nil {
		s.release(e.ID, r)
		refuse(fmt.Errorf("node %s: %w", s.a.NodeID, err))
		return req, nil, nil, nil
	}
	return req, j, r, nil
}

func (s *server) accepted() []byte {
	return mustJSON(StartReply{Accepted: true, GraceMillis: s.grace().Milliseconds()})
}

// handleRun answers at once and then runs the execution, in the
// goroutine of its own that async gives it (one goroutine per run, whose
// stack grew already while the request was decoded).
func (s *server) handleRun(m *nats.Msg) {
	req, j, r, existing := s.prepare(m)
	if existing != nil {
		// The client asked again, its first request or this answer lost
		// on the way: it waits for the Done of the run under way.
		m.Respond(s.accepted())
		return
	}
	if r == nil {
		return
	}
	e := req.Execution
	m.Respond(s.accepted())
	defer s.release(e.ID, r)
	x, res, err := s.a.Run(runContext(r.ctx, req), e, j)
	res, err = s.stopped(r, e, res, err)
	err = s.persist(x, err)
	s.publishDone(e.ID, res, err)
}

// stopped makes a run that a stop cut short while the agent recorded a
// state change (runner.Agent writes them under the run's context) end as
// stopped rather than with the error of the cancelled write, which would
// leave the execution "starting" or "running" in the store.
func (s *server) stopped(r *run, e state.Execution, res runner.Result, err error) (runner.Result, error) {
	if err == nil || r.ctx.Err() == nil || !errors.Is(err, context.Canceled) {
		return res, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), specTimeout)
	defer cancel()
	ns, name, jerr := e.JobRef()
	if jerr != nil {
		return res, err
	}
	x, xerr := s.a.ExecutionStore().Execution(ctx, ns, name, e.ID)
	if xerr != nil {
		return res, err
	}
	if !x.Status.ComputeState.Ended() {
		x.Status.ComputeState, x.Status.Message = state.ComputeStopped, "stopped"
		if _, xerr := s.a.ExecutionStore().UpdateExecution(ctx, x); xerr != nil {
			return res, err
		}
	}
	return runner.Result{ExitCode: -1, Message: "stopped"}, nil
}

// handleRecover re-attaches in the background and answers once it knows
// whether there was something to re-attach to: when Agent.Recover returned,
// or when the store shows that it recorded the re-attach.
func (s *server) handleRecover(m *nats.Msg) {
	req, j, r, existing := s.prepare(m)
	if existing != nil {
		// Already ours: the client waits for the Done of that run.
		m.Respond(s.accepted())
		return
	}
	if r == nil {
		return
	}
	e := req.Execution
	type outcome struct {
		ok  bool
		err error
	}
	returned := make(chan outcome, 1)
	go func() {
		x, res, ok, err := s.a.Recover(runContext(r.ctx, req), e, j)
		if !ok && err == nil {
			s.release(e.ID, r)
			returned <- outcome{}
			return
		}
		returned <- outcome{ok, err}
		res, err = s.stopped(r, e, res, err)
		err = s.persist(x, err)
		s.publishDone(e.ID, res, err)
		s.release(e.ID, r)
	}()

	ns, name, _ := e.JobRef()
	tick := time.NewTicker(attachPoll)
	defer tick.Stop()
	deadline := time.After(attachWait)
	for {
		select {
		case o := <-returned:
			switch {
			case o.ok:
				m.Respond(s.accepted())
			case o.err != nil:
				m.Respond(mustJSON(StartReply{Error: fmt.Sprintf("node %s: %v", s.a.NodeID, o.err)}))
			default:
				m.Respond(mustJSON(StartReply{}))
			}
			return
		case <-tick.C:
			x, err := s.a.ExecutionStore().Execution(r.ctx, ns, name, e.ID)
			if err == nil && x.Revision > e.Revision {
				m.Respond(s.accepted())
				return
			}
		case <-deadline:
			// Still attaching: the client waits for the Done, asking
			// OpRunning as for a run.
			m.Respond(s.accepted())
			return
		}
	}
}

// handleStop cancels a run and answers when it ended, or after the grace
// period and a few seconds.
func (s *server) handleStop(m *nats.Msg) {
	var req ExecRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		m.Respond(mustJSON(StopReply{}))
		return
	}
	r := s.lookup(req.ExecutionID)
	if r == nil {
		m.Respond(mustJSON(StopReply{}))
		return
	}
	r.cancel()
	t := time.NewTimer(s.grace() + 5*time.Second)
	defer t.Stop()
	select {
	case <-r.ended:
		m.Respond(mustJSON(StopReply{Running: true, Ended: true}))
	case <-t.C:
		m.Respond(mustJSON(StopReply{Running: true}))
	}
}

func (s *server) handleRunning(m *nats.Msg) {
	var req ExecRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		m.Respond(mustJSON(RunningReply{}))
		return
	}
	m.Respond(mustJSON(RunningReply{Running: s.lookup(req.ExecutionID) != nil}))
}

// handleProbe probes an execution the agent runs, with the probe of the
// job it runs it for, within the asker's bound.
func (s *server) handleProbe(m *nats.Msg) {
	var req ExecRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		m.Respond(mustJSON(ProbeReply{Error: "decode request: " + err.Error()}))
		return
	}
	ctx := s.base
	if req.TimeoutMillis > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMillis)*time.Millisecond)
		defer cancel()
	}
	res, err := s.a.Probe(ctx, req.ExecutionID)
	reply := ProbeReply{ProbeResult: res}
	if err != nil {
		reply = ProbeReply{Error: err.Error()}
	}
	m.Respond(mustJSON(reply))
}

// logHeadroom leaves room for the headers of a logs reply under the
// connection's maximum payload.
const logHeadroom = 4 << 10

func (s *server) handleLogs(m *nats.Msg) {
	reply := nats.NewMsg(m.Reply)
	var req LogsRequest
	err := json.Unmarshal(m.Data, &req)
	if err == nil {
		reply.Data, err = s.a.ReadLog(s.base, req.ExecutionID, req.Stream, req.Offset)
	}
	if err != nil {
		reply.Header.Set(ErrorHeader, err.Error())
		reply.Data = nil
	}
	if limit := s.nc.MaxPayload() - logHeadroom; limit > 0 && int64(len(reply.Data)) > limit {
		// A shorter chunk is a valid answer: the reader asks again from
		// where it ends.
		reply.Data = reply.Data[:limit]
	}
	m.RespondMsg(reply)
}

// SpecsFrom loads specs from st for Serve: it reads the canonical bytes of
// the hash, decodes and normalizes them, and checks that they hash back to
// the hash asked for.
func SpecsFrom(st *state.Store) func(ctx context.Context, hash string) (*schema.Job, error) {
	return func(ctx context.Context, hash string) (*schema.Job, error) {
		b, err := st.Spec(ctx, hash)
		if err != nil {
			return nil, err
		}
		return specOf(b, hash)
	}
}

// specOf decodes and normalizes the canonical bytes of spec hash, and
// checks that they hash back to it. The jobs of the last 512 specs are
// kept, by their bytes: a node asked to run many executions of one job
// decodes and checks its spec once. The job returned is shared: it is
// read, never changed (as the engine shares one among the executions it
// runs on local agents).
func specOf(b []byte, hash string) (*schema.Job, error) {
	if j := specs.get(hash, b); j != nil {
		return j, nil
	}
	j, err := decodeSpec(b, hash)
	if err == nil {
		specs.put(hash, b, j)
	}
	return j, err
}

// specCacheSize is how many specs specOf keeps.
const specCacheSize = 512

// specs are the specs specOf decoded last, for every Serve of the process.
var specs specCache

// specCache keeps decoded specs by hash and bytes, dropping the oldest
// past specCacheSize.
type specCache struct {
	mu    sync.Mutex
	m     map[string]cachedSpec
	order []string
}

type cachedSpec struct {
	b []byte
	j *schema.Job
}

// get returns the job decoded from exactly b under hash, or nil.
func (c *specCache) get(hash string, b []byte) *schema.Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[hash]; ok && bytes.Equal(s.b, b) {
		return s.j
	}
	return nil
}

func (c *specCache) put(hash string, b []byte, j *schema.Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedSpec{}
	}
	if _, ok := c.m[hash]; !ok {
		c.order = append(c.order, hash)
	}
	c.m[hash] = cachedSpec{b: bytes.Clone(b), j: j}
	for len(c.order) > specCacheSize {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}

// decodeSpec is specOf without the cache.
func decodeSpec(b []byte, hash string) (*schema.Job, error) {
	var j schema.Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("spec %s: %w", hash, err)
	}
	schema.Normalize(&j)
	if got := j.Hash(); got != hash {
		return nil, fmt.Errorf("spec %s reads back as %s", hash, got)
	}
	return &j, nil
}

// runContext is the context an execution of req runs under: with its
// secrets and, when the control plane sent them, its sensitive paths.
func runContext(ctx context.Context, req RunRequest) context.Context {
	ctx = runner.WithSecrets(ctx, req.Secrets)
	if req.Spec != nil {
		ctx = runner.WithSensitivePaths(ctx, req.Sensitive)
	}
	return ctx
}
