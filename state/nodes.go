package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/muster-dev/muster/selector"
	"github.com/nats-io/nats.go/jetstream"
)

// Node states, the usual values of Node.Status.
const (
	NodeReady = "ready"
	NodeDown  = "down"
)

// maxPutAttempts bounds PutNode's read-modify-write retries.
const maxPutAttempts = 20

// Node is a machine that runs executions. The ID is its key in the store.
type Node struct {
	ID string `json:"id"`
	// Labels are matched by job selectors; keys and values follow the label
	// rules of docs/spec.md section 2.
	Labels map[string]string `json:"labels"`
	// Address is where the node's agent can be reached, if anywhere.
	Address string `json:"address,omitempty"`
	// LastSeen is when the node last reported.
	LastSeen time.Time `json:"last_seen"`
	// Status is NodeReady, NodeDown or another word the agent reports.
	Status string `json:"status,omitempty"`
	// Capacity is what the node offers its executions (cpus and memory);
	// nil on records written before nodes advertised one, and on nodes
	// that advertise none: placement treats them as unlimited.
	Capacity *Capacity `json:"capacity,omitempty"`
}

// Validate checks the id, the labels and the capacity.
func (n *Node) Validate() error {
	if err := CheckNodeID(n.ID); err != nil {
		return err
	}
	if err := checkLabels(n.Labels); err != nil {
		return err
	}
	return n.Capacity.Validate()
}

// checkLabels validates label keys and values, in key order.
func checkLabels(labels map[string]string) error {
	for _, k := range sortedKeys(labels) {
		if err := selector.ValidateKey(k); err != nil {
			return invalidf("%v", err)
		}
		if err := selector.ValidateValue(labels[k]); err != nil {
			return invalidf("label %s: %v", k, err)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// PutNode stores n, replacing the node with the same id if there is one.
// The write is a compare-and-set on the revision it read (or that this
// store wrote last), retried on a race, so two writers never interleave
// inside one value. Returns the stored node.
func (s *Store) PutNode(ctx context.Context, n Node) (Node, error) {
	if err := n.Validate(); err != nil {
		return Node{}, err
	}
	n.Labels = maps.Clone(n.Labels)
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	val, err := json.Marshal(n)
	if err != nil {
		return Node{}, err
	}
	kv, err := s.kv(ctx, bucketNodes)
	if err != nil {
		return Node{}, err
	}
	// A node's agent writes its record every heartbeat: over the revision
	// this store wrote last, without reading it first, as long as no
	// other writer came between.
	if last, ok := s.nodeRevs.Load(n.ID); ok {
		rev, err := s.kvUpdate(ctx, kv, n.ID, val, last.(uint64))
		if err == nil {
			s.nodeRevs.Store(n.ID, rev)
			return n, nil
		}
		s.nodeRevs.Delete(n.ID)
		if !isCASFailure(err) {
			return Node{}, fmt.Errorf("put node %s: %w", n.ID, err)
		}
	}
	for attempt := 0; attempt < maxPutAttempts; attempt++ {
		e, err := kvGet(ctx, kv, n.ID)
		var rev uint64
		switch {
		case isNotFound(err):
			rev, err = s.kvCreate(ctx, kv, n.ID, val)
		case err == nil:
			rev, err = s.kvUpdate(ctx, kv, n.ID, val, e.Revision())
		}
		if err == nil {
			s.nodeRevs.Store(n.ID, rev)
			return n, nil
		}
		if !isCASFailure(err) {
			return Node{}, fmt.Errorf("put node %s: %w", n.ID, err)
		}
	}
	return Node{}, &ConflictError{What: "node " + n.ID, Reason: fmt.Sprintf("gave up after %d attempts", maxPutAttempts)}
}

// Node returns the node with this id, or an error matching ErrNotFound.
func (s *Store) Node(ctx context.Context, id string) (Node, error) {
	if err := CheckNodeID(id); err != nil {
		return Node{}, err
	}
	kv, err := s.kv(ctx, bucketNodes)
	if err != nil {
		return Node{}, err
	}
	e, err := kvGet(ctx, kv, id)
	if isNotFound(err) {
		return Node{}, notFound("node %s", id)
	}
	if err != nil {
		return Node{}, fmt.Errorf("read node %s: %w", id, err)
	}
	return decodeNode(e)
}

func decodeNode(e jetstream.KeyValueEntry) (Node, error) {
	var n Node
	if err := json.Unmarshal(e.Value(), &n); err != nil {
		return Node{}, damagedf("decode node %s: %v", e.Key(), err)
	}
	return n, nil
}

// Nodes returns every node, sorted by id.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	kv, err := s.kv(ctx, bucketNodes)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, ">")
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	out := make([]Node, 0, len(entries))
	for _, e := range entries {
		n, err := decodeNode(e)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeleteNode removes a node, or fails with an error matching ErrNotFound.
func (s *Store) DeleteNode(ctx context.Context, id string) error {
	if err := CheckNodeID(id); err != nil {
		return err
	}
	kv, err := s.kv(ctx, bucketNodes)
	if err != nil {
		return err
	}
	e, err := kvGet(ctx, kv, id)
	if isNotFound(err) {
		return notFound("node %s", id)
	}
	if err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	s.nodeRevs.Delete(id)
	err = s.kvDelete(ctx, kv, id, e.Revision(), true)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return &ConflictError{What: "node " + id, Base: e.Revision(), Reason: "it changed while being deleted"}
	}
	if err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}
