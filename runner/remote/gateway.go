package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/state"
)

// The execution gateway. A node's credentials may not write the
// executions bucket (state.NodePermissions): its agent records its
// executions through the control planes, each of which answers on
// GatewaySubjects (a queue group, leading or not), and writes an
// execution only for the node it belongs to. The node is named by the
// subject, which only that node's credentials may publish to, never by
// the request.

// Gateway operations, the last token of a gateway subject.
const (
	// GatewayGet reads one execution: ExecRef, answered by a
	// gatewayReply.
	GatewayGet = "get"
	// GatewayUpdate writes one execution over its revision
	// (state.Store.UpdateExecution): an Execution, answered by a
	// gatewayReply.
	GatewayUpdate = "update"
)

// gatewayQueue is the queue group of the control planes' gateways.
const gatewayQueue = "muster-gateway"

// gatewayTimeout bounds how long a control plane works on one gateway
// request: the store's own writes ride out a stream leader election
// within it. A node asks again when an answer does not come within
// gatewayAttempt (its request, or the answer, may have been lost with a
// NATS server), for up to gatewayPatience.
const (
	gatewayTimeout  = 30 * time.Second
	gatewayAttempt  = 10 * time.Second
	gatewayPatience = time.Minute
)

// ExecRef names an execution.
type ExecRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	ID        string `json:"id"`
}

// gatewayReply answers a gateway request: the execution as stored, or
// why not.
type gatewayReply struct {
	Execution *state.Execution `json:"execution,omitempty"`
	Error     *gatewayError    `json:"error,omitempty"`
}

// gatewayError is a refusal of the gateway, as a node's agent needs it:
// Kind tells conflicts, refused transitions, missing and malformed
// records and an unavailable store apart.
type gatewayError struct {
	Kind    string               `json:"kind"` // conflict, invalid, not_found, unavailable, error
	Message string               `json:"message"`
	Current *state.ConflictError `json:"conflict,omitempty"`
}

func (e *gatewayError) Error() string { return e.Message }

// Is matches the state errors of its kind.
func (e *gatewayError) Is(target error) bool {
	switch e.Kind {
	case "invalid":
		return target == state.ErrInvalid
	case "not_found":
		return target == state.ErrNotFound
	case "unavailable":
		return target == nats.ErrTimeout // tried again, as a store that did not answer
	}
	return false
}

// gatewayErrorOf classifies err for the reply.
func gatewayErrorOf(err error) *gatewayError {
	var conflict *state.ConflictError
	switch {
	case errors.As(err, &conflict):
		return &gatewayError{Kind: "conflict", Message: err.Error(), Current: conflict}
	case errors.Is(err, state.ErrInvalid):
		return &gatewayError{Kind: "invalid", Message: err.Error()}
	case errors.Is(err, state.ErrNotFound):
		return &gatewayError{Kind: "not_found", Message: err.Error()}
	case state.Unavailable(err), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return &gatewayError{Kind: "unavailable", Message: err.Error()}
	}
	return &gatewayError{Kind: "error", Message: err.Error()}
}

// GatewaySubject is the subject of gateway operation op of node nodeID:
// "muster.gw.<node id>.<op>".
func GatewaySubject(nodeID, op string) string { return state.GatewaySubjects + nodeID + "." + op }

// ServeGateway answers the gateway requests of every node with st, until
// the subscription it returns is unsubscribed.
func ServeGateway(nc *nats.Conn, st *state.Store) (*nats.Subscription, error) {
	return nc.QueueSubscribe(state.GatewaySubjects+">", gatewayQueue, func(m *nats.Msg) {
		go func() {
			b, _ := json.Marshal(answerGateway(st, m.Subject, m.Data))
			_ = m.Respond(b)
		}()
	})
}

// answerGateway carries out one gateway request on subject.
func answerGateway(st *state.Store, subject string, data []byte) gatewayReply {
	node, op, ok := splitGatewaySubject(subject)
	if !ok {
		return gatewayReply{Error: &gatewayError{Kind: "invalid", Message: "gateway subject " + subject}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), gatewayTimeout)
	defer cancel()
	var x state.Execution
	var err error
	switch op {
	case GatewayGet:
		var ref ExecRef
		if err = json.Unmarshal(data, &ref); err == nil {
			x, err = nodeExecution(ctx, st, node, ref)
		}
	case GatewayUpdate:
		if err = json.Unmarshal(data, &x); err == nil {
			x, err = updateNodeExecution(ctx, st, node, x)
		}
	default:
		err = fmt.Errorf("%w: unknown gateway operation %q", state.ErrInvalid, op)
	}
	if err != nil {
		return gatewayReply{Error: gatewayErrorOf(err)}
	}
	return gatewayReply{Execution: &x}
}

