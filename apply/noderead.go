package apply

import (
	"context"
	"sync"
	"time"

	"github.com/muster-dev/muster/state"
)

// nodeReadTimeout bounds one shared read of the nodes.
const nodeReadTimeout = time.Minute

// nodeReads shares reads of every node among the callers that want the
// nodes as they are now: a caller gets the result of a read that began
// after it asked, so it sees every node recorded before it asked, and
// callers that ask while a read is under way share the next one. Many
// rollouts starting at once (each places its job on the nodes) so cost
// two reads of the nodes, not one each. Its zero value is ready.
type nodeReads struct {
	mu sync.Mutex
	// running says a read is under way; next is the read that starts
	// after it, which the callers that came meanwhile wait for.
	running bool
	next    *nodeRead
}

// nodeRead is one read of the nodes.
type nodeRead struct {
	done  chan struct{}
	nodes []state.Node
	err   error
	// noted is done by the first caller that gives the nodes to noteNode:
	// the others need not look at the same records again.
	noted sync.Once
}

// get returns the nodes as read by a read that began after the call,
// with that read. The slice is shared: callers do not change it.
func (r *nodeReads) get(ctx context.Context, read func(context.Context) ([]state.Node, error)) (*nodeRead, error) {
	r.mu.Lock()
	if r.next == nil {
		r.next = &nodeRead{done: make(chan struct{})}
	}
	nr := r.next
	if !r.running {
		r.running = true
		go r.loop(read)
	}
	r.mu.Unlock()
	select {
	case <-nr.done:
		return nr, nr.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// loop makes the reads callers wait for, one after the other, until none
// waits.
func (r *nodeReads) loop(read func(context.Context) ([]state.Node, error)) {
	for {
		r.mu.Lock()
		nr := r.next
		r.next = nil
		if nr == nil {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), nodeReadTimeout)
		nr.nodes, nr.err = read(ctx)
		cancel()
		close(nr.done)
	}
}

// nodesNow returns every node as the store has it now (a read that began
// after the call, shared with other callers), having given each to
// noteNode once.
func (c *Controller) nodesNow(ctx context.Context) ([]state.Node, error) {
	nr, err := c.nodeReads.get(ctx, func(ctx context.Context) ([]state.Node, error) { return c.store().Nodes(ctx) })
	if err != nil {
		return nil, err
	}
	if c.Connect != nil {
		nr.noted.Do(func() {
			for _, n := range nr.nodes {
				c.noteNode(ctx, n)
			}
		})
	}
	return nr.nodes, nil
}
