package state

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// observed records what the operation observer is told, as "op" or
// "op failed" ("op took 0s" for one that took no time, which no step
// wants).
type observed struct {
	mu  sync.Mutex
	ops []string
}

func (o *observed) observe(op string, took time.Duration, failed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if took <= 0 {
		o.ops = append(o.ops, op+" took "+took.String())
		return
	}
	if failed {
		op += " failed"
	}
	o.ops = append(o.ops, op)
}

// reset forgets what was observed.
func (o *observed) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ops = nil
}

// seen returns what was observed.
func (o *observed) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.ops...)
}

// contains reports whether want happened in this order (other operations
// may come between: the observer sees every store of the process).
func (o *observed) contains(want []string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := 0
	for _, op := range o.ops {
		if i < len(want) && op == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestObserveOperations checks that the store tells the observer of its
// reads and writes, that a missing key and a lost compare-and-set are not
// failures, and that an operation with no answer is. It is not parallel:
// the observer is the process's.
func TestObserveOperations(t *testing.T) {
	s, err := Open(ctxT(t), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	o := &observed{}
	ObserveOperations(o.observe)
	t.Cleanup(func() { ObserveOperations(nil) })
	ctx := ctxT(t)

	n := Node{ID: "n1", Status: NodeReady}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"a new node", func() error { _, err := s.PutNode(ctx, n); return err }, []string{OpGet, OpCreate}},
		{"a heartbeat", func() error { _, err := s.PutNode(ctx, n); return err }, []string{OpUpdate}},
		{"a node read", func() error { _, err := s.Node(ctx, "n1"); return err }, []string{OpGet}},
		{"a missing node", func() error { _, err := s.Node(ctx, "n2"); return ignoreNotFound(err) }, []string{OpGet}},
		{"the nodes", func() error { _, err := s.Nodes(ctx); return err }, []string{OpList}},
		{"a rollout record", func() error {
			return s.PutRollout(ctx, Rollout{Namespace: "default", Name: "web", Version: 1, Strategy: "rolling"})
		}, []string{OpPut}},
		{"an event", func() error { return s.AppendEvent(ctx, Event{Job: "default/web", Kind: EventQueued}) }, []string{OpPublish}},
		{"a lost compare-and-set", func() error {
			kv, err := s.kv(ctx, bucketNodes)
			if err != nil {
				return err
			}
			if _, err := s.kvUpdate(ctx, kv, "n1", []byte(`{}`), 1); !isCASFailure(err) {
				return fmt.Errorf("update over revision 1: %v, want a lost compare-and-set", err)
			}
			return nil
		}, []string{OpUpdate}},
		{"a node deleted", func() error { return s.DeleteNode(ctx, "n1") }, []string{OpGet, OpDelete}},
	}
	for _, step := range steps {
		o.reset()
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if !o.contains(step.want) {
			t.Errorf("%s: observed %v, want %v in this order, none failed", step.name, o.seen(), step.want)
		}
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	o.reset()
	if _, err := s.Node(ctx, "n1"); err == nil {
		t.Fatal("a read of a closed store succeeded")
	}
	if !o.contains([]string{OpGet + " failed"}) {
		t.Errorf("a read of a closed store: observed %v, want a failed get", o.seen())
	}
}

// ignoreNotFound returns err unless it matches ErrNotFound.
func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