// splitGatewaySubject cuts "muster.gw.<node id>.<op>" into its node and
// operation.
func splitGatewaySubject(subject string) (node, op string, ok bool) {
	rest, ok := strings.CutPrefix(subject, state.GatewaySubjects)
	i := strings.LastIndexByte(rest, '.')
	if !ok || i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// nodeExecution reads execution ref if it belongs to node; another node's
// is not found.
func nodeExecution(ctx context.Context, st *state.Store, node string, ref ExecRef) (state.Execution, error) {
	x, err := st.Execution(ctx, ref.Namespace, ref.Name, ref.ID)
	if err == nil && x.NodeID != node {
		return state.Execution{}, fmt.Errorf("execution %s/%s/%s of node %s: %w", ref.Namespace, ref.Name, ref.ID, node, state.ErrNotFound)
	}
	return x, err
}

// updateNodeExecution writes what a node may write of x (nodeWrite) if x,
// as stored and as written, belongs to node.
func updateNodeExecution(ctx context.Context, st *state.Store, node string, x state.Execution) (state.Execution, error) {
	ns, name, err := x.JobRef()
	if err != nil {
		return state.Execution{}, err
	}
	if x.NodeID != node {
		return state.Execution{}, fmt.Errorf("%w: node %s may not record an execution of node %s", state.ErrInvalid, node, x.NodeID)
	}
	var w state.Execution
	y, err := st.UpdateExecutionFrom(ctx, x, func(cur, x state.Execution) (state.Execution, error) {
		if cur.NodeID != node {
			return state.Execution{}, fmt.Errorf("execution %s/%s/%s of node %s: %w", ns, name, x.ID, node, state.ErrNotFound)
		}
		w = nodeWrite(cur, x)
		return w, nil
	})
	var conflict *state.ConflictError
	if errors.As(err, &conflict) {
		// The node asked again after an answer it did not get: the
		// write it asks for may be the one stored.
		if now, cerr := st.Execution(ctx, ns, name, x.ID); cerr == nil && sameWrite(w, now) {
			return now, nil
		}
	}
	return y, err
}

// nodeWrite is what a node's write x may change of its execution cur:
// the state, the outputs and what it skipped and read, over x's revision.
// The rest (its job, version, node, links to the executions before and
// after it) is the control plane's and stays as stored.
func nodeWrite(cur, x state.Execution) state.Execution {
	w := cur
	w.Revision = x.Revision
	w.Status = x.Status
	w.Outputs, w.Accessed, w.Skipped, w.Ports = x.Outputs, x.Accessed, x.Skipped, x.Ports
	return w
}

// sameWrite reports whether cur, as stored, is want written over its
// revision: the revision after it, and otherwise what want says.
func sameWrite(want, cur state.Execution) bool {
	if cur.Revision != want.Revision+1 {
		return false
	}
	want.Revision, want.CreatedAt, want.UpdatedAt = cur.Revision, cur.CreatedAt, cur.UpdatedAt
	a, aerr := json.Marshal(want)
	b, berr := json.Marshal(cur)
	return aerr == nil && berr == nil && string(a) == string(b)
}

// Gateway is the execution store of a node's agent: the control planes'
// gateway, for a node whose credentials may not write executions.
type Gateway struct {
	NC     *nats.Conn
	NodeID string
}

// Execution reads one execution of the node.
func (g Gateway) Execution(ctx context.Context, ns, name, id string) (state.Execution, error) {
	return g.ask(ctx, GatewayGet, ExecRef{ns, name, id})
}

// UpdateExecution records e, an execution of the node, over its revision.
func (g Gateway) UpdateExecution(ctx context.Context, e state.Execution) (state.Execution, error) {
	return g.ask(ctx, GatewayUpdate, e)
}

// ask sends one request and returns the execution of its answer.
func (g Gateway) ask(ctx context.Context, op string, req any) (state.Execution, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return state.Execution{}, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, gatewayPatience)
		defer cancel()
	}
	m, err := g.request(ctx, GatewaySubject(g.NodeID, op), b)
	if err != nil {
		return state.Execution{}, fmt.Errorf("record through the control planes: %w", err)
	}
	var reply gatewayReply
	if err := json.Unmarshal(m.Data, &reply); err != nil {
		return state.Execution{}, fmt.Errorf("the control plane's answer: %w", err)
	}
	switch {
	case reply.Error != nil && reply.Error.Current != nil:
		return state.Execution{}, reply.Error.Current
	case reply.Error != nil:
		return state.Execution{}, reply.Error
	case reply.Execution == nil:
		return state.Execution{}, errors.New("the control plane's answer holds no execution")
	}
	return *reply.Execution, nil
}

// request sends a gateway request, asking again while no answer comes
// within gatewayAttempt or no control plane answers, until ctx ends.
func (g Gateway) request(ctx context.Context, subject string, data []byte) (*nats.Msg, error) {
	again := func(err error) bool {
		return ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders))
	}
	return state.AskAgain(ctx, gatewayPatience, again, func() (*nats.Msg, error) {
		actx, cancel := context.WithTimeout(ctx, gatewayAttempt)
		defer cancel()
		return g.NC.RequestWithContext(actx, subject, data)
	})
}
