package remote

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/state"
)

// persistWait bounds the wait between two attempts to record the end of
// an execution while the store does not answer.
const (
	persistFirst = 100 * time.Millisecond
	persistWait  = 2 * time.Second
)

// persist records the end of an execution when the run returned err
// because the store did not take it (NATS was down, or a server of the
// cluster went away while the run recorded its state): x is the execution
// as it was to be recorded. It tries again until the store takes it, finds
// it ended, or refuses it; meanwhile the run stays registered, so that
// OpRunning says yes and the control plane keeps waiting for the Done.
// It returns nil once the end is recorded, else err.
func (s *server) persist(x state.Execution, err error) error {
	if err == nil || x.ID == "" || !unreachable(err) {
		return err
	}
	if !x.Status.ComputeState.Ended() {
		// The run could not record a step (starting, running) and ended
		// there: it ran no further.
		x.Status.ComputeState, x.Status.Message = state.ComputeFailed, "node "+s.a.NodeID+": "+err.Error()
	}
	log := s.a.Log
	if log != nil {
		log.Warn("the end of an execution could not be recorded; trying again until the store answers",
			"component", "node", "node", s.a.NodeID, "execution", x.ID, "err", err)
	}
	wait := persistFirst
	for {
		select {
		case <-s.quit:
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, persistWait)
		done, perr := s.record(x)
		if done {
			if log != nil {
				log.Info("recorded the end of an execution after the store came back", "component", "node", "node", s.a.NodeID, "execution", x.ID)
			}
			return nil
		}
		if perr != nil && !unreachable(perr) {
			return errors.Join(err, perr)
		}
	}
}

// record tries once to record x, an execution's end, over its revision.
// done says that the store has the execution ended now, by this write or
// an earlier one.
func (s *server) record(x state.Execution) (done bool, _ error) {
	ctx, cancel := context.WithTimeout(s.base, specTimeout)
	defer cancel()
	_, err := s.a.ExecutionStore().UpdateExecution(ctx, x)
	var conflict *state.ConflictError
	if !errors.As(err, &conflict) {
		return err == nil, err
	}
	// A write that timed out may have landed; or the control plane
	// recorded it meanwhile (lost, stopped).
	ns, name, jerr := x.JobRef()
	if jerr != nil {
		return false, jerr
	}
	cur, cerr := s.a.ExecutionStore().Execution(ctx, ns, name, x.ID)
	if cerr != nil {
		return false, cerr
	}
	if cur.Status.ComputeState.Ended() {
		return true, nil
	}
	return false, err
}

// unreachable says whether err is the store not answering, rather than
// refusing: worth trying again once NATS is back.
func unreachable(err error) bool {
	var conflict *state.ConflictError
	switch {
	case errors.As(err, &conflict), errors.Is(err, state.ErrInvalid), errors.Is(err, state.ErrNotFound), errors.Is(err, state.ErrDamaged):
		return false
	}
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrDisconnected)
}

// onReconnect looks at the executions the agent runs each time the
// connection comes back, or recheck says the store was out of reach,
// until ctx is done or back is closed.
func (s *server) onReconnect(ctx context.Context, back <-chan nats.Status, recheck <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-back:
			if !ok {
				return
			}
			s.stopEnded(ctx)
		case <-recheck:
			s.stopEnded(ctx)
		}
	}
}

// stopEnded stops the executions the agent runs whose record the store has
// ended: while this agent could not be reached, the control plane recorded
// them lost (or stopped) and may have replaced them, so running them on
// would run them twice.
func (s *server) stopEnded(ctx context.Context) {
	s.mu.Lock()
	runs := make([]*run, 0, len(s.runs))
	for _, r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		ns, name, err := r.exec.JobRef()
		if err != nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, specTimeout)
		x, err := s.a.ExecutionStore().Execution(rctx, ns, name, r.exec.ID)
		cancel()
		if err != nil || !x.Status.ComputeState.Ended() {
			continue
		}
		select {
		case <-r.ended:
			continue
		default:
		}
		if s.a.Log != nil {
			s.a.Log.Warn("stopping an execution the control plane recorded ended while this agent was out of reach",
				"component", "node", "node", s.a.NodeID, "execution", x.ID, "state", string(x.Status.ComputeState))
		}
		r.cancel()
	}
}
