package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/state"
)

// RelaySubject is the NATS subject on which the leading control plane
// answers the control requests of the others (see Relay).
const RelaySubject = "muster.control"

// relayQueue makes each request reach one responder, should two control
// planes briefly answer at once while the lead changes hands.
const relayQueue = "muster-control"

// relayRequest is a control request sent over NATS.
type relayRequest struct {
	Op        string `json:"op"` // rollout, promote, stop, launch, log
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Version   int    `json:"version,omitempty"`
	Promote   bool   `json:"promote,omitempty"`
	Execution string `json:"execution,omitempty"`
	Stream    string `json:"stream,omitempty"`
	Offset    int64  `json:"offset,omitempty"`
}

// relayReply answers a relayRequest: Error and Code as an API error
// response has them, or what the operation returned.
type relayReply struct {
	Error   string `json:"error,omitempty"`
	Code    string `json:"code,omitempty"`
	Status  int    `json:"status,omitempty"`
	Stopped int    `json:"stopped,omitempty"`
	Data    []byte `json:"data,omitempty"`
}

// relayTimeout bounds how long the leader works on one request;
// quickRelay how long a request other than a stop waits for its answer.
const (
	relayTimeout = 2 * time.Minute
	quickRelay   = 10 * time.Second
)

// ServeRelay answers the control requests of the control planes that do
// not lead with ctl, the leader's own Control, until the subscription it
// returns is unsubscribed (when the lead is lost).
func ServeRelay(nc *nats.Conn, ctl Control) (*nats.Subscription, error) {
	return nc.QueueSubscribe(RelaySubject, relayQueue, func(m *nats.Msg) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
			defer cancel()
			b, _ := json.Marshal(answerRelay(ctx, ctl, m.Data))
			_ = m.Respond(b)
		}()
	})
}

// answerRelay carries out one request.
func answerRelay(ctx context.Context, ctl Control, data []byte) relayReply {
	var req relayRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return relayError(&badRequest{msg: "control request: " + err.Error()})
	}
	var out relayReply
	var err error
	switch req.Op {
	case "rollout":
		err = ctl.Rollout(ctx, req.Namespace, req.Name, req.Version, req.Promote)
	case "promote":
		err = ctl.Promote(ctx, req.Namespace, req.Name)
	case "stop":
		out.Stopped, err = ctl.Stop(ctx, req.Namespace, req.Name)
	case "launch":
		var l state.Launch
		if l, err = ctl.Launch(ctx, req.Namespace, req.Name); err == nil {
			out.Data, err = json.Marshal(l)
		}
	case "log":
		out.Data, err = ctl.ReadLog(ctx, req.Namespace, req.Name, req.Execution, req.Stream, req.Offset)
	default:
		err = &badRequest{msg: fmt.Sprintf("control request: unknown operation %q", req.Op)}
	}
	if err != nil {
		return relayError(err)
	}
	return out
}

func relayError(err error) relayReply {
	status, code := classify(err)
	return relayReply{Error: err.Error(), Code: code, Status: status}
}

// Relay carries the control operations of a control plane that does not
// lead (Rollout, Promote, Stop, ReadLog) to the one that does, over NATS
// request/reply (ServeRelay answers them), so that every control plane
// serves the whole API. Errors keep their codes: a job the leader does not
// find matches state.ErrNotFound here too. With no leader (the lead is
// changing hands) it fails with CodeUnavailable.
type Relay struct {
	NC *nats.Conn
}

// Rollout asks the leader to roll out version.
func (r Relay) Rollout(ctx context.Context, ns, name string, version int, promote bool) error {
	_, err := r.ask(ctx, relayRequest{Op: "rollout", Namespace: ns, Name: name, Version: version, Promote: promote})
	return err
}

// Promote asks the leader to promote a paused canary rollout.
func (r Relay) Promote(ctx context.Context, ns, name string) error {
	_, err := r.ask(ctx, relayRequest{Op: "promote", Namespace: ns, Name: name})
	return err
}

// Stop asks the leader to stop a job.
func (r Relay) Stop(ctx context.Context, ns, name string) (int, error) {
	out, err := r.ask(ctx, relayRequest{Op: "stop", Namespace: ns, Name: name})
	return out.Stopped, err
}

// Launch asks the leader to launch a job now.
func (r Relay) Launch(ctx context.Context, ns, name string) (state.Launch, error) {
	out, err := r.ask(ctx, relayRequest{Op: "launch", Namespace: ns, Name: name})
	if err != nil {
		return state.Launch{}, err
	}
	var l state.Launch
	if err := json.Unmarshal(out.Data, &l); err != nil {
		return state.Launch{}, fmt.Errorf("the leader's answer to a launch: %w", err)
	}
	return l, nil
}

// ReadLog reads an execution's log through the leader, which reaches its
// node.
func (r Relay) ReadLog(ctx context.Context, ns, name, id, stream string, offset int64) ([]byte, error) {
	out, err := r.ask(ctx, relayRequest{Op: "log", Namespace: ns, Name: name, Execution: id, Stream: stream, Offset: offset})
	return out.Data, err
}

// ask sends req to the leader and waits for its answer.
func (r Relay) ask(ctx context.Context, req relayRequest) (relayReply, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return relayReply{}, err
	}
	// Starting or promoting a rollout and reading a log are quick, and
	// safe to ask again (a rollout of the version under way goes on): one
	// that gets no answer, as when the connection moves to another NATS
	// server, is answered unavailable for the client to ask again. A stop
	// waits for the nodes.
	wait := quickRelay
	if req.Op == "stop" {
		wait = relayTimeout
	}
	actx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	m, err := r.NC.RequestWithContext(actx, RelaySubject, b)
	if errors.Is(err, nats.ErrNoResponders) || ctx.Err() == nil && req.Op != "stop" && errors.Is(err, context.DeadlineExceeded) {
		return relayReply{}, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "no control plane leads right now (one takes the lead within its --lease-ttl): try again"}
	}
	if err != nil {
		return relayReply{}, fmt.Errorf("reach the leading control plane: %w", err)
	}
	var out relayReply
	if err := json.Unmarshal(m.Data, &out); err != nil {
		return relayReply{}, fmt.Errorf("the leading control plane's answer: %w", err)
	}
	if out.Error != "" {
		return out, &Error{Status: out.Status, Code: out.Code, Message: out.Error}
	}
	return out, nil
}
