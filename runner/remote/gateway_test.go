package remote_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/state"
)

// TestGatewayKeepsANodeToItsOwnExecutions connects as node n1, with its
// credentials, and tries to read and record an execution of node n2
// through the gateway, to pass one of its own off as n2's, to ask the
// gateway in n2's name, and to write the executions bucket directly:
// every try is refused and n2's execution stays as it was.
func TestGatewayKeepsANodeToItsOwnExecutions(t *testing.T) {
	c := newCluster(t, "n1")
	ctx := context.Background()
	mine, _ := c.job("true")
	theirs, _ := newExecution(t, c, "n2")
	_, tok, err := c.st.CreateToken(ctx, state.TokenSpec{Namespace: state.AllNamespaces, Role: state.RoleNode, Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(c.st.ClientURL(), nats.UserInfo("n1", tok), nats.CustomInboxPrefix(state.NodeInbox("n1")),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	gw := remote.Gateway{NC: nc, NodeID: "n1"}
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		t.Cleanup(cancel)
		return ctx
	}

	if _, err := gw.Execution(short(), "default", "remote", mine.ID); err != nil {
		t.Fatalf("read its own execution: %v", err)
	}
	if _, err := gw.Execution(short(), "default", "remote", theirs.ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("read n2's execution: %v, want not found", err)
	}
	forged := theirs
	forged.Status.ComputeState = state.ComputeFailed
	if _, err := gw.UpdateExecution(short(), forged); err == nil {
		t.Error("recorded n2's execution")
	}
	forged.NodeID = "n1"
	if _, err := gw.UpdateExecution(short(), forged); err == nil {
		t.Error("recorded n2's execution as its own")
	}
	moved := mine
	moved.NodeID = "n2"
	if _, err := gw.UpdateExecution(short(), moved); err == nil {
		t.Error("passed its own execution off as n2's")
	}
	if _, err := (remote.Gateway{NC: nc, NodeID: "n2"}).UpdateExecution(short(), forged); err == nil {
		t.Error("asked the gateway in n2's name")
	}
	js, _ := jetstream.New(nc)
	if _, err := js.Publish(short(), "$KV.executions.default.remote."+theirs.ID, []byte(`{}`)); err == nil {
		t.Error("wrote the executions bucket")
	}
	if x := c.stored(theirs); x.Status.ComputeState != theirs.Status.ComputeState || x.Revision != theirs.Revision {
		t.Errorf("n2's execution changed: %+v", x.Status)
	}
	// Its own execution it records; asking again after a lost answer
	// gets the same record, while another write over the old revision is
	// a conflict.
	mine.Status.ComputeState = state.ComputeStarting
	stored, err := gw.UpdateExecution(short(), mine)
	if err != nil {
		t.Fatalf("record its own execution: %v", err)
	}
	if again, err := gw.UpdateExecution(short(), mine); err != nil || again.Revision != stored.Revision {
		t.Errorf("the same write asked again: revision %d, %v; want %d", again.Revision, err, stored.Revision)
	}
	other := mine
	other.Status.ComputeState = state.ComputeFailed
	if _, err := gw.UpdateExecution(short(), other); !errors.Is(err, state.ErrConflict) {
		t.Errorf("another write over the old revision: %v, want a conflict", err)
	}
	// What is the control plane's stays as stored.
	bold := stored
	bold.Status.ComputeState = state.ComputeRunning
	bold.JobVersion, bold.NextExecutionID, bold.DeploymentID = 99, theirs.ID, "forged"
	got, err := gw.UpdateExecution(short(), bold)
	if err != nil {
		t.Fatalf("record its execution running: %v", err)
	}
	if got.Status.ComputeState != state.ComputeRunning || got.JobVersion != stored.JobVersion || got.NextExecutionID != "" || got.DeploymentID != stored.DeploymentID {
		t.Errorf("the node rewrote what is the control plane's: %+v", got)
	}
}

// newExecution records a pending execution of the test job on node.
func newExecution(t *testing.T, c *cluster, node string) (state.Execution, error) {
	t.Helper()
	x, err := c.st.CreateExecution(context.Background(), state.Execution{
		ID: "other-" + node, JobID: "default/remote", JobVersion: 1, NodeID: node,
	})
	if err != nil {
		t.Fatal(err)
	}
	return x, nil
}
