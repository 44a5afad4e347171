package state

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// ExecutionEvent is one message of WatchExecutions.
type ExecutionEvent struct {
	// Execution is the execution as stored after the change; for a deleted
	// one only ID, JobID and Namespace are set.
	Execution Execution
	// Deleted says that the execution was removed.
	Deleted bool
	// Synced marks the end of the initial replay: the events before it are
	// the executions that existed when the watch started, the ones after it
	// are changes. Execution is zero in this event.
	Synced bool
	// Err is set on an event that could not be decoded; the watch goes on.
	Err error
}

// WatchExecutions sends every execution of a job as it is now, then one
// event with Synced set, then every later change, until ctx is done (or the
// connection closes), when it closes the channel. A slow reader holds the
// watch back; it never skips events.
func (s *Store) WatchExecutions(ctx context.Context, ns, name string) (<-chan ExecutionEvent, error) {
	if err := CheckJob(ns, name); err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		return nil, err
	}
	w, err := kv.Watch(ctx, executionKey(ns, name, "*"))
	if err != nil {
		return nil, fmt.Errorf("watch executions of %s: %w", jobWhat(ns, name), err)
	}
	return forward(ctx, w, 16, func(e jetstream.KeyValueEntry) (ExecutionEvent, bool) {
		return executionEvent(ns, name, e), true
	}), nil
}

func executionEvent(ns, name string, e jetstream.KeyValueEntry) ExecutionEvent {
	if e == nil {
		return ExecutionEvent{Synced: true}
	}
	if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
		id := strings.TrimPrefix(e.Key(), executionKey(ns, name, ""))
		return ExecutionEvent{Deleted: true, Execution: Execution{ID: id, JobID: ns + "/" + name, Namespace: ns}}
	}
	x, err := decodeExecution(e)
	if err != nil {
		return ExecutionEvent{Err: err}
	}
	return ExecutionEvent{Execution: x}
}

// NodeEvent is one message of WatchNodes.
type NodeEvent struct {
	// Node is the node as stored after the change; for a deleted one only
	// ID is set.
	Node Node
	// Deleted says that the node was removed.
	Deleted bool
	// Synced marks the end of the initial replay, as in ExecutionEvent.
	Synced bool
	// Err is set on an event that could not be decoded; the watch goes on.
	Err error
}

// WatchNodes sends every node as it is now, then one event with Synced
// set, then every later change (a registration, a heartbeat, a node marked
// down), until ctx is done or the connection closes, when it closes the
// channel. A slow reader holds the watch back; it never skips events.
func (s *Store) WatchNodes(ctx context.Context) (<-chan NodeEvent, error) {
	kv, err := s.kv(ctx, bucketNodes)
	if err != nil {
		return nil, err
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch nodes: %w", err)
	}
	return forward(ctx, w, 16, func(e jetstream.KeyValueEntry) (NodeEvent, bool) {
		if e != nil && isFenceKey(e.Key()) {
			return NodeEvent{}, false // a leader's fence, not a node
		}
		return nodeEvent(e), true
	}), nil
}

func nodeEvent(e jetstream.KeyValueEntry) NodeEvent {
	if e == nil {
		return NodeEvent{Synced: true}
	}
	if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
		return NodeEvent{Deleted: true, Node: Node{ID: e.Key()}}
	}
	n, err := decodeNode(e)
	if err != nil {
		return NodeEvent{Err: err}
	}
	return NodeEvent{Node: n}
}
